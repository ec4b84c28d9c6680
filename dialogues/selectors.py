"""Reads of the dialogues app: public lists, reminder scans and follow-up reports."""

import hmac
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from uuid import UUID

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from dialogues import conf
from dialogues.constants import (
    AWAITING_ANSWER_STATUSES,
    UPCOMING_STATUSES,
    RegistrationStatus,
    ReminderKind,
)
from dialogues.ledger import recommendation_key, registration_key
from dialogues.models import DialogueSession, Recommendation, Registration
from procedures.calendar.working_time import add_working_days
from procedures.models import Delivery

# --------------------------------------------------------------------------- #
# Sessions
# --------------------------------------------------------------------------- #


def session_annotate_seats(queryset: QuerySet) -> QuerySet:
    return queryset.annotate(
        seats_taken=Coalesce(
            Sum(
                "registrations__attendees",
                filter=Q(registrations__status=RegistrationStatus.CONFIRMED),
            ),
            0,
        ),
        waitlisted=Count(
            "registrations", filter=Q(registrations__status=RegistrationStatus.WAITLISTED)
        ),
    )


def session_list_upcoming(*, now: datetime) -> QuerySet:
    return session_annotate_seats(
        DialogueSession.objects.upcoming(now=now).select_related("host_unit")
    ).order_by("starts_at")


def session_list_past(*, now: datetime) -> QuerySet:
    return DialogueSession.objects.past(now=now).select_related("host_unit").order_by("-starts_at")


def session_get_public(*, session_id: int) -> DialogueSession:
    return session_annotate_seats(
        DialogueSession.objects.public()
        .select_related("host_unit")
        .prefetch_related("fields", "agenda")
    ).get(pk=session_id)


def session_seats(*, session_id: int) -> dict:
    counts = Registration.objects.filter(session_id=session_id).aggregate(
        taken=Coalesce(Sum("attendees", filter=Q(status=RegistrationStatus.CONFIRMED)), 0),
        waitlisted=Count("id", filter=Q(status=RegistrationStatus.WAITLISTED)),
    )
    return counts


@dataclass(frozen=True)
class YearPlan:
    year: int
    sessions: list
    count: int
    minimum: int

    @property
    def meets_minimum(self) -> bool:
        return self.count >= self.minimum


def session_year_plan(*, year: int, include_unpublished: bool = False) -> YearPlan:
    """Sessions of a year by start time; the province requires a minimum number."""
    queryset = (
        DialogueSession.objects.all() if include_unpublished else DialogueSession.objects.public()
    )
    zone = timezone.get_current_timezone()
    start = datetime(year, 1, 1, tzinfo=zone)
    end = datetime(year + 1, 1, 1, tzinfo=zone)
    sessions = list(
        queryset.filter(starts_at__gte=start, starts_at__lt=end)
        .select_related("host_unit")
        .order_by("starts_at")
    )
    return YearPlan(
        year=year, sessions=sessions, count=len(sessions), minimum=conf.min_sessions_per_year()
    )


# --------------------------------------------------------------------------- #
# Registrations
# --------------------------------------------------------------------------- #


def registration_get_by_link(*, public_id: UUID | str, token: str) -> Registration | None:
    """The registration behind a personal link, or None; the token is compared in
    constant time against its stored keyed hash."""
    from dialogues.services.registrations import registration_token_hash

    registration = (
        Registration.objects.select_related("session").filter(public_id=public_id).first()
    )
    if registration is None:
        # Same work as a hit, so timing does not tell whether the id exists.
        hmac.compare_digest("0" * 64, registration_token_hash(token))
        return None
    if not hmac.compare_digest(registration.token_hash, registration_token_hash(token)):
        return None
    return registration


def registration_waitlist_position(*, registration: Registration) -> int | None:
    if registration.status != RegistrationStatus.WAITLISTED:
        return None
    ahead = (
        Registration.objects.filter(
            session_id=registration.session_id, status=RegistrationStatus.WAITLISTED
        )
        .filter(
            Q(created_at__lt=registration.created_at)
            | Q(created_at=registration.created_at, id__lt=registration.id)
        )
        .count()
    )
    return ahead + 1


