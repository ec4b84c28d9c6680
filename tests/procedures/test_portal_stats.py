"""Public statistics (portal item 7): on-time rate per field and month, one query."""

import datetime

import pytest
from django.urls import reverse

from procedures.core.constants import Channel, OnTimeResult
from procedures.core.constants import DossierStatus as S
from procedures.models import Dossier, Field, Rating
from procedures.reports.public_stats import (
    public_catalogue_counts,
    public_on_time_by_field,
    public_satisfaction,
)
from tests.factories import ProcedureFactory

from .conftest import at
from .test_portal_submission import _english  # noqa: F401

pytestmark = pytest.mark.django_db

NOW = at(2026, 6, 15, 10, 0)


@pytest.fixture
def finish(register):
    def _finish(when, result, *, procedure=None, status=S.FINISHED):
        d = register(channel=Channel.ONLINE, **({"procedure": procedure} if procedure else {}))
        Dossier.objects.filter(pk=d.pk).update(
            status=status, finished_at=when, on_time_result=result
        )
        return d

    return _finish


def test_on_time_rate_per_field_and_month_in_one_query(
    finish, procedure, django_assert_num_queries
):
    food = Field.objects.create(name="An toàn thực phẩm", order=5)
    food_proc = ProcedureFactory(field=food, online=True)
    finish(at(2026, 6, 2, 9, 0), OnTimeResult.EARLY)
    finish(at(2026, 6, 3, 9, 0), OnTimeResult.ON_TIME, status=S.RETURNED)
    finish(at(2026, 6, 4, 9, 0), OnTimeResult.LATE)
    # 23:30 on 31 May in Vietnam is 16:30 UTC: it belongs to May, not June.
    finish(at(2026, 5, 31, 23, 30), OnTimeResult.LATE)
    # The window is July 2025 - June 2026: the last minute of June 2025 is outside.
    finish(at(2025, 6, 30, 23, 59), OnTimeResult.EARLY)
    finish(at(2025, 7, 1, 0, 30), OnTimeResult.ON_TIME, procedure=food_proc)
    finish(at(2026, 6, 15, 11, 0), OnTimeResult.EARLY)  # after "now"
    finish(at(2026, 6, 5, 9, 0), "", status=S.PROCESSING)  # not resolved: not counted

    with django_assert_num_queries(1):
        table = public_on_time_by_field(now=NOW)
    assert table.months[0] == datetime.date(2025, 7, 1)
    assert table.months[-1] == datetime.date(2026, 6, 1)
    assert len(table.months) == 12
    by_name = {row.name: row for row in table.rows}
    trade = by_name["Lưu thông hàng hóa trong nước"]
    june, may = trade.cells[-1], trade.cells[-2]
    assert (june.resolved, june.in_time, june.rate) == (3, 2, 66.7)
    assert (may.resolved, may.in_time, may.rate) == (1, 0, 0.0)
    assert (trade.total.resolved, trade.total.in_time) == (4, 2)
    food_row = by_name["An toàn thực phẩm"]
    assert (food_row.cells[0].resolved, food_row.cells[0].rate) == (1, 100.0)
    assert [row.name for row in table.rows] == [
        "Lưu thông hàng hóa trong nước",
        "An toàn thực phẩm",
    ]
    assert (table.total.resolved, table.total.in_time) == (5, 3)
    assert table.month_totals[-1].resolved == 3
    assert table.month_totals[3].rate is None  # October 2025: nothing resolved


def test_catalogue_counts_of_online_procedures(procedure, django_assert_num_queries):
    ProcedureFactory(partly_online=True)
    ProcedureFactory()
    ProcedureFactory(online=True, abolished=True)
    with django_assert_num_queries(1):
        counts = public_catalogue_counts()
    assert counts == {"total": 3, "full": 1, "partial": 1, "online": 2, "fields": 3}


def test_satisfaction_counts(finish):
    for answer, when in [
        ("very_satisfied", at(2026, 6, 1, 9)),
        ("satisfied", at(2026, 5, 1, 9)),
        ("very_satisfied", at(2026, 1, 1, 9)),
        ("unsatisfied", at(2025, 1, 1, 9)),
    ]:
        d = finish(when, OnTimeResult.ON_TIME)
        Rating.objects.create(dossier=d, overall=answer, created_at=when)
    assert public_satisfaction(now=NOW) == {
        "total": 3,
        "very_satisfied": 2,
        "satisfied": 1,
        "unsatisfied": 0,
    }


def test_the_page_shows_tables_and_a_chart_without_javascript(
    client, finish, django_assert_max_num_queries
):
    import time_machine

    finish(at(2026, 6, 2, 9, 0), OnTimeResult.EARLY)
    finish(at(2026, 6, 3, 9, 0), OnTimeResult.LATE)
    with time_machine.travel(NOW, tick=False):
        with django_assert_max_num_queries(3):  # on-time table, satisfaction, catalogue counts
            response = client.get(reverse("procedures:public-stats"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html and 'role="img"' in html and "<script" not in html
    assert (
        '<th scope="row">06/2026</th><td class="num">2</td>'
        '<td class="num">1</td><td class="num">50.0%</td>' in html
    )
    assert "Lưu thông hàng hóa trong nước" in html
    assert "procedures online" in html


def test_chart_coordinates_stay_numbers_on_vietnamese_pages(finish, vietnamese):
    """vi writes 66,7 with a comma; SVG needs 66.7, so the chart is not localised."""
    import re

    import time_machine
    from django.test import Client

    finish(at(2026, 6, 2, 9, 0), OnTimeResult.EARLY)
    finish(at(2026, 6, 3, 9, 0), OnTimeResult.LATE)
    finish(at(2026, 6, 4, 9, 0), OnTimeResult.LATE)
    with time_machine.travel(NOW, tick=False):
        html = Client().get("/thong-ke/").content.decode()
    assert re.search(
        r'<rect class="bar" x="\d+(\.\d+)?" y="\d+(\.\d+)?" width="\d+(\.\d+)?" '
        r'height="\d+(\.\d+)?"',
        html,
    )
    assert "33,3\u00a0%" in html  # the table is localised: 33,3 %
    assert "33.3" not in html.split("</svg>", 1)[1]
