"""The periodic report of dossiers (table 06/VPCP/KSTT, Circular 01/2020; docs/legal-rules.md
"Report 06/VPCP/KSTT").

Periods are local months, quarters and years in Asia/Ho_Chi_Minh: a period runs from
00:00 on its first day (``S``) to 00:00 on the day after its last day (``E``), half
open, so a dossier accepted at 23:59:59 on 30 June belongs to June and one at 00:00 on
1 July to July.

Definitions (every column is one ``Q`` in ``column_filters``; the drill-down lists
the dossiers behind a cell with the very same ``Q``, so a cell and its list agree):

- **Newly accepted** (received in the period): ``S <= accepted_at < E``, split by
  channel into online (2) and direct + postal (1, 3). The legal clock starts at
  acceptance (docs/legal-rules.md "Clock"), so the count is of dossiers *received for processing*.
- **Online submissions not yet accepted** (status 1, or a supplement asked for at
  intake) are not counted: nothing has been received for processing yet. Such a
  dossier enters "newly accepted" in the month it is accepted, or "refused at intake"
  in the month it is refused; one withdrawn before acceptance is never counted.
- **Refused at intake** (status 3, form 03): ``S <= ended_at < E``. An extra column
  outside the balance: the dossier was never accepted.
- **Carried over**: ``accepted_at < S`` and neither finished nor ended before ``S``.
- **Resolved**: ``S <= finished_at < E`` (status 9 or 10; a result returned later
  stays resolved in the month it was ready), split by the stored ``on_time_result``
  (early / on time / late by date, judged against the original due date, which an
  apology does not move and a restart replaces: ``services.dossiers.on_time_result``).
- **Ended otherwise**: ``S <= ended_at < E`` with status 7 (withdrawn) or 8 (stopped)
  after acceptance. In this system a stop always ends the dossier, so "stopped" is a
  count of stops in the period; the "paused" columns below are the clock pauses.
- **Still open (in progress)**: ``accepted_at < E`` and neither finished nor ended
  before ``E``.
- **Paused at period end** (supplement, payment): still open, and the dossier's
  status *at E* was 5 or 6. The status column is the current status, so the status
  at ``E`` is read from the append-only ``DossierEvent`` log: the ``to_status`` of the
  last event before ``E`` (every transition writes one, with ``to_status``), falling
  back to the current status for a dossier without events (imported data). It is a
  correlated subquery on the (dossier, at) index, evaluated only for still-open rows
  that were ever paused (``supplement_count > 0`` or a payment request on record,
  both kept on the dossier), so it stays one query and costs nothing for the many
  dossiers that never paused.
- **Within deadline / overdue** (docs/legal-rules.md "Open dossiers at period end"),
  judged at ``M``: the period end ``E`` once the period is over, else the moment the
  report is read (``judged_at``), so the open month and the dashboard's overdue queue
  agree on a dossier at the same moment. A dossier running at ``M`` is overdue when
  the due time in force at ``M`` is before ``M``; that due time is read from the
  append-only log (``DossierEvent.due_at``, written by every transition) for dossiers
  that ever paused, since a later resume moves the stored one, and from the row for
  the others (an apology needs the old due at least a working day ahead, so it cannot
  turn overdue into within deadline). A dossier paused at ``M`` is overdue when its due
  time had passed before the pause began (a payment requested after the due): the
  clock stood still during the pause (Decree 61/2018 art. 19), but a pause never
  excuses lateness that came before it.
- **On-time rate** = (early + on time) / resolved; **online share** = online / newly
  accepted (percentages, one decimal; empty when the divisor is 0).

Balance, for every row: carried over + newly accepted = resolved + withdrawn + stopped
+ still open; and a period's still open is the next period's carried over. It holds
by construction (the conditions partition the dossiers accepted before ``E`` and not
closed before ``S`` by when they closed), and tests/procedures/test_report_balance.py
checks it on generated data.

Rows by field and by procedure are read from the per-day rollup (``reports.rollup``:
about procedures x days small rows, the point-in-time columns as running sums of
deltas), which the transitions keep and a property test proves equal to the aggregate
below for every period; that aggregate still answers rows by unit and officer (grouped
by the current assignment), a report asked as of a moment before recorded transitions,
and ``REPORT_FROM_ROLLUP = False``.

Queries: one aggregate over the dossiers (``Count(filter=...)`` per column, grouped by
procedure, unit or officer) plus one small query for the row names; field rows and
the total are sums of the procedure rows (a sum of ~100 aggregated rows, not a loop
over dossiers). On PostgreSQL the aggregate runs after ``SET LOCAL jit = off`` (see
``without_jit``). The WHERE clause is an OR of ranges on the indexed ``accepted_at``,
``finished_at`` and ``ended_at`` and the open-status partial index, so for recent
periods the database reads the period's dossiers, not the table. For a period far
back, "not finished before S" covers most of the table and PostgreSQL rightly reads it
all: finding the few dossiers open across the whole period would need a range index
on (accepted_at, finished_at/ended_at); docs/benchmarks.md has the figures.
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Avg, Count, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from procedures.core.constants import (
    OPEN_STATUSES,
    Action,
    Channel,
    DossierStatus,
    OnTimeResult,
    ReportPeriod,
    Satisfaction,
)
from procedures.core.errors import DomainError
from procedures.core.people import staff_display_name
from procedures.dossiers.models import Rating
from procedures.models import Dossier, DossierEvent, DossierStep, Procedure, Unit

VN = ZoneInfo("Asia/Ho_Chi_Minh")
S = DossierStatus

BY_FIELD = "field"
BY_PROCEDURE = "procedure"
BY_UNIT = "unit"
BY_OFFICER = "officer"
BY_CHOICES = (BY_FIELD, BY_PROCEDURE, BY_UNIT, BY_OFFICER)

# --------------------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    """A report period: a local month, quarter or year (first and last day inclusive)."""

    kind: str
    start: date
    end: date

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        first = date(year, month, 1)
        nxt = date(year + (month == 12), month % 12 + 1, 1)
        return cls(ReportPeriod.MONTH, first, nxt - timedelta(days=1))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        first = date(year, 3 * (quarter - 1) + 1, 1)
        last_month = cls.month(year, 3 * quarter)
        return cls(ReportPeriod.QUARTER, first, last_month.end)

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(ReportPeriod.YEAR, date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def starting(cls, kind: str, start: date) -> Period:
        """The period of `kind` that begins on `start` (as stored in a snapshot)."""
        if kind == ReportPeriod.MONTH and start.day == 1:
            return cls.month(start.year, start.month)
        if kind == ReportPeriod.QUARTER and start.day == 1 and start.month in (1, 4, 7, 10):
            return cls.quarter(start.year, (start.month - 1) // 3 + 1)
        if kind == ReportPeriod.YEAR and (start.month, start.day) == (1, 1):
            return cls.year(start.year)
        raise DomainError(
            _("%(date)s is not the first day of a %(kind)s.")
            % {"date": start.isoformat(), "kind": kind},
            field="start",
            code="bad_period",
        )

    @classmethod
    def containing(cls, kind: str, day: date) -> Period:
        if kind == ReportPeriod.MONTH:
            return cls.month(day.year, day.month)
        if kind == ReportPeriod.QUARTER:
            return cls.quarter(day.year, (day.month - 1) // 3 + 1)
        return cls.year(day.year)

    @classmethod
    def parse(cls, value: str) -> Period:
        """ "2026-06" (month), "2026-Q2" (quarter) or "2026" (year)."""
        value = (value or "").strip().upper()
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})", value):
            year, month = int(m[1]), int(m[2])
            if 1 <= month <= 12 and 2000 <= year <= 2100:
                return cls.month(year, month)
        elif m := re.fullmatch(r"(\d{4})-Q([1-4])", value):
            if 2000 <= int(m[1]) <= 2100:
                return cls.quarter(int(m[1]), int(m[2]))
        elif re.fullmatch(r"\d{4}", value) and 2000 <= int(value) <= 2100:
            return cls.year(int(value))
        raise DomainError(
            _(
                "“%(value)s” is not a period: use YYYY-MM for a month, YYYY-Qn for a quarter "
                "or YYYY for a year."
            )
            % {"value": value},
            field="period",
            code="bad_period",
        )

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=VN)

    @property
    def end_at(self) -> datetime:
        """Exclusive end: midnight after the last day."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=VN)

    @property
    def key(self) -> str:
        if self.kind == ReportPeriod.MONTH:
            return f"{self.start:%Y-%m}"
        if self.kind == ReportPeriod.QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return str(self.start.year)

    @property
    def label(self) -> str:
        if self.kind == ReportPeriod.MONTH:
            return _("Month %(month)s") % {"month": f"{self.start:%m/%Y}"}
        if self.kind == ReportPeriod.QUARTER:
            return _("Quarter %(q)s/%(year)s") % {
                "q": (self.start.month - 1) // 3 + 1,
                "year": self.start.year,
            }
        return _("Year %(year)s") % {"year": self.start.year}

    def previous(self) -> Period:
        return Period.containing(self.kind, self.start - timedelta(days=1))

    def next(self) -> Period:
        return Period.containing(self.kind, self.end + timedelta(days=1))

    def as_dict(self) -> dict:
        return {
            "kind": str(self.kind),
            "key": self.key,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }


