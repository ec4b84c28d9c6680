"""Evaluation of dossier handling (Circular 01/2018/TT-VPCP; docs/legal-rules.md "Evaluation").

Decree 61/2018 art. 32 and Circular 01/2018 score each resolved dossier on nine indices,
0-2 points each (18 points in all). The system holds the data for four of them and
computes them; the others need a person's assessment and are **entered by hand** on the
Circular's evaluation form (``MANUAL_INDICES``, listed in the report):

1. **Time** - total time against the time allowed: shorter 2, equal 1, longer 0 (the
   dossier's ``on_time_result``, judged by date against the original due date).
2. **Each unit's time** - the steps of the control slip (form 05) each unit held,
   transfers from the desk included: early 2, on time 1, late 0. Per dossier the lowest
   of its steps; per unit and officer the average of the steps they held (a step
   without its own unit belongs to the unit the dossier is assigned to).
3. **Contacts** - times the applicant had to come back to complete the dossier: none
   2, one 1, more 0, *except where the applicant caused it*: a repeated intake request
   because the applicant's own supplement was incomplete
   (``Dossier.supplement_repeats``) does not count against the department.
4. **Rating** - the applicant's verdict: very satisfied 2, satisfied 1, unsatisfied 0;
   not counted when the dossier was not rated.

Dossiers count in the period in which they were resolved (``finished_at``). A row's
``score`` is the mean of its index averages (0-2). Grades follow the Circular's point
bands: a unit's points are that mean on the scale of the nine indices (x 9, 0-18;
``REPORT_EVALUATION_UNIT_BANDS``: 15 excellent, 12 good, 9 fair, 6 average, below 6
weak); an officer's on the scale of three indices (x 3, 0-6;
``REPORT_EVALUATION_OFFICER_BANDS``: 5 good, 3.5 satisfactory, below unsatisfactory).
Projecting the computed indices onto the full scale assumes the hand-entered ones
score like the computed ones; the report says so next to the grade.

Queries: three per view (dossier indices, step indices with transfers, names), plus
one for the transfers.
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
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from procedures.core.constants import OnTimeResult, Satisfaction
from procedures.core.people import staff_display_name
from procedures.models import Dossier, DossierStep, Unit
from procedures.reports.selectors import Period

INDICES = ("time", "unit_time", "contacts", "rating")
INDEX_LABELS = {
    "time": gettext_lazy("Time against the time allowed"),
    "unit_time": gettext_lazy("Each unit's time (control slips)"),
    "contacts": gettext_lazy("Supplement requests"),
    "rating": gettext_lazy("Applicant's rating"),
}
# The Circular's indices the system holds no data for: scored by hand on its form.
MANUAL_INDICES = {
    "bodies": gettext_lazy(
        "Number of agencies and organisations the applicant had to contact to complete the dossier"
    ),
    "publicity": gettext_lazy("Publicity of the procedure"),
    "online": gettext_lazy("Online handling of the procedure"),
    "fees": gettext_lazy("Fees and charges collected as published"),
    "feedback": gettext_lazy("Handling of the applicant's feedback and recommendations"),
}
UNIT_SCALE = 9  # indices of the Circular: 18 points
OFFICER_SCALE = 3  # an officer's scale: 6 points
BANDS_LABELS = {
    "excellent": gettext_lazy("Excellent"),
    "good": gettext_lazy("Good"),
    "fair": gettext_lazy("Fair"),
    "average": gettext_lazy("Average"),
    "weak": gettext_lazy("Weak"),
    "satisfactory": gettext_lazy("Satisfactory"),
    "unsatisfactory": gettext_lazy("Unsatisfactory"),
}


def _result_score(field: str = "on_time_result") -> Case:
    return Case(
        When(**{field: OnTimeResult.EARLY}, then=Value(2)),
        When(**{field: OnTimeResult.ON_TIME}, then=Value(1)),
        When(**{field: OnTimeResult.LATE}, then=Value(0)),
        default=None,
        output_field=IntegerField(),
    )


def _contacts_score() -> Case:
    # Requests caused by the applicant's own incomplete supplement are not counted; the
    # queryset carries `.alias(contacts_n=CONTACTS)`.
    return Case(
        When(contacts_n__gt=1, then=Value(0)),
        When(contacts_n__gt=0, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )


CONTACTS = F("supplement_count") - F("supplement_repeats")


def _rating_score() -> Case:
    return Case(
        When(rating__overall=Satisfaction.VERY_SATISFIED, then=Value(2)),
        When(rating__overall=Satisfaction.SATISFIED, then=Value(1)),
        When(rating__overall=Satisfaction.UNSATISFIED, then=Value(0)),
        default=None,
        output_field=IntegerField(),
    )


def _resolved_in(period: Period) -> Q:
    return Q(finished_at__gte=period.start_at, finished_at__lt=period.end_at)


def evaluation_dossier_scores(*, period: Period) -> QuerySet:
    """The dossiers resolved in the period, each with its four index scores (0-2)."""
    lowest_step = (
        DossierStep.objects.filter(dossier=OuterRef("pk"))
        .exclude(on_time_result="")
        .order_by()
        .values("dossier")
        .annotate(low=Min(_result_score()))
        .values("low")
    )
    return (
        Dossier.objects.filter(_resolved_in(period))
        .alias(contacts_n=CONTACTS)
        .annotate(
            time_score=_result_score(),
            unit_time_score=Subquery(lowest_step, output_field=IntegerField()),
            contacts_score=_contacts_score(),
            rating_score=_rating_score(),
        )
        .order_by("finished_at", "id")
    )


def band_for(points: float | None, *, officer: bool = False) -> str | None:
    """The grade of `points` on the unit (0-18) or officer (0-6) scale."""
    if points is None:
        return None
    bands = (
        settings.REPORT_EVALUATION_OFFICER_BANDS
        if officer
        else settings.REPORT_EVALUATION_UNIT_BANDS
    )
    for minimum, band in bands:
        if points >= minimum:
            return band
    return bands[-1][1]


def _round(value):
    return None if value is None else round(float(value), 2)


def _finish(row: dict, *, officer: bool = False) -> dict:
    available = [row[i] for i in INDICES if row[i] is not None]
    mean = sum(available) / len(available) if available else None
    row["score"] = round(mean, 2) if mean is not None else None
    scale = OFFICER_SCALE if officer else UNIT_SCALE
    row["points"] = round(mean * scale, 2) if mean is not None else None
    row["max_points"] = 2 * scale
    row["band"] = band_for(row["points"], officer=officer)
    return row


def _view(period: Period, by: str) -> tuple[list[dict], dict]:
    group = "assigned_unit_id" if by == "unit" else "assigned_officer_id"
    dossiers = {
        r.pop(group): r
        for r in Dossier.objects.filter(_resolved_in(period))
        .alias(contacts_n=CONTACTS)
        .values(group)
        .annotate(
            dossiers=Count("pk"),
            rated=Count("rating"),
            supplements=Sum("supplement_count"),
            supplement_repeats=Sum("supplement_repeats"),
            time=Avg(_result_score(), output_field=FloatField()),
            contacts=Avg(_contacts_score(), output_field=FloatField()),
            rating=Avg(_rating_score(), output_field=FloatField()),
        )
        .order_by()
    }
    step_group = (
        Coalesce("unit_id", "dossier__assigned_unit_id") if by == "unit" else F("officer_id")
    )
    steps = {
        r.pop("key"): r
        for r in DossierStep.objects.filter(
            dossier__finished_at__gte=period.start_at, dossier__finished_at__lt=period.end_at
        )
        .exclude(on_time_result="")
        .annotate(key=step_group)
        .values("key")
        .annotate(steps=Count("pk"), unit_time=Avg(_result_score(), output_field=FloatField()))
        .order_by()
    }
    # Transfers from the desk are a step of their own (docs/legal-rules.md "Transfer"):
    # merged as a weighted average into the unit's time of the desk officer's unit.
    transfer_group = (
        F("transferred_by__staff_profile__unit_id") if by == "unit" else F("transferred_by_id")
    )
    for r in (
        Dossier.objects.filter(_resolved_in(period))
        .exclude(transfer_on_time_result="")
        .annotate(key=transfer_group)
        .values("key")
        .annotate(
            n=Count("pk"),
            avg=Avg(_result_score("transfer_on_time_result"), output_field=FloatField()),
        )
        .order_by()
    ):
        s = steps.setdefault(r["key"], {"steps": 0, "unit_time": None})
        total = (s["unit_time"] or 0) * s["steps"] + r["avg"] * r["n"]
        s["steps"] += r["n"]
        s["unit_time"] = total / s["steps"]
    keys = [k for k in set(dossiers) | set(steps)]
    ids = [k for k in keys if k is not None]
    if by == "unit":
        names = {u.pk: u.name for u in Unit.objects.filter(pk__in=ids)}
        missing = _("Not yet assigned to a unit")
    else:
        names = {u.pk: staff_display_name(u) for u in get_user_model().objects.filter(pk__in=ids)}
        missing = _("Not yet assigned to an officer")
    rows = []
    for k in keys:
        d = dossiers.get(k, {})
        s = steps.get(k, {})
        rows.append(
            _finish(
                {
                    "key": f"{by}:{k if k is not None else 'none'}",
                    "label": names.get(k, missing) if k is not None else missing,
                    "dossiers": d.get("dossiers", 0),
                    "rated": d.get("rated", 0),
                    "steps": s.get("steps", 0),
                    "supplements": d.get("supplements") or 0,
                    "supplement_repeats": d.get("supplement_repeats") or 0,
                    "time": _round(d.get("time")),
                    "unit_time": _round(s.get("unit_time")),
                    "contacts": _round(d.get("contacts")),
                    "rating": _round(d.get("rating")),
                },
                officer=by == "officer",
            )
        )
    rows.sort(key=lambda r: (r["key"].endswith(":none"), r["label"].casefold()))
    # The department: averages weighted by what each row averaged over.
    total = {
        "key": "total",
        "label": _("Department"),
        "dossiers": sum(r["dossiers"] for r in rows),
        "rated": sum(r["rated"] for r in rows),
        "steps": sum(r["steps"] for r in rows),
        "supplements": sum(r["supplements"] for r in rows),
        "supplement_repeats": sum(r["supplement_repeats"] for r in rows),
    }
    for index, weight in (
        ("time", "dossiers"),
        ("contacts", "dossiers"),
        ("rating", "rated"),
        ("unit_time", "steps"),
    ):
        n = sum(r[weight] for r in rows if r[index] is not None)
        total[index] = (
            round(sum(r[index] * r[weight] for r in rows if r[index] is not None) / n, 2)
            if n
            else None
        )
    return rows, _finish(total)


def evaluation_quarter(*, period: Period) -> dict:
    """Index averages and grade per unit and per officer for `period` (usually a quarter)."""
    units, department = _view(period, "unit")
    officers, _same = _view(period, "officer")
    return {
        "period": period.as_dict(),
        "units": units,
        "officers": officers,
        "department": department,
        "indices": list(INDICES),
        "computed_indices": [{"key": k, "label": str(INDEX_LABELS[k])} for k in INDICES],
        "manual_indices": [{"key": k, "label": str(v)} for k, v in MANUAL_INDICES.items()],
        "scales": {"unit": 2 * UNIT_SCALE, "officer": 2 * OFFICER_SCALE},
    }
