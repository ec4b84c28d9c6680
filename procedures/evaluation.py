"""Evaluation of dossier handling from the data (Circular 01/2018/TT-VPCP; domain.md s. 6).

Decree 61/2018 art. 32 lists nine indices, each scored 0-2 per dossier (Circular
01/2018). Four of them come from what the system records; the others (publicity of
procedures, fees charged, handling of complaints...) need a person's assessment and are
not computed here:

1. **Time** - total time against the time allowed: early 2, on time 1, late 0 (the
   dossier's ``on_time_result``; an apology means late against the original due).
2. **Each unit's time** - the steps of the control slip (form 05) each unit held:
   early 2, on time 1, late 0. Per dossier the lowest of its steps; per unit and
   officer the average of the steps they held (a step without its own unit belongs to
   the unit the dossier is assigned to), so lateness lands where it was caused.
3. **Contacts** - supplement requests (the applicant had to come back or send again):
   none 2, one 1 (Decree 61 allows one, complete, request), more 0.
4. **Rating** - the applicant's own verdict: very satisfied 2, satisfied 1,
   unsatisfied 0; not counted when the dossier was not rated.

Dossiers count in the period in which they were resolved (``finished_at``). A unit's
or officer's score is the mean of its index averages (each index weighs the same, as
each is scored on the same 0-2 scale), graded by ``settings.REPORT_EVALUATION_BANDS``
(minimum score, band), highest first: a setting, because the bands are a provincial
choice to check against the text in force.

Queries: three per view (dossier indices, step indices, names), whatever the data.
"""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import (
    Avg,
    Case,
    Count,
    F,
    FloatField,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from procedures.constants import OnTimeResult, Satisfaction
from procedures.models import Dossier, DossierStep, Unit
from procedures.selectors.reports import Period

INDICES = ("time", "unit_time", "contacts", "rating")
INDEX_LABELS = {
    "time": gettext_lazy("Time against the time allowed"),
    "unit_time": gettext_lazy("Each unit's time (control slips)"),
    "contacts": gettext_lazy("Supplement requests"),
    "rating": gettext_lazy("Applicant's rating"),
}
BANDS_LABELS = {
    "good": gettext_lazy("Good"),
    "fair": gettext_lazy("Fair"),
    "poor": gettext_lazy("Poor"),
}


def _result_score(field: str = "on_time_result") -> Case:
    return Case(
        When(**{field: OnTimeResult.EARLY}, then=Value(2)),
        When(**{field: OnTimeResult.ON_TIME}, then=Value(1)),
        When(**{field: OnTimeResult.LATE}, then=Value(0)),
        default=None, output_field=IntegerField(),
    )


def _contacts_score() -> Case:
    return Case(When(supplement_count=0, then=Value(2)), When(supplement_count=1, then=Value(1)),
                default=Value(0), output_field=IntegerField())


def _rating_score() -> Case:
    return Case(
        When(rating__overall=Satisfaction.VERY_SATISFIED, then=Value(2)),
        When(rating__overall=Satisfaction.SATISFIED, then=Value(1)),
        When(rating__overall=Satisfaction.UNSATISFIED, then=Value(0)),
        default=None, output_field=IntegerField(),
    )


def _resolved_in(period: Period) -> Q:
    return Q(finished_at__gte=period.start_at, finished_at__lt=period.end_at)


def evaluation_dossier_scores(*, period: Period) -> QuerySet:
    """The dossiers resolved in the period, each with its four index scores (0-2)."""
    lowest_step = (
        DossierStep.objects.filter(dossier=OuterRef("pk")).exclude(on_time_result="")
        .order_by().values("dossier").annotate(low=Min(_result_score())).values("low")
    )
    return (
        Dossier.objects.filter(_resolved_in(period))
        .annotate(
            time_score=_result_score(),
            unit_time_score=Subquery(lowest_step, output_field=IntegerField()),
            contacts_score=_contacts_score(),
            rating_score=_rating_score(),
        )
        .order_by("finished_at", "id")
    )


def band_for(score: float | None) -> str | None:
    if score is None:
        return None
    for minimum, band in settings.REPORT_EVALUATION_BANDS:
        if score >= minimum:
            return band
    return settings.REPORT_EVALUATION_BANDS[-1][1]


def _round(value):
    return None if value is None else round(float(value), 2)


def _finish(row: dict) -> dict:
    available = [row[i] for i in INDICES if row[i] is not None]
    row["score"] = round(sum(available) / len(available), 2) if available else None
    row["band"] = band_for(row["score"])
    return row


def _view(period: Period, by: str) -> tuple[list[dict], dict]:
    group = "assigned_unit_id" if by == "unit" else "assigned_officer_id"
    dossiers = {
        r.pop(group): r for r in
        Dossier.objects.filter(_resolved_in(period)).values(group).annotate(
            dossiers=Count("pk"), rated=Count("rating"),
            time=Avg(_result_score(), output_field=FloatField()),
            contacts=Avg(_contacts_score(), output_field=FloatField()),
            rating=Avg(_rating_score(), output_field=FloatField()),
        ).order_by()
    }
    step_group = (Coalesce("unit_id", "dossier__assigned_unit_id") if by == "unit"
                  else F("officer_id"))
    steps = {
        r.pop("key"): r for r in
        DossierStep.objects.filter(
            dossier__finished_at__gte=period.start_at, dossier__finished_at__lt=period.end_at)
        .exclude(on_time_result="").annotate(key=step_group).values("key")
        .annotate(steps=Count("pk"), unit_time=Avg(_result_score(), output_field=FloatField()))
        .order_by()
    }
    keys = [k for k in set(dossiers) | set(steps)]
    ids = [k for k in keys if k is not None]
    if by == "unit":
        names = {u.pk: u.name for u in Unit.objects.filter(pk__in=ids)}
        missing = _("Not yet assigned to a unit")
    else:
        names = {u.pk: (f"{u.last_name} {u.first_name}".strip() or u.get_username())
                 for u in get_user_model().objects.filter(pk__in=ids)}
        missing = _("Not yet assigned to an officer")
    rows = []
    for k in keys:
        d = dossiers.get(k, {})
        s = steps.get(k, {})
        rows.append(_finish({
            "key": f"{by}:{k if k is not None else 'none'}",
            "label": names.get(k, missing) if k is not None else missing,
            "dossiers": d.get("dossiers", 0), "rated": d.get("rated", 0),
            "steps": s.get("steps", 0),
            "time": _round(d.get("time")), "unit_time": _round(s.get("unit_time")),
            "contacts": _round(d.get("contacts")), "rating": _round(d.get("rating")),
        }))
    rows.sort(key=lambda r: (r["key"].endswith(":none"), r["label"].casefold()))
    # The department: averages weighted by what each row averaged over.
    total = {"key": "total", "label": _("Department"),
             "dossiers": sum(r["dossiers"] for r in rows), "rated": sum(r["rated"] for r in rows),
             "steps": sum(r["steps"] for r in rows)}
    for index, weight in (("time", "dossiers"), ("contacts", "dossiers"), ("rating", "rated"),
                          ("unit_time", "steps")):
        n = sum(r[weight] for r in rows if r[index] is not None)
        total[index] = (round(sum(r[index] * r[weight] for r in rows if r[index] is not None)
                              / n, 2) if n else None)
    return rows, _finish(total)


def evaluation_quarter(*, period: Period) -> dict:
    """Index averages and grade per unit and per officer for `period` (usually a quarter)."""
    units, department = _view(period, "unit")
    officers, _same = _view(period, "officer")
    return {"period": period.as_dict(), "units": units, "officers": officers,
            "department": department, "indices": list(INDICES)}
