"""Reads behind the reminder sweep: what is due, and who answers for it.

Every query filters on an indexed column with a bound derived from the clock, so its
cost follows the number of reminders due, not the number of open dossiers:
- dossiers: partial index ``dossier_open_due_idx`` (due_at WHERE status is open);
- steps: partial index ``dossier_step_open_due_idx`` (due_at WHERE started, not done);
- awaiting intake: ``dossier_status_submitted_idx`` (status, submitted_at).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Min, QuerySet
from django.utils import timezone

from procedures.calendar import working_time as calendar
from procedures.core.constants import (
    CLOCK_RUNNING_STATUSES,
    ROLE_GROUP_NAMES,
    Channel,
    DossierStatus,
    Role,
)
from procedures.models import Dossier, DossierStep

if TYPE_CHECKING:
    from django.contrib.auth.models import User

RUNNING = [int(s) for s in CLOCK_RUNNING_STATUSES]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=calendar.LOCAL_TZ)


def working_moment_before(moment: datetime, seconds: int) -> datetime:
    """The moment `seconds` working seconds before `moment` (the inverse of adding).

    Used for "awaiting intake for more than 1 working day" and for the last moment an
    apology may go out (at least 1 working day before due, Decree 61/2018 art. 19).
    """
    day_seconds = calendar.working_day_seconds()
    day = timezone.localtime(moment, calendar.LOCAL_TZ).date()
    used_today = max(0, calendar.working_seconds_between(_midnight(day), moment))
    if used_today >= seconds:
        return calendar.add_working_hours(_midnight(day), Decimal(used_today - seconds) / 3600)
    remaining = seconds - used_today
    while True:
        day -= timedelta(days=1)
        if not calendar.is_working_day(day):
            continue
        if remaining <= day_seconds:
            return calendar.add_working_hours(
                _midnight(day), Decimal(day_seconds - remaining) / 3600
            )
        remaining -= day_seconds


@dataclass(frozen=True)
class ReminderWindows:
    now: datetime
    day: date  # the local date of the sweep (the digest day)
    today_end: datetime  # local midnight after `day`: "due today" ends here
    soon_end: datetime  # closing time of the next working day: "due soon" ends here
    intake_cutoff: datetime  # submitted before this: waiting > 1 working day


def reminder_windows(*, now: datetime) -> ReminderWindows:
    day = timezone.localtime(now, calendar.LOCAL_TZ).date()
    today_end = _midnight(day + timedelta(days=1))
    next_opening = calendar.next_working_moment(today_end)
    # A due time that uses up the last working second stays at closing (calendar.py).
    soon_end = calendar.add_working_days(next_opening, 1)
    cutoff = working_moment_before(now, calendar.working_day_seconds())
    return ReminderWindows(
        now=now, day=day, today_end=today_end, soon_end=soon_end, intake_cutoff=cutoff
    )


DOSSIER_FIELDS = (
    "id",
    "code",
    "due_at",
    "reappointment_count",
    "assigned_officer_id",
    "assigned_unit_id",
    "received_by_id",
)


def dossiers_due(*, until: datetime) -> QuerySet:
    """Open dossiers whose clock runs and whose due time is at or before `until`."""
    return (
        Dossier.objects.filter(status__in=RUNNING, due_at__lte=until)
        .order_by("due_at", "id")
        .values(*DOSSIER_FIELDS)
    )


def steps_due(*, until: datetime) -> list[dict]:
    """Open internal steps (form 05) due at or before `until`, of running dossiers.

    Two indexed reads rather than a join: joined, PostgreSQL chose to hash the whole
    dossier table (a scan that grows with open dossiers, docs/benchmarks.md); apart,
    it reads the due steps from their partial index and their dossiers by primary key.
    """
    steps = list(
        DossierStep.objects.filter(
            started_at__isnull=False, completed_at__isnull=True, due_at__lte=until
        )
        .order_by("due_at", "id")
        .values("id", "dossier_id", "order", "name", "role", "unit_id", "due_at")
    )
    dossiers = (
        {
            row["id"]: row
            for row in Dossier.objects.filter(
                pk__in={s["dossier_id"] for s in steps}, status__in=RUNNING
            ).values("id", "code", "assigned_officer_id", "assigned_unit_id", "received_by_id")
        }
        if steps
        else {}
    )
    result: list[dict[str, Any]] = []
    for step in steps:
        dossier = dossiers.get(step["dossier_id"])
        if dossier is None:
            continue  # the dossier's clock is stopped (supplement, payment) or it ended
        row: dict[str, Any] = dict(step)
        row.update({f"dossier__{key}": value for key, value in dossier.items() if key != "id"})
        result.append(row)
    return result


def dossiers_awaiting_intake(*, cutoff: datetime) -> QuerySet:
    """Online submissions nobody has checked for more than 1 working day."""
    return (
        Dossier.objects.filter(
            status=DossierStatus.SUBMITTED, submitted_at__lt=cutoff, channel=Channel.ONLINE
        )
        .order_by("submitted_at", "id")
        .values("id", "code", "submitted_at")
    )


def overdue_summary(*, now: datetime, oldest: int = 10) -> dict:
    """The directors' escalation: overdue dossiers per unit, counted by the database."""
    overdue = Dossier.objects.filter(status__in=RUNNING, due_at__lt=now)
    by_unit = list(
        overdue.values("assigned_unit__name")
        .annotate(n=Count("id"), oldest_due=Min("due_at"))
        .order_by("-n", "assigned_unit__name")
    )
    return {
        "total": sum(row["n"] for row in by_unit),
        "by_unit": [[row["assigned_unit__name"] or "", row["n"]] for row in by_unit],
        "oldest": list(overdue.order_by("due_at", "id").values_list("id", flat=True)[:oldest]),
    }


@dataclass
class StaffDirectory:
    """Active staff the sweep may write to, with their roles and units (one query each)."""

    users: dict[int, User] = field(default_factory=dict)
    intake: list[int] = field(default_factory=list)
    directors: list[int] = field(default_factory=list)
    heads_by_unit: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))


def staff_directory(*, extra_ids: set[int]) -> StaffDirectory:
    User = get_user_model()
    role_names = {ROLE_GROUP_NAMES[r]: r for r in (Role.INTAKE, Role.UNIT_HEAD, Role.DIRECTOR)}
    memberships = list(
        User.groups.through.objects.filter(
            group__name__in=list(role_names), user__is_active=True
        ).values_list("user_id", "group__name")
    )
    ids = set(extra_ids) | {uid for uid, _name in memberships}
    directory = StaffDirectory()
    directory.users = (
        User.objects.filter(pk__in=ids, is_active=True).select_related("staff_profile").in_bulk()
    )
    for uid, name in sorted(memberships):
        role = role_names[name]
        if role == Role.INTAKE:
            directory.intake.append(uid)
        elif role == Role.DIRECTOR:
            directory.directors.append(uid)
        else:
            profile = getattr(directory.users.get(uid), "staff_profile", None)
            if profile is not None and profile.unit_id:
                directory.heads_by_unit[profile.unit_id].append(uid)
    return directory
