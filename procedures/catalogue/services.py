"""Writes to the procedure catalogue (docs/legal-rules.md: "Procedure catalogue").

The catalogue changes only by publishing decisions (quyết định công bố): a procedure is
added, amended or abolished, and every change leaves an append-only ProcedureVersion
with the decision and its effective date. A dossier snapshots the version in force on
the day it was accepted, so these functions are the only way to change processing
times and fees.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import ValidationError
from django.db import connections, models, router, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from procedures.catalogue import cache as catalogue_cache
from procedures.core.constants import (
    ChangeKind,
    DocumentKind,
    Level,
    OnlineLevel,
    ProcedureStatus,
    TimeUnit,
)
from procedures.core.errors import DomainError
from procedures.models import Field, Procedure, ProcedureVersion, RequiredDocument, Unit

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

# Attributes a dossier depends on: they are snapshotted on every version, so they may
# change only through a publishing decision (procedure_amend), never by a plain edit.
VERSIONED_ATTRS = (
    "processing_amount",
    "processing_unit",
    "online_processing_amount",
    "fee_vnd",
    "fee_text",
)

# Everything a publishing decision may change. Status and effective dates are excluded:
# they move only through procedure_abolish, so the history cannot say "active" while the
# row says "abolished".
AMENDABLE_ATTRS = VERSIONED_ATTRS + (
    "code",
    "name",
    "field",
    "level",
    "online_level",
    "online_level_text",
    "channel_direct",
    "channel_postal",
    "channel_online",
    "steps",
    "applicants",
    "conditions",
    "result",
    "legal_basis",
    "implementing_unit",
    "publishing_decision",
    "source",
    "documents_source",
)
DESCRIPTIVE_ATTRS = tuple(a for a in AMENDABLE_ATTRS if a not in VERSIONED_ATTRS)


# --- Fields (lĩnh vực) ---------------------------------------------------------------

# Ministry field codes of the Ministry of Industry and Trade (prefix G02 in the National
# Database on Administrative Procedures, csdl.dichvucong.gov.vn).
# Source: the national field list as mirrored in the field seed of a public provincial
# dossier system (QLHSC07, SeedData.AddField, read 2025); G02-CT23 "Xúc tiến thương mại"
# also agrees with docs/legal-rules.md: "Procedure catalogue". Only names that appear there
# verbatim are listed;
# "Cụm công nghiệp" is not in that list, so it gets no code until staff look it up.
MINISTRY_FIELD_CODES: dict[str, str] = {
    "An toàn thực phẩm": "G02-CT01",
    "Công nghiệp địa phương": "G02-CT03",
    "Công nghiệp nặng": "G02-CT04",
    "Công nghiệp tiêu dùng": "G02-CT05",
    "Dầu khí": "G02-CT06",
    "Dịch vụ thương mại": "G02-CT07",
    "Điện": "G02-CT08",
    "Hóa chất": "G02-CT09",
    "Kinh doanh khí": "G02-CT10",
    "Lưu thông hàng hóa trong nước": "G02-CT11",
    "Năng lượng": "G02-CT12",
    "Quản lý cạnh tranh": "G02-CT14",
    "Thương mại quốc tế": "G02-CT19",
    "Vật liệu nổ công nghiệp, tiền chất thuốc nổ": "G02-CT21",
    "Xuất nhập khẩu": "G02-CT22",
    "Xúc tiến thương mại": "G02-CT23",
    "An toàn đập, hồ chứa thủy điện": "G02-CT26",
    "Giám định thương mại": "G02-CT27",
}

# Old-style tone placement ("hoá", "thuỷ") and new style ("hóa", "thủy") are both in use
# in published lists; compare names in one style so the same field is not created twice.
# ("qu" is a consonant, so "quý" is the same in both styles and is left alone.)
_OLD_TONE = re.compile(
    r"(?<![qQ])(?:([oO])([àáảãạèéẻẽẹÀÁẢÃẠÈÉẺẼẸ])|([uU])([ỳýỷỹỵỲÝỶỸỴ]))(?![^\W\d_])"
)
_BRACKETED_SUBFIELD = re.compile(r"^(?P<parent>.+?)\s*\((?P<sub>[^()]*)\)\s*$")


def _new_tone_style(text: str) -> str:
    def move(match: re.Match) -> str:
        vowel = match.group(1) or match.group(3)
        marked = match.group(2) or match.group(4)
        base = unicodedata.normalize("NFD", marked)
        # base[0] is the bare vowel, base[1:] the tone mark: put the mark on the first vowel.
        return unicodedata.normalize("NFC", vowel + base[1:]) + base[0]

    return _OLD_TONE.sub(move, text)


def normalize_text(value: str) -> str:
    """One spelling for names read from files: NFC, single spaces, no edge blanks."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", value or "")).strip()


