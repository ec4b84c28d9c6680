"""Recommendations (kiến nghị): receipt, assignment, answer approval, publication.

Each function is one use case: it checks its precondition (raising a translated
DomainError), changes the row inside one transaction with the row locked, and
appends an event to the recommendation's history.

Who may act: every action on a recommendation checks the actor's unit, on the row as
locked (a unit head cannot first move another unit's item to their own unit and then
act on it). A unit's staff act on their unit's recommendations only; the director and
the one-stop desk act on every unit's, and only they give a recommendation to a unit
or move it to another.
"""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from dialogues import conf
from dialogues.constants import (
    AWAITING_ANSWER_STATUSES,
    AnswerKind,
    AnswerState,
    RecommendationAction,
    RecommendationSource,
    RecommendationStatus,
    ReminderKind,
)
from dialogues.ledger import recommendation_key
from dialogues.models import (
    Business,
    DialogueSession,
    Recommendation,
    RecommendationAttachment,
    RecommendationEvent,
    Registration,
)
from dialogues.services.notifications import dialogue_mail_queue
from procedures.calendar.working_time import add_working_days
from procedures.core.errors import DomainError
from procedures.core.roles import Role, user_roles, user_unit_id
from procedures.dossiers.documents import sanitize_filename, stored_content
from procedures.dossiers.services import UploadedDocument
from procedures.models import Field, Unit

APPROVE_PERMISSION = "dialogues.approve_answer"


def _require_approver(by) -> None:
    if not by.has_perm(APPROVE_PERMISSION):
        raise DomainError(
            _("Only a unit head or the director can approve answers."), code="permission"
        )


def _log(
    *,
    recommendation: Recommendation,
    action: str,
    from_status: str,
    by,
    now: datetime,
    note: str = "",
) -> None:
    RecommendationEvent.objects.create(
        recommendation=recommendation,
        action=action,
        from_status=from_status,
        to_status=recommendation.status,
        actor=by if getattr(by, "pk", None) else None,
        at=now,
        note=note,
    )


def _locked(recommendation_id: int) -> Recommendation:
    return Recommendation.objects.select_for_update().get(pk=recommendation_id)


def recommendation_department_wide(user) -> bool:
    """The director and the one-stop desk act on the recommendations of every unit."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.is_superuser or bool(user_roles(user) & {Role.DIRECTOR, Role.INTAKE})


def recommendation_may_act(*, user, recommendation: Recommendation) -> bool:
    """May this user act on (edit, answer, forward, close...) this recommendation?"""
    if recommendation_department_wide(user):
        return True
    unit_id = user_unit_id(user) if user is not None else None
    return unit_id is not None and recommendation.unit_id == unit_id


def _check_unit(recommendation: Recommendation, by) -> None:
    if not recommendation_may_act(user=by, recommendation=recommendation):
        raise DomainError(
            _(
                "Recommendation #%(id)d belongs to another unit: only that unit, the director "
                "or the one-stop desk may act on it."
            )
            % {"id": recommendation.pk},
            code="permission",
        )


def _clean_content(content: str) -> str:
    content = content.strip()
    if not content:
        raise DomainError(_("The recommendation has no content."), field="content")
    return content


def recommendation_receive(
    *,
    content: str,
    source: str,
    business: Business | None = None,
    business_name: str = "",
    tax_code: str = "",
    session: DialogueSession | None = None,
    registration: Registration | None = None,
    field_id: int | None = None,
    contact_email: str = "",
    is_public: bool = True,
    received_at: datetime | None = None,
    by=None,
    now: datetime | None = None,
) -> Recommendation:
    now = now or timezone.now()
    content = _clean_content(content)
    if source not in RecommendationSource.values:
        raise DomainError(_("Unknown source of the recommendation."), field="source")
    if source != RecommendationSource.BETWEEN_SESSIONS and session is None:
        raise DomainError(
            _("A recommendation raised for a session must name the session."), field="session"
        )
    if business is None:
        from dialogues.services.registrations import _clean_tax_code, business_get_or_create

        if not business_name.strip():
            raise DomainError(_("Enter the business name."), field="business_name")
        business = business_get_or_create(
            tax_code=_clean_tax_code(tax_code), name=business_name.strip()
        )
    with transaction.atomic():
        recommendation = Recommendation.objects.create(
            session=session,
            registration=registration,
            business=business,
            source=source,
            field_id=field_id,
            content=content,
            contact_email=contact_email,
            is_public=is_public,
            received_at=received_at or now,
        )
        _log(
            recommendation=recommendation,
            action=RecommendationAction.RECEIVE,
            from_status="",
            by=by,
            now=now,
        )
    return recommendation


def recommendation_edit(
    *,
    recommendation_id: int,
    by,
    content: str,
    field: Field | None,
    contact_email: str,
    now: datetime | None = None,
) -> Recommendation:
    """Correct what the business wrote (typing, field, contact), within the actor's unit."""
    now = now or timezone.now()
    content = _clean_content(content)
    with transaction.atomic():
        recommendation = _locked(recommendation_id)
        _check_unit(recommendation, by)
        changed = [
            name
            for name, value in (
                ("content", content),
                ("field", field),
                ("contact_email", contact_email),
            )
            if getattr(recommendation, name) != value
        ]
        if not changed:
            return recommendation
        recommendation.content = content
        recommendation.field = field
        recommendation.contact_email = contact_email
        recommendation.save(update_fields=[*changed, "updated_at"])
        _log(
            recommendation=recommendation,
            action=RecommendationAction.EDIT,
            from_status=recommendation.status,
            by=by,
            now=now,
            note=", ".join(changed),
        )
    return recommendation


