"""Work queues of the staff dashboard: what is waiting for whom, and how urgent it is.

Every queue is a subset of the open dossiers (statuses 1, 2, 4, 5, 6), so the counts
come from ONE aggregate query whose WHERE is exactly the predicate of the partial
index `dossier_open_due_idx` (open statuses, on due_at): PostgreSQL reads the small
index of open dossiers instead of the million-row table, and each queue is a
`Count(filter=Q(...))` over those rows (style.md habit 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import models
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from procedures.calendar import working_time as calendar
from procedures.core.constants import (
    CLOCK_RUNNING_STATUSES,
    OPEN_STATUSES,
    Action,
    DossierStatus,
    Role,
)
from procedures.core.roles import may_perform, user_roles, user_unit_id
from procedures.dossiers.selectors import dossier_visible_filter
from procedures.models import Dossier

S = DossierStatus
PAUSED_STATUSES = (S.SUPPLEMENT_REQUESTED, S.PAYMENT_REQUESTED)


class Queue(models.TextChoices):
    AWAITING_INTAKE = "awaiting_intake", _("Awaiting intake")
    MINE = "mine", _("Assigned to me")
    DUE_SOON = "due_soon", _("Due within 1 working day")
    OVERDUE = "overdue", _("Overdue")
    AWAITING_SUPPLEMENT = "awaiting_supplement", _("Awaiting supplement")
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
    TRANSFER_WAITING = "transfer_waiting", _("Transfers waiting")
    TRANSFER_LATE = "transfer_late", _("Transfers late")
    # Role queues (queue_role_counts): the work of one role only.
    UNIT_UNASSIGNED = "unit_unassigned", _("Arrived in my unit, not yet assigned")
    READY_TO_RETURN = "ready_to_return", _("Results ready to return")


# Every staff member sees these; the role queues are added by queue_role_counts.
COMMON_QUEUES = (
    Queue.AWAITING_INTAKE,
    Queue.MINE,
    Queue.DUE_SOON,
    Queue.OVERDUE,
    Queue.AWAITING_SUPPLEMENT,
    Queue.AWAITING_PAYMENT,
    Queue.TRANSFER_WAITING,
    Queue.TRANSFER_LATE,
)


@dataclass(frozen=True)
class QueueCount:
    queue: str
    label: str
    count: int
    urgent: bool  # shown in red when not zero


def due_soon_limit(*, now: datetime) -> datetime:
    """The end of "within 1 working day" from `now` (office hours, holidays skipped)."""
    return calendar.add_working_hours(now, Decimal(calendar.working_day_seconds()) / 3600)


def overdue_filter(*, now: datetime) -> Q:
    """Overdue at `now` (docs/legal-rules.md "Open dossiers at period end"), the same
    rule as the report's overdue column for an open month: a running dossier past its
    due time, or a paused one whose due time had passed before the pause began (the
    pause stops the clock but never excuses lateness that came before it)."""
    return Q(status__in=CLOCK_RUNNING_STATUSES, due_at__lt=now) | Q(
        status__in=PAUSED_STATUSES, paused_at__isnull=False, due_at__lt=F("paused_at")
    )


def queue_filter(*, queue: str, user, now: datetime, soon: datetime | None = None) -> Q:
    """The condition of one queue, to be applied on top of the open, visible dossiers.

    Due soon counts only dossiers whose clock runs: while the applicant owes papers or
    a fee the due time is not running (Decree 61/2018 art. 19). Transfers waiting are
    accepted dossiers not yet routed to a processing unit; late ones are past their
    transfer due time (same working day, or next morning after the cut-off).
    """
    if queue == Queue.AWAITING_INTAKE:
        return Q(status=S.SUBMITTED)
    if queue == Queue.MINE:
        return Q(assigned_officer=user)
    if queue == Queue.DUE_SOON:
        soon = soon or due_soon_limit(now=now)
        return Q(status__in=CLOCK_RUNNING_STATUSES, due_at__gte=now, due_at__lt=soon)
    if queue == Queue.OVERDUE:
        return overdue_filter(now=now)
    if queue == Queue.AWAITING_SUPPLEMENT:
        return Q(status=S.SUPPLEMENT_REQUESTED)
    if queue == Queue.AWAITING_PAYMENT:
        return Q(status=S.PAYMENT_REQUESTED)
    if queue == Queue.UNIT_UNASSIGNED:
        # Transferred to the unit (or taken by it) and waiting for its head to name
        # the specialist; the clock already runs.
        return Q(
            status__in=CLOCK_RUNNING_STATUSES,
            assigned_unit_id=user_unit_id(user),
            assigned_officer__isnull=True,
        )
    if queue == Queue.READY_TO_RETURN:
        return Q(status=S.FINISHED)
    if queue == Queue.TRANSFER_WAITING:
        return Q(transferred_at__isnull=True, transfer_due_at__isnull=False)
    if queue == Queue.TRANSFER_LATE:
        return Q(transferred_at__isnull=True, transfer_due_at__lt=now)
    raise ValueError(f"Unknown queue {queue!r}")


def queue_statuses(*, queue: str) -> list[int]:
    """The statuses a queue is drawn from: the open ones, except finished results."""
    if queue == Queue.READY_TO_RETURN:
        return [int(S.FINISHED)]
    return [int(s) for s in OPEN_STATUSES]


def open_dossiers(*, user) -> QuerySet[Dossier]:
    """Open dossiers the user may see. The status list matches the partial index's."""
    return Dossier.objects.filter(status__in=[int(s) for s in OPEN_STATUSES]).filter(
        dossier_visible_filter(user)
    )


