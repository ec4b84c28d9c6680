"""The deadline reminder sweep (issue: reminders, items 2, 4, 5 and 7).

Each run, on a working day at the times set in the admin (beat), builds for every
officer one digest of what needs them: online dossiers awaiting intake for more than
1 working day, dossiers and steps due within the next working day (with the rule
that an apology must go out at least 1 working day before due), due today, and
overdue; unit heads also get their unit's overdue list and directors a daily
overdue summary (escalation).

Exactly once: every reminder is first an *item* row in the delivery ledger, whose
unique key is (recipient, channel, kind, subject) with the deadline version or the
digest day in the subject. Items are what a *person* has been told, whatever the
channel: one ledger per person (recipient "user:<id>", channel "item"), so a second
channel, a switched channel or a changed e-mail address tells nothing twice. The sweep
inserts a person's items once, skipping those in the ledger (ON CONFLICT DO NOTHING; on
PostgreSQL a person's first digest of the day tries a plain INSERT first, undone and
retried so if any key is there), pointing at the person's first digest of the run (in
the order of their channels); their other digest of the run carries
``payload["items_of"]`` = that digest and is rendered from the same items. Only the
items this run inserted are in the digests; digests with none are not sent. So two
sweeps at once, a re-run or a redelivered task add nothing, and a changed due time
(apology, supplement, payment pause) is a new key: a new reminder.

Items written before items were per person (channel "email"/"in_app", recipient the
digest's) stay with their digests; their keys are not looked at, so a sweep later on the
day of that change tells once more what an earlier sweep of the same day told.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from procedures.calendar import working_time as calendar
from procedures.core.constants import StepRole
from procedures.models import Delivery, DeliveryChannel, DeliveryStatus, Dossier, DossierStep
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
    # PostgreSQL: how many dossier items per user the database generated into the
    # session's temporary table (``_generate_dossier_items``); empty on the Python path.
    generated: dict[int, int] = field(default_factory=dict)

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


def reminders_plan(*, now: datetime, in_database: bool = False) -> Plan:
    """Everything due now, per person; reads only (a fixed number of queries).

    With `in_database` (PostgreSQL), the dossier and step items, the bulk of a sweep, are not
    built here: ``_generate_dossier_items`` has the database write them from the due
    query into a temporary table, and the plan holds only their counts per person.
    """
    w = sel.reminder_windows(now=now)
    plan = Plan(windows=w)
    dossiers = [] if in_database else list(sel.dossiers_due(until=w.soon_end).iterator(2000))
    # In the database path the step items are generated there too (_generate_step_items).
    steps = [] if in_database else sel.steps_due(until=w.soon_end)
    waiting = list(sel.dossiers_awaiting_intake(cutoff=w.intake_cutoff))
    officer_ids = (
        {r["assigned_officer_id"] for r in dossiers}
        | {r["received_by_id"] for r in dossiers}
        | {s["dossier__assigned_officer_id"] for s in steps}
        | {s["dossier__received_by_id"] for s in steps}
    )
    d = sel.staff_directory(extra_ids=officer_ids - {None})
    plan.directory = d
    if in_database:
        plan.generated = _generate_dossier_items(w, d)
        # The owners the database found (officers, receivers) join the directory; it
        # needed only the roles (heads, desk, directors) to generate the items.
        _directory_add(d, set(plan.generated))

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
    if in_database and d.directors:
        # Whether any overdue dossier has a unit, as the Python path's overdue_by_unit.
        past_due = sel.dossiers_due(until=w.now).filter(due_at__lt=w.now)
        if past_due.filter(assigned_unit_id__isnull=False).exists():
            overdue_by_unit[0] = []
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
    # Item rows, once per person whatever their number of channels (digests).
    items: int = 0
    already_sent: int = 0
    # For --dry-run: per digest that would go out, (recipient, channel, [(kind,
    # subject_key), ...]) not yet in the person's ledger; a person's digests list the
    # same items, counted once in `items`.
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
    # PostgreSQL generates the dossier items in the database (INSERT ... SELECT from
    # the due query); SQLite, and a dry run that must list them, build them in Python.
    in_database = connection.vendor == "postgresql" and not dry_run
    plan = reminders_plan(now=now, in_database=in_database)
    assert plan.directory is not None  # reminders_plan fills it
    if in_database:
        _stage_plan_items(plan)
    slot = slot or _slot(now)
    resume_after = (run.progress.get("last_user") or 0) if run is not None else 0
    try:
        for uid in sorted(set(plan.items) | set(plan.generated)):
            user = plan.directory.users.get(uid)
            if user is None or uid <= resume_after:
                continue  # inactive account: nobody to tell; or done before an interruption
            items = sorted(plan.items[uid].values(), key=lambda i: (i.kind, i.subject_key))
            generated = plan.generated.get(uid, 0)
            with transaction.atomic():
                if in_database:
                    _commit_without_waiting_for_disk()
                channels = staff_channels(user)
                if dry_run:
                    _dry_run(result, user, channels, items)
                elif channels:
                    digests, inserted = _insert_digest(
                        user=user,
                        channels=channels,
                        items=items,
                        day=day,
                        slot=slot,
                        generated=generated,
                        staged=in_database,
                    )
                    result.items += inserted
                    result.already_sent += len(items) + generated - inserted
                    result.digests.extend(digest.pk for digest in digests)
                if run is not None and not dry_run:
                    done = run.progress.get("recipients", 0) + 1
                    scheduled_run_progress(run=run, last_user=uid, recipients=done)
    finally:
        if in_database and not connection.needs_rollback:
            _drop_generated()
    logger.info(
        "reminder sweep %s %s: %s digests with %s new items, %s already sent",
        day,
        slot,
        len(result.digests),
        result.items,
        result.already_sent,
    )
    return result


def item_recipient(user) -> str:
    """The ledger recipient of a person's reminder items (channel "item"): the account,
    whatever channels their digests go by."""
    return f"user:{user.pk}"


def _insert_digest(
    *,
    user,
    channels: list[str],
    items: list[Item],
    day,
    slot: str,
    generated: int = 0,
    staged: bool = False,
) -> tuple[list[Delivery], int]:
    """In the person's transaction: a digest row per channel, then their new items, once
    (with the `generated` ones of the user waiting in the database's temporary table;
    with `staged`, `items` are there too, ``_stage_plan_items``).

    The items point at the first digest; the others carry ``payload["items_of"]``.
    Returns the digests to send (none when nothing is new) and how many items they carry.
    """
    language = staff_language(user)
    subject_key = f"digest:{day.isoformat()}:{slot}"
    digests: list[Delivery] = []
    for channel in channels:
        try:
            with transaction.atomic():
                digests.append(
                    Delivery.objects.create(
                        kind=DIGEST_KIND,
                        channel=channel,
                        recipient=staff_address(user, channel),
                        user=user,
                        subject_key=subject_key,
                        language=language,
                        payload={"day": day.isoformat(), "slot": slot},
                    )
                )
        except IntegrityError:
            continue  # this sweep already ran for this person: nothing to add
    if not digests:
        return [], 0
    inserted = _insert_items(digests=digests, items=items, generated=generated, staged=staged)
    if inserted == 0:
        for digest in digests:
            digest.delete()
        return [], 0
    first = digests[0]
    for digest in digests:
        digest.payload["items"] = inserted
        if digest is not first:
            digest.payload["items_of"] = first.pk
        if connection.vendor != "postgresql":  # there the insert wrote them
            digest.save(update_fields=["payload"])
    enqueue_after_commit([digest.pk for digest in digests])
    return digests, inserted


def _insert_items(
    *, digests: list[Delivery], items: list[Item], generated: int = 0, staged: bool = False
) -> int:
    """Insert the items of one person, once, in the first of `digests` (their digests
    of this run, one per channel), skipping those already in their ledger; returns how
    many were inserted.

    An item reminded before (by an earlier or a concurrent sweep) stays with its first
    digest. On PostgreSQL one INSERT ... SELECT does it, from the items the database
    generated for this user (``_generate_dossier_items``) and the few built in Python
    (intake, summary): the ORM's bulk_create spent most of the sweep building SQL for
    10^4 rows (docs/benchmarks.md, "Reminder sweep").
    """
    if not digests or (not items and not generated):
        return 0
    for kind in {i.kind for i in items}:
        get_kind(kind)  # an item kind nobody registered would never be printed
    if connection.vendor == "postgresql":
        return _insert_items_sql(digests=digests, items=items, generated=generated, staged=staged)
    first = digests[0]
    recipient = item_recipient(first.user)
    rows = [
        Delivery(
            kind=item.kind,
            channel=DeliveryChannel.ITEM,
            recipient=recipient,
            user=first.user,
            subject_key=item.subject_key,
            language=first.language,
            payload=item.payload,
            status=DeliveryStatus.IN_DIGEST,
            digest=first,
        )
        for item in items
    ]
    Delivery.objects.bulk_create(rows, batch_size=INSERT_BATCH, ignore_conflicts=True)
    return first.items.count()


def _insert_items_sql(
    *, digests: list[Delivery], items: list[Item], generated: int, staged: bool
) -> int:
    """PostgreSQL: the items of a person in one INSERT ... SELECT, which also writes
    their count (and the first digest's id) into the digests' payloads. Staged:
    everything of this user is in the temporary table, no arrays to dump (psycopg's
    text array quoting cost ~2 s at 50k due); otherwise the Python-built items go as
    arrays, with the rows the database generated for this user."""
    first = digests[0]
    user_id = first.user_id
    generated_sql = (
        f"SELECT g.kind, g.subject_key, g.payload FROM {ITEMS_TABLE} AS g WHERE g.user_id = %s"
    )
    source_params: list[Any]
    if staged:
        source, source_params = generated_sql, [user_id]
    else:
        source = (
            "SELECT p.kind, p.subject_key, p.payload::jsonb AS payload "
            "FROM unnest(%s::text[], %s::text[], %s::text[]) AS p(kind, subject_key, payload)"
        )
        source_params = [
            [i.kind for i in items],
            [i.subject_key for i in items],
            [json.dumps(i.payload) for i in items],
        ]
        if generated:
            source += " UNION ALL " + generated_sql
            source_params.append(user_id)
    # The items go in a fixed order (concurrent sweeps take the same keys in the same
    # order), byte-wise: the locale's string comparison made the sort a tenth of the
    # insert. The same statement writes the count into the digests' payloads, and into
    # the others the first digest's id (where their items are).
    table = Delivery._meta.db_table
    sql = f"""
        WITH new AS (
            INSERT INTO {table} (
                kind, subject_key, payload, channel, recipient, user_id, language,
                status, digest_id, attempts, last_error, created_at)
            SELECT t.kind, t.subject_key, t.payload, %s, %s, %s, %s, %s, %s, 0, '', %s
            FROM ({source}) AS t
            ORDER BY t.kind COLLATE "C", t.subject_key COLLATE "C"
            {{conflict}}
            RETURNING 1
        ),
        counted AS (SELECT count(*) AS n FROM new)
        UPDATE {table} SET payload = {table}.payload || jsonb_build_object('items', counted.n)
            || CASE WHEN {table}.id = %s THEN '{{}}'::jsonb
                ELSE jsonb_build_object('items_of', %s::bigint) END
        FROM counted WHERE {table}.id = ANY(%s::bigint[]) AND counted.n > 0
        RETURNING counted.n
    """
    params = [
        DeliveryChannel.ITEM,
        item_recipient(first.user),
        user_id,
        first.language,
        DeliveryStatus.IN_DIGEST,
        first.pk,
        timezone.now(),
        *source_params,
        first.pk,
        first.pk,
        [d.pk for d in digests],
    ]
    with connection.cursor() as cursor:
        # The sort of a person's rows (with their payloads: ~3.5 MB for 8,500 rows) in
        # memory, not in temporary files (work_mem is 4 MB by default). Put back after it.
        cursor.execute("SELECT current_setting('work_mem')")
        before = {"work_mem": cursor.fetchone()[0]}
        _set_local(cursor, {"work_mem": _WORK_MEM})
        inserted = _insert_items_run(cursor, sql, params, digests)
        _set_local(cursor, before)
        return inserted


def _insert_items_run(cursor, sql: str, params: list, digests: list[Delivery]) -> int:
    """Run the insert of ``_insert_items_sql``: without ON CONFLICT when it can be."""
    if not _reminded_earlier_today(digests):
        # No item of this person can be in the ledger yet (items carry the day, or
        # a deadline version that an earlier day's sweep saw under another category):
        # a plain INSERT, without ON CONFLICT's speculative insertion (a probe of the
        # unique index and a second WAL record per row, a third of the sweep's
        # database time). A key there all the same (a concurrent sweep) fails it;
        # the savepoint undoes it and the insert below skips the conflicts.
        try:
            with transaction.atomic():
                cursor.execute(sql.replace("{conflict}", ""), params)
                return _count(cursor.fetchall())
        except IntegrityError:
            pass
    cursor.execute(sql.replace("{conflict}", "ON CONFLICT DO NOTHING"), params)
    return _count(cursor.fetchall())


def _count(rows: list[tuple[int]]) -> int:
    """The insert's count, on each updated digest's row (no row: nothing inserted)."""
    return rows[0][0] if rows else 0


def _reminded_earlier_today(digests: list[Delivery]) -> bool:
    """Whether the person got a digest of the same day before these (an earlier slot)
    on any channel, even one they no longer use: then most of today's items are in the
    ledger already. Read through the ledger's unique key (recipient, channel, kind,
    subject) with the person's address on each channel a digest can go by."""
    user = digests[0].user
    return (
        Delivery.objects.filter(
            recipient__in={staff_address(user, c) for c in DIGEST_CHANNELS},
            channel__in=DIGEST_CHANNELS,
            kind=DIGEST_KIND,
            subject_key__startswith=f"digest:{digests[0].payload['day']}:",
        )
        .exclude(pk__in=[d.pk for d in digests])
        .exists()
    )


