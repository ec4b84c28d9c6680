"""Reads of dossiers: visibility by role, the one search rule, the staff API's list and
detail, and the admin dossier page."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet

from procedures.core.people import staff_display_name
from procedures.core.roles import Role, sees_all_dossiers, user_roles, user_unit_id
from procedures.core.validators import normalize_identity
from procedures.models import (
    Dossier,
    DossierDocument,
    DossierEvent,
    DossierStep,
    RequiredDocument,
)


def dossier_visible_filter(user) -> Q:
    """Directors and the desk see all; unit heads their unit; specialists theirs and
    their unit's; anyone else nothing."""
    if sees_all_dossiers(user):
        return Q()
    roles = user_roles(user)
    unit_id = user_unit_id(user)
    if roles & {Role.UNIT_HEAD, Role.SPECIALIST}:
        q = Q(assigned_officer=user)
        if unit_id is not None:
            q |= Q(assigned_unit_id=unit_id)
        return q
    return Q(pk__in=[])


def dossier_is_visible(*, dossier, user) -> bool:
    if sees_all_dossiers(user):
        return True
    roles = user_roles(user)
    if roles & {Role.UNIT_HEAD, Role.SPECIALIST}:
        unit_id = user_unit_id(user)
        return dossier.assigned_officer_id == user.pk or (
            unit_id is not None and dossier.assigned_unit_id == unit_id
        )
    return False


# ---------------------------------------------------------------- search

# A full printed number: the legal code `<unit>-YYMMDD-XXXX` or the submission
# reference `DK-<unit>-YYMMDD-XXXX`.
_FULL_NUMBER = re.compile(r"(?:DK-)?[A-Za-z0-9.]+-\d{6}-\d{4}", re.IGNORECASE)
_DAY_CODE = re.compile(r"\d{6}(?:-\d{0,4})?")
_IDENTITY = re.compile(r"\d{9,13}|\d{10}-\d{3}")  # citizen ID, tax code (with branch)
_PHONE = re.compile(r"\+?\d{9,12}")


def dossier_search_filter(term: str) -> Q:
    """The one search rule for dossiers, shared by the admin list and the staff API.

    Each kind of term goes to an index where one serves it: a full code or submission
    reference is an equality on a unique index; the start of either (with its unit code
    or its `DK-`, or from the day `YYMMDD`) a prefix; a citizen ID, tax code or phone
    number an equality; other text with digits is part of a code; anything else is part
    of the applicant's name (a trigram index on PostgreSQL).
    """
    term = " ".join((term or "").split())
    if not term:
        return Q()
    upper = term.upper()
    if _FULL_NUMBER.fullmatch(term):
        return Q(code=upper) | Q(submission_ref=upper)
    unit_code = settings.DOSSIER_UNIT_CODE.upper()
    if upper.startswith("DK-"):
        return Q(submission_ref__startswith=upper)
    if upper.startswith(unit_code + "-"):
        # A prefix on the code's pattern index (no UPPER(), which would read the table).
        return Q(code__startswith=upper)
    if _DAY_CODE.fullmatch(term):
        return Q(code__startswith=f"{unit_code}-{term}") | Q(
            submission_ref__startswith=f"DK-{unit_code}-{term}"
        )
    identity = normalize_identity(term)
    phone = re.sub(r"[\s.\-()]", "", term)
    if _IDENTITY.fullmatch(identity) or _PHONE.fullmatch(phone):
        return Q(applicant_id_number=identity) | Q(applicant_phone__in={term, phone})
    if any(ch.isdigit() for ch in term):  # part of a code, e.g. "-0011"
        return Q(code__icontains=term)
    return Q(applicant_name__icontains=term)


# ---------------------------------------------------------------- lists and pages

_LIST_RELATED = ("procedure__field", "assigned_unit", "assigned_officer")


