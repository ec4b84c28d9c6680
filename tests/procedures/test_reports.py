"""The monthly report (table 06/VPCP/KSTT) on a small data set computed by hand.

June 2026 (1 June is a Monday; no holiday in late May or June). Procedure A is the
fixture procedure (5 working days, 3 online) in the trade field; procedure B takes
10 working days in the industry field. The `june` fixture drives every dossier
through the services, so the figures come from real transitions and events:

 #  proc channel  story                                              June
 1  A    direct   accepted 25/5, resolved 2/6 (due 1/6)              carried, resolved late
 2  A    direct   accepted 28/5, withdrawn 10/6                      carried, withdrawn
 3  A    online   accepted 3/6, resolved 5/6 (due 8/6)               new online, early
 4  A    direct   accepted 3/6, steps handed over, resolved 10/6     new, on time
 5  A    postal   accepted 29/6, due 6/7                             new, open within deadline
 6  A    direct   accepted 15/6, due 22/6, untouched                 new, open overdue
 7  A    direct   accepted 16/6, supplement asked 17/6               new, open, paused (supplement)
 8  A    direct   accepted 16/6, payment asked 18/6, paid 2/7         new, open, paused (payment)
 9  A    online   submitted 20/6, never accepted                     not counted
10  A    direct   submitted and refused at intake 22/6               refused at intake
11  B    direct   accepted 10/6, stopped 20/6                        new, stopped
12  B    direct   accepted 1/7                                       not in June
13  A    direct   accepted 20/5, resolved 27/5                       not in June
14  A    direct   accepted 1/6, apology 4/6 (new due 12/6), res. 11/6  new, late (original due 8/6)
15  B    direct   accepted 29/5, supplement 1/6, received 5/6,       carried, on time
                  resolved 19/6 (restarted due 19/6 10:00)
"""

import pytest

from procedures.core.constants import OnTimeResult
from procedures.core.errors import DomainError
from procedures.dossiers import services as svc
from procedures.reports import selectors as sel
from procedures.reports.selectors import COLUMN_KEYS, Period

from .conftest import at

pytestmark = pytest.mark.django_db

JUNE = Period.month(2026, 6)


def figures(**given) -> dict:
    out = dict.fromkeys(COLUMN_KEYS, 0)
    out.update(given)
    return out


EXPECTED_A = figures(
    received=9,
    received_new=7,
    received_online=1,
    received_direct_postal=6,
    carried_over=2,
    resolved=4,
    resolved_early=1,
    resolved_on_time=1,
    resolved_late=2,
    in_progress=4,
    in_progress_within=3,
    in_progress_overdue=1,
    paused_supplement=1,
    paused_payment=1,
    withdrawn=1,
    refused_intake=1,
)
EXPECTED_B = figures(
    received=2,
    received_new=1,
    received_direct_postal=1,
    carried_over=1,
    resolved=1,
    resolved_on_time=1,
    stopped=1,
)
EXPECTED_TOTAL = {k: EXPECTED_A[k] + EXPECTED_B[k] for k in COLUMN_KEYS}


def counts(row) -> dict:
    return {k: row.figures[k] for k in COLUMN_KEYS}


def test_the_dataset_is_what_the_docstring_says(june):
    assert june[14].on_time_result == OnTimeResult.LATE  # judged against the original due
    assert june[15].on_time_result == OnTimeResult.ON_TIME
    assert june[4].on_time_result == OnTimeResult.ON_TIME
    assert june[1].on_time_result == OnTimeResult.LATE
    assert june[3].on_time_result == OnTimeResult.EARLY
    assert june[8].status == 4  # paid after the period: status at the end comes from events
    assert june[7].due_at < JUNE.end_at  # paused with a past due time: still within deadline