def _field_key(name: str) -> str:
    return _new_tone_style(normalize_text(name)).casefold()


_CANONICAL_BY_KEY = {_field_key(name): name for name in MINISTRY_FIELD_CODES}


def field_canonical_name(*, name: str) -> tuple[str, str]:
    """(name, ministry code) for a field name as published, code "" when unknown.

    Published lists append a sub-field in brackets ("Lưu thông hàng hóa trong nước (Kinh
    doanh xăng dầu)"); the ministry code belongs to the parent field, and the periodic
    report groups by that field, so the sub-field is dropped when the parent is known.
    """
    cleaned = normalize_text(name)
    canonical = _CANONICAL_BY_KEY.get(_field_key(cleaned))
    if canonical is None:
        bracketed = _BRACKETED_SUBFIELD.match(cleaned)
        if bracketed:
            canonical = _CANONICAL_BY_KEY.get(_field_key(bracketed.group("parent")))
    if canonical is None:
        return cleaned, ""
    return canonical, MINISTRY_FIELD_CODES[canonical]


@transaction.atomic
def field_get_or_create_by_name(*, name: str) -> tuple[Field, bool]:
    """The Field for a published field name, created with its ministry code if new."""
    canonical, code = field_canonical_name(name=name)
    if not canonical:
        raise DomainError(_("The field name is empty."), field="field")
    if code:
        existing = Field.objects.filter(ministry_code=code).first()
        if existing is not None:
            return existing, False
    key = _field_key(canonical)
    # The field table holds a few dozen rows; comparing keys in Python is what makes
    # "thuỷ"/"thủy" and upper/lower case meet, which SQL collations do not do portably.
    for existing in Field.objects.all():
        if _field_key(existing.name) == key:
            if code and not existing.ministry_code:
                existing.ministry_code = code
                existing.save(update_fields=["ministry_code"])
            return existing, False
    order = int(code.rsplit("CT", 1)[1]) if code else 100
    return Field.objects.create(name=canonical, ministry_code=code, order=order), True


# --- Procedures ----------------------------------------------------------------------


def _model_field(name: str) -> models.Field:
    """A concrete column of Procedure (the stubs' get_field also covers relations)."""
    return cast(models.Field, Procedure._meta.get_field(name))


def _validate(procedure: Procedure) -> None:
    """Model validation (choices, decimals, check constraints) as a DomainError."""
    try:
        procedure.full_clean()
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            field, errors = next(iter(exc.error_dict.items()))
            messages = [m for e in errors for m in e.messages]
            label = str(_model_field(field).verbose_name) if field != "__all__" else None
            text = "; ".join(messages)
            raise DomainError(
                f"{label}: {text}" if label else text,
                field=None if field == "__all__" else field,
            ) from exc
        raise DomainError("; ".join(exc.messages)) from exc


def _snapshot(procedure: Procedure) -> dict[str, Any]:
    return {attr: getattr(procedure, attr) for attr in VERSIONED_ATTRS}


