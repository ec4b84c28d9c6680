"""The delivery ledger: send once, retry transient failures with backoff, record
readable reasons, the admin's "Retry now", the outbox when the broker is down, and
event notifications that carry ids only."""

import dataclasses
import smtplib
import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection
from django.urls import reverse
from kombu.exceptions import OperationalError

from procedures.core.constants import Channel
from procedures.dossiers import services as svc
from procedures.models import Delivery, DeliveryChannel, DeliveryStatus
from procedures.notifications import kinds
from procedures.notifications.delivery import (
    Outcome,
    delivery_drain,
    delivery_retry,
    delivery_send,
)
from procedures.notifications.services import delivery_queue, enqueue_deliveries

from .conftest import APPLICANT, at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_in_english")]


ENGLISH = dataclasses.replace(APPLICANT, language="en")

NOW = at(2026, 6, 1, 9, 0)


class FlakyBackend(LocmemBackend):
    """Raises the queued errors in turn, then delivers to mail.outbox."""

    errors: list[BaseException] = []

    def send_messages(self, messages):
        if FlakyBackend.errors:
            raise FlakyBackend.errors.pop(0)
        return super().send_messages(messages)


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = "tests.procedures.test_delivery.FlakyBackend"
    FlakyBackend.errors = []
    yield FlakyBackend.errors
    FlakyBackend.errors = []


@pytest.fixture
def accepted(register, staff):
    d = register(channel=Channel.ONLINE, applicant=ENGLISH)
    return svc.dossier_accept(dossier=d, actor=staff["intake"], now=NOW)


def row_for(dossier, kind="applicant.accepted"):
    return Delivery.objects.get(kind=kind, payload__dossier_id=dossier.pk)


# ------------------------------------------------------------------ send once


def test_send_marks_sent_and_a_second_send_does_nothing(accepted):
    row = row_for(accepted)
    assert (row.status, row.recipient, row.payload) == (
        DeliveryStatus.PENDING,
        "an@example.com",
        {"dossier_id": accepted.pk, "event_id": row.payload["event_id"]},
    )
    assert delivery_send(delivery_id=row.pk, now=NOW) == Outcome.SENT
    assert delivery_send(delivery_id=row.pk, now=NOW) == Outcome.SKIPPED
    [message] = mail.outbox
    assert message.subject == f"Dossier {accepted.code} accepted"
    assert "09:00 04/06/2026" in message.body  # online: 3 working days from Monday 09:00
    assert message.extra_headers["Message-ID"] == (
        f"<motcua.delivery.{row.pk}@congthuong.example.gov.vn>"
    )
    row.refresh_from_db()
    assert (row.status, row.attempts, row.sent_at, row.last_error) == (
        DeliveryStatus.SENT,
        1,
        NOW,
        "",
    )


def test_queueing_the_same_message_twice_keeps_one_row(accepted):
    row = row_for(accepted)
    again = delivery_queue(
        kind=row.kind, recipient=row.recipient, subject_key=row.subject_key, payload=row.payload
    )
    assert again is None
    assert Delivery.objects.filter(kind=row.kind, recipient=row.recipient).count() == 1


def test_in_app_rows_are_sent_without_mail(staff):
    row = delivery_queue(
        kind="staff.assigned",
        recipient=f"user:{staff['specialist'].pk}",
        user=staff["specialist"],
        channel=DeliveryChannel.IN_APP,
        subject_key="x",
        payload={},
    )
    assert delivery_send(delivery_id=row.pk, now=NOW) == Outcome.SENT
    assert mail.outbox == []


# ------------------------------------------------------------------ failures


def test_transient_failure_is_retried_with_backoff_and_a_readable_reason(accepted, flaky):
    row = row_for(accepted)
    flaky.append(ConnectionRefusedError(111, "Connection refused"))
    assert delivery_send(delivery_id=row.pk, now=NOW) == Outcome.RETRY
    row.refresh_from_db()
    assert row.status == DeliveryStatus.PENDING
    assert row.attempts == 1
    assert row.next_attempt_at == NOW + timedelta(seconds=60)
    assert "Could not reach the mail server localhost:25" in row.last_error
    assert "Connection refused" in row.last_error
    assert "Next attempt at 01/06/2026 09:01" in row.last_error
    # Not yet due: the drain and a stray task both leave it alone.
    assert delivery_send(delivery_id=row.pk, now=NOW + timedelta(seconds=30)) == Outcome.SKIPPED
    delivery_drain(now=NOW + timedelta(seconds=30))  # sends only the online receipt
    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 1)
    # Second failure: a 4xx reply waits longer (5 minutes).
    flaky.append(smtplib.SMTPDataError(451, b"4.3.0 Try again later"))
    delivery_drain(now=NOW + timedelta(seconds=61))
    row.refresh_from_db()
    assert row.next_attempt_at == NOW + timedelta(seconds=61 + 300)
    assert "answered 451: 4.3.0 Try again later" in row.last_error
    counts = delivery_drain(now=NOW + timedelta(seconds=400))
    assert counts["sent"] == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.SENT, 3, "")
    assert [m.subject for m in mail.outbox] == [
        f"Dossier {accepted.code} received",
        f"Dossier {accepted.code} accepted",
    ]