def test_june_by_procedure_matches_the_hand_computed_table(june, procedure, industry_procedure):
    report = sel.report_monthly(period=JUNE, by="procedure")
    assert [r.label for r in report.rows] == [
        "Lưu thông hàng hóa trong nước",
        "Công nghiệp địa phương",
    ]
    trade, industry = report.rows
    assert [c.key for c in trade.children] == [f"procedure:{procedure.pk}"]
    assert counts(trade) == counts(trade.children[0]) == EXPECTED_A
    assert counts(industry) == EXPECTED_B
    assert counts(report.total) == EXPECTED_TOTAL
    assert trade.figures["on_time_rate"] == 50.0
    assert trade.figures["online_share"] == 14.3
    assert industry.figures["on_time_rate"] == 100.0
    assert industry.figures["online_share"] == 0.0
    assert report.total.figures["on_time_rate"] == 60.0
    assert report.total.figures["online_share"] == 12.5
    for row in report.flat_rows():
        assert row.balance()[0] == row.balance()[1], row.label


def test_by_field_has_no_procedure_rows(june):
    report = sel.report_monthly(period=JUNE, by="field")
    assert all(not r.children for r in report.rows)
    assert counts(report.total) == EXPECTED_TOTAL


def test_july_carries_over_what_june_left_open(june):
    july = sel.report_monthly(period=Period.month(2026, 7), by="procedure")
    june_report = sel.report_monthly(period=JUNE, by="procedure")
    assert july.total.figures["carried_over"] == june_report.total.figures["in_progress"] == 4
    assert july.total.figures["received_new"] == 1  # no 12
    # No 8 was paid on 2 July: in July it is no longer paused.
    assert july.total.figures["paused_payment"] == 0
    assert july.total.figures["paused_supplement"] == 1


def test_by_unit_attributes_step_lateness_to_the_unit_that_held_the_step(june, units):
    report = sel.report_monthly(period=JUNE, by="unit")
    rows = {r.key: r for r in report.rows}
    qltm, qlcn, vp = (rows[f"unit:{units[c].pk}"] for c in ("QLTM", "QLCN", "VP"))
    none = rows["unit:none"]
    assert report.rows[-1] is none
    assert counts(qltm) == figures(
        received=7,
        received_new=6,
        received_online=1,
        received_direct_postal=5,
        carried_over=1,
        resolved=4,
        resolved_early=1,
        resolved_on_time=1,
        resolved_late=2,
        in_progress=3,
        in_progress_within=2,
        in_progress_overdue=1,
        paused_supplement=1,
        paused_payment=1,
    )
    assert counts(qlcn) == figures(
        received=2,
        received_new=1,
        received_direct_postal=1,
        carried_over=1,
        resolved=1,
        resolved_on_time=1,
        stopped=1,
    )
    assert counts(none) == figures(
        received=2,
        received_new=1,
        received_direct_postal=1,
        carried_over=1,
        withdrawn=1,
        in_progress=1,
        in_progress_within=1,
        refused_intake=1,
    )
    # No 4: the desk's intake step on time (VP), appraisal late; the appraisal step has no
    # unit of its own, so it lands on the unit the dossier is assigned to (QLTM).
    # Every step that ended has its result: the desk's intake steps ended on time with
    # the transfers (7 transfers, 6 of dossiers whose steps were copied in June's
    # process), the steps still open at resolve ended then (QLTM: 3 late, 2 early).
    assert counts(vp) == figures()
    assert (vp.figures["steps"], vp.figures["steps_on_time"], vp.figures["steps_late"]) == (6, 6, 0)
    assert (vp.figures["transfers"], vp.figures["transfers_late"]) == (7, 0)
    assert (qltm.figures["steps"], qltm.figures["steps_late"]) == (5, 3)
    assert counts(report.total) == EXPECTED_TOTAL
    assert report.total.figures["steps"] == 11


def test_by_officer(june, staff):
    report = sel.report_monthly(period=JUNE, by="officer")
    rows = {r.key: r for r in report.rows}
    specialist = rows[f"officer:{staff['specialist'].pk}"]
    other = rows[f"officer:{staff['other_specialist'].pk}"]
    intake = rows[f"officer:{staff['intake'].pk}"]
    assert specialist.label == "Cán bộ specialist"
    assert specialist.figures["received"] == 7 and specialist.figures["steps_late"] == 1
    assert other.figures["stopped"] == 1
    assert intake.figures["received"] == 0 and intake.figures["steps_on_time"] == 6
    assert intake.figures["transfers"] == 7
    assert counts(report.total) == EXPECTED_TOTAL