def recommendation_attach(
    *, recommendation: Recommendation, upload: UploadedDocument
) -> RecommendationAttachment:
    """Attach a file checked by `dialogues.validators.check_attachment` (the portal's
    checks): stored under a random name, copied in chunks."""
    attachment = RecommendationAttachment(
        recommendation=recommendation,
        original_name=sanitize_filename(upload.name)[:255],
        content_type=upload.content_type,
        size=upload.size,
    )
    attachment.file.save("attachment", stored_content(upload), save=False)
    attachment.save()
    return attachment


def _answer_deadline(recommendation: Recommendation, now: datetime) -> tuple[datetime, datetime]:
    """Due time of the written answer, and the moment leaders are told it is late.

    For a session the chair's conclusions give the units N working days after the
    session (docs/legal-rules.md: "Business dialogues": set per conference, no national
    deadline); an item sent
    between sessions gets the department's default from its assignment.
    """
    session = recommendation.session
    if session is not None:
        start, days = max(now, session.ends_at), session.answer_working_days
    else:
        start, days = now, conf.default_answer_working_days()
    due = add_working_days(start, days)
    return due, add_working_days(due, conf.escalation_working_days())


def recommendation_assign(
    *,
    recommendation_id: int,
    unit: Unit,
    by,
    field: Field | None = None,
    now: datetime | None = None,
) -> Recommendation:
    """Give the recommendation to a unit; the answer clock starts at the first assignment.

    A re-assignment to another unit keeps the deadline: the business has waited
    since the first one.
    """
    now = now or timezone.now()
    with transaction.atomic():
        recommendation = _locked(recommendation_id)
        if recommendation.unit_id != unit.pk:
            if not recommendation_department_wide(by):
                raise DomainError(
                    _(
                        "Only the director or the one-stop desk gives a recommendation to a "
                        "unit or moves it to another unit."
                    ),
                    code="permission",
                )
        else:
            _check_unit(recommendation, by)  # the same unit: its staff may change the field
        if recommendation.status not in AWAITING_ANSWER_STATUSES:
            raise DomainError(
                _("Only a recommendation still waiting for an answer can be assigned.")
            )
        previous = recommendation.status
        recommendation.unit = unit
        if field is not None:
            recommendation.field = field
        recommendation.status = RecommendationStatus.ASSIGNED
        if recommendation.assigned_at is None:
            recommendation.assigned_at = now
            recommendation.answer_due_at, recommendation.escalate_at = _answer_deadline(
                recommendation, now
            )
        recommendation.save(
            update_fields=[
                "unit",
                "field",
                "status",
                "assigned_at",
                "answer_due_at",
                "escalate_at",
                "updated_at",
            ]
        )
        _log(
            recommendation=recommendation,
            action=RecommendationAction.ASSIGN,
            from_status=previous,
            by=by,
            now=now,
            note=unit.name,
        )
    return recommendation