# --------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class Column:
    key: str
    label: Any  # lazy, English source
    group: str


# Order of the official table, then the extra columns many provinces add.
COLUMNS: tuple[Column, ...] = (
    Column("received", gettext_lazy("Total"), "received"),
    Column("received_new", gettext_lazy("Newly accepted"), "received"),
    Column("received_online", gettext_lazy("Online"), "received"),
    Column("received_direct_postal", gettext_lazy("Direct and postal"), "received"),
    Column("carried_over", gettext_lazy("Carried over"), "received"),
    Column("resolved", gettext_lazy("Total"), "resolved"),
    Column("resolved_early", gettext_lazy("Early"), "resolved"),
    Column("resolved_on_time", gettext_lazy("On time"), "resolved"),
    Column("resolved_late", gettext_lazy("Late"), "resolved"),
    Column("in_progress", gettext_lazy("Total"), "in_progress"),
    Column("in_progress_within", gettext_lazy("Within deadline"), "in_progress"),
    Column("in_progress_overdue", gettext_lazy("Overdue"), "in_progress"),
    Column("paused_supplement", gettext_lazy("Supplement"), "paused"),
    Column("paused_payment", gettext_lazy("Payment"), "paused"),
    Column("stopped", gettext_lazy("Stopped"), "paused"),
    Column("withdrawn", gettext_lazy("Withdrawn"), "other"),
    Column("refused_intake", gettext_lazy("Refused at intake"), "other"),
)
COLUMN_KEYS = tuple(c.key for c in COLUMNS)
RATE_KEYS = ("on_time_rate", "online_share")
GROUP_LABELS = {
    "received": gettext_lazy("Received"),
    "resolved": gettext_lazy("Resolved"),
    "in_progress": gettext_lazy("In progress"),
    "paused": gettext_lazy("Paused or stopped"),
    "other": gettext_lazy("Other"),
}
RATE_LABELS = {
    "on_time_rate": gettext_lazy("On-time rate (%)"),
    "online_share": gettext_lazy("Online share (%)"),
}
STEP_KEYS = ("steps", "steps_early", "steps_on_time", "steps_late", "transfers", "transfers_late")
STEP_LABELS = {
    "steps": gettext_lazy("Steps handed over"),
    "steps_early": gettext_lazy("Early"),
    "steps_on_time": gettext_lazy("On time"),
    "steps_late": gettext_lazy("Late"),
    "transfers": gettext_lazy("Transfers to the processing unit"),
    "transfers_late": gettext_lazy("Transfers late"),
}


