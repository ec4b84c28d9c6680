"""The follow-up report on a hand-computed example."""

from datetime import date
from io import BytesIO

import pytest
from openpyxl import load_workbook

from dialogues import exports, selectors, services
from dialogues.constants import AnswerKind
from tests.dialogues_factories import (
    FieldFactory,
    RecommendationFactory,
    SessionFactory,
    UnitFactory,
    local,
)

pytestmark = pytest.mark.django_db

AS_OF = local(2026, 3, 20, 12, 0)
ZERO = dict.fromkeys(selectors.REPORT_COLUMNS, 0)


def counts(**kwargs):
    return {**ZERO, **kwargs}


@pytest.fixture
def example(staff, approver):
    """Session on Tue 3 Mar 2026 08:00-11:00, 10 working days to answer:
    items assigned before the session are due Tue 17 Mar 11:00.

    #  field     unit   what happened                               at 20 Mar 12:00
    1  petrol    QLTM   answered in writing Mon 16 Mar              on time
    2  petrol    QLTM   answered in writing Wed 18 Mar              late
    3  petrol    QLNL   answered at the session (approved 19 Mar)   on time
    4  elec.     QLNL   assigned, no answer                         overdue
    5  elec.     -      forwarded Mon 9 Mar                         forwarded
    6  elec.     QLNL   assigned Thu 19 Mar (due Thu 2 Apr)         pending
    7  -         -      received, not assigned                      pending
    8  petrol    QLTM   closed as a duplicate                       closed unanswered
    9  elec.     QLTM   answered Mon 23 Mar, after the report time  overdue
    """
    petrol = FieldFactory(name="Xăng dầu", order=1)
    electricity = FieldFactory(name="Điện", order=2)
    qltm = UnitFactory(code="QLTM", name="Phòng Quản lý thương mại")
    qlnl = UnitFactory(code="QLNL", name="Phòng Quản lý năng lượng")
    session = SessionFactory(answer_working_days=10)
    before = local(2026, 3, 2, 9)

    def item(field, unit=None, assigned_at=before):
        r = RecommendationFactory(session=session, field=field)
        if unit:
            services.recommendation_assign(
                recommendation_id=r.pk, unit=unit, by=staff, now=assigned_at
            )
        return r

    def answer(r, at, kind=AnswerKind.IN_WRITING):
        services.recommendation_answer_draft(
            recommendation_id=r.pk, text="Trả lời", kind=kind, by=staff, now=at
        )
        services.recommendation_answer_approve(recommendation_id=r.pk, by=approver, now=at)

    r1 = item(petrol, qltm)
    answer(r1, local(2026, 3, 16, 10))
    r2 = item(petrol, qltm)
    answer(r2, local(2026, 3, 18, 9))
    r3 = item(petrol, qlnl)
    answer(r3, local(2026, 3, 19, 9), kind=AnswerKind.AT_SESSION)
    item(electricity, qlnl)
    r5 = item(electricity)
    services.recommendation_forward(
        recommendation_id=r5.pk, authority="Bộ Công Thương", by=staff, now=local(2026, 3, 9, 9)
    )
    r6 = item(electricity, qlnl, assigned_at=local(2026, 3, 19, 9))
    assert r6.__class__.objects.get(pk=r6.pk).answer_due_at == local(2026, 4, 2, 9)
    item(None)
    r8 = item(petrol, qltm)
    services.recommendation_close(
        recommendation_id=r8.pk, note="Trùng #1", by=staff, now=local(2026, 3, 10, 9)
    )
    r9 = item(electricity, qltm)
    answer(r9, local(2026, 3, 23, 9))
    # Noise: another session's item, answered on time; not in this session's report.
    other = RecommendationFactory(session=SessionFactory(starts_at=local(2026, 6, 2, 8)))
    return session, other


def test_session_report_matches_the_hand_count(example, django_assert_num_queries):
    session, _other = example
    with django_assert_num_queries(4):  # session title + totals + per field + per unit
        report = selectors.recommendation_report_session(session_id=session.pk, as_of=AS_OF)
    assert report.totals == counts(
        received=9,
        answered_on_time=2,
        answered_late=1,
        pending=2,
        overdue=2,
        forwarded=1,
        closed_unanswered=1,
    )
    by_field = {
        row["name"]: {k: row[k] for k in selectors.REPORT_COLUMNS} for row in report.by_field
    }
    assert by_field == {
        "Xăng dầu": counts(received=4, answered_on_time=2, answered_late=1, closed_unanswered=1),
        "Điện": counts(received=4, overdue=2, forwarded=1, pending=1),
        None: counts(received=1, pending=1),
    }
    assert [row["name"] for row in report.by_field] == ["Xăng dầu", "Điện", None]
    assert [row["name"] for row in report.by_unit] == [
        "Phòng Quản lý năng lượng",
        "Phòng Quản lý thương mại",
        None,
    ]
    by_unit = {row["name"]: {k: row[k] for k in selectors.REPORT_COLUMNS} for row in report.by_unit}
    assert by_unit == {
        "Phòng Quản lý thương mại": counts(
            received=4, answered_on_time=1, answered_late=1, closed_unanswered=1, overdue=1
        ),
        "Phòng Quản lý năng lượng": counts(received=3, answered_on_time=1, overdue=1, pending=1),
        None: counts(received=2, forwarded=1, pending=1),
    }


def test_later_the_late_answer_counts_as_answered_late(example):
    session, _other = example
    report = selectors.recommendation_report_session(
        session_id=session.pk, as_of=local(2026, 3, 24, 12)
    )
    # #9 answered 23 Mar after its 17 Mar deadline; #6 still pending (due 2 Apr).
    assert report.totals == counts(
        received=9,
        answered_on_time=2,
        answered_late=2,
        pending=2,
        overdue=1,
        forwarded=1,
        closed_unanswered=1,
    )


def test_period_report_counts_what_was_received_in_the_period(example, staff):
    services.recommendation_receive(
        business_name="Công ty Than",
        tax_code="4600111220",
        content="Giữa kỳ",
        source="between_sessions",
        received_at=local(2026, 3, 10, 9),
        by=staff,
    )
    services.recommendation_receive(
        business_name="Công ty Than",
        tax_code="4600111220",
        content="Tháng trước",
        source="between_sessions",
        received_at=local(2026, 2, 27, 9),
        by=staff,
    )
    report = selectors.recommendation_report_period(
        start=date(2026, 3, 1), end=date(2026, 3, 31), now=AS_OF
    )
    assert report.as_of == AS_OF  # the period is not over: counted as of now
    assert report.totals["received"] == 10
    assert report.totals["pending"] == 3


def test_xlsx_export_has_the_same_figures(example):
    session, _other = example
    report = selectors.recommendation_report_session(session_id=session.pk, as_of=AS_OF)
    workbook = load_workbook(BytesIO(exports.followup_report_xlsx(report=report)))
    by_field, by_unit = workbook.worksheets
    rows = list(by_field.iter_rows(values_only=True))
    assert rows[0][0] == report.title
    assert rows[3] == ("Xăng dầu", 4, 2, 1, 0, 0, 0, 1)
    assert rows[-1][1:] == (9, 2, 1, 2, 2, 1, 1)
    assert list(by_unit.iter_rows(values_only=True))[-1][1:] == (9, 2, 1, 2, 2, 1, 1)
