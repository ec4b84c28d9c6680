"""Report tasks: the month close, run by beat every morning (it checks the day itself)."""

import logging
from datetime import datetime
from smtplib import SMTPException

from celery import shared_task
from django.utils import timezone

from procedures.models import ScheduledJob
from procedures.notifications.scheduling import scheduled_job_run
from procedures.reports.services import report_email

__all__ = ["report_mail", "report_month_close"]

logger = logging.getLogger(__name__)

# Only mail transport errors are transient; anything else is a bug and must surface.
_RETRY = {
    "autoretry_for": (SMTPException, ConnectionError),
    "retry_backoff": 60,
    "retry_backoff_max": 3600,
    "max_retries": 8,
}


@shared_task(
    name="procedures.report_month_close", bind=True, acks_late=True, ignore_result=True, **_RETRY
)
def report_month_close(self, now: str | None = None) -> None:
    """On the first working day of a month, freeze the month just ended (and the quarter
    and year when they end) and mail the files to the leaders.

    Safe to run every day and more than once: another day does nothing, a second run on
    the day finds the snapshots frozen (unique per period) and already mailed
    (``emailed_at``). `now` (ISO 8601) exists for tests and manual runs. Each day's
    slot is recorded (procedures/notifications/scheduling.py): a tick lost with the broker
    is caught up by the outbox drain.
    """
    moment = datetime.fromisoformat(now) if now else timezone.now()
    scheduled_job_run(
        job=ScheduledJob.MONTH_CLOSE, now=moment, claimed_by=self.request.hostname or ""
    )


@shared_task(name="procedures.report_mail", acks_late=True, ignore_result=True, **_RETRY)
def report_mail(snapshot_id: int) -> None:
    """Mail a frozen report (after a hand-triggered freeze); a no-op once mailed."""
    report_email(snapshot_id=snapshot_id)
