"""A worker whose acknowledgement of a task times out stops itself (config/celery_app.py).

Redis pauses every client (CLIENT PAUSE) right after the worker sent a message: the
task ends, its late acknowledgement times out, kombu logs "Couldn't ack", and the
watchdog asks the worker for a warm shutdown so that its supervisor starts a fresh one
(a worker left in that state has been seen to take no more messages). The fresh worker
sends everything: nothing lost, nothing twice.
"""

import time

import pytest

from procedures.core.constants import Channel
from procedures.models import Delivery, DeliveryStatus

from .conftest import wait_until
from .test_faults import FAST, all_sent, no_enqueue, settle

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_worker_that_lost_an_ack_stops_and_the_next_one_sends_all(
    own_redis, workers, publish_to, register, monkeypatch
):
    no_enqueue(monkeypatch)
    for _ in range(3):
        register(channel=Channel.ONLINE)
    monkeypatch.undo()
    expected = set(
        Delivery.objects.filter(channel="email")
        .exclude(status=DeliveryStatus.IN_DIGEST)
        .values_list("pk", flat=True)
    )
    assert len(expected) == 3
    publish_to(own_redis.url)
    # Its start-up drain sends the receipts in one task; Redis pauses after the first.
    stuck = workers(own_redis.url, name="lostack").start(
        TEST_MAIL_PAUSE_BROKER_AT=1, TEST_MAIL_PAUSE_SECONDS=5, **FAST
    )
    wait_until(lambda: stuck.proc.poll() is not None, 60, "the worker stops itself")
    log = stuck.tail(200)
    assert "Couldn't ack" in log, log
    assert "stopping worker process" in log, log
    # What its supervisor does: start a fresh worker.
    time.sleep(1)
    workers(own_redis.url, name="fresh").start(**FAST)
    wait_until(all_sent, 60, "the receipts, from the fresh worker")
    settle(workers.mailbox)
    sent = workers.mailbox.per_delivery()
    assert set(sent) == expected
    assert all(n == 1 for n in sent.values()), sent