def test_quarter_and_year_reports_count_over_the_whole_period(june):
    q2 = sel.report_monthly(period=Period.parse("2026-Q2"), by="field")
    # Q2 includes May: 1, 2, 13, 15 are new in the quarter, nothing is carried over.
    assert q2.total.figures["carried_over"] == 0
    assert q2.total.figures["received_new"] == 12
    assert q2.total.figures["resolved"] == 6
    assert q2.total.figures["in_progress"] == 4
    year = sel.report_monthly(period=Period.parse("2026"), by="field")
    assert year.total.figures["received_new"] == 13
    assert year.total.figures["in_progress"] == 5  # 5, 6, 7, 8, 12 still open today


@pytest.mark.parametrize("by", ["procedure", "unit", "officer"])
def test_every_cell_drills_down_to_exactly_its_dossiers(june, by):
    report = sel.report_monthly(period=JUNE, by=by)
    for row in report.flat_rows():
        for column in COLUMN_KEYS:
            qs = sel.report_cell_dossiers(period=JUNE, row_key=row.key, column=column)
            assert qs.count() == row.figures[column], (row.key, column)


def test_drill_down_names_the_dossiers(june):
    overdue = sel.report_cell_dossiers(period=JUNE, row_key="total", column="in_progress_overdue")
    assert list(overdue) == [june[6]]
    paused = sel.report_cell_dossiers(period=JUNE, row_key="total", column="paused_payment")
    assert list(paused) == [june[8]]


def test_drill_down_rejects_unknown_rows_and_columns(june):
    with pytest.raises(DomainError):
        sel.report_cell_dossiers(period=JUNE, row_key="total", column="nope")
    with pytest.raises(DomainError):
        sel.report_cell_dossiers(period=JUNE, row_key="field:abc", column="received")


# On PostgreSQL the aggregate is preceded by SET LOCAL jit = off (see without_jit).
def _queries(n: int) -> int:
    from django.db import connection

    return n + (connection.vendor == "postgresql")


def test_query_count_is_fixed_whatever_the_size(
    june, django_assert_num_queries, register, staff, units
):
    with django_assert_num_queries(_queries(2)):
        sel.report_monthly(period=JUNE, by="procedure")
    with django_assert_num_queries(_queries(4)):  # + the transfers
        sel.report_monthly(period=JUNE, by="unit")
    from tests.factories import ProcedureFactory

    for i in range(5):
        extra = ProcedureFactory()
        for j in range(3):
            d = register(now=at(2026, 6, 8 + i, 9, j), procedure=extra)
            svc.dossier_accept(dossier=d, actor=staff["intake"], now=at(2026, 6, 8 + i, 9, j))
    with django_assert_num_queries(_queries(2)):
        report = sel.report_monthly(period=JUNE, by="procedure")
    assert len(report.rows) == 7
    assert report.total.figures["received_new"] == EXPECTED_TOTAL["received_new"] + 15
    with django_assert_num_queries(_queries(4)):  # + the transfers
        sel.report_monthly(period=JUNE, by="officer")


def test_satisfaction_summary(june):
    from procedures.models import Rating

    Rating.objects.create(
        dossier=june[3],
        overall="very_satisfied",
        timeliness=2,
        attitude=2,
        created_at=at(2026, 6, 6, 9, 0),
    )
    Rating.objects.create(
        dossier=june[4], overall="unsatisfied", timeliness=0, created_at=at(2026, 6, 11, 9, 0)
    )
    Rating.objects.create(dossier=june[13], overall="satisfied", created_at=at(2026, 5, 28, 9, 0))
    summary = sel.report_satisfaction(period=JUNE)
    assert summary["total"] == {
        "ratings": 2,
        "very_satisfied": 1,
        "satisfied": 0,
        "unsatisfied": 1,
        "satisfied_rate": 50.0,
    }
    (row,) = summary["rows"]
    assert row["field"] == "Lưu thông hàng hóa trong nước"
    assert row["timeliness"] == 1.0 and row["attitude"] == 2.0 and row["visits"] is None


