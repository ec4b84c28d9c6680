"""Delivery and reminder tasks: they take ids, check the database first, and are safe
to run twice (the ledger's unique key and row lock, see services/delivery.py).

All are `acks_late` (settings: CELERY_TASK_ACKS_LATE, prefetch 1), so a task lost
with its worker is redelivered; the periodic drain also catches anything a lost
message would have sent.
"""
import logging
from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from procedures.services.delivery import delivery_drain, delivery_send, delivery_send_many
from procedures.services.reminders import reminders_sweep as _reminders_sweep

__all__ = ["deliver", "deliver_batch", "deliver_pending", "reminders_sweep"]

logger = logging.getLogger(__name__)

# One SMTP conversation is bounded by EMAIL_TIMEOUT; the limits leave room for it.
SEND_LIMITS = {"soft_time_limit": 90, "time_limit": 120}


@shared_task(name="procedures.deliver", acks_late=True, ignore_result=True, **SEND_LIMITS)
def deliver(delivery_id: int) -> str:
    return delivery_send(delivery_id=delivery_id)


@shared_task(name="procedures.deliver_batch", acks_late=True, ignore_result=True,
             soft_time_limit=240, time_limit=300)
def deliver_batch(delivery_ids: list[int]) -> dict:
    return delivery_send_many(ids=delivery_ids, time_budget=200)


@shared_task(name="procedures.deliver_pending", acks_late=True, ignore_result=True,
             soft_time_limit=240, time_limit=300)
def deliver_pending(limit: int | None = None) -> dict:
    """The outbox drain (beat: every minute; also once when a worker starts).

    Sends pending rows whose next attempt has come; stops after a time budget below
    the soft limit, and queues itself again when it left work behind.
    """
    limit = limit or getattr(settings, "DELIVERY_DRAIN_BATCH", 500)
    counts = delivery_drain(limit=limit, time_budget=200)
    handled = sum(v for k, v in counts.items() if k != "selected")
    if counts["selected"] >= limit or handled < counts["selected"]:
        deliver_pending.apply_async(kwargs={"limit": limit}, countdown=1)
    if counts["selected"]:
        logger.info("outbox drain: %s", counts)
    return counts


@shared_task(name="procedures.reminders_sweep", acks_late=True, ignore_result=True,
             soft_time_limit=240, time_limit=300)
def reminders_sweep(now: str | None = None, slot: str | None = None, force: bool = False) -> dict:
    """Beat runs it at the times set in the admin (default 07:30 and 13:30 daily); it
    does nothing on non-working days, so holidays and swapped Saturdays follow the
    working-time calendar rather than a crontab."""
    moment = datetime.fromisoformat(now) if now else timezone.now()
    result = _reminders_sweep(now=moment, slot=slot, force=force)
    return {"day": result.day, "skipped": result.skipped, "digests": len(result.digests),
            "items": result.items, "already_sent": result.already_sent}