# The channels a staff digest can go by (kinds.staff_channels).
DIGEST_CHANNELS = [DeliveryChannel.EMAIL, DeliveryChannel.IN_APP]


# --------------------------------------------------------------------------- PostgreSQL

ITEMS_TABLE = "reminder_sweep_items"

# The ISO text Python's datetime.isoformat() gives a UTC time (the payloads must not
# depend on which path built them).
_ISO = (
    "to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS')"
    " || CASE WHEN date_part('microseconds', {c})::bigint %% 1000000 <> 0"
    " THEN to_char({c} AT TIME ZONE 'UTC', '.US') ELSE '' END || '+00:00'"
)


def _directory_add(d: sel.StaffDirectory, ids: set[int]) -> None:
    """Add the active accounts among `ids` to the directory (as ``staff_directory``)."""
    missing = ids - set(d.users)
    if missing:
        d.users.update(
            get_user_model()
            .objects.filter(pk__in=missing, is_active=True)
            .select_related("staff_profile")
            .in_bulk()
        )


def _generate_step_items(cursor, w: sel.ReminderWindows, d: sel.StaffDirectory) -> None:
    """The step items of ``reminders_plan`` (owners as ``_step_owners``, keys as
    ``_deadline_key``), written into the temporary table by the database."""
    heads = [(unit, uid) for unit, uids in d.heads_by_unit.items() for uid in uids]
    named: dict[str, Any] = {
        "now": w.now,
        "today_end": w.today_end,
        "until": w.soon_end,
        "running": list(sel.RUNNING),
        "day": w.day.isoformat(),
        "head_units": [h[0] for h in heads],
        "head_users": [h[1] for h in heads],
        "intake": list(d.intake),
        "directors": list(d.directors),
        "director": str(StepRole.DIRECTOR),
        "unit_head": str(StepRole.UNIT_HEAD),
        "intake_role": str(StepRole.INTAKE),
    }
    iso_due = _ISO.format(c="st.due_at")
    cursor.execute(
        f"""
        INSERT INTO {ITEMS_TABLE} (user_id, kind, subject_key, payload)
        WITH s AS (
            SELECT st.id, st.dossier_id, st.role, st.due_at,
                COALESCE(st.unit_id, d.assigned_unit_id) AS unit_id,
                d.code, d.assigned_officer_id, d.received_by_id,
                CASE WHEN st.due_at < %(now)s THEN 'overdue'
                    WHEN st.due_at < %(today_end)s THEN 'due_today' ELSE 'due_soon' END
                    AS category,
                {iso_due} AS due_text
            FROM {DossierStep._meta.db_table} AS st
            -- Each due step's dossier by primary key (OFFSET 0 keeps the subquery
            -- apart): joined plainly, PostgreSQL hashed a sequential scan of the whole
            -- dossier table, a cost that grows with open dossiers, not with due steps.
            CROSS JOIN LATERAL (
                SELECT d.code, d.assigned_officer_id, d.received_by_id, d.assigned_unit_id
                FROM {Dossier._meta.db_table} AS d
                WHERE d.id = st.dossier_id AND d.status = ANY(%(running)s::int[])
                OFFSET 0
            ) AS d
            WHERE st.started_at IS NOT NULL AND st.completed_at IS NULL
              AND st.due_at <= %(until)s
        ),
        heads AS (
            SELECT * FROM unnest(%(head_units)s::bigint[], %(head_users)s::bigint[])
                AS h(unit_id, user_id)
        ),
        owned AS (
            SELECT s.*, x.user_id AS owner
            FROM s CROSS JOIN unnest(%(directors)s::bigint[]) AS x(user_id)
            WHERE s.role = %(director)s
            UNION ALL
            SELECT s.*, heads.user_id FROM s JOIN heads ON heads.unit_id = s.unit_id
            WHERE s.role = %(unit_head)s
            UNION ALL
            SELECT s.*, s.received_by_id FROM s
            WHERE s.role = %(intake_role)s AND s.received_by_id IS NOT NULL
            UNION ALL
            SELECT s.*, x.user_id
            FROM s CROSS JOIN unnest(%(intake)s::bigint[]) AS x(user_id)
            WHERE s.role = %(intake_role)s AND s.received_by_id IS NULL
            UNION ALL
            SELECT s.*, s.assigned_officer_id FROM s
            WHERE s.role NOT IN (%(director)s, %(unit_head)s, %(intake_role)s)
              AND s.assigned_officer_id IS NOT NULL
            UNION ALL
            SELECT s.*, heads.user_id FROM s JOIN heads ON heads.unit_id = s.unit_id
            WHERE s.role NOT IN (%(director)s, %(unit_head)s, %(intake_role)s)
              AND s.assigned_officer_id IS NULL
        )
        SELECT owned.owner, 'reminder.' || owned.category,
            CASE WHEN owned.category = 'overdue'
                THEN 'step:' || owned.id || ':overdue:' || %(day)s
                ELSE 'step:' || owned.id || ':' || owned.category || ':'
                    || floor(extract(epoch FROM owned.due_at))::bigint
            END,
            jsonb_build_object('dossier_id', owned.dossier_id, 'step_id', owned.id,
                'code', owned.code, 'due_at', owned.due_text)
        FROM owned
        """,
        named,
    )