def _json_value(value: Any) -> Any:
    """What a version's `changes` keeps: readable for staff and JSON-safe."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def _actor_or_none(actor):
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def _clean_code(code: str | None) -> str | None:
    code = normalize_text(code or "")
    return code or None


def _coerce(attr: str, value: Any) -> Any:
    """Bring an incoming value to the type the row holds, so "10" equals Decimal("10.0")."""
    model_field = _model_field(attr)
    if isinstance(model_field, models.ForeignKey):
        related = cast("type[models.Model]", model_field.related_model)  # never "self" here
        if value is not None and not isinstance(value, related):
            raise DomainError(
                _("%(attr)s must be a %(model)s.")
                % {
                    "attr": model_field.verbose_name,
                    "model": related._meta.verbose_name,
                },
                field=attr,
            )
        return value
    if attr == "code":
        return _clean_code(value)
    if value in ("", None) and model_field.null:
        return None
    try:
        value = model_field.to_python(value)
    except ValidationError as exc:
        raise DomainError(
            f"{model_field.verbose_name}: {'; '.join(exc.messages)}", field=attr
        ) from exc
    if isinstance(value, Decimal) and isinstance(model_field, models.DecimalField):
        # "10" and "10.0" are the same time; keep the stored scale so the history reads
        # 15.0 -> 10.0. Values with too many decimals are left for full_clean to refuse.
        scaled = value.quantize(Decimal(1).scaleb(-model_field.decimal_places))
        if scaled == value:
            value = scaled
    return value


def _differs(attr: str, old: Any, new: Any) -> bool:
    model_field = Procedure._meta.get_field(attr)
    if isinstance(model_field, models.ForeignKey):
        return (old.pk if old else None) != (new.pk if new else None)
    return old != new


def _diff(procedure: Procedure, changes: dict[str, Any], allowed: tuple[str, ...]) -> dict:
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise DomainError(
            _("These attributes cannot be changed here: %(names)s.")
            % {"names": ", ".join(unknown)},
            field=unknown[0],
        )
    diff = {}
    for attr, raw in changes.items():
        new = _coerce(attr, raw)
        old = getattr(procedure, attr)
        if _differs(attr, old, new):
            diff[attr] = (old, new)
    return diff


def _lock(procedure: Procedure) -> Procedure:
    # Two staff amending at once would both compute version N+1: lock the row first.
    return Procedure.objects.select_for_update().get(pk=procedure.pk)


def _check_decision(*, decision_number: str, effective_from: datetime.date | None) -> str:
    decision_number = normalize_text(decision_number)
    if not decision_number:
        raise DomainError(
            _("Enter the number of the publishing decision."), field="decision_number"
        )
    if effective_from is None:
        raise DomainError(_("Enter the date the decision takes effect."), field="effective_from")
    return decision_number


def _check_not_before_latest(procedure: Procedure, effective_from: datetime.date) -> int:
    """Next version number; refuses a decision that takes effect before the latest one.

    Versions in force are looked up by effective date; a later decision that takes
    effect earlier would silently rewrite what dossiers already accepted were bound to.
    """
    latest = procedure.versions.order_by("-number").first()
    if latest is None:
        return 1
    if effective_from < latest.effective_from:
        raise DomainError(
            _(
                "The decision cannot take effect before the current version "
                "(in force from %(date)s)."
            )
            % {"date": date_format(latest.effective_from, "SHORT_DATE_FORMAT")},
            field="effective_from",
        )
    return latest.number + 1


@transaction.atomic
def procedure_create(
    *,
    name: str,
    field: Field,
    decision_number: str,
    decision_date: datetime.date | None,
    effective_from: datetime.date,
    code: str | None = None,
    level: str = Level.PROVINCE,
    processing_amount: Decimal | int | str | None = None,
    processing_unit: str = TimeUnit.WORKING_DAYS,
    online_processing_amount: Decimal | int | str | None = None,
    fee_vnd: int | None = None,
    fee_text: str = "",
    online_level: str = OnlineLevel.NONE,
    online_level_text: str = "",
    channel_direct: bool = True,
    channel_postal: bool = True,
    channel_online: bool | None = None,
    steps: str = "",
    applicants: str = "",
    conditions: str = "",
    result: str = "",
    legal_basis: str = "",
    implementing_unit: Unit | None = None,
    publishing_decision: str | None = None,
    source: str = "",
    documents_source: str = "",
    note: str = "",
    actor: AbstractBaseUser | None = None,
) -> Procedure:
    """Add a procedure to the catalogue with version 1 (kind "added").

    `channel_online` defaults to whether the online level allows online submission.
    `publishing_decision` defaults to `decision_number`.
    """
    decision_number = _check_decision(
        decision_number=decision_number, effective_from=effective_from
    )
    if channel_online is None:
        channel_online = online_level in (OnlineLevel.FULL, OnlineLevel.PARTIAL)
    procedure = Procedure(
        code=_clean_code(code),
        name=normalize_text(name),
        field=field,
        level=level,
        processing_amount=processing_amount,
        processing_unit=processing_unit,
        online_processing_amount=online_processing_amount,
        fee_vnd=fee_vnd,
        fee_text=fee_text or "",
        online_level=online_level,
        online_level_text=online_level_text or "",
        channel_direct=channel_direct,
        channel_postal=channel_postal,
        channel_online=channel_online,
        steps=steps,
        applicants=applicants,
        conditions=conditions,
        result=result,
        legal_basis=legal_basis,
        implementing_unit=implementing_unit,
        publishing_decision=decision_number if publishing_decision is None else publishing_decision,
        effective_from=effective_from,
        source=source,
        documents_source=documents_source,
    )
    if not procedure.name:
        raise DomainError(_("The procedure name is empty."), field="name")
    _validate(procedure)
    procedure.save()
    _record_version(
        procedure,
        number=1,
        kind=ChangeKind.ADDED,
        decision_number=decision_number,
        decision_date=decision_date,
        effective_from=effective_from,
        changes={},
        note=note,
        actor=actor,
    )
    return procedure


@transaction.atomic
def procedure_amend(
    *,
    procedure: Procedure,
    changes: dict[str, Any],
    decision_number: str,
    decision_date: datetime.date | None,
    effective_from: datetime.date,
    note: str = "",
    actor: AbstractBaseUser | None = None,
) -> ProcedureVersion:
    """Apply a publishing decision's changes and record version N+1 (kind "amended").

    `changes` maps attribute names (see AMENDABLE_ATTRS) to new values; only values that
    really differ are recorded, as {attr: [old, new]}. The row takes the new values at
    once; dossiers keep using the version in force on their acceptance date.
    """
    decision_number = _check_decision(
        decision_number=decision_number, effective_from=effective_from
    )
    procedure = _lock(procedure)
    if procedure.status == ProcedureStatus.ABOLISHED:
        raise DomainError(_("This procedure has been abolished and cannot be amended."))
    diff = _diff(procedure, changes, AMENDABLE_ATTRS)
    if not diff:
        raise DomainError(_("The amendment changes nothing: enter at least one new value."))
    number = _check_not_before_latest(procedure, effective_from)
    _apply(procedure, diff)
    return _record_version(
        procedure,
        number=number,
        kind=ChangeKind.AMENDED,
        decision_number=decision_number,
        decision_date=decision_date,
        effective_from=effective_from,
        changes={attr: [_json_value(old), _json_value(new)] for attr, (old, new) in diff.items()},
        note=note,
        actor=actor,
    )


@transaction.atomic
def procedure_update(*, procedure: Procedure, changes: dict[str, Any]) -> list[str]:
    """Correct descriptive attributes (name, steps, legal basis...) without a version.

    Processing time and fees are what a dossier is bound to; they are refused here and
    must go through procedure_amend with a decision. Returns the attributes changed.
    """
    versioned = sorted(set(changes) & set(VERSIONED_ATTRS))
    if versioned:
        raise DomainError(
            _("Processing time and fees change only by a publishing decision (Amend)."),
            field=versioned[0],
        )
    procedure = _lock(procedure)
    diff = _diff(procedure, changes, DESCRIPTIVE_ATTRS)
    if not diff:
        return []
    _apply(procedure, diff)
    return list(diff)


@transaction.atomic
def procedure_abolish(
    *,
    procedure: Procedure,
    decision_number: str,
    decision_date: datetime.date | None,
    effective_from: datetime.date,
    note: str = "",
    actor: AbstractBaseUser | None = None,
) -> ProcedureVersion:
    """Abolish a procedure from `effective_from` and record the version (kind "abolished").

    The row is marked abolished at once; `effective_to` becomes the day before the
    abolition takes effect, the last day dossiers could be accepted under it.
    """
    decision_number = _check_decision(
        decision_number=decision_number, effective_from=effective_from
    )
    procedure = _lock(procedure)
    if procedure.status == ProcedureStatus.ABOLISHED:
        raise DomainError(_("This procedure has already been abolished."))
    if procedure.effective_from and effective_from <= procedure.effective_from:
        raise DomainError(
            _("The abolition must take effect after the procedure did (%(date)s).")
            % {"date": date_format(procedure.effective_from, "SHORT_DATE_FORMAT")},
            field="effective_from",
        )
    number = _check_not_before_latest(procedure, effective_from)
    old_status = procedure.status
    procedure.status = ProcedureStatus.ABOLISHED
    procedure.effective_to = effective_from - datetime.timedelta(days=1)
    procedure.save(update_fields=["status", "effective_to", "updated_at"])
    return _record_version(
        procedure,
        number=number,
        kind=ChangeKind.ABOLISHED,
        decision_number=decision_number,
        decision_date=decision_date,
        effective_from=effective_from,
        changes={"status": [old_status, ProcedureStatus.ABOLISHED.value]},
        note=note,
        actor=actor,
    )


def _apply(procedure: Procedure, diff: dict[str, tuple[Any, Any]]) -> None:
    """Write the changed attributes (already compared by _diff) after validating them."""
    for attr, (_old, new) in diff.items():
        setattr(procedure, attr, new)
    _validate(procedure)
    procedure.save(update_fields=[*diff, "updated_at"])


def _record_version(
    procedure: Procedure, *, actor: AbstractBaseUser | None, **fields: Any
) -> ProcedureVersion:
    """The version row of a publishing decision, with the procedure's attributes now."""
    return ProcedureVersion.objects.create(
        procedure=procedure, created_by=_actor_or_none(actor), **fields, **_snapshot(procedure)
    )


