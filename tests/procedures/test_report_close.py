"""Month close: freeze once, mail once, only on the first working day; compare later."""

import io
from datetime import date
from smtplib import SMTPException

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from procedures.core.errors import DomainError
from procedures.dossiers import services as svc
from procedures.models import ReportSnapshot, StaffProfile
from procedures.reports import services as rs
from procedures.reports.selectors import Period
from procedures.tasks import report_month_close

from .conftest import at
from .test_reports import EXPECTED_TOTAL

pytestmark = pytest.mark.django_db

JULY_1 = at(2026, 7, 1, 6, 0)


def freeze_june(now=JULY_1, **kw):
    return rs.report_freeze(period="month", start=date(2026, 6, 1), now=now, **kw)


def test_freeze_stores_figures_and_files_once(june, staff):
    snapshot, created = freeze_june(actor=staff["director"])
    assert created
    assert (snapshot.period, snapshot.start, snapshot.end) == (
        "month",
        date(2026, 6, 1),
        date(2026, 6, 30),
    )
    assert snapshot.frozen_at == JULY_1 and snapshot.frozen_by == staff["director"]
    total = snapshot.figures["views"]["procedure"]["total"]["figures"]
    assert {k: total[k] for k in EXPECTED_TOTAL} == EXPECTED_TOTAL
    assert set(snapshot.figures["views"]) == {"procedure", "unit", "officer"}
    with snapshot.xlsx.open("rb") as fh:
        ws = load_workbook(io.BytesIO(fh.read())).active
    assert ws["B11"].value == "Tổng số" and ws["C11"].value == EXPECTED_TOTAL["received"]
    with snapshot.pdf.open("rb") as fh:
        assert fh.read(5) == b"%PDF-"
    assert snapshot.csv.name.endswith(".csv")

    again, created = freeze_june(now=at(2026, 7, 3, 9, 0))
    assert not created and again.pk == snapshot.pk and again.frozen_at == JULY_1
    assert ReportSnapshot.objects.count() == 1


def test_a_period_that_has_not_ended_cannot_be_frozen(db):
    with pytest.raises(DomainError) as err:
        freeze_june(now=at(2026, 6, 30, 23, 59))
    assert err.value.code == "period_not_ended"
    with pytest.raises(DomainError):
        rs.report_freeze(period="month", start=date(2026, 6, 2), now=JULY_1)


def test_later_edits_leave_the_frozen_report_and_compare_shows_them(june, staff):
    snapshot, _ = freeze_june()
    frozen = snapshot.figures
    assert rs.report_compare(snapshot=snapshot) == []
    # A withdrawal recorded late, back-dated into June, changes the regenerated June.
    svc.dossier_withdraw(
        dossier=june[6], actor=staff["intake"], reason="Rút (ghi muộn)", now=at(2026, 6, 26, 9, 0)
    )
    snapshot.refresh_from_db()
    assert snapshot.figures == frozen
    diffs = {
        (d.by, d.row_key, d.column): (d.frozen, d.current)
        for d in rs.report_compare(snapshot=snapshot)
    }
    assert diffs[("procedure", "total", "withdrawn")] == (1, 2)
    assert diffs[("procedure", "total", "in_progress")] == (4, 3)
    assert diffs[("procedure", "total", "in_progress_overdue")] == (1, 0)
    assert diffs[("unit", f"unit:{june[6].assigned_unit_id}", "withdrawn")] == (0, 1)
    assert ("procedure", "total", "received") not in diffs


def test_email_goes_once_to_directors_and_report_recipients_with_the_files(june, staff, settings):
    settings.LANGUAGE_CODE = "vi"  # as in production: extra recipients read Vietnamese
    settings.REPORT_RECIPIENTS = ["vanphong@example.gov.vn", "DIRECTOR@example.gov.vn"]
    snapshot, _ = freeze_june()
    assert rs.report_email(snapshot_id=snapshot.pk, now=JULY_1) == 1
    (message,) = mail.outbox
    assert sorted(message.to) == ["director@example.gov.vn", "vanphong@example.gov.vn"]
    assert "06/2026" in message.subject
    assert "60,0\u00a0%" in message.body  # the on-time rate, as Vietnamese writes it
    assert "/admin/procedures/reportsnapshot/report/?period=2026-06" in message.body
    names = [a[0] for a in message.attachments]
    assert names == [
        "bao-cao-06-2026-06-procedure.xlsx",
        "bao-cao-06-2026-06-procedure.pdf",
        "bao-cao-06-2026-06-procedure.csv",
    ]
    assert message.attachments[0][2].startswith("application/vnd.openxmlformats")
    snapshot.refresh_from_db()
    assert snapshot.emailed_at == JULY_1
    assert rs.report_email(snapshot_id=snapshot.pk) == 0
    assert len(mail.outbox) == 1