def _status_at(moment: datetime) -> Coalesce:
    """The dossier's status at `moment`: `to_status` of its last event before it."""
    last = (
        DossierEvent.objects.filter(dossier=OuterRef("pk"), at__lt=moment, to_status__isnull=False)
        .order_by("-at", "-id")
        .values("to_status")[:1]
    )
    return Coalesce(Subquery(last), F("status"))


def _due_at(moment: datetime) -> Coalesce:
    """The due time in force at `moment`: the `due_at` recorded by its last event before
    it (every transition records the due time it leaves), else the current one."""
    last = (
        DossierEvent.objects.filter(dossier=OuterRef("pk"), at__lt=moment, due_at__isnull=False)
        .order_by("-at", "-id")
        .values("due_at")[:1]
    )
    return Coalesce(Subquery(last), F("due_at"))


PAUSING_ACTIONS = (Action.REQUEST_SUPPLEMENT, Action.REQUEST_PAYMENT)


def _last_pause(moment: datetime, column: str) -> Subquery:
    return Subquery(
        DossierEvent.objects.filter(
            dossier=OuterRef("pk"), at__lt=moment, action__in=PAUSING_ACTIONS
        )
        .order_by("-at", "-id")
        .values(column)[:1]
    )


def judged_at(period: Period, now: datetime | None = None) -> datetime:
    """The moment "overdue" is judged for `period`: its end once it is over, else `now`
    (the moment the report is read), so an open month and the dashboard agree."""
    now = now or timezone.now()
    return min(now, period.end_at)