def procedure_version_in_force(*, procedure: Procedure, on: datetime.date) -> ProcedureVersion:
    """The version a dossier accepted on `on` is bound to.

    A version of kind "abolished" means the procedure no longer existed that day: the
    caller refuses the dossier.
    """
    version = _version_in_force(procedure_id=procedure.pk, on=on)
    if version is None:
        raise DomainError(
            _("No version of this procedure was in force on %(date)s.")
            % {"date": date_format(on, "SHORT_DATE_FORMAT")}
        )
    return version


# The statement of _version_in_force per database vendor, with its column converters.
_IN_FORCE_SQL: dict[str, tuple[str, list[str], list[tuple[int, list, Any]]]] = {}


def _version_in_force(*, procedure_id: int, on: datetime.date) -> ProcedureVersion | None:
    """The latest version effective on `on`: `procedure.versions.filter(effective_from__lte
    =on).order_by("-effective_from", "-number").first()`, as one fixed statement built
    once per database vendor. Every online submission reads it, and building the query
    through the ORM cost several times what the query itself does (issue 13)."""
    alias = router.db_for_read(ProcedureVersion)
    connection = connections[alias]
    prepared = _IN_FORCE_SQL.get(connection.vendor)
    if prepared is None:
        meta = ProcedureVersion._meta
        fields: list[Any] = list(meta.concrete_fields)
        q = connection.ops.quote_name
        column = {f.name: q(f.column) for f in fields}
        sql = (
            f"SELECT {', '.join(column[f.name] for f in fields)} FROM {q(meta.db_table)} "
            f"WHERE {column['procedure']} = %s AND {column['effective_from']} <= %s "
            f"ORDER BY {column['effective_from']} DESC, {column['number']} DESC LIMIT 1"
        )
        converters = []
        for position, field in enumerate(fields):
            col = field.get_col(meta.db_table)
            found = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
            if found:
                converters.append((position, found, col))
        prepared = _IN_FORCE_SQL[connection.vendor] = (
            sql,
            [f.attname for f in fields],
            converters,
        )
    sql, names, converters = prepared
    with connection.cursor() as cursor:
        cursor.execute(sql, [procedure_id, connection.ops.adapt_datefield_value(on)])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for position, found, col in converters:
        for convert in found:
            values[position] = convert(values[position], col, connection)
    return ProcedureVersion.from_db(alias, names, values)


