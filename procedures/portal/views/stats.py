"""Public statistics (portal item 7): on-time rate per field and month, online services.

The chart is inline SVG drawn on the server: it needs no JavaScript, and the same
figures are in the table below it for screen readers and for copying.
"""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone

from procedures.core.constants import Satisfaction
from procedures.reports.public_stats import (
    public_catalogue_counts,
    public_on_time_by_field,
    public_satisfaction,
)

# Geometry of the monthly chart, in SVG user units.
CHART_W, CHART_H, LEFT, BOTTOM, TOP = 360, 190, 34, 30, 12


def _bars(table) -> list[dict]:
    slot = (CHART_W - LEFT - 6) / len(table.months)
    plot_h = CHART_H - BOTTOM - TOP
    bars = []
    for i, (month, cell) in enumerate(zip(table.months, table.month_totals, strict=False)):
        rate = cell.rate
        height = round(plot_h * (rate or 0) / 100, 1)
        x = round(LEFT + i * slot + slot * 0.15, 1)
        bars.append(
            {
                "month": month,
                "cell": cell,
                "x": x,
                "width": round(slot * 0.7, 1),
                "y": round(CHART_H - BOTTOM - height, 1),
                "height": height,
                "label_x": round(x + slot * 0.35, 1),
                "value_y": round(CHART_H - BOTTOM - height - 3, 1),
            }
        )
    return bars


def public_stats(request):
    now = timezone.now()
    table = public_on_time_by_field(now=now)
    satisfaction = public_satisfaction(now=now)
    plot_h = CHART_H - BOTTOM - TOP
    grid = [{"pct": p, "y": round(CHART_H - BOTTOM - plot_h * p / 100, 1)} for p in (0, 50, 100)]
    rated = satisfaction.get("total") or 0
    shares = [
        {
            "key": key,
            "label": Satisfaction(key).label,
            "count": satisfaction.get(key, 0),
            "pct": round(100 * satisfaction.get(key, 0) / rated, 1) if rated else None,
        }
        for key in ("very_satisfied", "satisfied", "unsatisfied")
    ]
    return render(
        request,
        "procedures/public_stats.html",
        {
            "table": table,
            "bars": _bars(table),
            "grid": grid,
            "chart": {
                "w": CHART_W,
                "h": CHART_H,
                "left": LEFT,
                "base": CHART_H - BOTTOM,
                "label_y": CHART_H - BOTTOM + 14,
            },
            "counts": public_catalogue_counts(),
            "satisfaction": satisfaction,
            "shares": shares,
            "now": now,
        },
    )