def _apology_moments(w: sel.ReminderWindows) -> tuple[list[datetime], list[str | None]]:
    """``_apology_by`` for each distinct due time not yet passed: the working calendar
    lives in Python, so the database gets it as a small (due time -> text) table."""
    dues = (
        sel.dossiers_due(until=w.soon_end)
        .filter(due_at__gte=w.now, reappointment_count=0)
        .order_by()
        .values_list("due_at", flat=True)
        .distinct()
    )
    out: tuple[list[datetime], list[str | None]] = ([], [])
    for due in dues:
        out[0].append(due)
        out[1].append(_apology_by({"reappointment_count": 0, "due_at": due}, w))
    return out


# Memory for the sweep's sorts and hashes of ~10^5 rows (PostgreSQL's default is 4 MB).
_WORK_MEM = "64MB"
_GENERATE_SETTINGS = {"work_mem": _WORK_MEM, "jit": "off", "enable_mergejoin": "off"}


def _set_local(cursor, settings: dict[str, str]) -> None:
    """SET LOCAL each of `settings` (one statement)."""
    cursor.execute(
        "SELECT " + ", ".join("set_config(%s, %s, true)" for _ in settings),
        [v for item in settings.items() for v in item],
    )


def _generate_dossier_items(w: sel.ReminderWindows, d: sel.StaffDirectory) -> dict[int, int]:
    """Write the dossier items (deadline reminders and the unit heads' escalation) of
    every person into a temporary table with one INSERT ... SELECT from the due query:
    the same owners (``_dossier_owners``), keys (``_deadline_key``) and payloads as
    ``reminders_plan`` builds row by row in Python. Returns the count per person.
    """
    # Unordered: the items are sorted where they are inserted, per person.
    due = sel.dossiers_due(until=w.soon_end).order_by()
    due_sql, due_params = due.query.sql_with_params()
    heads = [(unit, uid) for unit, uids in d.heads_by_unit.items() for uid in uids]
    apology_dues, apology_texts = _apology_moments(w)
    iso_due = _ISO.format(c="due.due_at")
    category = (
        "CASE WHEN due.due_at < %(now)s THEN 'overdue' "
        "WHEN due.due_at < %(today_end)s THEN 'due_today' ELSE 'due_soon' END"
    )
    named: dict[str, Any] = {
        "now": w.now,
        "today_end": w.today_end,
        "day": w.day.isoformat(),
        "head_units": [h[0] for h in heads],
        "head_users": [h[1] for h in heads],
        "intake": list(d.intake),
        "apology_dues": apology_dues,
        "apology_texts": apology_texts,
    }
    # The due query's own placeholders are positional: inline them as named ones.
    for i, value in enumerate(due_params):
        named[f"due_{i}"] = value
    pieces = due_sql.split("%s")
    due_sql = pieces[0] + "".join(f"%(due_{i})s" + p for i, p in enumerate(pieces[1:]))
    create = f"""
        CREATE TEMPORARY TABLE IF NOT EXISTS {ITEMS_TABLE} (
            user_id bigint NOT NULL, kind text NOT NULL, subject_key text NOT NULL,
            payload jsonb NOT NULL
        )
    """
    sql = f"""
        INSERT INTO {ITEMS_TABLE} (user_id, kind, subject_key, payload)
        WITH due AS (
            SELECT due.*, {category} AS category, {iso_due} AS due_text
            FROM ({due_sql}) AS due
        ),
        heads AS (
            SELECT * FROM unnest(%(head_units)s::bigint[], %(head_users)s::bigint[])
                AS h(unit_id, user_id)
        ),
        owned AS (
            SELECT due.*, due.assigned_officer_id AS owner
            FROM due WHERE due.assigned_officer_id IS NOT NULL
            UNION ALL
            SELECT due.*, heads.user_id
            FROM due JOIN heads ON heads.unit_id = due.assigned_unit_id
            WHERE due.assigned_officer_id IS NULL
            UNION ALL
            SELECT due.*, due.received_by_id
            FROM due
            WHERE due.assigned_officer_id IS NULL AND due.received_by_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM heads WHERE heads.unit_id = due.assigned_unit_id)
            UNION ALL
            SELECT due.*, intake.user_id
            FROM due CROSS JOIN unnest(%(intake)s::bigint[]) AS intake(user_id)
            WHERE due.assigned_officer_id IS NULL AND due.received_by_id IS NULL
              AND NOT EXISTS (SELECT 1 FROM heads WHERE heads.unit_id = due.assigned_unit_id)
        )
        SELECT owned.owner, 'reminder.' || owned.category,
            CASE WHEN owned.category = 'overdue'
                THEN 'dossier:' || owned.id || ':overdue:' || %(day)s
                ELSE 'dossier:' || owned.id || ':' || owned.category || ':'
                    || floor(extract(epoch FROM owned.due_at))::bigint
            END,
            CASE WHEN owned.category = 'overdue'
                THEN jsonb_build_object(
                    'dossier_id', owned.id, 'code', owned.code, 'due_at', owned.due_text)
                ELSE jsonb_build_object(
                    'dossier_id', owned.id, 'code', owned.code, 'due_at', owned.due_text,
                    'apology_by', apology.apology_by,
                    'reappointed', owned.reappointment_count <> 0)
            END
        FROM owned
        LEFT JOIN unnest(%(apology_dues)s::timestamptz[], %(apology_texts)s::text[])
            AS apology(due_at, apology_by)
            ON apology.due_at = owned.due_at AND owned.reappointment_count = 0
        UNION ALL
        SELECT heads.user_id, 'reminder.unit_overdue',
            'dossier:' || due.id || ':overdue:' || %(day)s,
            jsonb_build_object('dossier_id', due.id, 'code', due.code, 'due_at', due.due_text)
        FROM due JOIN heads ON heads.unit_id = due.assigned_unit_id
        WHERE due.category = 'overdue' AND due.assigned_officer_id IS NOT NULL
          AND heads.user_id <> due.assigned_officer_id
    """
    with transaction.atomic(), connection.cursor() as cursor:
        # For the two generating statements: sorts and hashes of ~10^5 rows in memory
        # rather than in temporary files (4 MB by default); the small look-up tables
        # (heads, apology moments) hashed rather than the due rows sorted to merge them;
        # no JIT compilation, which the planner's estimate for 10^5 rows asked for and
        # which cost more than it saved. Put back after them (a caller's transaction
        # would keep them otherwise).
        cursor.execute(
            "SELECT current_setting('work_mem'), current_setting('jit'), "
            "current_setting('enable_mergejoin')"
        )
        before = dict(zip(_GENERATE_SETTINGS, cursor.fetchone(), strict=True))
        _set_local(cursor, _GENERATE_SETTINGS)
        cursor.execute(create)
        cursor.execute(f"TRUNCATE {ITEMS_TABLE}")
        cursor.execute(sql, named)
        _generate_step_items(cursor, w, d)
        _set_local(cursor, before)
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {ITEMS_TABLE}_user ON {ITEMS_TABLE} (user_id)")
        # Statistics of the column the per-person reads filter on (the payloads' are not
        # needed and cost more than the rest).
        cursor.execute(f"ANALYZE {ITEMS_TABLE} (user_id)")
        cursor.execute(f"SELECT user_id, count(*) FROM {ITEMS_TABLE} GROUP BY user_id")
        return dict(cursor.fetchall())


