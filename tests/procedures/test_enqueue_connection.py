"""The connection that pokes the worker after a commit is kept between requests.

Opening a broker connection for each submission (TCP, the client's hand-shake, the
queue's declaration) cost more than the publish itself. The kept connection must not
change what a request risks: a dead or frozen broker still costs it at most
CELERY_ENQUEUE_TIMEOUT, a broker restarted since the connection was opened is
reconnected to at once, and a forked process (gunicorn's workers, Celery's pool) never
writes on its parent's socket. These tests publish to a redis-server of their own.
"""

import logging
import os
import signal
import time

import pytest
import redis

from procedures.notifications import services
from procedures.notifications.services import enqueue_deliveries
from tests.servers import (
    celery_point_at,
    free_port,
    redis_server,
    redis_server_answering,
    redis_server_needed,
)

QUEUE = "celery"  # Celery's default queue: a Redis list of task messages

# Requests are timed against a 0.5 s enqueue timeout: run alone (`make test`).
pytestmark = pytest.mark.serial


class OwnRedis:
    """A redis-server on a free port that the test stops, restarts or freezes."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self) -> None:
        self.proc = redis_server(self.port)
        redis_server_answering(self.url, self.proc)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # a frozen server cannot stop
            self.proc.terminate()
            self.proc.wait(10)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=2)

    def queued(self) -> int:
        return self.client().llen(QUEUE)

    def connections_received(self) -> int:
        # Minus the one this question itself opens.
        return int(self.client().info("stats")["total_connections_received"]) - 1


@pytest.fixture
def broker():
    """Celery publishing (not eager) to a redis-server of the test's own."""
    redis_server_needed()
    from config.celery_app import app

    server = OwnRedis()
    server.start()
    eager, url = app.conf.task_always_eager, app.conf.broker_url
    celery_point_at(server.url, eager=False)
    yield server
    celery_point_at(url, eager=eager)
    server.stop()


def test_one_connection_serves_every_request_of_the_process(broker):
    assert enqueue_deliveries([1]) == 1  # opens the connection
    opened = broker.connections_received()
    for pk in (2, 3, 4):
        assert enqueue_deliveries([pk]) == 1
    assert enqueue_deliveries(list(range(10, 130))) == 3  # batches of 50, 50 and 20
    # The question above counted itself: nothing else was opened since.
    assert broker.connections_received() - opened == 1
    assert broker.queued() == 7


def test_a_restarted_broker_is_reconnected_to_at_once(broker, caplog):
    assert enqueue_deliveries([1]) == 1
    broker.stop()
    broker.start()  # the same port, an empty server: the kept socket is dead
    with caplog.at_level(logging.WARNING, logger="procedures.notifications.services"):
        assert enqueue_deliveries([2]) == 1
        assert enqueue_deliveries([3]) == 1
    assert broker.queued() == 2
    assert "stay pending" not in caplog.text


def test_a_dead_broker_leaves_the_rows_pending_and_is_tried_again_next_time(
    broker, settings, caplog
):
    settings.CELERY_ENQUEUE_TIMEOUT = 0.5
    assert enqueue_deliveries([1]) == 1
    broker.stop()
    with caplog.at_level(logging.WARNING, logger="procedures.notifications.services"):
        started = time.monotonic()
        assert enqueue_deliveries([2]) == 0
        assert enqueue_deliveries([3]) == 0  # a new connection, refused: nothing kept
        took = time.monotonic() - started
    assert caplog.text.count("stay pending for the drain") == 2
    assert took < 2 * 0.5 + 0.5
    broker.start()
    assert enqueue_deliveries([4]) == 1
    assert broker.queued() == 1


def test_a_frozen_broker_costs_a_request_at_most_the_enqueue_timeout(broker, settings, caplog):
    """SIGSTOP: the kept connection's socket stays open and nothing answers."""
    settings.CELERY_ENQUEUE_TIMEOUT = 0.5
    assert enqueue_deliveries([1]) == 1
    broker.proc.send_signal(signal.SIGSTOP)
    try:
        with caplog.at_level(logging.WARNING, logger="procedures.notifications.services"):
            for pk in (2, 3):
                started = time.monotonic()
                assert enqueue_deliveries([pk]) == 0
                assert time.monotonic() - started < 0.5 + 0.4
    finally:
        broker.proc.send_signal(signal.SIGCONT)
    assert caplog.text.count("stay pending for the drain") == 2
    assert enqueue_deliveries([4]) == 1  # thawed: a fresh connection, nothing stuck
    assert broker.client().lrange(QUEUE, 0, -1)  # 1 and 4 (a frozen server read none)


def test_a_forked_process_opens_its_own_connection(broker):
    """The child (a gunicorn worker forked after the parent published) neither writes
    on nor closes the parent's socket; both go on publishing."""
    assert enqueue_deliveries([1]) == 1
    parent_connection = services._kept.connection
    opened = broker.connections_received()
    pid = os.fork()
    if pid == 0:  # the child: exit code 0 when it published on a connection of its own
        code = 1
        try:
            own = enqueue_deliveries([2]) == 1 and services._kept.connection is not None
            code = 0 if own and services._kept.connection is not parent_connection else 1
            services._broker_forget(close=True)
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    child_opened = broker.connections_received() - opened - 1
    assert child_opened >= 1  # its own
    assert enqueue_deliveries([3]) == 1  # the parent's socket still works
    assert services._kept.connection is parent_connection
    assert broker.connections_received() - opened == child_opened + 2  # the two questions
    assert broker.queued() == 3