def test_permanent_failure_is_recorded_at_once(accepted, flaky):
    row = row_for(accepted)
    flaky.append(smtplib.SMTPRecipientsRefused({"an@example.com": (550, b"5.1.1 User unknown")}))
    assert delivery_send(delivery_id=row.pk, now=NOW) == Outcome.FAILED
    row.refresh_from_db()
    assert row.status == DeliveryStatus.FAILED and row.next_attempt_at is None
    assert "refused the recipient (an@example.com: 550 5.1.1 User unknown)" in row.last_error
    assert row.last_error.endswith("Gave up.")


def test_transient_failures_give_up_after_the_last_attempt(accepted, flaky, settings):
    settings.DELIVERY_RETRY_DELAYS = [10, 20]
    settings.DELIVERY_MAX_ATTEMPTS = 3
    row = row_for(accepted)
    flaky.extend([TimeoutError("timed out")] * 3)
    outcomes = [
        delivery_send(delivery_id=row.pk, now=NOW + timedelta(seconds=s)) for s in (0, 10, 30)
    ]
    assert outcomes == [Outcome.RETRY, Outcome.RETRY, Outcome.FAILED]
    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 3)
    assert "attempt 3: Could not reach the mail server" in row.last_error


@pytest.fixture
def kind_without_templates():
    kind = kinds.MessageKind("staff.no_such_template", kinds.Audience.STAFF)
    kinds.register(kind)
    yield kind.key
    kinds.unregister(kind.key)


def test_a_broken_template_fails_with_its_reason(staff, kind_without_templates):
    row = delivery_queue(
        kind=kind_without_templates, recipient="x@example.gov.vn", subject_key="t", payload={}
    )
    assert delivery_send(delivery_id=row.pk, now=NOW) == Outcome.FAILED
    row.refresh_from_db()
    assert "could not be prepared: TemplateDoesNotExist" in row.last_error


@pytest.mark.django_db(transaction=True)
def test_database_locked_when_marking_is_retried_and_the_message_is_sent_once(
    register, staff, monkeypatch, settings
):
    """Issue 14 item 1: the web server writing while a message was being sent made the
    mark fail with "database is locked"; the row stayed pending and went out again.
    Now no transaction is open during the SMTP conversation and the mark is retried."""
    from django.db import OperationalError
    from django.db.models.query import QuerySet

    monkeypatch.setattr("procedures.notifications.services.enqueue_deliveries", lambda ids: 0)
    d = svc.dossier_accept(
        dossier=register(channel=Channel.ONLINE, applicant=ENGLISH), actor=staff["intake"], now=NOW
    )
    row = row_for(d)
    Delivery.objects.exclude(pk=row.pk).update(status=DeliveryStatus.SENT)  # the receipt
    seen = []

    class WatchingBackend(LocmemBackend):
        def send_messages(self, messages):
            seen.append(connection.in_atomic_block)  # a transaction across SMTP?
            return super().send_messages(messages)

    settings.EMAIL_BACKEND = "tests.procedures.test_delivery.WatchingBackend"
    globals()["WatchingBackend"] = WatchingBackend
    real_update = QuerySet.update
    locked = []

    def update(self, **kwargs):
        if kwargs.get("status") == DeliveryStatus.SENT and len(locked) < 3:
            locked.append(1)
            raise OperationalError("database is locked")
        return real_update(self, **kwargs)

    monkeypatch.setattr(QuerySet, "update", update)
    assert delivery_send(delivery_id=row.pk, now=NOW) == Outcome.SENT
    monkeypatch.undo()
    assert seen == [False] and len(locked) == 3
    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.SENT, 1)
    assert delivery_drain()["selected"] == 0
    assert len([m for m in mail.outbox if m.subject.endswith("accepted")]) == 1


