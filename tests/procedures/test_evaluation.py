"""Circular 01/2018 evaluation from the data, on the June data set (quarter 2/2026).

Resolved in Q2: 1 (late, QLTM), 3 (early, QLTM), 4 (on time, QLTM; its intake step was
on time at the desk VP, its appraisal step late at QLTM), 13 (on time, not assigned),
14 (late after an apology, QLTM), 15 (on time, QLCN, one supplement request).
Ratings added here: 3 very satisfied, 4 unsatisfied.
"""
import pytest

from procedures.evaluation import band_for, evaluation_dossier_scores, evaluation_quarter
from procedures.models import Rating
from procedures.selectors.reports import Period

from .conftest import at
from .test_reports import industry_procedure, june  # noqa: F401

pytestmark = pytest.mark.django_db

Q2 = Period.parse("2026-Q2")


@pytest.fixture
def rated(june):
    Rating.objects.create(dossier=june[3], overall="very_satisfied", created_at=at(2026, 6, 6, 9))
    Rating.objects.create(dossier=june[4], overall="unsatisfied", created_at=at(2026, 6, 11, 9))
    return june


def test_per_dossier_scores(rated):
    scores = {d.pk: (d.time_score, d.unit_time_score, d.contacts_score, d.rating_score)
              for d in evaluation_dossier_scores(period=Q2)}
    j = rated
    assert scores == {
        j[1].pk: (0, None, 2, None),
        j[3].pk: (2, None, 2, 2),
        j[4].pk: (1, 0, 2, 0),  # lowest step: the late appraisal
        j[13].pk: (1, None, 2, None),
        j[14].pk: (0, None, 2, None),
        j[15].pk: (1, None, 1, None),  # one supplement request
    }


def test_units_officers_and_department(rated, units, staff):
    result = evaluation_quarter(period=Q2)
    by_key = {r["key"]: r for r in result["units"]}
    qltm = by_key[f"unit:{units['QLTM'].pk}"]
    assert (qltm["dossiers"], qltm["rated"], qltm["steps"]) == (4, 2, 1)
    assert (qltm["time"], qltm["unit_time"], qltm["contacts"], qltm["rating"]) == (
        0.75, 0.0, 2.0, 1.0)
    assert qltm["score"] == 0.94 and qltm["band"] == "poor"
    qlcn = by_key[f"unit:{units['QLCN'].pk}"]
    assert (qlcn["time"], qlcn["unit_time"], qlcn["contacts"], qlcn["score"], qlcn["band"]) == (
        1.0, None, 1.0, 1.0, "fair")
    desk = by_key[f"unit:{units['VP'].pk}"]  # held the intake step of no 4, on time
    assert (desk["dossiers"], desk["steps"], desk["unit_time"], desk["score"]) == (0, 1, 1.0, 1.0)
    unassigned = by_key["unit:none"]
    assert (unassigned["dossiers"], unassigned["score"], unassigned["band"]) == (1, 1.5, "good")
    assert result["units"][-1] is unassigned

    dept = result["department"]
    assert (dept["dossiers"], dept["rated"], dept["steps"]) == (6, 2, 2)
    assert (dept["time"], dept["unit_time"], dept["contacts"], dept["rating"]) == (
        0.83, 0.5, 1.83, 1.0)
    assert dept["score"] == 1.04 and dept["band"] == "fair"

    officers = {r["key"]: r for r in result["officers"]}
    specialist = officers[f"officer:{staff['specialist'].pk}"]
    assert (specialist["dossiers"], specialist["unit_time"]) == (4, 0.0)
    intake = officers[f"officer:{staff['intake'].pk}"]
    assert (intake["dossiers"], intake["steps"], intake["unit_time"]) == (0, 1, 1.0)


def test_fixed_number_of_queries(rated, django_assert_num_queries):
    with django_assert_num_queries(6):
        evaluation_quarter(period=Q2)


@pytest.mark.parametrize(("score", "band"), [(2, "good"), (1.5, "good"), (1.49, "fair"),
                                             (1.0, "fair"), (0.99, "poor"), (0, "poor"),
                                             (None, None)])
def test_bands(score, band):
    assert band_for(score) == band


def test_bands_are_a_setting(settings):
    settings.REPORT_EVALUATION_BANDS = [[1.8, "excellent"], [0, "other"]]
    assert band_for(1.9) == "excellent" and band_for(1.7) == "other"


def test_empty_quarter(db):
    result = evaluation_quarter(period=Period.parse("2020-Q1"))
    assert result["units"] == [] and result["department"]["score"] is None