def _not_closed_before(moment: datetime) -> Q:
    return (Q(finished_at__isnull=True) | Q(finished_at__gte=moment)) & (
        Q(ended_at__isnull=True) | Q(ended_at__gte=moment)
    )


def column_filters(period: Period, now: datetime | None = None) -> dict[str, Q]:
    """One Q per column; the queryset must come from `report_dossiers(period, now)`."""
    start, end = period.start_at, period.end_at
    moment = judged_at(period, now)
    new = Q(accepted_at__gte=start, accepted_at__lt=end)
    carried = Q(accepted_at__lt=start) & _not_closed_before(start)
    still_open = Q(accepted_at__lt=end) & _not_closed_before(end)
    resolved = Q(finished_at__gte=start, finished_at__lt=end, accepted_at__lt=end)
    ended = Q(ended_at__gte=start, ended_at__lt=end, accepted_at__lt=end)
    # Cheap columns first: the event subquery runs only where they hold.
    ever_paused = Q(supplement_count__gt=0) | ~Q(payment_note="")
    paused_at_end = ever_paused & Q(status_at_end__in=[S.SUPPLEMENT_REQUESTED, S.PAYMENT_REQUESTED])
    # Overdue at the moment of judgement (docs/legal-rules.md "Open dossiers at period
    # end"): a running dossier whose due time in force then had passed; a paused one
    # whose due time had passed before the pause began, because a pause never excuses
    # lateness that happened before it. Dossiers that never paused keep the due time
    # they had (an apology needs a due at least a working day ahead, so it cannot turn
    # overdue into within deadline), so only paused ones read the event log.
    running_overdue = ~paused_at_end & (
        (~ever_paused & Q(due_at__lt=moment)) | (ever_paused & Q(due_at_then__lt=moment))
    )
    paused_overdue = paused_at_end & Q(pause_due__lt=F("pause_began"))
    overdue = still_open & (running_overdue | paused_overdue)
    return {
        "received": carried | new,
        "received_new": new,
        "received_online": new & Q(channel=Channel.ONLINE),
        "received_direct_postal": new & Q(channel__in=[Channel.DIRECT, Channel.POSTAL]),
        "carried_over": carried,
        "resolved": resolved,
        "resolved_early": resolved & Q(on_time_result=OnTimeResult.EARLY),
        "resolved_on_time": resolved & Q(on_time_result=OnTimeResult.ON_TIME),
        "resolved_late": resolved & Q(on_time_result=OnTimeResult.LATE),
        "in_progress": still_open,
        "in_progress_within": still_open & ~(running_overdue | paused_overdue),
        "in_progress_overdue": overdue,
        "paused_supplement": still_open & ever_paused & Q(status_at_end=S.SUPPLEMENT_REQUESTED),
        "paused_payment": still_open & ever_paused & Q(status_at_end=S.PAYMENT_REQUESTED),
        "stopped": ended & Q(status=S.STOPPED),
        "withdrawn": ended & Q(status=S.WITHDRAWN),
        "refused_intake": Q(status=S.REFUSED_AT_INTAKE, ended_at__gte=start, ended_at__lt=end),
    }


def period_filter(period: Period) -> Q:
    """Dossiers that count anywhere in the period: an OR of indexed ranges.

    Every arm is a range on an indexed column (or the open-status partial index), so
    PostgreSQL can combine bitmap index scans instead of reading the whole table.
    """
    start, end = period.start_at, period.end_at
    accepted_before_end = Q(accepted_at__lt=end)
    return (
        Q(accepted_at__gte=start, accepted_at__lt=end)
        | (Q(finished_at__gte=start) & accepted_before_end)
        | (Q(ended_at__gte=start) & accepted_before_end)
        | (Q(status__in=[int(s) for s in OPEN_STATUSES]) & accepted_before_end)
        | Q(status=S.REFUSED_AT_INTAKE, ended_at__gte=start, ended_at__lt=end)
    )