def test_soft_time_limit_leaves_the_row_pending(accepted, flaky):
    from celery.exceptions import SoftTimeLimitExceeded

    row = row_for(accepted)
    flaky.append(SoftTimeLimitExceeded())
    with pytest.raises(SoftTimeLimitExceeded):
        delivery_send(delivery_id=row.pk, now=NOW)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 0)


def test_crash_after_the_server_accepted_resends_with_the_same_message_id(
    accepted, monkeypatch, settings
):
    """The documented at-least-once window: the server said OK, the mark was lost."""
    from procedures.notifications import delivery as delivery_service

    row = row_for(accepted)
    Delivery.objects.exclude(pk=row.pk).update(status=DeliveryStatus.SENT)  # the receipt
    real_finish = delivery_service._finish

    def crash_on_mark(delivery, **fields):
        if fields.get("status") == DeliveryStatus.SENT:
            raise ConnectionResetError("database connection lost")  # like SIGKILL
        return real_finish(delivery, **fields)

    monkeypatch.setattr(delivery_service, "_finish", crash_on_mark)
    with pytest.raises(ConnectionResetError):
        delivery_send(delivery_id=row.pk, now=NOW, claimed_by="celery@a")
    monkeypatch.undo()
    row.refresh_from_db()
    # The claim was committed before sending: the row is held, not lost, not pending.
    assert (row.status, row.claimed_by, row.attempts) == (DeliveryStatus.SENDING, "celery@a", 1)
    # A live claim is respected: another drain does not send it meanwhile.
    assert delivery_drain(now=NOW + timedelta(seconds=60))["selected"] == 0
    # Once older than the claim timeout its worker is gone: the drain sends it again.
    later = NOW + timedelta(seconds=settings.DELIVERY_CLAIM_TIMEOUT + 1)
    assert delivery_drain(now=later)["sent"] == 1
    first, second = mail.outbox
    assert first.extra_headers["Message-ID"] == second.extra_headers["Message-ID"]
    row.refresh_from_db()
    assert (row.status, row.attempts, row.claimed_at) == (DeliveryStatus.SENT, 2, None)


def test_a_restarted_worker_releases_the_claims_of_its_node_name(accepted, monkeypatch):
    """Killed mid-send (before the server answered): the same node starting again gives
    the row back at once instead of waiting for the claim timeout."""
    from procedures.notifications import delivery as delivery_service
    from procedures.notifications.delivery import delivery_release_claims

    row = row_for(accepted)
    Delivery.objects.exclude(pk=row.pk).update(status=DeliveryStatus.SENT)  # the receipt
    monkeypatch.setattr(
        delivery_service, "_send_email", lambda d: (_ for _ in ()).throw(SystemExit("SIGKILL"))
    )
    with pytest.raises(SystemExit):
        delivery_send(delivery_id=row.pk, now=NOW, claimed_by="celery@desk")
    monkeypatch.undo()
    assert delivery_release_claims(claimed_by="celery@other") == 0
    assert delivery_release_claims(claimed_by="celery@desk") == 1
    assert delivery_drain(now=NOW)["sent"] == 1
    assert len(mail.outbox) == 1


# ------------------------------------------------------------------ admin


def test_admin_lists_failures_and_retry_now_sends_again(
    accepted, flaky, admin_client, django_capture_on_commit_callbacks
):
    row = row_for(accepted)
    flaky.append(smtplib.SMTPRecipientsRefused({"an@example.com": (550, b"mailbox full")}))
    delivery_send(delivery_id=row.pk, now=NOW)
    page = admin_client.get(reverse("admin:procedures_delivery_changelist") + "?status=failed")
    assert page.status_code == 200
    assert "an@example.com: 550 mailbox full" in page.content.decode()
    detail = admin_client.get(reverse("admin:procedures_delivery_change", args=[row.pk]))
    assert f"Dossier {accepted.code} accepted" in detail.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:procedures_delivery_changelist"),
            {"action": "retry_now", "_selected_action": [row.pk]},
            follow=True,
        )
    assert "1 message(s) queued again." in response.content.decode()
    row.refresh_from_db()
    # Eager in tests: queued on commit and sent at once.
    assert row.status == DeliveryStatus.SENT
    assert len(mail.outbox) == 1


def test_retry_leaves_sent_rows_alone(accepted):
    row = row_for(accepted)
    delivery_send(delivery_id=row.pk, now=NOW)
    assert delivery_retry(ids=[row.pk], now=NOW) == []
    assert len(mail.outbox) == 1


