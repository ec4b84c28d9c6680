"""Housekeeping run by beat: expired sessions out of the session table."""

from celery import shared_task
from django.core.management import call_command

__all__ = ["sessions_clear"]


@shared_task(name="procedures.sessions_clear", ignore_result=True)
def sessions_clear() -> None:
    """Delete expired sessions (Django's `clearsessions`); safe to run any time, twice.

    The database session backend never deletes a session by itself: without this the
    table grows with every visitor and keeps their data long after the cookie expired.
    https://docs.djangoproject.com/en/5.2/topics/http/sessions/#clearing-the-session-store
    """
    call_command("clearsessions")