def recommendation_bulk_assign(
    *,
    recommendation_ids: list[int],
    unit: Unit,
    by,
    field: Field | None = None,
    now: datetime | None = None,
) -> int:
    """Assign many at once; all or nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        for recommendation_id in sorted(recommendation_ids):
            recommendation_assign(
                recommendation_id=recommendation_id, unit=unit, field=field, by=by, now=now
            )
    return len(recommendation_ids)


def recommendation_answer_draft(
    *,
    recommendation_id: int,
    text: str,
    kind: str,
    by,
    document_number: str = "",
    submit: bool = True,
    now: datetime | None = None,
) -> Recommendation:
    """Write (or rewrite) the answer; with `submit` it goes to a leader for approval."""
    now = now or timezone.now()
    text = text.strip()
    if not text:
        raise DomainError(_("Write the answer."), field="answer_text")
    if kind not in AnswerKind.values:
        raise DomainError(
            _("Say whether the answer was given at the session or in writing."), field="answer_kind"
        )
    with transaction.atomic():
        recommendation = _locked(recommendation_id)
        _check_unit(recommendation, by)
        if recommendation.status not in AWAITING_ANSWER_STATUSES:
            raise DomainError(_("This recommendation is no longer waiting for an answer."))
        if kind == AnswerKind.AT_SESSION and recommendation.session_id is None:
            raise DomainError(
                _("A recommendation sent between sessions cannot be answered at a session."),
                field="answer_kind",
            )
        recommendation.answer_text = text
        recommendation.answer_kind = kind
        recommendation.answer_document_number = document_number.strip()
        recommendation.answer_drafted_by = by
        recommendation.answer_state = AnswerState.PENDING_APPROVAL if submit else AnswerState.DRAFT
        recommendation.save(
            update_fields=[
                "answer_text",
                "answer_kind",
                "answer_document_number",
                "answer_drafted_by",
                "answer_state",
                "updated_at",
            ]
        )
        _log(
            recommendation=recommendation,
            action=RecommendationAction.SUBMIT if submit else RecommendationAction.DRAFT,
            from_status=recommendation.status,
            by=by,
            now=now,
        )
    return recommendation


def recommendation_answer_approve(
    *, recommendation_id: int, by, now: datetime | None = None
) -> Recommendation:
    """A unit head or the director approves the answer; public ones are published."""
    now = now or timezone.now()
    _require_approver(by)
    with transaction.atomic():
        recommendation = _locked(recommendation_id)
        # A unit head signs for their own unit only (an unassigned item has none); the
        # director for every unit.
        if not recommendation_may_act(user=by, recommendation=recommendation):
            raise DomainError(
                _("A unit head approves only the answers of their own unit."), code="permission"
            )
        if recommendation.answer_state != AnswerState.PENDING_APPROVAL:
            raise DomainError(_("There is no answer awaiting approval."))
        if recommendation.status not in AWAITING_ANSWER_STATUSES:
            raise DomainError(_("This recommendation is no longer waiting for an answer."))
        previous = recommendation.status
        recommendation.answer_state = AnswerState.APPROVED
        recommendation.answer_approved_by = by
        recommendation.answer_approved_at = now
        session = recommendation.session
        if recommendation.answer_kind == AnswerKind.AT_SESSION:
            recommendation.status = RecommendationStatus.ANSWERED_AT_SESSION
            # Leaders answered in the room: that is when the business got its answer.
            recommendation.answered_at = min(now, session.ends_at) if session else now
        else:
            recommendation.status = RecommendationStatus.ANSWERED_IN_WRITING
            recommendation.answered_at = now
        if recommendation.is_public:
            recommendation.published_at = now
        recommendation.save(
            update_fields=[
                "answer_state",
                "answer_approved_by",
                "answer_approved_at",
                "status",
                "answered_at",
                "published_at",
                "updated_at",
            ]
        )
        _log(
            recommendation=recommendation,
            action=RecommendationAction.APPROVE,
            from_status=previous,
            by=by,
            now=now,
        )
    return recommendation


def recommendation_answer_reject(
    *, recommendation_id: int, by, note: str, now: datetime | None = None
) -> Recommendation:
    now = now or timezone.now()
    _require_approver(by)
    if not note.strip():
        raise DomainError(_("Say what must change in the answer."), field="note")
    with transaction.atomic():
        recommendation = _locked(recommendation_id)
        _check_unit(recommendation, by)
        if recommendation.answer_state != AnswerState.PENDING_APPROVAL:
            raise DomainError(_("There is no answer awaiting approval."))
        recommendation.answer_state = AnswerState.DRAFT
        recommendation.save(update_fields=["answer_state", "updated_at"])
        _log(
            recommendation=recommendation,
            action=RecommendationAction.REJECT,
            from_status=recommendation.status,
            by=by,
            now=now,
            note=note.strip(),
        )
    return recommendation


def recommendation_forward(
    *, recommendation_id: int, authority: str, by, now: datetime | None = None
) -> Recommendation:
    """Outside the department's competence: sent on to the competent authority."""
    now = now or timezone.now()
    if not authority.strip():
        raise DomainError(_("Name the competent authority."), field="authority")
    with transaction.atomic():
        recommendation = _locked(recommendation_id)
        _check_unit(recommendation, by)
        if recommendation.status not in AWAITING_ANSWER_STATUSES:
            raise DomainError(_("This recommendation is no longer waiting for an answer."))
        previous = recommendation.status
        recommendation.status = RecommendationStatus.FORWARDED
        recommendation.forwarded_to = authority.strip()
        recommendation.forwarded_at = now
        recommendation.save(update_fields=["status", "forwarded_to", "forwarded_at", "updated_at"])
        _log(
            recommendation=recommendation,
            action=RecommendationAction.FORWARD,
            from_status=previous,
            by=by,
            now=now,
            note=authority.strip(),
        )
    return recommendation


