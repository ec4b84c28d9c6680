"""Figures for the public statistics page (transparency, as the national portal shows).

Small on purpose: the periodic report (table 06) lives in selectors/reports.py. Every
figure here is one aggregate query; Python only arranges the aggregated rows.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, DateField, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from procedures.catalogue.models import ACCEPTS_ONLINE
from procedures.core.constants import DossierStatus, OnlineLevel, OnTimeResult, Satisfaction
from procedures.models import Dossier, Procedure, Rating

RESOLVED = (DossierStatus.FINISHED, DossierStatus.RETURNED)


@dataclass
class Cell:
    resolved: int = 0
    in_time: int = 0  # early + on time

    @property
    def rate(self) -> float | None:
        return round(100 * self.in_time / self.resolved, 1) if self.resolved else None


@dataclass
class FieldRow:
    field_id: int
    name: str
    cells: list[Cell]
    total: Cell = field(default_factory=Cell)


@dataclass
class OnTimeTable:
    months: list[datetime.date]
    rows: list[FieldRow]
    month_totals: list[Cell]
    total: Cell


def _month_starts(today: datetime.date, count: int) -> list[datetime.date]:
    year, month = today.year, today.month
    out = []
    for _ in range(count):
        out.append(datetime.date(year, month, 1))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return out[::-1]


def public_on_time_by_field(
    *, now: datetime.datetime | None = None, months: int = 12
) -> OnTimeTable:
    """On-time rate ((early + on time) / resolved) per field and month, last `months`
    months up to and including the current one, by the month the result was ready.

    One query: dossiers resolved in the window, grouped by field and TruncMonth in the
    legal time zone; the index on finished_at serves the WHERE.
    """
    now = now or timezone.now()
    tz = ZoneInfo(settings.TIME_ZONE)
    month_list = _month_starts(timezone.localdate(now, tz), months)
    start = datetime.datetime.combine(month_list[0], datetime.time.min, tzinfo=tz)
    rows = (
        Dossier.objects.filter(finished_at__gte=start, finished_at__lte=now, status__in=RESOLVED)
        .annotate(month=TruncMonth("finished_at", tzinfo=tz, output_field=DateField()))
        .values("procedure__field_id", "procedure__field__name", "procedure__field__order", "month")
        .annotate(
            resolved=Count("id"),
            in_time=Count(
                "id", filter=Q(on_time_result__in=[OnTimeResult.EARLY, OnTimeResult.ON_TIME])
            ),
        )
        .order_by("procedure__field__order", "procedure__field__name", "month")
    )
    index = {m: i for i, m in enumerate(month_list)}
    by_field: dict[int, FieldRow] = {}
    month_totals = [Cell() for _ in month_list]
    total = Cell()
    for row in rows:
        month = row["month"]
        if isinstance(month, datetime.datetime):  # some backends return a datetime
            month = month.date()
        i = index.get(month)
        if i is None:
            continue
        fr = by_field.setdefault(
            row["procedure__field_id"],
            FieldRow(
                row["procedure__field_id"],
                row["procedure__field__name"],
                [Cell() for _ in month_list],
            ),
        )
        for cell in (fr.cells[i], fr.total, month_totals[i], total):
            cell.resolved += row["resolved"]
            cell.in_time += row["in_time"]
    return OnTimeTable(
        months=month_list, rows=list(by_field.values()), month_totals=month_totals, total=total
    )


def public_catalogue_counts() -> dict[str, int]:
    """The department's procedures in force, and how many are fully / partly online
    (Decree 42/2022). `online` counts exactly the procedures whose page has a submit
    button: the same ACCEPTS_ONLINE rule decides both."""
    online = Q(ACCEPTS_ONLINE)
    return Procedure.objects.departmental().aggregate(
        total=Count("id"),
        full=Count("id", filter=online & Q(online_level=OnlineLevel.FULL)),
        partial=Count("id", filter=online & Q(online_level=OnlineLevel.PARTIAL)),
        online=Count("id", filter=online),
        fields=Count("field", distinct=True),
    )


def public_satisfaction(
    *, now: datetime.datetime | None = None, months: int = 12
) -> dict[str, int]:
    """Ratings given in the window, counted per overall answer, in one query."""
    now = now or timezone.now()
    tz = ZoneInfo(settings.TIME_ZONE)
    first = _month_starts(timezone.localdate(now, tz), months)[0]
    start = datetime.datetime.combine(first, datetime.time.min, tzinfo=tz)
    counts = Rating.objects.filter(created_at__gte=start, created_at__lte=now).aggregate(
        total=Count("id"),
        **{s.value: Count("id", filter=Q(overall=s.value)) for s in Satisfaction},
    )
    return counts


__all__ = [
    "Cell",
    "FieldRow",
    "OnTimeTable",
    "public_catalogue_counts",
    "public_on_time_by_field",
    "public_satisfaction",
]