def test_trend_over_twelve_months_in_two_queries(june, django_assert_num_queries):
    with django_assert_num_queries(2):  # the frozen months (none here), then the others
        trend = sel.report_trend(period=JUNE)
    assert len(trend) == 12 and trend[-1]["period"] == "2026-06" and trend[0]["period"] == "2025-07"
    may, june_point = trend[-2], trend[-1]
    assert (may["received_new"], may["resolved"], may["on_time_rate"]) == (4, 1, 100.0)
    assert (june_point["received_new"], june_point["resolved"]) == (8, 5)
    assert june_point["on_time_rate"] == 60.0


@pytest.mark.parametrize(
    ("value", "start", "end"),
    [
        ("2026-06", "2026-06-01", "2026-06-30"),
        ("2026-Q1", "2026-01-01", "2026-03-31"),
        ("2024", "2024-01-01", "2024-12-31"),
        ("2026-2", "2026-02-01", "2026-02-28"),
    ],
)
def test_period_parse(value, start, end):
    p = Period.parse(value)
    assert (p.start.isoformat(), p.end.isoformat()) == (start, end)
    assert Period.parse(p.key) == p


@pytest.mark.parametrize("value", ["2026-13", "June", "2026-Q5", "", "1999"])
def test_period_parse_rejects_nonsense(value):
    with pytest.raises(DomainError) as err:
        Period.parse(value)
    assert err.value.code == "bad_period"


def test_period_boundaries_are_local_midnight():
    assert JUNE.start_at.isoformat() == "2026-06-01T00:00:00+07:00"
    assert JUNE.end_at.isoformat() == "2026-07-01T00:00:00+07:00"
    assert Period.month(2026, 12).next() == Period.month(2027, 1)
    assert Period.month(2026, 1).previous() == Period.month(2025, 12)


def test_boundary_second_belongs_to_the_right_month(register, staff):
    last = register(now=at(2026, 6, 30, 16, 0))
    svc.dossier_accept(dossier=last, actor=staff["intake"], now=at(2026, 6, 30, 23, 59, 59))
    first = register(now=at(2026, 6, 30, 16, 0))
    svc.dossier_accept(dossier=first, actor=staff["intake"], now=at(2026, 7, 1, 0, 0))
    june_r = sel.report_monthly(period=JUNE, by="field")
    july_r = sel.report_monthly(period=Period.month(2026, 7), by="field")
    assert june_r.total.figures["received_new"] == 1
    assert july_r.total.figures["received_new"] == 1
    assert july_r.total.figures["carried_over"] == 1


def test_report_round_trips_through_json(june):
    report = sel.report_monthly(period=JUNE, by="procedure")
    again = sel.MonthlyReport.from_dict(report.as_dict())
    assert again.as_dict() == report.as_dict()


def test_unknown_by_is_refused():
    with pytest.raises(DomainError) as err:
        sel.report_monthly(period=JUNE, by="colour")
    assert err.value.field == "by"


# ------------------------------------------------------------------ admin pages


@pytest.fixture
def director_client(client, staff):
    client.force_login(staff["director"])
    return client