def _finish(recommendation_id: int, status: str, action: str, by, note: str, now: datetime):
    with transaction.atomic():
        recommendation = _locked(recommendation_id)
        _check_unit(recommendation, by)
        if recommendation.status in (RecommendationStatus.RESOLVED, RecommendationStatus.CLOSED):
            raise DomainError(_("This recommendation is already resolved or closed."))
        previous = recommendation.status
        recommendation.status = status
        recommendation.closed_at = now
        recommendation.save(update_fields=["status", "closed_at", "updated_at"])
        _log(
            recommendation=recommendation,
            action=action,
            from_status=previous,
            by=by,
            now=now,
            note=note,
        )
    return recommendation


def recommendation_resolve(
    *, recommendation_id: int, by, note: str = "", now: datetime | None = None
) -> Recommendation:
    """The business's problem is solved (after an answer, or otherwise)."""
    return _finish(
        recommendation_id,
        RecommendationStatus.RESOLVED,
        RecommendationAction.RESOLVE,
        by,
        note,
        now or timezone.now(),
    )


def recommendation_close(
    *, recommendation_id: int, by, note: str = "", now: datetime | None = None
) -> Recommendation:
    """Closed without further action (withdrawn, duplicate, no longer relevant)."""
    if not note.strip():
        raise DomainError(_("Say why the recommendation is closed."), field="note")
    return _finish(
        recommendation_id,
        RecommendationStatus.CLOSED,
        RecommendationAction.CLOSE,
        by,
        note,
        now or timezone.now(),
    )