def report_dossiers(period: Period, now: datetime | None = None) -> QuerySet:
    """The dossiers of the period, with the state at the moment of judgement available
    to filters: status, due time in force, and when the last pause began with the due
    time it left."""
    moment = judged_at(period, now)
    return (
        Dossier.objects.filter(period_filter(period))
        .alias(
            status_at_end=_status_at(moment),
            due_at_then=_due_at(moment),
            pause_began=Coalesce(_last_pause(moment, "at"), F("paused_at"), Value(moment)),
            pause_due=Coalesce(_last_pause(moment, "due_at"), F("due_at")),
        )
        .order_by()
    )


# --------------------------------------------------------------------------- rows


@dataclass
class ReportRow:
    kind: str  # field | procedure | unit | officer | total
    key: str
    label: str
    code: str = ""
    figures: dict[str, Any] = field(default_factory=dict)
    children: list[ReportRow] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "key": self.key,
            "label": self.label,
            "code": self.code,
            "figures": dict(self.figures),
        }
        if self.children:
            out["children"] = [c.as_dict() for c in self.children]
        return out

    @classmethod
    def from_dict(cls, data: dict) -> ReportRow:
        return cls(
            kind=data["kind"],
            key=data["key"],
            label=data["label"],
            code=data.get("code", ""),
            figures=dict(data["figures"]),
            children=[cls.from_dict(c) for c in data.get("children", [])],
        )

    def balance(self) -> tuple[int, int]:
        """(carried over + newly accepted, resolved + withdrawn + stopped + still open)."""
        f = self.figures
        return (
            f["carried_over"] + f["received_new"],
            f["resolved"] + f["withdrawn"] + f["stopped"] + f["in_progress"],
        )


