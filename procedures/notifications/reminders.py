"""The deadline reminder sweep (issue: reminders, items 2, 4, 5 and 7).

Each run, on a working day at the times set in the admin (beat), builds for every
officer one digest of what needs them: online dossiers awaiting intake for more than
1 working day, dossiers and steps due within the next working day (with the rule
that an apology must go out at least 1 working day before due), due today, and
overdue; unit heads also get their unit's overdue list and directors a daily
overdue summary (escalation).

Exactly once: every reminder is first an *item* row in the delivery ledger, whose
unique key is (recipient, channel, kind, subject) with the deadline version or the
digest day in the subject. The sweep inserts the items with ON CONFLICT DO NOTHING
and puts in the digest only the items this run inserted; a digest with none is not
sent. So two sweeps at once, a re-run or a redelivered task add nothing, and a
changed due time (apology, supplement, payment pause) is a new key: a new reminder.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from procedures.calendar import working_time as calendar
from procedures.core.constants import StepRole
from procedures.models import Delivery, DeliveryStatus
from procedures.notifications import selectors as sel
from procedures.notifications.kinds import (
    DIGEST_KIND,
    get_kind,
    staff_address,
    staff_channels,
    staff_language,
)
from procedures.notifications.scheduling import scheduled_run_progress
from procedures.notifications.services import enqueue_after_commit

logger = logging.getLogger(__name__)

INSERT_BATCH = 1000


@dataclass
class Item:
    kind: str  # reminder.overdue, reminder.due_today, ...
    subject_key: str
    payload: dict


@dataclass
class Plan:
    """What a sweep would remind, per staff user id (before de-duplication)."""

    windows: sel.ReminderWindows
    items: dict[int, dict[str, Item]] = field(default_factory=lambda: defaultdict(dict))
    directory: sel.StaffDirectory | None = None

    def add(self, user_ids, item: Item) -> None:
        for uid in user_ids:
            # Keyed by (kind, subject) so one person is told once per thing per run.
            self.items[uid][f"{item.kind}|{item.subject_key}"] = item


def _category(due_at: datetime, w: sel.ReminderWindows) -> str:
    if due_at < w.now:
        return "overdue"
    if due_at < w.today_end:
        return "due_today"
    return "due_soon"


def _version(due_at: datetime) -> int:
    return int(due_at.timestamp())


def _deadline_key(prefix: str, category: str, due_at: datetime, w: sel.ReminderWindows) -> str:
    # Overdue repeats once per digest day; the others once per deadline version.
    if category == "overdue":
        return f"{prefix}:overdue:{w.day.isoformat()}"
    return f"{prefix}:{category}:{_version(due_at)}"


def _apology_by(row: dict, w: sel.ReminderWindows) -> str | None:
    """Last moment for the apology (form 04): 1 working day before due, if still ahead."""
    if row["reappointment_count"]:
        return None
    moment = sel.working_moment_before(row["due_at"], calendar.working_day_seconds())
    return moment.isoformat() if moment > w.now else None


def _dossier_owners(row: dict, d: sel.StaffDirectory) -> list[int]:
    """The assigned officer; else the unit's heads; else who received it; else the desk."""
    if row["assigned_officer_id"]:
        return [row["assigned_officer_id"]]
    if row["assigned_unit_id"] and d.heads_by_unit.get(row["assigned_unit_id"]):
        return d.heads_by_unit[row["assigned_unit_id"]]
    if row["received_by_id"]:
        return [row["received_by_id"]]
    return d.intake


def _step_owners(step: dict, d: sel.StaffDirectory) -> list[int]:
    role = step["role"]
    unit_id = step["unit_id"] or step["dossier__assigned_unit_id"]
    if role == StepRole.DIRECTOR:
        return d.directors
    if role == StepRole.UNIT_HEAD:
        return d.heads_by_unit.get(unit_id, [])
    if role == StepRole.INTAKE:
        return [step["dossier__received_by_id"]] if step["dossier__received_by_id"] else d.intake
    if step["dossier__assigned_officer_id"]:
        return [step["dossier__assigned_officer_id"]]
    return d.heads_by_unit.get(unit_id, [])