def test_each_language_gets_its_own_message(june, staff, settings):
    settings.LANGUAGE_CODE = "vi"  # as in production: extra recipients read Vietnamese
    settings.REPORT_RECIPIENTS = ["vanphong@example.gov.vn"]
    StaffProfile.objects.filter(user=staff["director"]).update(language="en")
    snapshot, _ = freeze_june()
    assert rs.report_email(snapshot_id=snapshot.pk) == 2
    by_to = {tuple(m.to): m for m in mail.outbox}
    assert "dossier report for Month 06/2026" in by_to[("director@example.gov.vn",)].subject
    assert "60.0%" in by_to[("director@example.gov.vn",)].body
    assert "60,0\u00a0%" in by_to[("vanphong@example.gov.vn",)].body


def test_a_failed_send_is_retried_later_and_not_marked(june, staff, monkeypatch):
    snapshot, _ = freeze_june()

    def broken(self, fail_silently=False):
        raise SMTPException("421 try again later")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", broken)
    with pytest.raises(SMTPException):
        rs.report_email(snapshot_id=snapshot.pk)
    snapshot.refresh_from_db()
    assert snapshot.emailed_at is None
    monkeypatch.undo()
    assert rs.report_email(snapshot_id=snapshot.pk) == 1


def test_no_recipient_is_logged_and_not_marked(june, staff, caplog):
    staff["director"].groups.clear()
    snapshot, _ = freeze_june()
    assert rs.report_email(snapshot_id=snapshot.pk) == 0
    assert "no director with an e-mail address" in caplog.text
    snapshot.refresh_from_db()
    assert snapshot.emailed_at is None


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 7, 1), True),
        (date(2026, 7, 2), False),
        # 1-2 September 2026 are the National Day holidays: the 3rd is the first working day.
        (date(2026, 9, 1), False),
        (date(2026, 9, 3), True),
        (date(2026, 9, 4), False),
        # 1 January 2027 is a holiday, then a weekend.
        (date(2027, 1, 1), False),
        (date(2027, 1, 4), True),
        (date(2026, 8, 1), False),
        (date(2026, 8, 3), True),
    ],
)
def test_first_working_day_of_the_month(db, day, expected):
    assert rs.is_first_working_day_of_month(day) is expected


def test_periods_closing_include_quarter_and_year_at_their_end():
    assert [p.key for p in rs.periods_closing(today=date(2026, 7, 1))] == ["2026-06", "2026-Q2"]
    assert [p.key for p in rs.periods_closing(today=date(2026, 8, 3))] == ["2026-07"]
    assert [p.key for p in rs.periods_closing(today=date(2027, 1, 4))] == [
        "2026-12",
        "2026-Q4",
        "2026",
    ]


def test_the_beat_task_acts_only_on_the_first_working_day_and_only_once(june, staff):
    report_month_close.delay(now=at(2026, 7, 2, 6, 0).isoformat())
    assert ReportSnapshot.objects.count() == 0 and not mail.outbox

    report_month_close.delay(now=JULY_1.isoformat())
    assert sorted(ReportSnapshot.objects.values_list("period", "start")) == [
        ("month", date(2026, 6, 1)),
        ("quarter", date(2026, 4, 1)),
    ]
    assert len(mail.outbox) == 2  # one message per frozen period
    assert ReportSnapshot.objects.filter(emailed_at__isnull=True).count() == 0

    report_month_close.delay(now=at(2026, 7, 1, 9, 0).isoformat())  # a second run that day
    assert ReportSnapshot.objects.count() == 2 and len(mail.outbox) == 2


def test_the_task_is_exported_under_its_name():
    from procedures.reports import tasks as reports

    assert "report_month_close" in reports.__all__
    assert report_month_close.name == "procedures.report_month_close"


def test_close_month_command(june, staff):
    out = io.StringIO()
    call_command("close_month", "--period", "2026-06", stdout=out)
    assert "month 2026-06-01: frozen" in out.getvalue()
    assert "e-mailed: 1 message(s)" in out.getvalue()
    out = io.StringIO()
    call_command("close_month", "--period", "2026-06", stdout=out)
    assert "already frozen" in out.getvalue() and "already sent" in out.getvalue()
    assert len(mail.outbox) == 1
    with pytest.raises(CommandError, match="JUNE"):
        call_command("close_month", "--period", "June")
    with pytest.raises(CommandError, match="01/02/2099"):  # the day it can be frozen
        call_command("close_month", "--period", "2099-01")


def test_close_month_quarter_without_email(june):
    out = io.StringIO()
    call_command("close_month", "--period", "2026-Q2", "--no-email", stdout=out)
    snapshot = ReportSnapshot.objects.get()
    assert snapshot.period == "quarter" and snapshot.emailed_at is None
    assert Period.starting("quarter", snapshot.start).key == "2026-Q2"
    assert not mail.outbox
