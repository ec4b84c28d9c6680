"""Circular 01/2018 evaluation from the data, on the June data set (quarter 2/2026).

Resolved in Q2: 1 (late, QLTM), 3 (early, QLTM), 4 (on time, QLTM; its intake step was
on time at the desk VP, its appraisal step late at QLTM), 13 (on time, not assigned),
14 (late after an apology, QLTM), 15 (on time, QLCN, one supplement request).
Ratings added here: 3 very satisfied, 4 unsatisfied.
"""

import pytest

from procedures.models import Rating
from procedures.reports.evaluation import band_for, evaluation_dossier_scores, evaluation_quarter
from procedures.reports.selectors import Period

from .conftest import at

pytestmark = pytest.mark.django_db

Q2 = Period.parse("2026-Q2")


@pytest.fixture
def rated(june):
    Rating.objects.create(dossier=june[3], overall="very_satisfied", created_at=at(2026, 6, 6, 9))
    Rating.objects.create(dossier=june[4], overall="unsatisfied", created_at=at(2026, 6, 11, 9))
    return june


def test_per_dossier_scores(rated):
    """Every step that ended has a result now (the desk's step ends with the transfer,
    open steps at resolve), so dossiers 1, 3, 13 and 14 get a unit-time score too."""
    scores = {
        d.pk: (d.time_score, d.unit_time_score, d.contacts_score, d.rating_score)
        for d in evaluation_dossier_scores(period=Q2)
    }
    j = rated
    assert scores == {
        j[1].pk: (0, 0, 2, None),  # its appraisal, open at resolve, ended late
        j[3].pk: (2, 1, 2, 2),
        j[4].pk: (1, 0, 2, 0),  # lowest step: the late appraisal
        j[13].pk: (1, 0, 2, None),
        j[14].pk: (0, 0, 2, None),
        j[15].pk: (1, None, 1, None),  # one supplement request (no step copied: May)
    }


def test_units_officers_and_department(rated, units, staff):
    """Units on 18 points (mean x 9), officers on 6 (mean x 3), graded by the bands."""
    result = evaluation_quarter(period=Q2)
    by_key = {r["key"]: r for r in result["units"]}
    qltm = by_key[f"unit:{units['QLTM'].pk}"]
    assert (qltm["dossiers"], qltm["rated"], qltm["steps"]) == (4, 2, 5)
    assert (qltm["time"], qltm["unit_time"], qltm["contacts"], qltm["rating"]) == (
        0.75,
        0.8,
        2.0,
        1.0,
    )
    assert (qltm["score"], qltm["points"], qltm["max_points"], qltm["band"]) == (
        1.14,
        10.24,
        18,
        "fair",
    )
    qlcn = by_key[f"unit:{units['QLCN'].pk}"]
    assert (qlcn["time"], qlcn["unit_time"], qlcn["contacts"], qlcn["points"], qlcn["band"]) == (
        1.0,
        None,
        1.0,
        9.0,
        "fair",
    )
    assert (qlcn["supplements"], qlcn["supplement_repeats"]) == (1, 0)
    desk = by_key[f"unit:{units['VP'].pk}"]  # intake steps and transfers
    assert (desk["dossiers"], desk["steps"], desk["unit_time"], desk["points"], desk["band"]) == (
        0,
        10,
        0.9,
        8.1,
        "average",
    )
    unassigned = by_key["unit:none"]
    assert (unassigned["dossiers"], unassigned["points"], unassigned["band"]) == (1, 13.5, "good")
    assert result["units"][-1] is unassigned

    dept = result["department"]
    assert (dept["dossiers"], dept["rated"], dept["steps"]) == (6, 2, 15)
    assert (dept["points"], dept["band"]) == (10.19, "fair")

    officers = {r["key"]: r for r in result["officers"]}
    specialist = officers[f"officer:{staff['specialist'].pk}"]
    assert (specialist["dossiers"], specialist["unit_time"]) == (4, 0.0)
    assert (specialist["points"], specialist["max_points"], specialist["band"]) == (
        2.81,
        6,
        "unsatisfactory",
    )
    none = officers["officer:none"]
    assert (none["points"], none["band"]) == (4.5, "satisfactory")
    assert {i["key"] for i in result["manual_indices"]} == {
        "bodies",
        "publicity",
        "online",
        "fees",
        "feedback",
    }


def test_fixed_number_of_queries(rated, django_assert_num_queries):
    with django_assert_num_queries(8):  # per view: dossiers, steps, transfers, names
        evaluation_quarter(period=Q2)


@pytest.mark.parametrize(
    ("points", "band"),
    [
        (18, "excellent"),
        (15, "excellent"),
        (14.99, "good"),
        (12, "good"),
        (11.9, "fair"),
        (9, "fair"),
        (8.9, "average"),
        (6, "average"),
        (5.99, "weak"),
        (0, "weak"),
        (None, None),
    ],
)
def test_unit_bands_of_circular_01_2018(points, band):
    """Units: 15 points or more excellent, 12 good, 9 fair, 6 average, below 6 weak."""
    assert band_for(points) == band


@pytest.mark.parametrize(
    ("points", "band"),
    [
        (6, "good"),
        (5, "good"),
        (4.99, "satisfactory"),
        (3.5, "satisfactory"),
        (3.49, "unsatisfactory"),
        (0, "unsatisfactory"),
    ],
)
def test_officer_bands_of_circular_01_2018(points, band):
    """Officers: 5 points or more good, 3.5 satisfactory, below unsatisfactory."""
    assert band_for(points, officer=True) == band


def test_bands_are_a_setting(settings):
    settings.REPORT_EVALUATION_UNIT_BANDS = [[16, "excellent"], [0, "other"]]
    assert band_for(16.5) == "excellent" and band_for(15.5) == "other"


def test_repeat_caused_by_the_applicant_does_not_cost_the_contacts_index(register, staff):
    """Intake: asked once, the supplement came back still incomplete, asked again with the
    reason recorded: two requests, one repeat, and the contacts index scores 1 (one
    contact caused by the department), not 0."""
    from procedures.core.constants import Outcome
    from procedures.dossiers import services as svc

    d = register(now=at(2026, 6, 1, 8, 0))
    d = svc.dossier_request_supplement(
        dossier=d, actor=staff["intake"], reason="Thiếu A, B", now=at(2026, 6, 1, 8, 30)
    )
    d = svc.dossier_receive_supplement(dossier=d, actor=staff["intake"], now=at(2026, 6, 2, 8, 0))
    d = svc.dossier_request_supplement(
        dossier=d,
        actor=staff["intake"],
        reason="B còn thiếu",
        applicant_supplement_incomplete=True,
        now=at(2026, 6, 2, 8, 30),
    )
    d = svc.dossier_receive_supplement(dossier=d, actor=staff["intake"], now=at(2026, 6, 3, 8, 0))
    d = svc.dossier_accept(dossier=d, actor=staff["intake"], now=at(2026, 6, 3, 9, 0))
    svc.dossier_resolve(
        dossier=d, actor=staff["director"], outcome=Outcome.GRANTED, now=at(2026, 6, 4, 9, 0)
    )
    (scored,) = evaluation_dossier_scores(period=Q2)
    assert scored.contacts_score == 1
    department = evaluation_quarter(period=Q2)["department"]
    assert (department["supplements"], department["supplement_repeats"]) == (2, 1)


def test_empty_quarter(db):
    result = evaluation_quarter(period=Period.parse("2020-Q1"))
    assert result["units"] == [] and result["department"]["score"] is None