def test_officers_see_only_their_own_rows_and_their_inbox(client, staff, accepted, units):
    specialist = staff["specialist"]
    d = svc.dossier_assign(
        dossier=accepted, actor=staff["intake"], unit=units["QLTM"], officer=specialist, now=NOW
    )
    mine = Delivery.objects.get(user=specialist, channel=DeliveryChannel.IN_APP)
    delivery_send(delivery_id=mine.pk, now=NOW)
    client.force_login(specialist)
    listing = client.get(reverse("admin:procedures_delivery_changelist")).content.decode()
    assert "an@example.com" not in listing
    inbox = client.get(reverse("admin:procedures_inbox"))
    assert inbox.status_code == 200
    body = inbox.content.decode()
    assert f"Dossier {d.code} assigned to you" in body
    assert "1 unread notification." in body
    client.post(reverse("admin:procedures_inbox"), {"read": "all"})
    mine.refresh_from_db()
    assert mine.read_at is not None
    client.post(reverse("admin:procedures_inbox"), {"preferences": "1", "notify_in_app": "on"})
    specialist.staff_profile.refresh_from_db()
    assert (specialist.staff_profile.notify_by_email, specialist.staff_profile.notify_in_app) == (
        False,
        True,
    )


def test_the_inbox_shows_the_in_app_digest_with_the_items_it_shares(
    client, admin_client, staff, units, accepted
):
    """Reminder items are written once per person (channel "item") in the e-mail
    digest; the in-app digest shows them from there. The drain sends the digests and
    never an item, the inbox lists the digest only, "mark all read" leaves the items,
    and the admin's item filter finds them."""
    from procedures.notifications.reminders import reminders_sweep

    specialist = staff["specialist"]
    d = svc.dossier_assign(
        dossier=accepted, actor=staff["intake"], unit=units["QLTM"], officer=specialist, now=NOW
    )
    d.steps.update(completed_at=NOW, started_at=NOW)
    Delivery.objects.all().delete()  # the event notifications are not under test here
    result = reminders_sweep(now=at(2026, 6, 5, 7, 30))
    in_app = Delivery.objects.get(user=specialist, kind="staff.digest", channel="in_app")
    item = Delivery.objects.get(kind__startswith="reminder.", user=specialist)
    # Each person's items once (the director and the unit head have theirs too).
    assert result.items == Delivery.objects.filter(kind__startswith="reminder.").count()
    assert item.channel == DeliveryChannel.ITEM and item.digest_id == in_app.payload["items_of"]
    counts = delivery_drain(now=at(2026, 6, 5, 7, 31))
    assert counts["selected"] == counts["sent"] == len(result.digests)
    item.refresh_from_db()
    assert item.status == DeliveryStatus.IN_DIGEST and item.sent_at is None
    client.force_login(specialist)
    body = client.get(reverse("admin:procedures_inbox")).content.decode()
    assert d.code in body and "1 overdue" in body
    assert "1 unread notification." in body
    client.post(reverse("admin:procedures_inbox"), {"read": "all"})
    in_app.refresh_from_db()
    item.refresh_from_db()
    assert in_app.read_at is not None and item.read_at is None
    listing = admin_client.get(
        reverse("admin:procedures_delivery_changelist") + "?type=items"
    ).content.decode()
    link = reverse("admin:procedures_delivery_change", args=[item.pk])
    assert link in listing and "Reminder item (shared by the person&#x27;s digests)" in listing
    messages = admin_client.get(reverse("admin:procedures_delivery_changelist")).content.decode()
    assert link not in messages


# ------------------------------------------------------------------ events and the outbox


