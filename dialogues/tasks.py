"""Celery tasks of the dialogues app: thin and idempotent.

The periodic scan finds what is due (selectors) and only inserts rows in the shared
delivery ledger; the shared worker sends them, retries failures and records them.
The ledger's unique key is the sent-marker, so running the scan twice queues nothing
twice.
"""

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from dialogues import services


@shared_task(name="dialogues.scan_reminders")
def scan_reminders() -> dict:
    now = timezone.now()
    with transaction.atomic():
        counts = services.recommendation_reminders_queue(now=now)
        counts.update(services.registration_reminders_queue(now=now))
    return counts
