"""The worker stops itself when the broker broke while it acknowledged a message.

kombu logs "Couldn't ack" when that happens; a worker in that state has been seen to
take no more messages (docs/reliability.md), so the watchdog asks the worker's main
process for a warm shutdown and its supervisor starts a fresh one.
"""

from __future__ import annotations

import logging
import signal

import pytest
from kombu.message import Message

from config.celery_app import LostAckWatchdog, lost_ack_watch


class _BrokenChannel:
    """A channel whose connection broke: every acknowledgement raises."""

    no_ack_consumers: set = set()

    def basic_ack(self, delivery_tag, multiple=False):
        raise ConnectionError("Timeout reading from socket")

    def basic_reject(self, delivery_tag, requeue=False):
        raise ConnectionError("Timeout reading from socket")


@pytest.fixture
def watchdog(settings):
    settings.WORKER_EXIT_ON_LOST_ACK = True
    kills: list[tuple[int, int]] = []
    handler = lost_ack_watch(4242)
    assert handler is not None
    handler.kill = lambda pid, sig: kills.append((pid, sig))
    yield kills
    for name in ("celery", "kombu"):
        target = logging.getLogger(name)
        target.handlers = [h for h in target.handlers if not isinstance(h, LostAckWatchdog)]


def _message() -> Message:
    return Message(body=b"{}", delivery_tag="7", channel=_BrokenChannel())


def test_a_lost_ack_stops_the_worker_once(watchdog):
    from celery.worker.request import logger as request_logger

    _message().ack_log_error(request_logger, (ConnectionError,))
    assert watchdog == [(4242, signal.SIGTERM)]
    _message().ack_log_error(request_logger, (ConnectionError,))
    assert watchdog == [(4242, signal.SIGTERM)]  # once: the shutdown is under way


def test_a_lost_reject_stops_the_worker(watchdog):
    from celery.worker.request import logger as request_logger

    _message().reject_log_error(request_logger, (ConnectionError,))
    assert watchdog == [(4242, signal.SIGTERM)]


def test_other_critical_records_leave_the_worker_running(watchdog):
    logging.getLogger("celery.worker.request").critical("Task handler raised error: %r", 1)
    logging.getLogger("kombu.connection").critical("connection lost")
    assert watchdog == []


def test_installing_twice_keeps_one_watchdog(watchdog):
    lost_ack_watch(4242)
    assert sum(isinstance(h, LostAckWatchdog) for h in logging.getLogger("celery").handlers) == 1


def test_the_watchdog_can_be_turned_off(settings):
    settings.WORKER_EXIT_ON_LOST_ACK = False
    assert lost_ack_watch(4242) is None
    assert not any(isinstance(h, LostAckWatchdog) for h in logging.getLogger("celery").handlers)


def test_the_worker_installs_it_when_ready(monkeypatch, settings):
    import importlib

    celery_app = importlib.import_module("config.celery_app")  # config.celery_app is the app

    installed: list[int] = []
    monkeypatch.setattr(celery_app, "lost_ack_watch", installed.append)
    monkeypatch.setattr(celery_app.app, "send_task", lambda *a, **k: None)

    class _Sender:
        hostname = "mail1@test"
        app = celery_app.app

    monkeypatch.setattr(
        "procedures.notifications.delivery.delivery_release_claims", lambda **k: None
    )
    monkeypatch.setattr(
        "procedures.notifications.scheduling.scheduled_run_release", lambda **k: None
    )
    celery_app._on_worker_ready(sender=_Sender())
    assert len(installed) == 1
