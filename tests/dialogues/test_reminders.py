"""Answer-deadline reminders (due soon, overdue, escalation) and the session reminder:
queued in the shared delivery ledger once per deadline, however often the scan runs,
and sent by the shared worker."""

from smtplib import SMTPException
from unittest import mock

import pytest
import time_machine
from django.core import mail

from dialogues import selectors, services, tasks
from dialogues.constants import AnswerKind, RegistrationStatus, ReminderKind
from procedures.models import Delivery, DeliveryStatus
from procedures.notifications.delivery import delivery_drain
from tests.dialogues_factories import (
    RecommendationFactory,
    SessionFactory,
    UnitFactory,
    local,
    register_business,
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
    # One ledger row per recipient: the escalation has several.
    return sorted(
        set(Delivery.objects.filter(status=DeliveryStatus.SENT).values_list("kind", flat=True))
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
        # The escalation goes to the unit and to the leaders, one message each.
        assert len(mail.outbox) == 4
        assert sorted(m.to[0] for m in mail.outbox[-2:]) == sorted(
            ["qlcn@sct.example.gov.vn", approver.email]
        )
        assert all(f"#{assigned.pk}" in m.subject for m in mail.outbox)
        # Queueing the same reminder again (a re-run) adds nothing to the ledger.
        with (
            time_machine.travel(local(2026, 3, 23, 9), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert (
                services.recommendation_remind(
                    recommendation_id=assigned.pk, kind=ReminderKind.ANSWER_OVERDUE
                )
                is False
            )
        assert Delivery.objects.count() == 4
        assert len(mail.outbox) == 4

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

    def test_a_reminder_that_is_no_longer_due_is_not_queued(self, assigned):
        # Asked for as overdue before the deadline (clock skew).
        with time_machine.travel(local(2026, 3, 16, 9), tick=False):
            assert (
                services.recommendation_remind(
                    recommendation_id=assigned.pk, kind=ReminderKind.ANSWER_OVERDUE
                )
                is False
            )
        assert mail.outbox == []
        assert not Delivery.objects.exists()

    def test_a_failed_send_is_recorded_readably_and_retried_by_the_drain(
        self, assigned, django_capture_on_commit_callbacks
    ):
        with (
            time_machine.travel(DUE, tick=False),
            mock.patch(
                "django.core.mail.EmailMessage.send", side_effect=SMTPException("relay refused")
            ),
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert (
                services.recommendation_remind(
                    recommendation_id=assigned.pk, kind=ReminderKind.ANSWER_OVERDUE
                )
                is True
            )
        row = Delivery.objects.get()
        assert (row.kind, row.recipient) == (ReminderKind.ANSWER_OVERDUE, "qlcn@sct.example.gov.vn")
        assert row.status == DeliveryStatus.PENDING and row.attempts == 1
        assert "relay refused" in row.last_error and "Next attempt" in row.last_error
        assert mail.outbox == []
        # The row is there: the next scan does not queue it again.
        assert list(selectors.recommendation_overdue(now=DUE)) == []
        # The shared drain sends it once its retry time has come, and only once.
        delivery_drain(now=row.next_attempt_at)
        delivery_drain(now=row.next_attempt_at)
        row.refresh_from_db()
        assert row.status == DeliveryStatus.SENT
        assert len(mail.outbox) == 1

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
            before = Delivery.objects.count()
            with (
                time_machine.travel(DUE, tick=False),
                mock.patch("procedures.notifications.services.enqueue_deliveries"),
                django_capture_on_commit_callbacks(execute=True),
            ):
                with CaptureQueriesContext(connection) as ctx:
                    tasks.scan_reminders()
            # The calendar's yearly cache may load once; that is not per row. Each
            # reminder costs its ledger insert; the reads must not grow.
            return Delivery.objects.count() - before, [
                q["sql"]
                for q in ctx.captured_queries
                if "calendaroverride" not in q["sql"] and q["sql"].lstrip().startswith("SELECT")
            ]

        add(1)
        queued_one, reads_one = run()
        add(4)
        queued_five, reads_five = run()
        assert (queued_one, queued_five) == (1, 4)  # the first one is queued already
        assert len(reads_one) == len(reads_five)
        # Four scans (due soon, overdue, escalation, session reminders); the overdue
        # one also loads the rows it found, and asks the ledger which are queued.
        assert sum('"dialogues_' in q.split("WHERE")[0] for q in reads_five) == 5
        assert sum('"procedures_delivery"' in q.split("WHERE")[0] for q in reads_five) == 1


class TestSessionReminder:
    @pytest.fixture
    def registration(self):
        session = SessionFactory()  # starts Tue 3 Mar 2026 08:00
        registration, _token = register_business(
            session,
            1,
            business_name="Công ty Điện lực",
            representative="Trần Thị B",
            email="b@example.vn",
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


def test_promotion_notice_is_sent_by_the_drain_when_the_broker_was_down(
    django_capture_on_commit_callbacks,
):
    from kombu.exceptions import OperationalError

    session = SessionFactory(capacity=1)
    first, _ = register_business(session, 1, email="a@example.vn", now=local(2026, 2, 20, 9))
    waiting, _ = register_business(session, 2, email="b@example.vn", now=local(2026, 2, 20, 10))
    with (
        mock.patch(
            "procedures.tasks.deliver.apply_async", side_effect=OperationalError("broker down")
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.registration_cancel(registration_id=first.pk, now=local(2026, 2, 21, 9))
    assert mail.outbox == []
    row = Delivery.objects.get(kind=ReminderKind.REGISTRATION_PROMOTED)
    assert (row.recipient, row.status) == ("b@example.vn", DeliveryStatus.PENDING)
    with time_machine.travel(local(2026, 2, 21, 9, 1), tick=False):
        delivery_drain()
        delivery_drain()
    assert [m.to for m in mail.outbox] == [["b@example.vn"]]
    assert mail.outbox[0].attachments[0][0] == "invitation.ics"
    scan(local(2026, 2, 21, 9, 30), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
