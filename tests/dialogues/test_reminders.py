"""Answer-deadline reminders (due soon, overdue, escalation) and the session reminder:
sent once per deadline, however often the scan runs."""

from smtplib import SMTPException
from unittest import mock

import pytest
import time_machine
from django.core import mail

from dialogues import selectors, services, tasks
from dialogues.constants import AnswerKind, RegistrationStatus, ReminderKind
from dialogues.models import DialogueReminder
from tests.dialogues_factories import (
    RecommendationFactory,
    SessionFactory,
    UnitFactory,
    local,
)

pytestmark = pytest.mark.django_db

# Session ends Tue 3 Mar 2026 11:00; 10 working days -> due Tue 17 Mar 11:00;
# escalation 3 working days later, Fri 20 Mar 11:00.
DUE = local(2026, 3, 17, 11, 0)
ESCALATE = local(2026, 3, 20, 11, 0)


@pytest.fixture
def assigned(staff):
    unit = UnitFactory(code="QLCN", email="qlcn@sct.example.gov.vn")
    recommendation = RecommendationFactory(session=SessionFactory(answer_working_days=10))
    # Assigned before the session, so the clock starts when the session ends.
    return services.recommendation_assign(
        recommendation_id=recommendation.pk, unit=unit, by=staff, now=local(2026, 3, 2, 9)
    )


def scan(at, capture):
    with time_machine.travel(at, tick=False), capture(execute=True):
        return tasks.scan_reminders()


def kinds_sent():
    return sorted(
        DialogueReminder.objects.filter(sent_at__isnull=False).values_list("kind", flat=True)
    )


class TestAnswerReminders:
    def test_due_soon_starts_two_working_days_before(
        self, assigned, django_capture_on_commit_callbacks
    ):
        # Fri 13 Mar 10:59 + 2 working days = Tue 17 Mar 10:59: not yet within.
        assert list(selectors.recommendation_due_soon(now=local(2026, 3, 13, 10, 59))) == []
        assert list(selectors.recommendation_due_soon(now=local(2026, 3, 13, 11, 0))) == [assigned]
        counts = scan(local(2026, 3, 13, 11, 0), django_capture_on_commit_callbacks)
        assert counts[ReminderKind.ANSWER_DUE_SOON] == 1
        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == ["qlcn@sct.example.gov.vn"]
        assert f"#{assigned.pk}" in mail.outbox[0].subject
        assert "11:00 17/03/2026" in mail.outbox[0].body

    def test_each_reminder_is_sent_once_however_often_the_scan_runs(
        self, assigned, approver, django_capture_on_commit_callbacks
    ):
        for at in (
            local(2026, 3, 16, 9),
            local(2026, 3, 16, 9, 15),  # due soon
            DUE,
            local(2026, 3, 18, 8),  # overdue
            ESCALATE,
            local(2026, 3, 23, 8),  # escalation
        ):
            scan(at, django_capture_on_commit_callbacks)
        assert kinds_sent() == [
            ReminderKind.ANSWER_DUE_SOON,
            ReminderKind.ANSWER_ESCALATION,
            ReminderKind.ANSWER_OVERDUE,
        ]
        assert len(mail.outbox) == 3
        escalation = mail.outbox[-1]
        assert escalation.to == ["qlcn@sct.example.gov.vn", approver.email]
        # A direct re-run of a task (e.g. redelivered by the broker) sends nothing.
        with time_machine.travel(local(2026, 3, 23, 9), tick=False):
            assert tasks.send_answer_reminder(assigned.pk, ReminderKind.ANSWER_OVERDUE) is False
        assert len(mail.outbox) == 3

    def test_no_reminder_once_answered(
        self, assigned, staff, approver, django_capture_on_commit_callbacks
    ):
        services.recommendation_answer_draft(
            recommendation_id=assigned.pk,
            text="Đã trả lời.",
            kind=AnswerKind.IN_WRITING,
            by=staff,
            now=local(2026, 3, 12, 9),
        )
        services.recommendation_answer_approve(
            recommendation_id=assigned.pk, by=approver, now=local(2026, 3, 12, 10)
        )
        for at in (local(2026, 3, 16, 9), DUE, ESCALATE):
            scan(at, django_capture_on_commit_callbacks)
        assert mail.outbox == []

    def test_a_pending_draft_does_not_stop_the_clock(
        self, assigned, staff, django_capture_on_commit_callbacks
    ):
        services.recommendation_answer_draft(
            recommendation_id=assigned.pk,
            text="Nháp",
            kind=AnswerKind.IN_WRITING,
            by=staff,
            now=local(2026, 3, 12, 9),
        )
        scan(DUE, django_capture_on_commit_callbacks)
        assert kinds_sent() == [ReminderKind.ANSWER_OVERDUE]

    def test_a_task_that_is_no_longer_due_sends_nothing(self, assigned):
        # Enqueued as overdue, but the worker runs it before the deadline (clock skew).
        with time_machine.travel(local(2026, 3, 16, 9), tick=False):
            assert tasks.send_answer_reminder(assigned.pk, ReminderKind.ANSWER_OVERDUE) is False
        assert mail.outbox == []
        assert not DialogueReminder.objects.exists()

    def test_a_failed_send_is_recorded_and_not_repeated(self, assigned):
        with (
            time_machine.travel(DUE, tick=False),
            mock.patch(
                "django.core.mail.EmailMessage.send", side_effect=SMTPException("relay refused")
            ),
        ):
            assert (
                services.recommendation_remind(
                    recommendation_id=assigned.pk, kind=ReminderKind.ANSWER_OVERDUE
                )
                is False
            )
        marker = DialogueReminder.objects.get()
        assert marker.sent_at is None
        assert marker.error == "SMTPException: relay refused"
        # The marker is there: the next scan does not pick it up again.
        assert list(selectors.recommendation_overdue(now=DUE)) == []

    def test_scan_query_count_does_not_grow_with_the_rows(
        self, staff, django_capture_on_commit_callbacks
    ):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        unit = UnitFactory(code="QLNL")
        session = SessionFactory(answer_working_days=10)

        def add(n):
            for _ in range(n):
                r = RecommendationFactory(session=session)
                services.recommendation_assign(
                    recommendation_id=r.pk, unit=unit, by=staff, now=local(2026, 3, 2, 9)
                )

        def run():
            with (
                time_machine.travel(DUE, tick=False),
                mock.patch.object(tasks.send_answer_reminder, "delay") as delay,
                django_capture_on_commit_callbacks(execute=True),
            ):
                with CaptureQueriesContext(connection) as ctx:
                    tasks.scan_reminders()
            # The calendar's yearly cache may load once; that is not per row.
            return delay.call_count, [
                q["sql"] for q in ctx.captured_queries if "calendaroverride" not in q["sql"]
            ]

        add(1)
        calls_one, queries_one = run()
        add(4)
        calls_five, queries_five = run()
        assert (calls_one, calls_five) == (1, 5)
        assert len(queries_one) == len(queries_five)
        # Five scans (due soon, overdue, escalation, session reminders, promotion
        # notices), nothing per row.
        assert sum('"dialogues_' in q.split("WHERE")[0] for q in queries_five) == 5