def queue_dossiers(*, queue: str, user, now: datetime | None = None) -> QuerySet[Dossier]:
    now = now or timezone.now()
    return (
        Dossier.objects.filter(status__in=queue_statuses(queue=queue))
        .filter(dossier_visible_filter(user))
        .filter(queue_filter(queue=queue, user=user, now=now))
    )


def queue_counts(*, user, now: datetime | None = None) -> list[QueueCount]:
    """The common queue counts for `user` in one query."""
    now = now or timezone.now()
    soon = due_soon_limit(now=now)
    aggregates = {
        # COUNT(status), not COUNT(id): status is in the index, so a covering index
        # can answer without visiting the table (Django refuses COUNT(*) with a filter).
        q.value: Count("status", filter=queue_filter(queue=q, user=user, now=now, soon=soon))
        for q in COMMON_QUEUES
    }
    counts = open_dossiers(user=user).aggregate(**aggregates)
    urgent = {Queue.OVERDUE, Queue.DUE_SOON, Queue.AWAITING_INTAKE, Queue.TRANSFER_LATE}
    return [
        QueueCount(
            queue=q.value, label=str(q.label), count=counts[q.value] or 0, urgent=q in urgent
        )
        for q in COMMON_QUEUES
    ]


def role_queues(*, user) -> list[Queue]:
    """The queues of the user's own job: a unit head's unassigned arrivals, the desk's
    results waiting to be handed back (only the desk returns results)."""
    queues = []
    if Role.UNIT_HEAD in user_roles(user) and user_unit_id(user) is not None:
        queues.append(Queue.UNIT_UNASSIGNED)
    if may_perform(user, Action.RETURN_RESULT):
        queues.append(Queue.READY_TO_RETURN)
    return queues


def queue_role_counts(*, user, now: datetime | None = None) -> list[QueueCount]:
    """One COUNT per role queue of the user (none for most staff).

    Separate from queue_counts: finished dossiers are outside the open-dossier partial
    index, and their count uses the (status, submitted_at) index instead.
    """
    now = now or timezone.now()
    return [
        QueueCount(
            queue=q.value,
            label=str(q.label),
            count=queue_dossiers(queue=q, user=user, now=now).count(),
            urgent=q == Queue.UNIT_UNASSIGNED,
        )
        for q in role_queues(user=user)
    ]


def queue_most_urgent(*, user, now: datetime | None = None, limit: int = 10) -> list[Dossier]:
    """Overdue and due-soon dossiers, earliest due first, for the dashboard's table.

    Ordered by due_at inside the open-dossier partial index, so the LIMIT stops early.
    """
    now = now or timezone.now()
    soon = due_soon_limit(now=now)
    return list(
        open_dossiers(user=user)
        .filter(Q(status__in=CLOCK_RUNNING_STATUSES, due_at__lt=soon) | overdue_filter(now=now))
        .select_related("procedure", "assigned_unit", "assigned_officer")
        .only(
            "id",
            "code",
            "status",
            "applicant_name",
            "due_at",
            "reappointment_count",
            "procedure__id",
            "procedure__code",
            "procedure__name",
            "assigned_unit__id",
            "assigned_unit__code",
            "assigned_unit__name",
            "assigned_officer__id",
            "assigned_officer__username",
            "assigned_officer__first_name",
            "assigned_officer__last_name",
        )
        .order_by("due_at", "id")[:limit]
    )