def _not_queued(queryset: QuerySet, *, kind: str, deadline_field: str, key) -> QuerySet:
    """Drop the rows whose mail for this deadline version is already in the ledger.

    The ledger key holds the deadline as ISO text, which SQL cannot build the same
    way on PostgreSQL and SQLite, so this is two queries whatever the number of rows:
    the candidates' keys, then which of them the ledger holds.
    """
    keys = {key(pk, deadline): pk for pk, deadline in queryset.values_list("pk", deadline_field)}
    if not keys:
        return queryset.none()
    queued = set(
        Delivery.objects.filter(kind=kind, subject_key__in=list(keys)).values_list(
            "subject_key", flat=True
        )
    )
    return queryset.filter(pk__in=[pk for k, pk in keys.items() if k not in queued])


def _answer_not_queued(queryset: QuerySet, kind: str) -> QuerySet:
    return _not_queued(
        queryset,
        kind=kind,
        deadline_field="answer_due_at",
        key=lambda pk, due: recommendation_key(recommendation_id=pk, due=due),
    )


def registration_reminders_due(*, now: datetime) -> QuerySet:
    """Confirmed registrations whose session starts within the reminder window and
    that have not had their reminder for this start time."""
    window = now + timedelta(hours=conf.session_reminder_hours())
    return _not_queued(
        Registration.objects.filter(
            status=RegistrationStatus.CONFIRMED,
            session__status__in=UPCOMING_STATUSES,
            session__starts_at__gt=now,
            session__starts_at__lte=window,
        ),
        kind=ReminderKind.SESSION_REMINDER,
        deadline_field="session__starts_at",
        key=lambda pk, starts_at: registration_key(registration_id=pk, starts_at=starts_at),
    )


# --------------------------------------------------------------------------- #
# Answer deadlines
# --------------------------------------------------------------------------- #


def _awaiting() -> QuerySet:
    return Recommendation.objects.filter(
        status__in=AWAITING_ANSWER_STATUSES, answer_due_at__isnull=False
    )


def recommendation_due_soon(*, now: datetime) -> QuerySet:
    """Due within the next N working days (add_working_days is monotonic, so one
    bound computed here replaces counting working time per row)."""
    horizon = add_working_days(now, conf.due_soon_working_days())
    return _answer_not_queued(
        _awaiting().filter(answer_due_at__gt=now, answer_due_at__lte=horizon),
        ReminderKind.ANSWER_DUE_SOON,
    )


def recommendation_overdue(*, now: datetime) -> QuerySet:
    return _answer_not_queued(
        _awaiting().filter(answer_due_at__lte=now), ReminderKind.ANSWER_OVERDUE
    )


def recommendation_to_escalate(*, now: datetime) -> QuerySet:
    return _answer_not_queued(
        _awaiting().filter(escalate_at__lte=now), ReminderKind.ANSWER_ESCALATION
    )


# --------------------------------------------------------------------------- #
# Public answers and staff lists
# --------------------------------------------------------------------------- #


def recommendation_published_list(
    *, field_id: int | None = None, session_id: int | None = None, q: str = ""
) -> QuerySet:
    queryset = Recommendation.objects.published().select_related("field", "session")
    if field_id:
        queryset = queryset.filter(field_id=field_id)
    if session_id:
        queryset = queryset.filter(session_id=session_id)
    for word in q.split()[:8]:
        queryset = queryset.filter(Q(content__icontains=word) | Q(answer_text__icontains=word))
    return queryset.order_by("-published_at", "-id")


def recommendation_staff_list(
    *,
    session_id: int | None = None,
    status: str = "",
    unit_id: int | None = None,
    answer_state: str = "",
    q: str = "",
) -> QuerySet:
    queryset = Recommendation.objects.select_related("business", "field", "unit", "session")
    if session_id:
        queryset = queryset.filter(session_id=session_id)
    if status:
        queryset = queryset.filter(status=status)
    if unit_id:
        queryset = queryset.filter(unit_id=unit_id)
    if answer_state:
        queryset = queryset.filter(answer_state=answer_state)
    for word in q.split()[:8]:
        queryset = queryset.filter(
            Q(content__icontains=word)
            | Q(business__name__icontains=word)
            | Q(business__tax_code__icontains=word)
        )
    return queryset.order_by("-received_at", "-id")


