"""Reads of the procedure catalogue: public lists, the field index and the reform report."""

from __future__ import annotations

import datetime
import unicodedata
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from procedures.catalogue.models import ACCEPTS_ONLINE
from procedures.core.constants import ChangeKind, Level, OnlineLevel, ProcedureStatus
from procedures.models import Field, Procedure, ProcedureVersion, RequiredDocument

# Every Vietnamese letter that a base Latin letter may stand for when typed without
# diacritics (people search "giay phep ban le ruou" on phones without a Telex keyboard).
_VARIANTS = {
    "a": "aàáảãạăằắẳẵặâầấẩẫậ",
    "d": "dđ",
    "e": "eèéẻẽẹêềếểễệ",
    "i": "iìíỉĩị",
    "o": "oòóỏõọôồốổỗộơờớởỡợ",
    "u": "uùúủũụưừứửữự",
    "y": "yỳýỷỹỵ",
}


def strip_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return bare.replace("đ", "d").replace("Đ", "D")


def diacritics_insensitive_pattern(text: str) -> str:
    """A regex matching `text` whatever accents the stored name carries.

    Built as character classes rather than relying on a database `unaccent`, so the
    same search works on SQLite (Django's Python REGEXP) and PostgreSQL (~*). Both
    cases are listed explicitly because PostgreSQL's case folding of non-ASCII letters
    depends on the server locale.
    """
    parts = []
    for char in strip_diacritics(text.strip().lower()):
        variants = _VARIANTS.get(char)
        if variants:
            parts.append("[" + variants + variants.upper() + "]")
        elif char.isspace():
            parts.append(r"\s+")
        elif char.isalnum():
            parts.append("[" + char + char.upper() + "]" if char.isalpha() else char)
        else:
            parts.append("\\" + char)
    return "".join(parts)


MAX_SEARCH_WORDS = 8


def procedure_list(
    *,
    field_id: int | None = None,
    search: str | None = None,
    online_level: str | None = None,
    include_abolished: bool = False,
) -> QuerySet[Procedure]:
    """The department's procedures for the public list and the API, in catalogue order.

    District-level procedures are left out: they are kept in the catalogue, flagged, but
    their dossiers go to the district (now commune) one-stop desk, not to this one.
    """
    qs = Procedure.objects.select_related("field", "implementing_unit").filter(level=Level.PROVINCE)
    if not include_abolished:
        qs = qs.filter(status=ProcedureStatus.ACTIVE)
    if field_id is not None:
        qs = qs.filter(field_id=field_id)
    if online_level == OnlineLevel.NONE:
        qs = qs.exclude(ACCEPTS_ONLINE)
    elif online_level:
        # "Fully online" lists what the portal takes fully online: the same rule as the
        # badge and the submit button, not the bare level of a procedure with no time.
        qs = qs.filter(ACCEPTS_ONLINE, online_level=online_level)
    # Every typed word must appear, in any order, accents or not: "bán lẻ rượu" finds
    # "bán lẻ sản phẩm rượu", which a phrase search would miss.
    for word in (search or "").split()[:MAX_SEARCH_WORDS]:
        qs = qs.filter(
            Q(code__icontains=word) | Q(name__iregex=diacritics_insensitive_pattern(word))
        )
    return qs


def field_list_with_counts(*, include_empty: bool = False) -> QuerySet[Field]:
    """Fields with `procedure_count` (the department's procedures in force), for the
    catalogue index."""
    qs = Field.objects.annotate(
        procedure_count=Count(
            "procedures",
            filter=Q(procedures__status=ProcedureStatus.ACTIVE, procedures__level=Level.PROVINCE),
        )
    )
    if not include_empty:
        qs = qs.filter(procedure_count__gt=0)
    return qs.order_by("order", "name")


def procedure_documents_coverage() -> dict[str, int]:
    """How many of the department's procedures in force publish their documents.

    `with`/`without`: all of them; `online_with`/`online_without`: those that accept
    online dossiers (Procedure.objects.accepting_online), where a missing list means the
    applicant attaches the dossier under one generic slot.
    """
    has_docs = Exists(RequiredDocument.objects.filter(procedure=OuterRef("pk")))
    qs = Procedure.objects.departmental().annotate(has_docs=has_docs)
    online = Q(pk__in=Procedure.objects.accepting_online().values("pk"))
    return qs.aggregate(
        **{
            "with": Count("id", filter=Q(has_docs=True)),
            "without": Count("id", filter=Q(has_docs=False)),
            "online_with": Count("id", filter=online & Q(has_docs=True)),
            "online_without": Count("id", filter=online & Q(has_docs=False)),
        }
    )


def reform_year(*, year: int) -> dict[str, Any]:
    """Catalogue changes that took effect in `year` (cải cách thủ tục hành chính).

    Returns {"year", "added", "amended", "abolished", "counts", "time_saved"}: three
    lists of ProcedureVersion (with procedure and field loaded), the count of each kind,
    and the processing time cut by amendments, summed per time unit.
    """
    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    versions = (
        ProcedureVersion.objects.filter(effective_from__range=(start, end))
        .select_related("procedure__field", "created_by")
        .order_by("effective_from", "procedure__name", "number")
    )
    counts = versions.aggregate(
        added=Count("id", filter=Q(kind=ChangeKind.ADDED)),
        amended=Count("id", filter=Q(kind=ChangeKind.AMENDED)),
        abolished=Count("id", filter=Q(kind=ChangeKind.ABOLISHED)),
    )
    by_kind: dict[str, list[ProcedureVersion]] = {kind: [] for kind in ChangeKind.values}
    time_saved: dict[str, Decimal] = {}
    for version in versions:
        by_kind[version.kind].append(version)
        saved = version.time_saved if version.kind == ChangeKind.AMENDED else None
        # A cut from 15 working days to 10 calendar days is not "5 saved" in either unit.
        if saved and "processing_unit" not in version.changes:
            time_saved[version.processing_unit] = (
                time_saved.get(version.processing_unit, Decimal(0)) + saved
            )
    return {
        "year": year,
        "added": by_kind[ChangeKind.ADDED],
        "amended": by_kind[ChangeKind.AMENDED],
        "abolished": by_kind[ChangeKind.ABOLISHED],
        "counts": counts,
        "time_saved": time_saved,
    }
