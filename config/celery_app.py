"""The Celery application (https://docs.celeryq.dev/en/stable/django/first-steps-with-django.html).

Production runs one worker service and exactly one beat service (README); `make run`
starts the same two processes, with an embedded filesystem broker when REDIS_URL is
unset.
"""

import logging
import os
import signal
from pathlib import Path

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("motcua")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger("motcua.celery")


@app.on_after_configure.connect
def _broker_folders(sender, **kwargs):
    """kombu's filesystem transport does not create its folders; without them the first
    publish fails. Created whenever the app is configured with that transport."""
    if not str(sender.conf.broker_url or "").startswith("filesystem://"):
        return
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


def _redacted(url: str) -> str:
    from kombu.utils.url import maybe_sanitize_url

    return maybe_sanitize_url(url or "")


@worker_ready.connect
def _on_worker_ready(sender, **kwargs):
    """Say what this worker serves; give back what a previous process of this node
    name held when it died (a message being sent, a sweep); then drain the outbox
    once: messages queued while the broker or the worker was down are sent now rather
    than at the next beat, and a sweep or month close whose tick was lost is run."""
    conf = sender.app.conf
    lost_ack_watch(os.getpid())
    logger.info(
        "worker %s ready: broker %s, concurrency %s, prefetch %s, acks_late %s",
        sender.hostname,
        _redacted(conf.broker_url),
        conf.worker_concurrency,
        conf.worker_prefetch_multiplier,
        conf.task_acks_late,
    )
    from django.db import DatabaseError, connection

    from procedures.notifications.delivery import delivery_release_claims
    from procedures.notifications.scheduling import scheduled_run_release

    try:
        delivery_release_claims(claimed_by=sender.hostname)
        scheduled_run_release(claimed_by=sender.hostname)
    except DatabaseError as exc:  # the claims then expire after their timeout
        logger.warning("could not release the claims of %s: %s", sender.hostname, exc)
    finally:
        connection.close()  # not shared with anything forked later
    try:
        sender.app.send_task("procedures.deliver_pending")
    except Exception as exc:  # noqa: BLE001 - the beat drain will do it; say why not now
        logger.warning("could not queue the start-up outbox drain: %s", exc)


class LostAckWatchdog(logging.Handler):
    """Stops the worker (warm shutdown) when it could not acknowledge or reject a message.

    kombu logs "Couldn't ack" (or "Couldn't reject") at CRITICAL when the broker
    connection broke or froze while a finished task was being acknowledged; such a
    worker process has been seen to take no more messages once Redis answered again
    (docs/reliability.md). Its supervisor (systemd, the container runtime) starts a
    fresh one, which gets the unacknowledged message again (acks late) and drains the
    outbox at start-up. Fires once per process; WORKER_EXIT_ON_LOST_ACK=false turns it off.
    """

    def __init__(self, pid: int, kill=os.kill) -> None:
        super().__init__(level=logging.CRITICAL)
        self.pid = pid
        self.kill = kill
        self.fired = False

    def emit(self, record: logging.LogRecord) -> None:
        if self.fired or not str(record.msg).startswith(("Couldn't ack", "Couldn't reject")):
            return
        self.fired = True
        logger.critical(
            "the broker connection broke while a message was being acknowledged: stopping "
            "worker process %s so that its supervisor starts a fresh one",
            self.pid,
        )
        self.kill(self.pid, signal.SIGTERM)


# kombu's Message.ack_log_error logs through the logger Celery hands it (the request's,
# a child of "celery"); "kombu" covers kombu's own.
LOST_ACK_LOGGERS = ("celery", "kombu")


def lost_ack_watch(pid: int) -> LostAckWatchdog | None:
    """Installs the watchdog for worker process `pid` (its main process, where
    acknowledgements are sent); once, whatever the number of calls."""
    from django.conf import settings

    if not getattr(settings, "WORKER_EXIT_ON_LOST_ACK", True):
        return None
    handler = LostAckWatchdog(pid)
    for name in LOST_ACK_LOGGERS:
        target = logging.getLogger(name)
        target.handlers = [h for h in target.handlers if not isinstance(h, LostAckWatchdog)]
        target.addHandler(handler)
    return handler