def reminders_plan(*, now: datetime) -> Plan:
    """Everything due now, per person; reads only (a fixed number of queries)."""
    w = sel.reminder_windows(now=now)
    plan = Plan(windows=w)
    dossiers = list(sel.dossiers_due(until=w.soon_end).iterator(chunk_size=2000))
    steps = sel.steps_due(until=w.soon_end)
    waiting = list(sel.dossiers_awaiting_intake(cutoff=w.intake_cutoff))
    officer_ids = (
        {r["assigned_officer_id"] for r in dossiers}
        | {r["received_by_id"] for r in dossiers}
        | {s["dossier__assigned_officer_id"] for s in steps}
        | {s["dossier__received_by_id"] for s in steps}
    )
    d = sel.staff_directory(extra_ids=officer_ids - {None})
    plan.directory = d

    overdue_by_unit: dict[int, list[tuple[dict, set[int]]]] = defaultdict(list)
    for row in dossiers:
        category = _category(row["due_at"], w)
        payload = {
            "dossier_id": row["id"],
            "code": row["code"],
            "due_at": row["due_at"].isoformat(),
        }
        if category != "overdue":
            payload["apology_by"] = _apology_by(row, w)
            payload["reappointed"] = bool(row["reappointment_count"])
        owners = _dossier_owners(row, d)
        plan.add(
            owners,
            Item(
                f"reminder.{category}",
                _deadline_key(f"dossier:{row['id']}", category, row["due_at"], w),
                payload,
            ),
        )
        if category == "overdue" and row["assigned_unit_id"]:
            overdue_by_unit[row["assigned_unit_id"]].append((row, set(owners)))

    for step in steps:
        category = _category(step["due_at"], w)
        payload = {
            "dossier_id": step["dossier_id"],
            "step_id": step["id"],
            "code": step["dossier__code"],
            "due_at": step["due_at"].isoformat(),
        }
        plan.add(
            _step_owners(step, d),
            Item(
                f"reminder.{category}",
                _deadline_key(f"step:{step['id']}", category, step["due_at"], w),
                payload,
            ),
        )

    for row in waiting:
        plan.add(
            d.intake,
            Item(
                "reminder.awaiting_intake",
                f"dossier:{row['id']}:awaiting_intake:{w.day}",
                {
                    "dossier_id": row["id"],
                    "code": row["code"],
                    "submitted_at": row["submitted_at"].isoformat(),
                },
            ),
        )

    # Escalation: a unit head sees the unit's overdue dossiers that are not already
    # in their own list; once per day.
    for unit_id, overdue in overdue_by_unit.items():
        for head in d.heads_by_unit.get(unit_id, []):
            for row, row_owners in overdue:
                if head in row_owners:
                    continue
                plan.add(
                    [head],
                    Item(
                        "reminder.unit_overdue",
                        f"dossier:{row['id']}:overdue:{w.day}",
                        {
                            "dossier_id": row["id"],
                            "code": row["code"],
                            "due_at": row["due_at"].isoformat(),
                        },
                    ),
                )
    if d.directors and overdue_by_unit:
        summary = sel.overdue_summary(now=now)
        plan.add(d.directors, Item("reminder.overdue_summary", f"overdue:{w.day}", summary))
    return plan


def _slot(now: datetime) -> str:
    local = timezone.localtime(now, calendar.LOCAL_TZ)
    return f"{local:%H}{local.minute // 15 * 15:02d}"


@dataclass
class SweepResult:
    day: str
    skipped: str = ""
    digests: list[int] = field(default_factory=list)
    items: int = 0
    already_sent: int = 0
    # For --dry-run: (recipient, channel, [(kind, subject_key), ...]) not yet in the ledger.
    would_send: list[tuple[str, str, list[tuple[str, str]]]] = field(default_factory=list)


def reminders_sweep(
    *,
    now: datetime | None = None,
    slot: str | None = None,
    dry_run: bool = False,
    force: bool = False,
    run=None,
) -> SweepResult:
    """Insert reminder items and digests, then (after commit) queue the digests.

    With `run` (a claimed ``ScheduledRun``, procedures/notifications/scheduling.py), each
    recipient's digests and the run's progress commit together, and a resumed run
    starts after the last recipient done.
    """
    now = now or timezone.now()
    day = timezone.localtime(now, calendar.LOCAL_TZ).date()
    result = SweepResult(day=day.isoformat())
    if not force and not calendar.is_working_day(day):
        result.skipped = "not a working day"
        logger.info("reminder sweep skipped: %s is not a working day", day)
        return result
    plan = reminders_plan(now=now)
    assert plan.directory is not None  # reminders_plan fills it
    slot = slot or _slot(now)
    resume_after = (run.progress.get("last_user") or 0) if run is not None else 0
    for uid in sorted(plan.items):
        user = plan.directory.users.get(uid)
        if user is None or uid <= resume_after:
            continue  # inactive account: nobody to tell; or done before an interruption
        items = sorted(plan.items[uid].values(), key=lambda i: (i.kind, i.subject_key))
        with transaction.atomic():
            for channel in staff_channels(user):
                if dry_run:
                    _dry_run(result, user, channel, items)
                    continue
                digest, inserted = _insert_digest(
                    user=user, channel=channel, items=items, day=day, slot=slot
                )
                result.items += inserted
                result.already_sent += len(items) - inserted
                if digest is not None:
                    result.digests.append(digest.pk)
            if run is not None and not dry_run:
                done = run.progress.get("recipients", 0) + 1
                scheduled_run_progress(run=run, last_user=uid, recipients=done)
    logger.info(
        "reminder sweep %s %s: %s digests with %s new items, %s already sent",
        day,
        slot,
        len(result.digests),
        result.items,
        result.already_sent,
    )
    return result


