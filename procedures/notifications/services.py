"""Queue messages in the delivery ledger (the outbox); the worker sends them.

Writes happen inside the caller's transaction, so a dossier change and the messages
it causes commit together or not at all. Only after commit is the worker poked, with
ids only; if the broker is down the rows stay pending and the drain sends them when
it is back (the worker drains on start and beat runs the drain every minute). The
applicant's request never fails because Redis is down.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from kombu.exceptions import KombuError, OperationalError
from redis.exceptions import RedisError

from procedures.core.constants import Action, Channel
from procedures.models import Delivery, DeliveryChannel, DossierEvent
from procedures.notifications.national_sync import national_sync_queue

logger = logging.getLogger(__name__)

# What the applicant hears about (portal issue, item 8).
APPLICANT_KINDS: dict[str, str] = {
    Action.REGISTER: "applicant.receipt",
    Action.ACCEPT: "applicant.accepted",
    Action.REFUSE_INTAKE: "applicant.refused",
    Action.REQUEST_SUPPLEMENT: "applicant.supplement_requested",
    Action.REQUEST_PAYMENT: "applicant.payment_requested",
    Action.APOLOGISE: "applicant.apology",
    Action.RESOLVE: "applicant.result_ready",
}
# What the assigned officer hears about.
STAFF_KINDS: dict[str, str] = {
    Action.ASSIGN: "staff.assigned",
    Action.RECEIVE_SUPPLEMENT: "staff.supplement_received",
    Action.CONFIRM_PAYMENT: "staff.payment_confirmed",
}
# Ids per task message when many rows are queued at once (a reminder sweep).
ENQUEUE_CHUNK = 50


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
    """
    try:
        with transaction.atomic():
            delivery = Delivery.objects.create(
                kind=kind,
                recipient=recipient,
                subject_key=subject_key,
                payload=payload,
                language=language,
                user=user,
                channel=channel,
            )
    except IntegrityError:
        return None
    enqueue_after_commit([delivery.pk])
    return delivery


def enqueue_after_commit(ids: Iterable[int]) -> None:
    ids = list(ids)
    if ids:
        transaction.on_commit(lambda: enqueue_deliveries(ids))


def _publish_options() -> dict:
    """A connection of its own with short socket timeouts (CELERY_ENQUEUE_TIMEOUT).

    The pooled connection carries the worker's patient timeouts; a request that has
    committed must not wait on a frozen Redis (SIGSTOP: connections open, no answer).
    """
    from config.celery_app import app

    if app.conf.task_always_eager:
        return {}
    timeout = float(getattr(settings, "CELERY_ENQUEUE_TIMEOUT", 0.5))
    return {
        "connection": app.connection_for_write(
            transport_options={
                "socket_timeout": timeout,
                "socket_connect_timeout": timeout,
                "max_retries": 0,
            },
            connect_timeout=timeout,
        )
    }


def enqueue_deliveries(ids: list[int]) -> int:
    """Poke the worker; returns how many task messages were published.

    A broker outage is logged, not raised: the rows are committed and pending, and
    the drain sends them once the broker is back. After the first failure the rest
    is not tried, so a request waits on a dead or frozen broker once at most.
    """
    from procedures.tasks import deliver, deliver_batch

    published = 0
    chunks = (
        [ids]
        if len(ids) == 1
        else [ids[i : i + ENQUEUE_CHUNK] for i in range(0, len(ids), ENQUEUE_CHUNK)]
    )
    options = _publish_options()
    try:
        for chunk in chunks:
            if len(chunk) == 1:
                deliver.apply_async(args=[chunk[0]], retry=False, **options)
            else:
                deliver_batch.apply_async(args=[chunk], retry=False, **options)
            published += 1
    except (OperationalError, KombuError, OSError, RedisError) as exc:
        left = [pk for chunk in chunks[published:] for pk in chunk]
        logger.warning(
            "broker unavailable: deliveries %s stay pending for the drain (%s: %s)",
            left,
            type(exc).__name__,
            exc,
        )
    finally:
        if "connection" in options:
            options["connection"].release()
    return published


def staff_channels(user) -> list[str]:
    """The officer's choice (StaffProfile.notify_by_email / notify_in_app)."""
    profile = getattr(user, "staff_profile", None)
    channels: list[str] = []
    if (profile is None or profile.notify_by_email) and user.email:
        channels.append(DeliveryChannel.EMAIL)
    if profile is not None and profile.notify_in_app:
        channels.append(DeliveryChannel.IN_APP)
    return channels


def staff_address(user, channel: str) -> str:
    """Ledger recipient: the email address, or the account for the in-app list."""
    return user.email if channel == DeliveryChannel.EMAIL else f"user:{user.pk}"


def staff_language(user) -> str:
    profile = getattr(user, "staff_profile", None)
    return profile.language if profile else "vi"


def notify_dossier_event(*, event: DossierEvent) -> list[Delivery]:
    """Queue what a dossier event tells the applicant and the assigned officer."""
    dossier = event.dossier
    queued = []
    subject_key = f"dossier:{dossier.pk}:event:{event.pk}"
    payload = {"dossier_id": dossier.pk, "event_id": event.pk}
    kind = APPLICANT_KINDS.get(event.action)
    if event.action == Action.REGISTER and dossier.channel == Channel.DIRECT:
        kind = None  # the desk hands over the paper receipt
    if kind and dossier.applicant_email:
        queued.append(
            delivery_queue(
                kind=kind,
                recipient=dossier.applicant_email,
                subject_key=subject_key,
                payload=payload,
                language=dossier.applicant_language,
            )
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
    if staff_kind and officer is not None and officer != event.actor and officer.is_active:
        for channel in staff_channels(officer):
            queued.append(
                delivery_queue(
                    kind=staff_kind,
                    recipient=staff_address(officer, channel),
                    user=officer,
                    channel=channel,
                    subject_key=subject_key,
                    payload=payload,
                    language=staff_language(officer),
                )
            )
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