@dataclass
class MonthlyReport:
    period: Period
    by: str
    rows: list[ReportRow]
    total: ReportRow
    generated_at: datetime
    steps: bool = False  # by unit / officer: step columns from the control slips

    def flat_rows(self) -> list[ReportRow]:
        out = []
        for row in self.rows:
            out.append(row)
            out.extend(row.children)
        out.append(self.total)
        return out

    def as_dict(self) -> dict:
        return {
            "period": self.period.as_dict(),
            "by": self.by,
            "columns": [*COLUMN_KEYS, *RATE_KEYS, *(STEP_KEYS if self.steps else ())],
            "rows": [r.as_dict() for r in self.rows],
            "total": self.total.as_dict(),
            "generated_at": self.generated_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> MonthlyReport:
        p = data["period"]
        period = Period(p["kind"], date.fromisoformat(p["start"]), date.fromisoformat(p["end"]))
        return cls(
            period=period,
            by=data["by"],
            rows=[ReportRow.from_dict(r) for r in data["rows"]],
            total=ReportRow.from_dict(data["total"]),
            generated_at=datetime.fromisoformat(data["generated_at"]),
            steps=any(k in data.get("columns", []) for k in STEP_KEYS),
        )


def _rate(numerator: int, denominator: int) -> float | None:
    return round(100 * numerator / denominator, 1) if denominator else None


def _with_rates(figures: dict) -> dict:
    figures["on_time_rate"] = _rate(
        figures["resolved_early"] + figures["resolved_on_time"], figures["resolved"]
    )
    figures["online_share"] = _rate(figures["received_online"], figures["received_new"])
    return figures


def _sum(rows: list[dict], keys) -> dict:
    return {k: sum(r.get(k, 0) for r in rows) for k in keys}


@contextmanager
def without_jit():
    """On PostgreSQL, run the report query without JIT compilation.

    The event subquery is charged per row by the planner, so a month on 1,000,000
    dossiers is estimated at millions of cost units: past ``jit_inline_above_cost`` and
    ``jit_optimize_above_cost``, PostgreSQL then spends about 4 s inlining and
    optimising machine code (measured, docs/benchmarks.md) for a query that runs in a
    fraction of that. ``SET LOCAL`` lasts until the end of the transaction, so the
    block is atomic (no savepoint when nested: nothing to roll back).
    """
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        yield


def _aggregate(period: Period, group: str, now: datetime) -> dict[Any, dict]:
    """One query: every column counted per value of `group` (a Dossier column)."""
    filters = column_filters(period, now)
    aggregates = {key: Count("pk", filter=filters[key]) for key in COLUMN_KEYS}
    with without_jit():
        rows = list(report_dossiers(period, now).values(group).annotate(**aggregates))
    return {r.pop(group): r for r in rows}


def _step_figures(period: Period, by: str) -> dict[Any, dict]:
    """Steps handed over in the period, by the unit or officer that held them (form 05),
    and the transfers from the desk to the processing units made in the period, on the
    desk officer who made them and that officer's unit.

    A step without its own unit belongs to the unit the dossier is assigned to
    (ProcessStep.unit), so lateness lands on the unit that caused it.
    """
    out = _handed_over_steps(period, by)
    transfer_group = (
        F("transferred_by__staff_profile__unit_id") if by == BY_UNIT else F("transferred_by_id")
    )
    transfers = (
        Dossier.objects.filter(
            transferred_at__gte=period.start_at, transferred_at__lt=period.end_at
        )
        .exclude(transfer_on_time_result="")
        .annotate(group_key=transfer_group)
        .values("group_key")
        .annotate(
            transfers=Count("pk"),
            transfers_late=Count("pk", filter=Q(transfer_on_time_result=OnTimeResult.LATE)),
        )
        .order_by()
    )
    for row in transfers:
        key = row.pop("group_key")
        figures = out.setdefault(key, dict.fromkeys(STEP_KEYS, 0))
        figures.update(row)
    return out


def _handed_over_steps(period: Period, by: str) -> dict[Any, dict]:
    group = Coalesce("unit_id", "dossier__assigned_unit_id") if by == BY_UNIT else F("officer_id")
    rows = (
        DossierStep.objects.filter(
            completed_at__gte=period.start_at, completed_at__lt=period.end_at
        )
        .exclude(on_time_result="")
        .annotate(group_key=group)
        .values("group_key")
        .annotate(
            steps=Count("pk"),
            steps_early=Count("pk", filter=Q(on_time_result=OnTimeResult.EARLY)),
            steps_on_time=Count("pk", filter=Q(on_time_result=OnTimeResult.ON_TIME)),
            steps_late=Count("pk", filter=Q(on_time_result=OnTimeResult.LATE)),
        )
        .order_by()
    )
    return {r.pop("group_key"): {**r, "transfers": 0, "transfers_late": 0} for r in rows}


def _zero() -> dict:
    return dict.fromkeys(COLUMN_KEYS, 0)


def report_monthly(
    *, period: Period, by: str = BY_PROCEDURE, now: datetime | None = None
) -> MonthlyReport:
    """Table 06/VPCP/KSTT for `period`, rows by field (with procedures), unit or officer.

    Two queries for field/procedure (figures, names), four for unit/officer (plus the
    steps of the control slips and the transfers), whatever the number of dossiers and
    procedures; one more on PostgreSQL (``SET LOCAL jit = off``). "Overdue" is judged
    at the period end once it is over, else at `now` (``judged_at``).
    """
    if by not in BY_CHOICES:
        raise DomainError(
            _("Rows can be by %(choices)s, not “%(by)s”.")
            % {"choices": ", ".join(BY_CHOICES), "by": by},
            field="by",
            code="bad_by",
        )
    now = now or timezone.now()
    if by in (BY_FIELD, BY_PROCEDURE):
        rows = _rows_by_field(period, now, with_procedures=by == BY_PROCEDURE)
        steps = False
    else:
        rows = _rows_by_staff(period, now, by)
        steps = True
    total_figures = _sum([r.figures for r in rows], COLUMN_KEYS + (STEP_KEYS if steps else ()))
    total = ReportRow("total", "total", str(_("Total")), figures=_with_rates(total_figures))
    return MonthlyReport(
        period=period, by=by, rows=rows, total=total, generated_at=now, steps=steps
    )


def _per_procedure(period: Period, now: datetime) -> dict[Any, dict]:
    """Figures per procedure id: from the daily rollup (``reports.rollup``) unless
    ``REPORT_FROM_ROLLUP`` is off or the rollup can not answer, else from the dossiers."""
    if getattr(settings, "REPORT_FROM_ROLLUP", True):
        from procedures.reports.rollup import rollup_figures

        with without_jit():
            figures = rollup_figures(period, now)
        if figures is not None:
            return figures
    return _aggregate(period, "procedure_id", now)


def _rows_by_field(period: Period, now: datetime, *, with_procedures: bool) -> list[ReportRow]:
    per_procedure = _per_procedure(period, now)
    procedures = (
        Procedure.objects.filter(pk__in=per_procedure)
        .select_related("field")
        .order_by("field__order", "field__name", "code", "name")
    )
    fields: dict[int, ReportRow] = {}
    for p in procedures:
        f = p.field
        parent = fields.get(f.pk)
        if parent is None:
            parent = fields[f.pk] = ReportRow(
                "field", f"field:{f.pk}", f.name, code=f.ministry_code, figures=_zero()
            )
        figures = per_procedure[p.pk]
        for key in COLUMN_KEYS:
            parent.figures[key] += figures[key]
        if with_procedures:
            parent.children.append(
                ReportRow(
                    "procedure",
                    f"procedure:{p.pk}",
                    p.name,
                    code=p.code or "",
                    figures=_with_rates(figures),
                )
            )
    for row in fields.values():
        _with_rates(row.figures)
    return list(fields.values())


def _rows_by_staff(period: Period, now: datetime, by: str) -> list[ReportRow]:
    column = "assigned_unit_id" if by == BY_UNIT else "assigned_officer_id"
    per_key = _aggregate(period, column, now)
    steps = _step_figures(period, by)
    keys = set(per_key) | set(steps)
    ids = [k for k in keys if k is not None]
    if by == BY_UNIT:
        names = {u.pk: (u.name, u.code) for u in Unit.objects.filter(pk__in=ids)}
        missing = str(_("Not yet assigned to a unit"))
    else:
        users = get_user_model().objects.filter(pk__in=ids)
        # Vietnamese order: family name (last_name) first, as staff_create stores it.
        names = {u.pk: (staff_display_name(u), u.get_username()) for u in users}
        missing = str(_("Not yet assigned to an officer"))
    rows = []
    for k in keys:
        figures = per_key.get(k) or _zero()
        figures.update(steps.get(k) or dict.fromkeys(STEP_KEYS, 0))
        label, code = names.get(k, (missing, "")) if k is not None else (missing, "")
        rows.append(
            ReportRow(
                by,
                f"{by}:{k if k is not None else 'none'}",
                label,
                code=code,
                figures=_with_rates(figures),
            )
        )
    # Named rows alphabetically, the unassigned row last.
    rows.sort(key=lambda r: (r.key.endswith(":none"), r.label.casefold()))
    return rows


# --------------------------------------------------------------------------- drill-down


def report_cell_dossiers(
    *, period: Period, row_key: str, column: str, now: datetime | None = None
) -> QuerySet:
    """The dossiers behind one cell of the table (same conditions as the count)."""
    now = now or timezone.now()
    filters = column_filters(period, now)
    if column not in filters:
        raise DomainError(
            _("Unknown column: %(column)s.") % {"column": column}, field="column", code="bad_column"
        )
    qs = report_dossiers(period, now).filter(filters[column])
    kind, _sep, value = row_key.partition(":")
    lookups = {
        "field": "procedure__field_id",
        "procedure": "procedure_id",
        "unit": "assigned_unit_id",
        "officer": "assigned_officer_id",
    }
    if kind == "total":
        pass
    elif kind in lookups and value == "none" and kind in ("unit", "officer"):
        qs = qs.filter(**{f"{lookups[kind]}__isnull": True})
    elif kind in lookups and value.isdigit():
        qs = qs.filter(**{lookups[kind]: int(value)})
    else:
        raise DomainError(
            _("Unknown row: %(row)s.") % {"row": row_key}, field="row", code="bad_row"
        )
    return qs.select_related("procedure", "assigned_unit", "assigned_officer").order_by(
        "accepted_at", "id"
    )


# --------------------------------------------------------------------------- extras


def report_satisfaction(*, period: Period) -> dict:
    """Ratings given in the period, by field: counts per level and criterion averages."""
    levels = {s.value: Count("pk", filter=Q(overall=s.value)) for s in Satisfaction}
    rows = list(
        Rating.objects.filter(created_at__gte=period.start_at, created_at__lt=period.end_at)
        .values("dossier__procedure__field_id", "dossier__procedure__field__name")
        .annotate(
            ratings=Count("pk"),
            **levels,
            timeliness=Avg("timeliness"),
            attitude=Avg("attitude"),
            visits=Avg("visits"),
            information=Avg("information"),
        )
        .order_by("dossier__procedure__field__order", "dossier__procedure__field__name")
    )
    out_rows = []
    for r in rows:
        out_rows.append(
            {
                "field": r["dossier__procedure__field__name"],
                "ratings": r["ratings"],
                **{s.value: r[s.value] for s in Satisfaction},
                **{
                    k: (round(r[k], 2) if r[k] is not None else None)
                    for k in ("timeliness", "attitude", "visits", "information")
                },
                "satisfied_rate": _rate(
                    r[Satisfaction.VERY_SATISFIED] + r[Satisfaction.SATISFIED], r["ratings"]
                ),
            }
        )
    total = _sum(out_rows, ["ratings", *[s.value for s in Satisfaction]])
    total["satisfied_rate"] = _rate(
        total[Satisfaction.VERY_SATISFIED] + total[Satisfaction.SATISFIED], total["ratings"]
    )
    return {"rows": out_rows, "total": total}


def report_trend(*, period: Period, months: int = 12) -> list[dict]:
    """Newly accepted, resolved and on-time rate for the `months` months ending with the
    period's last month.

    Months already frozen come from their snapshot (the figures as signed, and one
    small query for all of them); the others from one aggregate (a filtered count per
    month) over their date ranges only, so after a year of month closes the chart reads
    one month of dossiers, not twelve. Two queries. (Grouping by TruncMonth instead was
    measured slower on 1,000,000 dossiers: the time-zone conversion of every row.)
    """
    from procedures.models import ReportSnapshot

    last = Period.month(period.end.year, period.end.month)
    series = [last]
    while len(series) < months:
        series.insert(0, series[0].previous())
    frozen = {
        row["start"]: row["figures__views__procedure__total__figures"]
        for row in ReportSnapshot.objects.filter(
            period=ReportPeriod.MONTH, start__in=[m.start for m in series]
        ).values("start", "figures__views__procedure__total__figures")
    }
    live = [m for m in series if m.start not in frozen]
    counts: dict = {}
    if live:
        # Consecutive live months as one range each: one index range, not twelve ORs.
        runs: list[list[Period]] = []
        for m in live:
            if runs and runs[-1][-1].end_at == m.start_at:
                runs[-1].append(m)
            else:
                runs.append([m])
        where = Q(pk__in=[])
        for run in runs:
            start_at, end_at = run[0].start_at, run[-1].end_at
            where |= Q(accepted_at__gte=start_at, accepted_at__lt=end_at)
            where |= Q(finished_at__gte=start_at, finished_at__lt=end_at)
        timely = Q(on_time_result__in=[OnTimeResult.EARLY, OnTimeResult.ON_TIME])
        aggregates = {}
        for m in live:
            resolved = Q(finished_at__gte=m.start_at, finished_at__lt=m.end_at)
            aggregates[f"new_{m.key}"] = Count(
                "pk", filter=Q(accepted_at__gte=m.start_at, accepted_at__lt=m.end_at)
            )
            aggregates[f"resolved_{m.key}"] = Count("pk", filter=resolved)
            aggregates[f"timely_{m.key}"] = Count("pk", filter=resolved & timely)
        counts = Dossier.objects.filter(where).aggregate(**aggregates)
    out = []
    for m in series:
        if m.start in frozen:
            f = frozen[m.start]
            f = json.loads(f) if isinstance(f, str) else f
            point = {
                "received_new": f["received_new"],
                "resolved": f["resolved"],
                "on_time_rate": f["on_time_rate"],
                "frozen": True,
            }
        else:
            n = counts[f"resolved_{m.key}"]
            point = {
                "received_new": counts[f"new_{m.key}"],
                "resolved": n,
                "on_time_rate": _rate(counts[f"timely_{m.key}"], n),
                "frozen": False,
            }
        out.append({"period": m.key, "label": f"{m.start:%m/%Y}", **point})
    return out