def _insert_digest(*, user, channel: str, items: list[Item], day, slot: str):
    """One transaction per recipient and channel: digest row, then its new items."""
    recipient = staff_address(user, channel)
    language = staff_language(user)
    with transaction.atomic():
        try:
            with transaction.atomic():
                digest = Delivery.objects.create(
                    kind=DIGEST_KIND,
                    channel=channel,
                    recipient=recipient,
                    user=user,
                    subject_key=f"digest:{day.isoformat()}:{slot}",
                    language=language,
                    payload={"day": day.isoformat(), "slot": slot},
                )
        except IntegrityError:
            return None, 0  # this sweep already ran for this person: nothing to add
        inserted = _insert_items(digest=digest, items=items)
        if inserted == 0:
            digest.delete()
            return None, 0
        digest.payload["items"] = inserted
        digest.save(update_fields=["payload"])
        enqueue_after_commit([digest.pk])
    return digest, inserted


def _insert_items(*, digest: Delivery, items: list[Item]) -> int:
    """Insert the items ON CONFLICT DO NOTHING; returns how many were new.

    An item reminded before (by an earlier or a concurrent sweep) stays with its first
    digest. On PostgreSQL one INSERT ... SELECT FROM unnest(...) per digest does it:
    the ORM's bulk_create spent most of the sweep building SQL for 10^4 rows
    (docs/benchmarks.md, "Reminder sweep").
    """
    if not items:
        return 0
    for kind in {i.kind for i in items}:
        get_kind(kind)  # an item kind nobody registered would never be printed
    if connection.vendor == "postgresql":
        table = Delivery._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {table} (kind, subject_key, payload, channel, recipient, user_id,
                                     language, status, digest_id, attempts, last_error,
                                     created_at)
                SELECT t.kind, t.subject_key, t.payload::jsonb, %s, %s, %s, %s, %s, %s, 0, '',
                       %s
                FROM unnest(%s::text[], %s::text[], %s::text[]) AS t(kind, subject_key, payload)
                ORDER BY t.kind, t.subject_key
                ON CONFLICT DO NOTHING
                """,
                [
                    digest.channel,
                    digest.recipient,
                    digest.user_id,
                    digest.language,
                    DeliveryStatus.IN_DIGEST,
                    digest.pk,
                    timezone.now(),
                    [i.kind for i in items],
                    [i.subject_key for i in items],
                    [json.dumps(i.payload) for i in items],
                ],
            )
            return cursor.rowcount
    rows = [
        Delivery(
            kind=item.kind,
            channel=digest.channel,
            recipient=digest.recipient,
            user=digest.user,
            subject_key=item.subject_key,
            language=digest.language,
            payload=item.payload,
            status=DeliveryStatus.IN_DIGEST,
            digest=digest,
        )
        for item in items
    ]
    Delivery.objects.bulk_create(rows, batch_size=INSERT_BATCH, ignore_conflicts=True)
    return digest.items.count()


def _dry_run(result: SweepResult, user, channel: str, items: list[Item]) -> None:
    recipient = staff_address(user, channel)
    known = set(
        Delivery.objects.filter(
            recipient=recipient,
            channel=channel,
            subject_key__in=[i.subject_key for i in items],
        ).values_list("kind", "subject_key")
    )
    new = [(i.kind, i.subject_key) for i in items if (i.kind, i.subject_key) not in known]
    result.already_sent += len(items) - len(new)
    if new:
        result.items += len(new)
        result.would_send.append((recipient, channel, new))