def _stage_plan_items(plan: Plan) -> None:
    """Add the items built in Python (intake, summary) to the temporary table,
    once for all channels, by a binary COPY (no text quoting)."""
    rows = [
        (uid, item.kind, item.subject_key, Jsonb(item.payload))
        for uid, items in plan.items.items()
        for item in items.values()
    ]
    if not rows:
        return
    with connection.cursor() as cursor:
        copy_sql = (
            f"COPY {ITEMS_TABLE} (user_id, kind, subject_key, payload) FROM STDIN (FORMAT BINARY)"
        )
        with cursor.cursor.copy(copy_sql) as copy:
            copy.set_types(["int8", "text", "text", "jsonb"])
            for row in rows:
                copy.write_row(row)


def _commit_without_waiting_for_disk() -> None:
    """This transaction's commit does not wait for its WAL to reach the disk
    (``SET LOCAL synchronous_commit = off``; a crash of the database server may lose
    the last fraction of a second of commits, never corrupt them).

    Safe for the sweep because what it writes can be lost and written again: a lost
    digest's slot is not finished (``scheduled_run_finish`` commits synchronously, and a
    synchronous commit flushes every WAL record before its own), so the slot is run
    again after the lease and the unique keys re-create exactly the lost rows. Nothing
    leaves the machine before a synchronous commit either: the worker sending a digest
    first claims it in a transaction of its own (delivery.py), which flushes this one.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")


def _drop_generated() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {ITEMS_TABLE}")


def _dry_run(result: SweepResult, user, channels: list[str], items: list[Item]) -> None:
    """What ``_insert_digest`` would do: the person's items not in their ledger, counted
    once, listed for each digest (channel) that would show them."""
    if not channels:
        return
    known = set(
        Delivery.objects.filter(
            recipient=item_recipient(user),
            channel=DeliveryChannel.ITEM,
            subject_key__in=[i.subject_key for i in items],
        ).values_list("kind", "subject_key")
    )
    new = [(i.kind, i.subject_key) for i in items if (i.kind, i.subject_key) not in known]
    result.already_sent += len(items) - len(new)
    if new:
        result.items += len(new)
        for channel in channels:
            result.would_send.append((staff_address(user, channel), channel, new))