def dossier_list(
    *,
    user,
    status: list[int] | None = None,
    field: int | None = None,
    procedure: int | None = None,
    unit: str | None = None,
    officer: str | None = None,
    channel: int | None = None,
    due_before=None,
    due_after=None,
    on_time_result: str | None = None,
    search: str | None = None,
) -> QuerySet[Dossier]:
    """The dossiers `user` may see, filtered (staff API); related rows joined so a page
    is one query."""
    qs = Dossier.objects.visible_to(user).select_related(*_LIST_RELATED)
    filters = {
        "status__in": status,
        "procedure__field_id": field,
        "procedure_id": procedure,
        "assigned_unit__code": unit,
        "assigned_officer__username": officer,
        "channel": channel,
        "due_at__lt": due_before,
        "due_at__gte": due_after,
        "on_time_result": on_time_result,
    }
    qs = qs.filter(**{key: value for key, value in filters.items() if value})
    if search and search.strip():
        qs = qs.filter(dossier_search_filter(search))
    return qs


def dossier_detail_queryset(*, user) -> QuerySet[Dossier]:
    """The staff API's dossier with its steps, events and documents in four queries."""
    return (
        Dossier.objects.visible_to(user)
        .select_related(*_LIST_RELATED, "received_by")
        .prefetch_related(
            Prefetch("steps", queryset=DossierStep.objects.select_related("unit", "officer")),
            Prefetch("events", queryset=DossierEvent.objects.select_related("actor")),
            "documents",
        )
    )


def dossier_for_page(*, user, pk: int) -> Dossier | None:
    """The dossier of the admin's pages (dossier, action, slip) if `user` may see it,
    with what those pages show of its procedure and people joined."""
    return (
        Dossier.objects.visible_to(user)
        .select_related(
            "procedure",
            "procedure__field",
            "procedure__implementing_unit",
            "assigned_unit",
            "assigned_officer",
            "received_by",
            "procedure_version",
        )
        .filter(pk=pk)
        .first()
    )


@dataclass(frozen=True)
class DossierPage:
    """What the admin's dossier page shows besides the dossier itself."""

    steps: list[DossierStep]
    open_step: DossierStep | None
    documents: list[DossierDocument]
    events: list[DossierEvent]
    missing: list[RequiredDocument]
    people: dict[str, str]


def dossier_page(*, dossier: Dossier) -> DossierPage:
    """The admin dossier page's reads: steps, documents and events with the people's
    names (a fixed number of queries, whatever their count), and the mandatory papers
    not yet received."""
    steps = list(
        DossierStep.objects.filter(dossier=dossier)
        .select_related("unit", "officer", "completed_by")
        .order_by("order")
    )
    documents = list(
        DossierDocument.objects.filter(dossier=dossier)
        .select_related("slot", "uploaded_by")
        .order_by("is_result", "slot__order", "id")
    )
    events = list(
        DossierEvent.objects.filter(dossier=dossier)
        .select_related("actor")
        .prefetch_related(
            Prefetch(
                "attachments",
                queryset=DossierDocument.objects.only("id", "event_id", "original_name"),
            )
        )
        .order_by("at", "id")
    )
    # The templates read these names; Vietnamese order, family name first.
    for step in steps:
        step.officer_name = staff_display_name(step.officer or step.completed_by)  # type: ignore[attr-defined]
        # A step without its own unit belongs to the unit the dossier is assigned to.
        unit = step.unit or dossier.assigned_unit
        step.unit_name = unit.name if unit else ""  # type: ignore[attr-defined]
    for doc in documents:
        doc.uploader_name = staff_display_name(doc.uploaded_by)  # type: ignore[attr-defined]
    for event in events:
        event.actor_name = staff_display_name(event.actor)  # type: ignore[attr-defined]
    received_slots = {doc.slot_id for doc in documents if not doc.is_result}
    return DossierPage(
        steps=steps,
        open_step=next((s for s in steps if s.started_at and not s.completed_at), None),
        documents=documents,
        events=events,
        missing=[
            slot
            for slot in dossier.procedure.documents.all()
            if slot.mandatory and slot.pk not in received_slots
        ],
        people={
            "officer": staff_display_name(dossier.assigned_officer),
            "received_by": staff_display_name(dossier.received_by),
        },
    )