def test_staff_events_reach_the_assigned_officer_on_their_channels(
    register, staff, units, django_capture_on_commit_callbacks, monkeypatch
):
    from procedures.tasks import deliver

    published = []
    monkeypatch.setattr(
        deliver, "apply_async", lambda args, **kw: published.append(args) or deliver(*args)
    )
    d = svc.dossier_accept(dossier=register(), actor=staff["intake"], now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        d = svc.dossier_assign(
            dossier=d,
            actor=staff["intake"],
            unit=units["QLTM"],
            officer=staff["specialist"],
            now=NOW,
        )
    d = svc.dossier_request_payment(
        dossier=d, actor=staff["specialist"], note="Phí thẩm định", now=at(2026, 6, 2, 9, 0)
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        svc.dossier_confirm_payment(dossier=d, actor=staff["intake"], now=at(2026, 6, 2, 10, 0))
    kinds = set(Delivery.objects.filter(user=staff["specialist"]).values_list("kind", "channel"))
    assert kinds == {
        ("staff.assigned", "email"),
        ("staff.assigned", "in_app"),
        ("staff.payment_confirmed", "email"),
        ("staff.payment_confirmed", "in_app"),
    }
    [message] = mail.outbox
    assert message.to == ["specialist@example.gov.vn"]
    assert message.subject == f"Dossier {d.code}: payment confirmed"
    # Tasks carry ids only.
    assert published and all(len(a) == 1 and isinstance(a[0], int) for a in published)


def test_no_staff_message_to_the_officer_who_acted(register, staff, units):
    d = svc.dossier_accept(dossier=register(), actor=staff["intake"], now=NOW)
    # The unit head assigns the dossier to themself: nobody needs telling.
    svc.dossier_assign(
        dossier=d, actor=staff["unit_head"], unit=units["QLTM"], officer=staff["unit_head"], now=NOW
    )
    assert not Delivery.objects.filter(kind__startswith="staff.").exists()


def test_broker_down_the_change_is_saved_and_the_drain_sends_later(
    register, staff, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    from procedures.tasks import deliver

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(deliver, "apply_async", broker_down)
    d = register(channel=Channel.ONLINE, applicant=ENGLISH)
    with django_capture_on_commit_callbacks(execute=True):
        d = svc.dossier_accept(dossier=d, actor=staff["intake"], now=NOW)
    assert d.status == 2
    row = row_for(d)
    assert row.status == DeliveryStatus.PENDING and mail.outbox == []
    assert "stay pending for the drain" in caplog.text
    monkeypatch.undo()
    counts = delivery_drain()
    assert counts["sent"] == 2  # the receipt of the online registration and the acceptance
    assert delivery_drain()["selected"] == 0
    assert sorted(m.subject for m in mail.outbox) == sorted(
        [f"Dossier {d.code} accepted", f"Dossier {d.code} received"]
    )


def test_enqueue_chunks_many_ids_into_batches(monkeypatch):
    from procedures.tasks import deliver_batch

    calls = []
    monkeypatch.setattr(deliver_batch, "apply_async", lambda args, **kw: calls.append(args[0]))
    assert enqueue_deliveries(list(range(1, 121))) == 3
    assert [len(c) for c in calls] == [50, 50, 20]


# ------------------------------------------------------------------ concurrency (PostgreSQL)


class SlowBackend(LocmemBackend):
    def send_messages(self, messages):
        time.sleep(0.5)
        return super().send_messages(messages)


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_row_send_it_once(
    require_postgres, settings, register, staff, monkeypatch
):
    settings.EMAIL_BACKEND = "tests.procedures.test_delivery.SlowBackend"
    # Nothing is sent on commit here: the two threads below are the workers.
    monkeypatch.setattr("procedures.notifications.services.enqueue_deliveries", lambda ids: 0)
    d = svc.dossier_accept(
        dossier=register(channel=Channel.ONLINE, applicant=ENGLISH), actor=staff["intake"], now=NOW
    )
    row = row_for(d)
    outcomes = []

    def worker():
        try:
            outcomes.append(delivery_send(delivery_id=row.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == [Outcome.SENT, Outcome.SKIPPED]
    assert len([m for m in mail.outbox if m.subject.endswith("accepted")]) == 1


# ------------------------------------------------------------------ commands


def test_setup_periodic_tasks_is_idempotent_and_keeps_admin_edits(capsys):
    from django.core.management import call_command
    from django_celery_beat.models import PeriodicTask

    call_command("setup_periodic_tasks")
    tasks = {t.name: t for t in PeriodicTask.objects.select_related("crontab", "interval")}
    morning = tasks["Reminders: deadline digest at 07:30"]
    assert (
        morning.task,
        morning.crontab.hour,
        morning.crontab.minute,
        morning.crontab.day_of_week,
    ) == ("procedures.reminders_sweep", "7", "30", "*")
    assert tasks["Reminders: deadline digest at 13:30"].crontab.hour == "13"
    drain = tasks["Deliveries: send pending messages (outbox drain)"]
    assert (drain.task, drain.interval.every, drain.interval.period) == (
        "procedures.deliver_pending",
        1,
        "minutes",
    )
    close = tasks["Reports: freeze last month's report on the first working day"]
    assert (close.task, close.crontab.hour, close.crontab.minute) == (
        "procedures.report_month_close",
        "6",
        "0",
    )
    # The department moves the morning digest to 08:00 in the admin; a re-run keeps it.
    morning.crontab.hour, morning.crontab.minute = "8", "0"
    morning.crontab.save()
    capsys.readouterr()
    call_command("setup_periodic_tasks")
    assert "nothing changed" in capsys.readouterr().out
    morning.refresh_from_db()
    assert (morning.crontab.hour, morning.crontab.minute) == ("8", "0")
    assert PeriodicTask.objects.filter(task="procedures.reminders_sweep").count() == 2


def test_healthcheck_fails_on_a_stale_outbox(accepted, settings):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    row = row_for(accepted)
    Delivery.objects.filter(pk=row.pk).update(created_at=NOW)  # waiting since June
    with pytest.raises(CommandError, match=r"message\(s\) waiting since"):
        call_command("celery_healthcheck", "--skip-workers")
    Delivery.objects.filter(status=DeliveryStatus.PENDING).update(status=DeliveryStatus.SENT)
    call_command("celery_healthcheck", "--skip-workers")


def test_healthcheck_fails_on_mail_failing_for_longer_than_the_alert(accepted, flaky, settings):
    """SMTP answering 451 for longer than DELIVERY_FAILING_ALERT_MINUTES: exit 1."""
    from django.core.management import call_command
    from django.core.management.base import CommandError
    from django.utils import timezone

    row = row_for(accepted)
    Delivery.objects.exclude(pk=row.pk).update(status=DeliveryStatus.SENT)  # the receipt
    flaky.append(smtplib.SMTPResponseException(451, b"4.3.0 try again later"))
    now = timezone.now()
    assert delivery_send(delivery_id=row.pk, now=now) == Outcome.RETRY
    call_command("celery_healthcheck", "--skip-workers")  # just queued: still healthy
    old = now - timedelta(minutes=settings.DELIVERY_FAILING_ALERT_MINUTES + 1)
    Delivery.objects.filter(pk=row.pk).update(created_at=old)
    with pytest.raises(CommandError, match=r"1 message\(s\) failing at the mail server") as e:
        call_command("celery_healthcheck", "--skip-workers")
    assert e.value.returncode == 1
    # A wrong address refused for good at once is for staff, not a failing server.
    Delivery.objects.filter(pk=row.pk).update(status=DeliveryStatus.FAILED, attempts=1)
    call_command("celery_healthcheck", "--skip-workers")


@pytest.mark.serial  # timed against a 0.5 s timeout: run alone (`make test`)
def test_healthcheck_answers_within_its_timeout_when_the_broker_is_frozen(accepted, settings):
    """A listening socket that never answers is what a Redis stopped by SIGSTOP looks
    like: connections are accepted by the kernel, no reply ever comes."""
    import socket

    from django.core.management import call_command
    from django.core.management.base import CommandError

    from config.celery_app import app

    Delivery.objects.update(status=DeliveryStatus.SENT)
    frozen = socket.socket()
    frozen.bind(("127.0.0.1", 0))
    frozen.listen(16)
    previous = app.conf.CELERY_BROKER_URL  # the app reads Django settings, CELERY_ namespace
    app.conf.CELERY_BROKER_URL = f"redis://127.0.0.1:{frozen.getsockname()[1]}/0"
    started = time.monotonic()
    try:
        with pytest.raises(CommandError, match="broker") as e:
            call_command("celery_healthcheck", "--timeout", "0.5")
    finally:
        app.conf.CELERY_BROKER_URL = previous
        frozen.close()
    assert time.monotonic() - started < 2.5
    assert e.value.returncode == 1


def test_filesystem_broker_folders_are_created_at_configuration(tmp_path):
    from types import SimpleNamespace

    from config.celery_app import _broker_folders

    options = {
        "data_folder_in": str(tmp_path / "out"),
        "data_folder_out": str(tmp_path / "out"),
        "processed_folder": str(tmp_path / "processed"),
    }
    _broker_folders(
        SimpleNamespace(
            conf=SimpleNamespace(broker_url="filesystem://", broker_transport_options=options)
        )
    )
    assert (tmp_path / "out").is_dir() and (tmp_path / "processed").is_dir()
    _broker_folders(
        SimpleNamespace(
            conf=SimpleNamespace(
                broker_url="redis://x",
                broker_transport_options={"data_folder_in": str(tmp_path / "no")},
            )
        )
    )
    assert not (tmp_path / "no").exists()