def recommendation_set_public(
    *, recommendation_id: int, is_public: bool, by, now: datetime | None = None
) -> Recommendation:
    """Show or hide an answer on the public page; only approved answers are shown."""
    now = now or timezone.now()
    with transaction.atomic():
        recommendation = _locked(recommendation_id)
        _check_unit(recommendation, by)
        recommendation.is_public = is_public
        if is_public and recommendation.answer_state == AnswerState.APPROVED:
            recommendation.published_at = recommendation.published_at or now
        elif not is_public:
            recommendation.published_at = None
        recommendation.save(update_fields=["is_public", "published_at", "updated_at"])
        _log(
            recommendation=recommendation,
            action=RecommendationAction.PUBLISH if is_public else RecommendationAction.UNPUBLISH,
            from_status=recommendation.status,
            by=by,
            now=now,
        )
    return recommendation


# --------------------------------------------------------------------------- #
# Reminders on answer deadlines
# --------------------------------------------------------------------------- #


def _approver_emails() -> list[str]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.db.models import Q

    permission = Permission.objects.filter(
        codename="approve_answer", content_type__app_label="dialogues"
    ).first()
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    condition = Q(is_superuser=True)
    if permission is not None:
        condition |= Q(user_permissions=permission) | Q(groups__permissions=permission)
    return sorted(set(users.filter(condition).values_list("email", flat=True)))


def _remind(
    *, recommendation: Recommendation, kind: str, now: datetime, approvers: list[str]
) -> bool:
    due = recommendation.answer_due_at
    if recommendation.status not in AWAITING_ANSWER_STATUSES or due is None:
        return False
    if kind == ReminderKind.ANSWER_DUE_SOON:
        still_due = now < due <= add_working_days(now, conf.due_soon_working_days())
    elif kind == ReminderKind.ANSWER_OVERDUE:
        still_due = due <= now
    elif kind == ReminderKind.ANSWER_ESCALATION:
        still_due = recommendation.escalate_at is not None and recommendation.escalate_at <= now
    else:
        raise ValueError(f"not an answer reminder: {kind}")
    if not still_due:
        return False
    recipients = [recommendation.unit.email if recommendation.unit else ""]
    if kind == ReminderKind.ANSWER_ESCALATION:
        recipients += approvers + conf.escalation_emails()
    with translation.override(settings.LANGUAGE_CODE):
        url = conf.site_url() + reverse("dialogues:staff-recommendation", args=[recommendation.pk])
    return dialogue_mail_queue(
        kind=kind,
        recipients=recipients,
        subject_key=recommendation_key(recommendation_id=recommendation.pk, due=due),
        payload={"recommendation_id": recommendation.pk, "context": {"url": url}},
        language=settings.LANGUAGE_CODE,
    )


def recommendation_remind(
    *, recommendation_id: int, kind: str, now: datetime | None = None
) -> bool:
    """Queue one answer-deadline reminder in the ledger, if it is still due and was not
    queued for this deadline before; True when queued now (the worker sends it)."""
    now = now or timezone.now()
    recommendation = Recommendation.objects.select_related("unit").get(pk=recommendation_id)
    approvers = _approver_emails() if kind == ReminderKind.ANSWER_ESCALATION else []
    return _remind(recommendation=recommendation, kind=kind, now=now, approvers=approvers)


def recommendation_reminders_queue(*, now: datetime) -> dict[str, int]:
    """The scan of answer deadlines: queue what is due, per kind how many were found.

    Reads are a fixed number of queries; each reminder then costs its ledger insert.
    """
    from dialogues import selectors

    scans = (
        (ReminderKind.ANSWER_DUE_SOON, selectors.recommendation_due_soon),
        (ReminderKind.ANSWER_OVERDUE, selectors.recommendation_overdue),
        (ReminderKind.ANSWER_ESCALATION, selectors.recommendation_to_escalate),
    )
    counts: dict[str, int] = {}
    for kind, selector in scans:
        due = list(selector(now=now).select_related("unit"))
        approvers = _approver_emails() if due and kind == ReminderKind.ANSWER_ESCALATION else []
        for recommendation in due:
            _remind(recommendation=recommendation, kind=kind, now=now, approvers=approvers)
        counts[str(kind)] = len(due)
    return counts
