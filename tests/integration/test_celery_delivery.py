"""Exactly once with a real Redis, real worker processes and real crashes (issue item 4, 6).

Each test starts `celery -A config worker` subprocesses against the test database.
Runs on PostgreSQL only (the worker must see committed rows in a shared database).
"""

import time

import pytest
from django.db import transaction

from procedures.core.constants import Channel
from procedures.dossiers import services as svc
from procedures.models import Delivery, DeliveryStatus
from procedures.notifications.reminders import reminders_plan
from procedures.notifications.services import delivery_queue, enqueue_deliveries
from procedures.tasks import reminders_sweep
from tests.procedures.conftest import at

from .conftest import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _all_sent(expected: int):
    return (
        lambda: Delivery.objects.filter(status=DeliveryStatus.SENT, channel="email").count()
        >= expected
    )


def test_worker_killed_mid_batch_then_restarted_delivers_the_rest_exactly_once(
    shared_redis, workers, publish_to, register, monkeypatch, fault_record
):
    """SIGKILL while the 10th message of a 30-message batch is with the mail server."""
    dossier = register(channel=Channel.ONLINE)
    Delivery.objects.all().delete()
    monkeypatch.setattr("procedures.notifications.services.enqueue_deliveries", lambda ids: 0)
    with transaction.atomic():
        ids = [
            delivery_queue(
                kind="applicant.receipt",
                recipient=f"a{i}@example.com",
                subject_key=f"dossier:{dossier.pk}:test:{i}",
                payload={"dossier_id": dossier.pk},
            ).pk
            for i in range(30)
        ]
    monkeypatch.undo()
    publish_to(shared_redis)
    worker = workers(shared_redis, name="crash").start(
        TEST_MAIL_DELAY="0.05", TEST_MAIL_BLOCK_AT="10"
    )
    enqueue_deliveries(ids)  # one deliver_batch task with 30 ids
    mailbox = workers.mailbox
    wait_until(mailbox.blocked, 30, "the 10th message to hang")
    worker.kill()

    sent_before = set(
        Delivery.objects.filter(status=DeliveryStatus.SENT).values_list("pk", flat=True)
    )
    assert len(sent_before) == 9
    assert set(mailbox.per_delivery()) == sent_before  # marked == written, nothing more
    hung = Delivery.objects.get(pk=int(mailbox.blocked()[0].read_text()))
    # The claim was committed before the SMTP conversation: held by the dead node, not
    # lost, and not sent by anyone else while its claim is fresh.
    assert hung.status == DeliveryStatus.SENDING and hung.claimed_by.startswith("crash@")

    # The same node restarted gives its claims back and drains the outbox on start;
    # nothing else pokes it here.
    workers(shared_redis, name="crash").start()
    wait_until(_all_sent(30), 40, "all 30 messages sent after the restart")
    time.sleep(1)
    row = fault_record("worker killed mid-send (SIGKILL)", set(ids), mailbox)
    assert row["lost"] == row["duplicated"] == 0, row
    counts = mailbox.per_delivery()
    assert set(counts) == set(ids)
    assert set(counts.values()) == {1}, counts
    assert len(mailbox.files()) == 30


def test_two_sweeps_at_once_send_each_reminder_once(
    shared_redis, workers, publish_to, register, staff, units
):
    for officer, unit in [("specialist", "QLTM"), ("other_specialist", "QLCN")] * 3:
        d = register(now=at(2026, 6, 1, 10, 0))
        d = svc.dossier_accept(dossier=d, actor=staff["intake"], now=at(2026, 6, 1, 10, 0))
        svc.dossier_assign(
            dossier=d,
            actor=staff["intake"],
            unit=units[unit],
            officer=staff[officer],
            now=at(2026, 6, 1, 10, 0),
        )
    now = at(2026, 6, 8, 13, 30)  # due 10:00 today: overdue; steps overdue too
    plan = reminders_plan(now=now)
    recipients = {
        staff_user.email for uid, staff_user in plan.directory.users.items() if plan.items.get(uid)
    }
    expected_items = sum(len(v) for v in plan.items.values())
    Delivery.objects.all().delete()  # the event notifications are not under test here
    publish_to(shared_redis)
    workers(shared_redis, name="sweeps").start(concurrency=4)
    # Two beat runs of the same schedule, plus two more under another slot label so
    # that only the item keys (not the digest key) stand between them.
    for slot in ("1330", "1330", "dup-a", "dup-b"):
        reminders_sweep.apply_async(kwargs={"now": now.isoformat(), "slot": slot})
    wait_until(
        lambda: Delivery.objects.filter(
            kind="staff.digest", channel="email", status=DeliveryStatus.SENT
        ).count()
        == len(recipients),
        40,
        "one digest per recipient",
    )
    time.sleep(1.5)  # anything a duplicate would have sent has had time to arrive
    mailbox = workers.mailbox
    files = mailbox.files()
    # The desk handed each dossier over at the transfer, so it has nothing overdue.
    assert len(files) == len(recipients) == 5  # two officers, two heads, director
    assert set(mailbox.per_delivery().values()) == {1}
    to = sorted(
        line.split(":", 1)[1].strip()
        for f in files
        for line in f.read_text().splitlines()
        if line.startswith("To:")
    )
    assert to == sorted(recipients)
    # Every reminder item exists once per person, whatever their channels, and rides
    # in exactly one digest: the person's e-mail digest, which an in-app one shares.
    items = Delivery.objects.filter(status=DeliveryStatus.IN_DIGEST)
    assert items.count() == items.filter(channel="item").count() == expected_items
    assert not items.filter(digest__isnull=True).exists()
    assert set(items.values_list("digest__channel", flat=True)) == {"email"}
    for digest in Delivery.objects.filter(kind="staff.digest", channel="in_app"):
        owner = Delivery.objects.get(pk=digest.payload["items_of"])
        assert (owner.user_id, owner.channel) == (digest.user_id, "email")
        assert owner.payload["items"] == digest.payload["items"] == owner.items.count()


def test_redis_down_while_dossiers_are_accepted_every_notification_arrives_once(
    own_redis, workers, publish_to, register, staff
):
    publish_to(own_redis.url)
    dossiers = [register(channel=Channel.ONLINE, now=at(2026, 6, 1, 9, 0)) for _ in range(5)]
    # The beat inside the worker runs the outbox drain every second for this test.
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every_second = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name="drain", task="procedures.deliver_pending", interval=every_second
    )
    workers(own_redis.url, name="outage").start(beat=True)
    wait_until(_all_sent(5), 30, "the five receipts")  # baseline: Redis up

    own_redis.stop()
    started = time.monotonic()
    for d in dossiers:
        d = svc.dossier_accept(dossier=d, actor=staff["intake"], now=at(2026, 6, 1, 10, 0))
        assert d.status == 2  # the change is saved; the request did not fail
    assert time.monotonic() - started < 5  # no waiting on the dead broker
    accepted = Delivery.objects.filter(kind="applicant.accepted")
    assert accepted.count() == 5
    assert set(accepted.values_list("status", flat=True)) == {DeliveryStatus.PENDING}
    assert len(workers.mailbox.files()) == 5

    own_redis.start()  # same port: the worker and beat reconnect by themselves
    wait_until(_all_sent(10), 45, "the five acceptances after Redis came back")
    time.sleep(2)  # two more drains: nothing may be sent again
    counts = workers.mailbox.per_delivery()
    assert len(counts) == 10 and set(counts.values()) == {1}
    assert {r.kind for r in Delivery.objects.filter(pk__in=counts)} == {
        "applicant.receipt",
        "applicant.accepted",
    }