class TestSessionReminder:
    @pytest.fixture
    def registration(self):
        session = SessionFactory()  # starts Tue 3 Mar 2026 08:00
        registration, _token = services.registration_create(
            session_id=session.pk,
            business_name="Công ty Điện lực",
            tax_code="4600999999",
            representative="Trần Thị B",
            email="b@example.vn",
            phone="0987",
            attendees=1,
            now=local(2026, 2, 20, 9),
        )
        return registration

    def test_sent_24_hours_before_once(self, registration, django_capture_on_commit_callbacks):
        counts = scan(local(2026, 3, 2, 7, 59), django_capture_on_commit_callbacks)
        assert counts[ReminderKind.SESSION_REMINDER] == 0
        scan(local(2026, 3, 2, 8, 0), django_capture_on_commit_callbacks)
        scan(local(2026, 3, 2, 12, 0), django_capture_on_commit_callbacks)
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["b@example.vn"]
        assert "08:00 03/03/2026" in message.body
        assert message.attachments[0][0] == "invitation.ics"

    def test_not_for_cancelled_or_waitlisted(
        self, registration, django_capture_on_commit_callbacks
    ):
        services.registration_cancel(registration_id=registration.pk, now=local(2026, 2, 21, 9))
        scan(local(2026, 3, 2, 9), django_capture_on_commit_callbacks)
        assert mail.outbox == []

    def test_moving_the_session_gives_a_new_reminder(
        self, registration, django_capture_on_commit_callbacks
    ):
        scan(local(2026, 3, 2, 9), django_capture_on_commit_callbacks)
        session = registration.session
        session.starts_at, session.ends_at = local(2026, 3, 5, 8), local(2026, 3, 5, 11)
        services.dialogue_session_save(
            session=session, changed=["starts_at", "ends_at"], now=local(2026, 3, 2, 10)
        )
        assert session.sequence == 1
        scan(local(2026, 3, 4, 9), django_capture_on_commit_callbacks)
        assert len(mail.outbox) == 2
        assert "SEQUENCE:1" in mail.outbox[1].attachments[0][1]
        registration.refresh_from_db()
        assert registration.status == RegistrationStatus.CONFIRMED


def test_promotion_notice_left_behind_is_sent_by_the_scan(django_capture_on_commit_callbacks):
    from kombu.exceptions import OperationalError

    session = SessionFactory(capacity=1)
    first, _ = services.registration_create(
        session_id=session.pk,
        business_name="A",
        tax_code="4600000001",
        representative="A",
        email="a@example.vn",
        phone="1",
        attendees=1,
        now=local(2026, 2, 20, 9),
    )
    waiting, _ = services.registration_create(
        session_id=session.pk,
        business_name="B",
        tax_code="4600000002",
        representative="B",
        email="b@example.vn",
        phone="1",
        attendees=1,
        now=local(2026, 2, 20, 10),
    )
    with (
        mock.patch.object(
            tasks.send_promotion_notice, "delay", side_effect=OperationalError("broker down")
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.registration_cancel(registration_id=first.pk, now=local(2026, 2, 21, 9))
    assert mail.outbox == []
    counts = scan(local(2026, 2, 21, 9, 15), django_capture_on_commit_callbacks)
    assert counts[ReminderKind.REGISTRATION_PROMOTED] == 1
    assert [m.to for m in mail.outbox] == [["b@example.vn"]]
    scan(local(2026, 2, 21, 9, 30), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