# --------------------------------------------------------------------------- #
# Follow-up report (docs/legal-rules.md: "Business dialogues" step 5)
# --------------------------------------------------------------------------- #

REPORT_COLUMNS = (
    "received",
    "answered_on_time",
    "answered_late",
    "pending",
    "overdue",
    "forwarded",
    "closed_unanswered",
)


def _report_counts(as_of: datetime) -> dict:
    """Disjoint buckets that add up to `received`, as they stood at `as_of`.

    answered: an approved answer by `as_of`; on time if not after its due time (or
    it had none). Forwarded: out of the department's competence. Closed unanswered:
    closed or resolved without an answer. The rest is open: overdue once the due
    time has passed, otherwise pending.
    """
    answered = Q(answered_at__lte=as_of)
    forwarded = ~answered & Q(forwarded_at__lte=as_of)
    closed = ~answered & ~Q(forwarded_at__lte=as_of) & Q(closed_at__lte=as_of)
    still_open = ~answered & ~Q(forwarded_at__lte=as_of) & ~Q(closed_at__lte=as_of)
    return {
        "received": Count("id"),
        "answered_on_time": Count(
            "id",
            filter=answered
            & (Q(answer_due_at__isnull=True) | Q(answered_at__lte=F("answer_due_at"))),
        ),
        "answered_late": Count("id", filter=answered & Q(answered_at__gt=F("answer_due_at"))),
        "pending": Count("id", filter=still_open & ~Q(answer_due_at__lt=as_of)),
        "overdue": Count("id", filter=still_open & Q(answer_due_at__lt=as_of)),
        "forwarded": Count("id", filter=forwarded),
        "closed_unanswered": Count("id", filter=closed),
    }


@dataclass(frozen=True)
class FollowUpReport:
    title: str
    as_of: datetime
    totals: dict
    by_field: list[dict]
    by_unit: list[dict]


def recommendation_followup(*, queryset: QuerySet, as_of: datetime, title: str) -> FollowUpReport:
    """Three aggregate queries: totals, per field, per unit."""
    counts = _report_counts(as_of)
    queryset = queryset.filter(received_at__lte=as_of).order_by()
    totals = queryset.aggregate(**counts)
    by_field = list(
        queryset.values("field_id", name=F("field__name"))
        .annotate(**counts)
        # The "not set" row last on every database.
        .order_by(F("field__order").asc(nulls_last=True), F("field__name").asc(nulls_last=True))
    )
    by_unit = list(
        queryset.values("unit_id", name=F("unit__name"))
        .annotate(**counts)
        .order_by(F("unit__name").asc(nulls_last=True))
    )
    return FollowUpReport(
        title=title, as_of=as_of, totals=totals, by_field=by_field, by_unit=by_unit
    )


def recommendation_report_session(*, session_id: int, as_of: datetime) -> FollowUpReport:
    session = DialogueSession.objects.get(pk=session_id)
    return recommendation_followup(
        queryset=Recommendation.objects.filter(session_id=session_id),
        as_of=as_of,
        title=str(session),
    )


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Local midnight at `start` and just after `end` (both dates included)."""
    first = timezone.make_aware(datetime.combine(start, time.min))
    after = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min))
    return first, after


def recommendation_report_period(*, start: date, end: date, now: datetime) -> FollowUpReport:
    """Recommendations received in [start, end], counted as they stood at the end of
    the period (or now, for a period not yet over)."""
    first, after = period_bounds(start, end)
    as_of = min(after - timedelta(microseconds=1), now)
    return recommendation_followup(
        queryset=Recommendation.objects.filter(received_at__gte=first, received_at__lt=after),
        as_of=as_of,
        title=f"{start:%d/%m/%Y} – {end:%d/%m/%Y}",
    )
