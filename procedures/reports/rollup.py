"""Per-day, per-procedure counts for the report (``ReportDailyCount``), so a period reads
about (procedures x days) small rows instead of every dossier it touches.

A dossier's contribution is a pure function of its row (procedure, channel, accepted,
finished and ended times, status, result) and its append-only event log:

- flow columns: +1 on the local day it was accepted (by channel), resolved (by result),
  withdrawn or stopped after acceptance, or refused at intake;
- state deltas: whether it is open, paused for a supplement, paused for a payment, and
  overdue *at the midnight that starts day D*, with exactly the definitions of
  ``selectors.column_filters`` judged at that midnight; the value at D is the sum of
  the deltas of the days before D. The state can change only at a midnight after an
  event, an acceptance/close or a due time, so it is evaluated there and the changes
  are stored. A running dossier's future "becomes overdue" is stored on its due day
  and withdrawn again by the next transition if that comes first.

``rollup_record`` runs in the transaction of every transition (``dossiers.services
._record``): it recomputes the dossier's contribution before and after the new event
and adds the difference (one read of the dossier's events, one upsert).
``rollup_rebuild`` recomputes the table from the dossiers and their events (the
``rebuild_report_rollup`` command), for imported data or after a bulk load.

``rollup_figures`` turns the table into the report's per-procedure columns; for a
period still running, "overdue" is judged at the moment of reading, so the rows due
later today are taken off with one small indexed query on the running dossiers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import Coalesce, Greatest, TruncDate

from procedures.core.constants import (
    CLOCK_RUNNING_STATUSES,
    Action,
    Channel,
    DossierStatus,
    OnTimeResult,
)
from procedures.models import Dossier, DossierEvent, ReportDailyCount

if TYPE_CHECKING:
    from procedures.reports.selectors import Period

VN = ZoneInfo("Asia/Ho_Chi_Minh")
S = DossierStatus
PAUSING_ACTIONS = (Action.REQUEST_SUPPLEMENT, Action.REQUEST_PAYMENT)

FLOW_COLUMNS = (
    "received_online",
    "received_direct_postal",
    "resolved",
    "resolved_early",
    "resolved_on_time",
    "resolved_late",
    "withdrawn",
    "stopped",
    "refused_intake",
)
STATE_COLUMNS = ("open_delta", "supplement_delta", "payment_delta", "overdue_delta")
COLUMNS = FLOW_COLUMNS + STATE_COLUMNS
RESULT_COLUMN = {
    OnTimeResult.EARLY: "resolved_early",
    OnTimeResult.ON_TIME: "resolved_on_time",
    OnTimeResult.LATE: "resolved_late",
}
ROW_FIELDS = (
    "pk",
    "procedure_id",
    "channel",
    "accepted_at",
    "finished_at",
    "ended_at",
    "status",
    "on_time_result",
    "due_at",
    "paused_at",
)
EVENT_FIELDS = ("id", "at", "action", "to_status", "due_at")

Contribution = dict[tuple[int, date], dict[str, int]]


@dataclass(frozen=True)
class Row:
    pk: int
    procedure_id: int
    channel: int
    accepted_at: datetime | None
    finished_at: datetime | None
    ended_at: datetime | None
    status: int
    on_time_result: str
    due_at: datetime | None
    paused_at: datetime | None


@dataclass(frozen=True)
class Event:
    id: int
    at: datetime
    action: str
    to_status: int | None
    due_at: datetime | None


def _day(moment: datetime) -> date:
    return moment.astimezone(VN).date()


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=VN)


def _state(
    row: Row, events: list[Event], known: int, ever_paused: bool, b: datetime
) -> tuple[int, ...]:
    """(open, paused for a supplement, paused for a payment, overdue) at the midnight
    `b`, as ``selectors.column_filters`` defines them for a period ending at `b`; the
    first `known` events are those before `b`."""
    if row.accepted_at is None or row.accepted_at >= b:
        return (0, 0, 0, 0)
    if (row.finished_at is not None and row.finished_at < b) or (
        row.ended_at is not None and row.ended_at < b
    ):
        return (0, 0, 0, 0)
    before = range(known - 1, -1, -1)  # latest first
    status = next(
        (events[i].to_status for i in before if events[i].to_status is not None), row.status
    )
    paused = ever_paused and status in (S.SUPPLEMENT_REQUESTED, S.PAYMENT_REQUESTED)
    if paused:
        pause = next((events[i] for i in before if events[i].action in PAUSING_ACTIONS), None)
        began = pause.at if pause else (row.paused_at or b)
        due = pause.due_at if pause and pause.due_at is not None else row.due_at
        overdue = due is not None and due < began
    else:
        due = row.due_at
        if ever_paused:
            due = next(
                (events[i].due_at for i in before if events[i].due_at is not None), row.due_at
            )
        overdue = due is not None and due < b
    return (
        1,
        int(paused and status == S.SUPPLEMENT_REQUESTED),
        int(paused and status == S.PAYMENT_REQUESTED),
        int(overdue),
    )


def contribution(row: Row, events: list[Event]) -> Contribution:
    """What one dossier adds to the table: {(procedure, day): {column: n}}; `events`
    ordered by (at, id)."""
    out: Contribution = defaultdict(lambda: defaultdict(int))

    def add(moment: datetime | date, column: str, n: int = 1) -> None:
        day = moment if isinstance(moment, date) and not isinstance(moment, datetime) else None
        key = (row.procedure_id, day or _day(moment))  # type: ignore[arg-type]
        out[key][column] += n

    if row.status == S.REFUSED_AT_INTAKE and row.ended_at is not None:
        add(row.ended_at, "refused_intake")
    if row.accepted_at is None:
        return out
    online = row.channel == Channel.ONLINE
    add(row.accepted_at, "received_online" if online else "received_direct_postal")
    if row.finished_at is not None:
        add(row.finished_at, "resolved")
        if row.on_time_result in RESULT_COLUMN:
            add(row.finished_at, RESULT_COLUMN[row.on_time_result])
    if row.ended_at is not None and row.status == S.WITHDRAWN:
        add(row.ended_at, "withdrawn")
    if row.ended_at is not None and row.status == S.STOPPED:
        add(row.ended_at, "stopped")

    # Callers read the events ordered by (at, id), as the report's subqueries order them.
    ever_paused = any(e.action in PAUSING_ACTIONS for e in events)
    moments = [row.accepted_at, row.finished_at, row.ended_at, row.due_at]
    moments += [e.at for e in events] + [e.due_at for e in events]
    # The state at midnight b depends on comparisons "x < b": it can change only at the
    # midnight after the day of some x.
    days = sorted({_day(m) + timedelta(days=1) for m in moments if m is not None})
    previous = (0, 0, 0, 0)
    known = 0
    for day in days:
        b = _midnight(day)
        while known < len(events) and events[known].at < b:
            known += 1
        current = _state(row, events, known, ever_paused, b)
        for column, now_value, before_value in zip(STATE_COLUMNS, current, previous, strict=True):
            if now_value != before_value:
                add(day - timedelta(days=1), column, now_value - before_value)
        previous = current
    return out


def _difference(after: Contribution, before: Contribution) -> Contribution:
    out: Contribution = defaultdict(lambda: defaultdict(int))
    for sign, table in ((1, after), (-1, before)):
        for key, columns in table.items():
            for column, n in columns.items():
                out[key][column] += sign * n
    return {key: dict(columns) for key, columns in out.items() if any(v for v in columns.values())}


def _add(table: Contribution) -> None:
    """Add the counts to the table: one multi-row upsert (PostgreSQL and SQLite)."""
    rows = [
        (procedure_id, day, *(columns.get(c, 0) for c in COLUMNS))
        for (procedure_id, day), columns in sorted(table.items())
        if any(columns.values())
    ]
    if not rows:
        return
    name = connection.ops.quote_name(ReportDailyCount._meta.db_table)
    one = "(" + ", ".join(["%s"] * (2 + len(COLUMNS))) + ")"
    updates = ", ".join(f"{c} = {name}.{c} + excluded.{c}" for c in COLUMNS)
    sql = (
        f"INSERT INTO {name} (procedure_id, day, {', '.join(COLUMNS)}) "
        f"VALUES {', '.join([one] * len(rows))} "
        f"ON CONFLICT (procedure_id, day) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for row in rows for value in row])


def _row(dossier: Dossier) -> Row:
    return Row(*(getattr(dossier, f) for f in ROW_FIELDS))


def rollup_record(
    *, dossier: Dossier, event: DossierEvent, from_status: int | None, fields: Iterable[str]
) -> None:
    """Add the change that `event` (just saved, with `dossier` saved with `fields`)
    makes to the dossier's contribution. Call inside the transition's transaction."""
    changed = set(fields)
    after = _row(dossier)
    if after.accepted_at is None and after.status != S.REFUSED_AT_INTAKE:
        return  # not received for processing: counted nowhere, before or after
    events = [
        Event(*values)
        for values in DossierEvent.objects.filter(dossier_id=dossier.pk)
        .order_by("at", "id")
        .values_list(*EVENT_FIELDS)
    ]
    earlier = [e for e in events if e.id != event.pk]
    # The row as it was before this transition: what the transition set is undone
    # (times and the result are set once; the due time is the one the last event left).
    undo: dict = {"status": from_status if from_status is not None else after.status}
    for name in ("accepted_at", "finished_at", "ended_at", "paused_at"):
        if name in changed:
            undo[name] = None
    if "on_time_result" in changed:
        undo["on_time_result"] = ""
    if "due_at" in changed:
        undo["due_at"] = next((e.due_at for e in reversed(earlier) if e.due_at), None)
    before = replace(after, **undo)
    _add(_difference(contribution(after, events), contribution(before, earlier)))


def _simple() -> Q:
    """Accepted dossiers whose contribution the database can count by itself: never
    paused (no supplement or payment request on record, so neither paused columns nor
    a due time read from the log) and not both finished and ended."""
    pausing = DossierEvent.objects.filter(dossier=OuterRef("pk"), action__in=PAUSING_ACTIONS)
    return (
        Q(accepted_at__isnull=False)
        & ~Exists(pausing)
        & (Q(finished_at__isnull=True) | Q(ended_at__isnull=True))
    )


def _counted_by_the_database(totals: dict) -> None:
    """Add the simple dossiers' contributions with grouped counts (a few scans of the
    dossier table), exactly as ``contribution`` would:

    - flows on the day of acceptance, result, end or refusal;
    - open: +1 on the day of acceptance, -1 on the day it closed;
    - overdue from the midnight after both acceptance and due day until the close:
      +1 on the later of the two days, -1 on the closing day, when it closes later.
    """
    day = lambda name: TruncDate(name, tzinfo=VN)  # noqa: E731
    simple = Dossier.objects.filter(_simple()).order_by()
    online = Q(channel=Channel.ONLINE)
    queries = [
        simple.values("procedure_id", day=day("accepted_at")).annotate(
            received_online=Count("pk", filter=online),
            received_direct_postal=Count("pk", filter=~online),
            open_delta=Count("pk"),
        ),
        simple.filter(finished_at__isnull=False)
        .values("procedure_id", day=day("finished_at"))
        .annotate(
            resolved=Count("pk"),
            **{
                column: Count("pk", filter=Q(on_time_result=result))
                for result, column in RESULT_COLUMN.items()
            },
        ),
        simple.filter(ended_at__isnull=False)
        .values("procedure_id", day=day("ended_at"))
        .annotate(
            withdrawn=Count("pk", filter=Q(status=S.WITHDRAWN)),
            stopped=Count("pk", filter=Q(status=S.STOPPED)),
        ),
        Dossier.objects.filter(status=S.REFUSED_AT_INTAKE, ended_at__isnull=False)
        .order_by()
        .values("procedure_id", day=day("ended_at"))
        .annotate(refused_intake=Count("pk")),
    ]
    closed = simple.annotate(closed=Coalesce("finished_at", "ended_at")).filter(
        closed__isnull=False
    )
    queries.append(
        closed.values("procedure_id", day=day("closed")).annotate(open_delta=-Count("pk"))
    )
    late = (
        simple.filter(due_at__isnull=False)
        .annotate(
            late_from=Greatest(day("accepted_at"), day("due_at")),
            closed_on=day(Coalesce("finished_at", "ended_at")),
        )
        .filter(Q(closed_on__isnull=True) | Q(late_from__lt=F("closed_on")))
    )
    queries.append(
        late.values("procedure_id", day=F("late_from")).annotate(overdue_delta=Count("pk"))
    )
    queries.append(
        late.filter(closed_on__isnull=False)
        .values("procedure_id", day=F("closed_on"))
        .annotate(overdue_delta=-Count("pk"))
    )
    for query in queries:
        for row in query:
            key = (row.pop("procedure_id"), row.pop("day"))
            for column, n in row.items():
                totals[key][column] += n


def rollup_rebuild(*, chunk: int = 2000) -> int:
    """Recompute the whole table from the dossiers and their events; returns the number
    of day rows. Idempotent: the table is replaced in one transaction.

    Most dossiers are counted by grouped queries (``_counted_by_the_database``); only
    those that ever paused, whose state at a midnight needs their event log, go
    through ``contribution`` in Python.
    """
    totals: dict[tuple[int, date], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    _counted_by_the_database(totals)
    dossiers = (
        Dossier.objects.filter(accepted_at__isnull=False)
        .exclude(_simple())
        .order_by("pk")
        .values_list(*ROW_FIELDS)
    )
    last = 0
    while True:
        batch = [Row(*values) for values in dossiers.filter(pk__gt=last)[:chunk]]
        if not batch:
            break
        last = batch[-1].pk
        events: dict[int, list[Event]] = defaultdict(list)
        for dossier_id, *values in (
            DossierEvent.objects.filter(dossier_id__in=[r.pk for r in batch])
            .order_by("dossier_id", "at", "id")
            .values_list("dossier_id", *EVENT_FIELDS)
        ):
            events[dossier_id].append(Event(*values))
        for row in batch:
            for key, columns in contribution(row, events[row.pk]).items():
                for column, n in columns.items():
                    totals[key][column] += n
    objects = [
        ReportDailyCount(procedure_id=pid, day=day, **columns)
        for (pid, day), columns in sorted(totals.items())
        if any(columns.values())
    ]
    with transaction.atomic():
        ReportDailyCount.objects.all().delete()
        ReportDailyCount.objects.bulk_create(objects, batch_size=2000)
    return len(objects)


# --------------------------------------------------------------------------- reading


def rollup_figures(period: Period, now: datetime) -> dict[int, dict] | None:
    """The report's columns per procedure id for `period`, judged as
    ``selectors.report_monthly`` judges them, from the table; None when the table can
    not answer (the moment of judgement before the period, or transitions recorded
    after it: a report asked "as of" the past reads the dossiers).
    """
    from procedures.reports.selectors import judged_at

    moment = judged_at(period, now)
    if moment < period.start_at:
        return None
    end_day = period.end + timedelta(days=1)
    running = moment < period.end_at
    if running:
        today = _day(moment)
        # Overdue deltas sit on future due days by design; anything else after today
        # means transitions after the moment asked for.
        not_only_overdue = ~Q(**dict.fromkeys((c for c in COLUMNS if c != "overdue_delta"), 0))
        later = ReportDailyCount.objects.filter(not_only_overdue, day__gt=today)
        if later.exists():
            return None
        overdue_until = today + timedelta(days=1)
    else:
        overdue_until = end_day
    in_period = Q(day__gte=period.start)
    sums = {c: Sum(c, filter=in_period, default=0) for c in FLOW_COLUMNS}
    sums.update(
        carried_over=Sum("open_delta", filter=Q(day__lt=period.start), default=0),
        in_progress=Sum("open_delta", default=0),
        paused_supplement=Sum("supplement_delta", default=0),
        paused_payment=Sum("payment_delta", default=0),
        in_progress_overdue=Sum("overdue_delta", filter=Q(day__lt=overdue_until), default=0),
    )
    rows = (
        ReportDailyCount.objects.filter(day__lt=end_day)
        .values("procedure_id")
        .annotate(**sums)
        .order_by()
    )
    out: dict[int, dict] = {}
    for r in rows:
        out[r.pop("procedure_id")] = r
    if running:
        # Counted overdue at tomorrow's midnight but not yet at `moment`: running
        # dossiers due between the two (one range on the open dossiers' due index).
        later_today = (
            Dossier.objects.filter(
                status__in=CLOCK_RUNNING_STATUSES,
                accepted_at__isnull=False,
                due_at__gte=moment,
                due_at__lt=_midnight(overdue_until),
            )
            .values("procedure_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for r in later_today:
            out[r["procedure_id"]]["in_progress_overdue"] -= r["n"]
    figures = {}
    for pid, r in out.items():
        f = {
            "received_new": r["received_online"] + r["received_direct_postal"],
            "received_online": r["received_online"],
            "received_direct_postal": r["received_direct_postal"],
            "carried_over": r["carried_over"],
            "resolved": r["resolved"],
            "resolved_early": r["resolved_early"],
            "resolved_on_time": r["resolved_on_time"],
            "resolved_late": r["resolved_late"],
            "in_progress": r["in_progress"],
            "in_progress_overdue": r["in_progress_overdue"],
            "paused_supplement": r["paused_supplement"],
            "paused_payment": r["paused_payment"],
            "stopped": r["stopped"],
            "withdrawn": r["withdrawn"],
            "refused_intake": r["refused_intake"],
        }
        f["received"] = f["carried_over"] + f["received_new"]
        f["in_progress_within"] = f["in_progress"] - f["in_progress_overdue"]
        if any(f.values()):
            figures[pid] = f
    return figures
