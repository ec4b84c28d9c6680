"""Queue messages in the delivery ledger (the outbox); the worker sends them.

Writes happen inside the caller's transaction, so a dossier change and the messages
it causes commit together or not at all. Only after commit is the worker poked, with
ids only; if the broker is down the rows stay pending and the drain sends them when
it is back (the worker drains on start and beat runs the drain every minute). The
applicant's request never fails because Redis is down.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import KombuError, OperationalError
from redis.exceptions import RedisError

from procedures.core.constants import Action, Channel
from procedures.core.prepared import insert_rows
from procedures.models import Delivery, DeliveryChannel, DossierEvent
from procedures.notifications.kinds import (
    APPLICANT_KINDS,
    STAFF_KINDS,
    get_kind,
)
from procedures.notifications.national_sync import national_sync_queue

logger = logging.getLogger(__name__)

# Ids per task message when many rows are queued at once (a reminder sweep).
ENQUEUE_CHUNK = 50
_BROKER_ERRORS = (OperationalError, KombuError, OSError, RedisError)


def delivery_queue(
    *,
    kind: str,
    recipient: str,
    subject_key: str,
    payload: dict,
    language: str = "vi",
    user=None,
    channel: str = DeliveryChannel.EMAIL,
) -> Delivery | None:
    """Insert one ledger row; returns None when the same message was queued before.

    `next_attempt_at` stays empty: "as soon as possible" (a time is set only by a retry).
    A kind nobody registered (kinds.py) raises UnknownMessageKind, a channel the kind
    does not use ValueError: the row would never be sendable.
    """
    message_kind = get_kind(kind)
    if channel not in message_kind.channels:
        raise ValueError(f"message kind {kind!r} is not sent by {str(channel)!r}")
    delivery = Delivery(
        kind=kind,
        recipient=recipient,
        subject_key=subject_key,
        payload=payload,
        language=language,
        user=user,
        channel=channel,
    )
    if not _insert_once(delivery):
        return None
    enqueue_after_commit([delivery.pk])
    return delivery


def _insert_once(delivery: Delivery) -> bool:
    """Insert the row unless the same message is in the ledger already (the unique
    `delivery_once`); True when it was inserted.

    One statement, INSERT ... ON CONFLICT DO NOTHING RETURNING (PostgreSQL and SQLite
    alike; prepared on PostgreSQL, procedures/core/prepared.py), where catching the
    IntegrityError took three: a savepoint, the insert and the savepoint's release. No
    signal is sent for the row, as `Model.save` would (nothing listens to the ledger's
    saves).
    """
    return insert_rows([delivery], skip_conflicts=True) == 1


def enqueue_after_commit(ids: Iterable[int]) -> None:
    ids = list(ids)
    if ids:
        transaction.on_commit(lambda: enqueue_deliveries(ids))


class _KeptBroker(threading.local):
    """This process's (and thread's) connection for poking the worker, kept between
    requests: opening one costs more than the publish (a TCP connection, the client's
    hand-shake, the queue's declaration), on every submission."""

    pid: int = 0
    key: tuple = ()
    connection: Any = None
    producer: Any = None


_kept = _KeptBroker()


def _broker_forget(*, close: bool) -> None:
    """Drop the kept connection; `close` it only when this process opened it (a forked
    child must not shut down its parent's socket: it just lets go of its copy)."""
    connection, _kept.connection, _kept.producer = _kept.connection, None, None
    if connection is not None and close and _kept.pid == os.getpid():
        try:
            connection.release()
        except Exception:  # noqa: BLE001 - a broken connection may fail to close too
            logger.debug("closing the broker connection failed", exc_info=True)


if hasattr(os, "register_at_fork"):  # gunicorn's workers, Celery's pool children
    os.register_at_fork(after_in_child=lambda: _broker_forget(close=False))


def _publish_producer():
    """This process's producer for publishing, on a connection with short socket
    timeouts (CELERY_ENQUEUE_TIMEOUT), or None when tasks run eagerly.

    The pooled connection carries the worker's patient timeouts; a request that has
    committed must not wait on a frozen Redis (SIGSTOP: connections open, no answer).
    The connection and its producer are kept for the next request of this process and
    thread. A broker
    restarted since it was opened is seen before the next publish (redis-py checks a
    pooled socket on taking it: a closed one is opened again), and a connection that
    failed is dropped (`_broker_forget`): the next request opens a new one.
    """
    from config.celery_app import app

    if app.conf.task_always_eager:
        return None
    timeout = float(getattr(settings, "CELERY_ENQUEUE_TIMEOUT", 0.5))
    key = (app.conf.broker_url, timeout)
    if _kept.pid != os.getpid():
        _broker_forget(close=False)
    elif _kept.key != key:
        _broker_forget(close=True)  # another broker (tests) or timeout: a new one
    if _kept.connection is None:
        _kept.connection = app.connection_for_write(
            transport_options={
                "socket_timeout": timeout,
                "socket_connect_timeout": timeout,
                "max_retries": 0,
            },
            connect_timeout=timeout,
        )
        # Declares nothing and opens nothing yet: the first publish connects.
        _kept.producer = app.amqp.Producer(_kept.connection, auto_declare=False)
        _kept.pid, _kept.key = os.getpid(), key
    return _kept.producer


def enqueue_deliveries(ids: list[int]) -> int:
    """Poke the worker; returns how many task messages were published.

    A broker outage is logged, not raised: the rows are committed and pending, and
    the drain sends them once the broker is back. After the first failure the rest
    is not tried and the connection is dropped, so a request waits on a dead or
    frozen broker once at most (CELERY_ENQUEUE_TIMEOUT).
    """
    from procedures.tasks import deliver, deliver_batch

    published = 0
    chunks = (
        [ids]
        if len(ids) == 1
        else [ids[i : i + ENQUEUE_CHUNK] for i in range(0, len(ids), ENQUEUE_CHUNK)]
    )
    producer = _publish_producer()
    options = {} if producer is None else {"producer": producer}
    try:
        for chunk in chunks:
            if len(chunk) == 1:
                deliver.apply_async(args=[chunk[0]], retry=False, **options)
            else:
                deliver_batch.apply_async(args=[chunk], retry=False, **options)
            published += 1
    except _BROKER_ERRORS as exc:
        _broker_forget(close=True)
        left = [pk for chunk in chunks[published:] for pk in chunk]
        logger.warning(
            "broker unavailable: deliveries %s stay pending for the drain (%s: %s)",
            left,
            type(exc).__name__,
            exc,
        )
    return published


def notify(
    *,
    kind: str,
    subject_key: str,
    payload: dict,
    user=None,
    addresses: Iterable[str] = (),
    language: str = "vi",
) -> list[Delivery]:
    """Queue one message of `kind` for each recipient its audience resolves to (the
    officer's chosen channels, or each distinct address); returns the new rows."""
    queued = [
        delivery_queue(
            kind=kind,
            recipient=r.address,
            channel=r.channel,
            user=r.user,
            subject_key=subject_key,
            payload=payload,
            language=r.language,
        )
        for r in get_kind(kind).recipients(user=user, addresses=addresses, language=language)
    ]
    return [d for d in queued if d is not None]


def notify_dossier_event(*, event: DossierEvent) -> list[Delivery]:
    """Queue what a dossier event tells the applicant and the assigned officer."""
    dossier = event.dossier
    subject_key = f"dossier:{dossier.pk}:event:{event.pk}"
    payload = {"dossier_id": dossier.pk, "event_id": event.pk}
    queued: list[Delivery | None] = []
    kind = APPLICANT_KINDS.get(event.action)
    if event.action == Action.REGISTER and dossier.channel == Channel.DIRECT:
        kind = None  # the desk hands over the paper receipt
    if kind:
        queued += notify(
            kind=kind,
            subject_key=subject_key,
            payload=payload,
            addresses=[dossier.applicant_email],
            language=dossier.applicant_language,
        )
    if kind and dossier.applicant_sms_consent and dossier.applicant_phone:
        # The same message by SMS, to an applicant who agreed to it (notifications/sms.py).
        queued.append(
            delivery_queue(
                kind=kind,
                recipient=dossier.applicant_phone,
                channel=DeliveryChannel.SMS,
                subject_key=subject_key,
                payload=payload,
                language=dossier.applicant_language,
            )
        )
    staff_kind = STAFF_KINDS.get(event.action)
    officer = dossier.assigned_officer
    if staff_kind and officer is not None and officer != event.actor:
        queued += notify(kind=staff_kind, subject_key=subject_key, payload=payload, user=officer)
    # The national portal hears of every status change (national_sync.py).
    queued.append(national_sync_queue(event=event))
    return [d for d in queued if d is not None]


def delivery_mark_read(
    *, user, ids: Iterable[int] | None = None, now: datetime | None = None
) -> int:
    """Mark the user's in-app notifications read (all of them when `ids` is None)."""
    qs = Delivery.objects.filter(user=user, channel=DeliveryChannel.IN_APP, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=now or timezone.now())


def staff_notification_preferences_set(*, user, by_email: bool, in_app: bool):
    """The officer's own choice of channels for reminders and staff notifications."""
    from procedures.models import StaffProfile

    profile, _created = StaffProfile.objects.update_or_create(
        user=user, defaults={"notify_by_email": by_email, "notify_in_app": in_app}
    )
    return profile