@transaction.atomic
def field_assign_implementing_unit(*, field: Field, unit: Unit, overwrite: bool = False) -> int:
    """Make `unit` process the field's provincial procedures; returns how many changed.

    District procedures are left alone: the district's economic office handles them,
    not a unit of the department. Without `overwrite`, a unit staff chose is kept.
    """
    qs = Procedure.objects.filter(field=field, level=Level.PROVINCE)
    if overwrite:
        qs = qs.exclude(implementing_unit=unit)
    else:
        qs = qs.filter(implementing_unit__isnull=True)
    changed = qs.update(implementing_unit=unit, updated_at=timezone.now())
    if changed:
        # update() sends no post_save: the pages showing "Handled by" must be redone.
        catalogue_cache.bump_on_commit()
    return changed


# --- Required documents (thành phần hồ sơ) ---------------------------------------------


@dataclass(frozen=True)
class DocumentSpec:
    """One component document as a published procedure text lists it."""

    name: str
    kind: str = DocumentKind.ORIGINAL
    copies: int = 1
    mandatory: bool = True
    order: int = 0
    template_name: str = ""


def _document_key(name: str) -> str:
    return _new_tone_style(normalize_text(name)).casefold()


@transaction.atomic
def procedure_documents_set(
    *, procedure: Procedure, documents: Sequence[DocumentSpec], source: str = ""
) -> bool:
    """Make the procedure's list of required documents exactly `documents`.

    Rows are matched by name, so a document that stays keeps its id (the slot that
    dossiers' files point at) and its uploaded blank form; a document no longer listed
    is deleted and the files that answered it stay on their dossiers without a slot.
    `source` (where the list was read) is stored on the procedure. Returns whether
    anything changed, so a second run of the same list reports "unchanged".
    """
    specs = list(documents)
    keys = [_document_key(spec.name) for spec in specs]
    if any(not key for key in keys):
        raise DomainError(_("A required document has no name."), field="documents")
    if len(set(keys)) != len(keys):
        raise DomainError(
            _("The same document is listed twice for this procedure."), field="documents"
        )
    procedure = _lock(procedure)
    existing = {_document_key(doc.name): doc for doc in procedure.documents.all()}
    changed = False
    for key, spec in zip(keys, specs, strict=True):
        values = {
            "name": normalize_text(spec.name),
            "kind": spec.kind,
            "copies": spec.copies,
            "mandatory": spec.mandatory,
            "order": spec.order,
            "template_name": normalize_text(spec.template_name),
        }
        doc = existing.pop(key, None)
        if doc is None:
            doc = RequiredDocument(procedure=procedure, **values)
        elif all(getattr(doc, attr) == value for attr, value in values.items()):
            continue
        else:
            for attr, value in values.items():
                setattr(doc, attr, value)
        try:
            doc.full_clean(exclude=["procedure", "template"])
        except ValidationError as exc:
            raise DomainError(
                f"{values['name']}: {'; '.join(exc.messages)}", field="documents"
            ) from exc
        doc.save()
        changed = True
    if existing:
        RequiredDocument.objects.filter(pk__in=[d.pk for d in existing.values()]).delete()
        changed = True
    source = normalize_text(source)
    if source != procedure.documents_source:
        procedure.documents_source = source
        procedure.save(update_fields=["documents_source", "updated_at"])
        changed = True
    return changed
