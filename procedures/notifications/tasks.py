"""Delivery and reminder tasks: they take ids, check the database first, and are safe
to run twice (the ledger's unique key and row lock, see services/delivery.py).

All are `acks_late` (settings: CELERY_TASK_ACKS_LATE, prefetch 1), so a task lost
with its worker is redelivered; the periodic drain also catches anything a lost
message would have sent.
"""

import logging
import time
from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from procedures.models import ScheduledJob
from procedures.notifications.delivery import delivery_drain, delivery_send, delivery_send_many
from procedures.notifications.reminders import reminders_sweep as _reminders_sweep
from procedures.notifications.scheduling import scheduled_job_run, scheduled_runs_catch_up

__all__ = ["deliver", "deliver_batch", "deliver_pending", "reminders_sweep"]

logger = logging.getLogger(__name__)

# Every task here: bound (it claims rows under its node name), acknowledged late.
WORKER_TASK = {"bind": True, "acks_late": True, "ignore_result": True}
# One SMTP conversation is bounded by EMAIL_TIMEOUT; the limits leave room for it.
SEND_LIMITS = {"soft_time_limit": 90, "time_limit": 120}
# Batches, the drain and the sweep stop on a time budget of 200 s, below these.
BATCH_LIMITS = {"soft_time_limit": 240, "time_limit": 300}


def _node(task) -> str:
    """The Celery node name that claims rows (released when that node starts again)."""
    return task.request.hostname or ""


@shared_task(name="procedures.deliver", **WORKER_TASK, **SEND_LIMITS)
def deliver(self, delivery_id: int) -> str:
    return delivery_send(delivery_id=delivery_id, claimed_by=_node(self))


@shared_task(
    name="procedures.deliver_batch",
    **WORKER_TASK,
    **BATCH_LIMITS,
)
def deliver_batch(self, delivery_ids: list[int]) -> dict:
    return delivery_send_many(ids=delivery_ids, time_budget=200, claimed_by=_node(self))


@shared_task(
    name="procedures.deliver_pending",
    **WORKER_TASK,
    **BATCH_LIMITS,
)
def deliver_pending(self, limit: int | None = None) -> dict:
    """The outbox drain (beat: every minute; also once when a worker starts).

    First runs any sweep or month close of today whose beat tick was lost
    (procedures/notifications/scheduling.py); then sends pending rows whose next attempt
    has come; stops after a time budget below the soft limit, and queues itself
    again when it left work behind.
    """
    started = time.monotonic()
    scheduled_runs_catch_up(claimed_by=_node(self))
    limit = limit or getattr(settings, "DELIVERY_DRAIN_BATCH", 500)
    budget = max(30.0, 200 - (time.monotonic() - started))
    counts = delivery_drain(limit=limit, time_budget=budget, claimed_by=_node(self))
    handled = sum(v for k, v in counts.items() if k != "selected")
    if counts["selected"] >= limit or handled < counts["selected"]:
        deliver_pending.apply_async(kwargs={"limit": limit}, countdown=1)
    if counts["selected"]:
        logger.info("outbox drain: %s", counts)
    return counts


@shared_task(
    name="procedures.reminders_sweep",
    **WORKER_TASK,
    **BATCH_LIMITS,
)
def reminders_sweep(
    self, now: str | None = None, slot: str | None = None, force: bool = False
) -> dict:
    """Beat runs it at the times set in the admin (default 07:30 and 13:30 daily); it
    does nothing on non-working days, so holidays and swapped Saturdays follow the
    working-time calendar rather than a crontab.

    A beat tick (no `slot`) runs its slot of the schedule once, recorded in the
    database, so a second beat or the drain's catch-up does not run it again; an
    explicit `slot` (by hand, tests) runs the sweep under that label.
    """
    moment = datetime.fromisoformat(now) if now else timezone.now()
    if slot is None and not force:
        outcome = scheduled_job_run(
            job=ScheduledJob.REMINDERS_SWEEP, now=moment, claimed_by=_node(self)
        )
        return {"outcome": outcome}
    result = _reminders_sweep(now=moment, slot=slot, force=force)
    return {
        "day": result.day,
        "skipped": result.skipped,
        "digests": len(result.digests),
        "items": result.items,
        "already_sent": result.already_sent,
    }