def test_report_page_shows_the_table_charts_and_balance(
    june, director_client, django_assert_max_num_queries
):
    from django.urls import reverse

    url = reverse("admin:procedures_report")
    with django_assert_max_num_queries(14):
        response = director_client.get(url, {"period": "2026-06", "by": "procedure"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="report-table"' in html
    assert html.count('class="report-chart"') == 3
    assert "<script" not in html.split('id="content-main"')[1]
    assert "Lưu thông hàng hóa trong nước" in html
    rows = response.context["rows"]
    assert rows[0]["kind"] == "total"
    total = {c["key"]: c["value"] for c in rows[0]["cells"]}
    assert {k: total[k] for k in EXPECTED_TOTAL if k in total} == {
        k: v for k, v in EXPECTED_TOTAL.items() if k in total
    }
    assert response.context["balance_ok"]
    overdue = next(c for c in rows[0]["cells"] if c["key"] == "in_progress_overdue")
    assert "column=in_progress_overdue" in overdue["url"] and "row=total" in overdue["url"]
    # June has ended and is not frozen: the director gets the freeze button.
    assert f'action="{reverse("admin:procedures_report_freeze")}"' in html


def test_the_page_costs_the_same_whatever_the_data(
    june, director_client, django_assert_max_num_queries, register, staff
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    url = reverse("admin:procedures_report")
    with CaptureQueriesContext(connection) as before:
        director_client.get(url, {"period": "2026-06", "by": "unit"})
    from tests.factories import ProcedureFactory

    for i in range(4):
        extra = ProcedureFactory()
        d = register(now=at(2026, 6, 8 + i, 9, 0), procedure=extra)
        svc.dossier_accept(dossier=d, actor=staff["intake"], now=at(2026, 6, 8 + i, 9, 0))
    with CaptureQueriesContext(connection) as after:
        director_client.get(url, {"period": "2026-06", "by": "unit"})
    assert len(after) == len(before)


def test_drill_down_lists_the_dossiers_behind_a_figure(june, director_client):
    from django.urls import reverse

    response = director_client.get(
        reverse("admin:procedures_report_cell"),
        {"period": "2026-06", "by": "procedure", "row": "total", "column": "paused_supplement"},
    )
    assert response.status_code == 200
    assert list(response.context["page"]) == [june[7]]
    assert june[7].code in response.content.decode()


def test_drill_down_shows_only_dossiers_the_user_may_see(june, client, staff):
    from django.urls import reverse

    client.force_login(staff["other_head"])  # unit head of QLCN
    response = client.get(
        reverse("admin:procedures_report_cell"),
        {"period": "2026-06", "row": "total", "column": "received"},
    )
    assert {d.pk for d in response.context["page"]} == {june[11].pk, june[15].pk}


def test_report_pages_need_the_view_reports_permission(june, client, staff):
    from django.urls import reverse

    client.force_login(staff["specialist"])  # specialists have no view_reports
    for name in (
        "admin:procedures_report",
        "admin:procedures_report_cell",
        "admin:procedures_report_evaluation",
    ):
        assert client.get(reverse(name), {"period": "2026-06"}).status_code == 403
    assert client.get(reverse("admin:procedures_report_export", args=["xlsx"])).status_code == 403


def test_bad_period_is_a_clear_400(director_client):
    from django.urls import reverse

    response = director_client.get(reverse("admin:procedures_report"), {"period": "2026-13"})
    assert response.status_code == 400
    assert response.context["error"].startswith("“2026-13”")


def test_exports_from_the_admin(june, director_client):
    import io as _io

    from django.urls import reverse
    from openpyxl import load_workbook

    response = director_client.get(
        reverse("admin:procedures_report_export", args=["xlsx"]),
        {"period": "2026-06", "by": "procedure"},
    )
    assert response.status_code == 200
    assert 'filename="bao-cao-06-2026-06-procedure.xlsx"' in response["Content-Disposition"]
    ws = load_workbook(_io.BytesIO(response.content)).active
    assert ws["C11"].value == EXPECTED_TOTAL["received"]
    csv_response = director_client.get(
        reverse("admin:procedures_report_export", args=["csv"]), {"period": "2026-06"}
    )
    assert csv_response["Content-Type"].startswith("text/csv")
    pdf_response = director_client.get(
        reverse("admin:procedures_report_export", args=["pdf"]), {"period": "2026-06"}
    )
    assert pdf_response.content.startswith(b"%PDF")
    assert (
        director_client.get(reverse("admin:procedures_report_export", args=["doc"])).status_code
        == 404
    )


def test_freeze_now_then_frozen_view_compare_and_files(
    june, director_client, staff, django_capture_on_commit_callbacks
):
    from django.core import mail
    from django.urls import reverse

    from procedures.models import ReportSnapshot

    with django_capture_on_commit_callbacks(execute=True):
        response = director_client.post(
            reverse("admin:procedures_report_freeze"), {"period": "2026-06"}
        )
    assert response.status_code == 302
    snapshot = ReportSnapshot.objects.get()
    assert snapshot.frozen_by == staff["director"]
    assert len(mail.outbox) == 1 and snapshot.__class__.objects.get().emailed_at is not None

    again = director_client.post(reverse("admin:procedures_report_freeze"), {"period": "2026-06"})
    assert again.status_code == 302 and ReportSnapshot.objects.count() == 1

    svc.dossier_withdraw(
        dossier=june[6], actor=staff["intake"], reason="Rút", now=at(2026, 6, 26, 9, 0)
    )
    frozen = director_client.get(
        reverse("admin:procedures_report"), {"period": "2026-06", "frozen": "1"}
    )
    total = {c["key"]: c["value"] for c in frozen.context["rows"][0]["cells"]}
    assert total["withdrawn"] == 1  # as signed
    today = director_client.get(reverse("admin:procedures_report"), {"period": "2026-06"})
    assert {c["key"]: c["value"] for c in today.context["rows"][0]["cells"]}["withdrawn"] == 2

    compare = director_client.get(
        reverse("admin:procedures_reportsnapshot_compare", args=[snapshot.pk])
    )
    assert compare.status_code == 200 and 'id="report-differences"' in compare.content.decode()
    file_response = director_client.get(
        reverse("admin:procedures_reportsnapshot_file", args=[snapshot.pk, "pdf"])
    )
    assert b"".join(file_response.streaming_content).startswith(b"%PDF")
    changelist = director_client.get(reverse("admin:procedures_reportsnapshot_changelist"))
    assert changelist.status_code == 200 and "XLSX" in changelist.content.decode()


def test_freeze_needs_a_director_and_an_ended_period(june, client, staff):
    from django.urls import reverse

    from procedures.models import ReportSnapshot

    client.force_login(staff["unit_head"])  # may view reports, may not freeze
    assert (
        client.post(reverse("admin:procedures_report_freeze"), {"period": "2026-06"}).status_code
        == 403
    )
    client.force_login(staff["director"])
    response = client.post(
        reverse("admin:procedures_report_freeze"), {"period": "2099-01"}, follow=True
    )
    (message,) = list(response.context["messages"])
    assert message.level_tag == "error" and "01/02/2099" in message.message
    assert not ReportSnapshot.objects.exists()
    assert client.get(reverse("admin:procedures_report_freeze")).status_code == 405


def test_evaluation_page(june, director_client):
    from django.urls import reverse

    response = director_client.get(
        reverse("admin:procedures_report_evaluation"), {"period": "2026-Q2"}
    )
    assert response.status_code == 200
    assert response.context["result"]["department"]["dossiers"] == 6


def test_trend_takes_frozen_months_from_their_snapshot(june, staff, django_assert_num_queries):
    from procedures.reports.services import report_freeze

    report_freeze(period="month", start=JUNE.start, now=at(2026, 7, 1, 6, 0))
    # A withdrawal recorded late, back-dated into June: the trend keeps the signed June.
    svc.dossier_withdraw(
        dossier=june[6], actor=staff["intake"], reason="Rút", now=at(2026, 6, 26, 9, 0)
    )
    svc.dossier_resolve(
        dossier=june[5], actor=staff["director"], outcome="granted", now=at(2026, 7, 2, 9, 0)
    )
    with django_assert_num_queries(2):
        trend = sel.report_trend(period=Period.month(2026, 7))
    june_point, july_point = trend[-2], trend[-1]
    assert june_point["frozen"] and not july_point["frozen"]
    assert (june_point["received_new"], june_point["resolved"], june_point["on_time_rate"]) == (
        8,
        5,
        60.0,
    )
    assert (july_point["received_new"], july_point["resolved"]) == (1, 1)
