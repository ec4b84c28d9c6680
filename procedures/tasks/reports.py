"""Report tasks: the month close, run by beat every morning (it checks the day itself)."""
import logging
from datetime import datetime
from smtplib import SMTPException

from celery import shared_task
from django.utils import timezone

from procedures.services.reports import report_close, report_email

__all__ = ["report_mail", "report_month_close"]

logger = logging.getLogger(__name__)

# Only mail transport errors are transient; anything else is a bug and must surface.
_RETRY = {"autoretry_for": (SMTPException, ConnectionError), "retry_backoff": 60,
          "retry_backoff_max": 3600, "max_retries": 8}


@shared_task(name="procedures.report_month_close", acks_late=True, ignore_result=True, **_RETRY)
def report_month_close(now: str | None = None) -> None:
    """On the first working day of a month, freeze the month just ended (and the quarter
    and year when they end) and mail the files to the leaders.

    Safe to run every day and more than once: another day does nothing, a second run on
    the day finds the snapshots frozen (unique per period) and already mailed
    (``emailed_at``). `now` (ISO 8601) exists for tests and manual runs.
    """
    moment = datetime.fromisoformat(now) if now else timezone.now()
    for snapshot, created in report_close(now=moment):
        if created:
            logger.info("Month close: froze %s %s", snapshot.period, snapshot.start)
        report_email(snapshot_id=snapshot.pk, now=moment)


@shared_task(name="procedures.report_mail", acks_late=True, ignore_result=True, **_RETRY)
def report_mail(snapshot_id: int) -> None:
    """Mail a frozen report (after a hand-triggered freeze); a no-op once mailed."""
    report_email(snapshot_id=snapshot_id)
