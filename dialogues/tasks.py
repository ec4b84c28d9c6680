"""Celery tasks of the dialogues app: thin, ids only, idempotent.

The periodic scan finds what is due (selectors) and enqueues one task per object
after commit; each task re-checks the state and relies on the unique sent-marker
(`DialogueReminder`), so running it twice sends nothing twice.
"""

from functools import partial

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from dialogues import selectors, services
from dialogues.constants import ReminderKind

ANSWER_SCANS = (
    (ReminderKind.ANSWER_DUE_SOON, selectors.recommendation_due_soon),
    (ReminderKind.ANSWER_OVERDUE, selectors.recommendation_overdue),
    (ReminderKind.ANSWER_ESCALATION, selectors.recommendation_to_escalate),
)


@shared_task(name="dialogues.scan_reminders")
def scan_reminders() -> dict:
    now = timezone.now()
    counts = {}
    with transaction.atomic():
        for kind, selector in ANSWER_SCANS:
            ids = list(selector(now=now).values_list("pk", flat=True))
            for recommendation_id in ids:
                transaction.on_commit(
                    partial(send_answer_reminder.delay, recommendation_id, str(kind))
                )
            counts[str(kind)] = len(ids)
        ids = list(selectors.registration_reminders_due(now=now).values_list("pk", flat=True))
        for registration_id in ids:
            transaction.on_commit(partial(send_session_reminder.delay, registration_id))
        counts[str(ReminderKind.SESSION_REMINDER)] = len(ids)
        ids = list(
            selectors.registration_promotions_unnotified(now=now).values_list("pk", flat=True)
        )
        for registration_id in ids:
            transaction.on_commit(partial(send_promotion_notice.delay, registration_id))
        counts[str(ReminderKind.REGISTRATION_PROMOTED)] = len(ids)
    return counts


@shared_task(name="dialogues.send_answer_reminder")
def send_answer_reminder(recommendation_id: int, kind: str) -> bool:
    return services.recommendation_remind(recommendation_id=recommendation_id, kind=kind)


@shared_task(name="dialogues.send_session_reminder")
def send_session_reminder(registration_id: int) -> bool:
    return services.registration_remind(registration_id=registration_id)


@shared_task(name="dialogues.send_promotion_notice")
def send_promotion_notice(registration_id: int) -> bool:
    return services.registration_notify_promoted(registration_id=registration_id)
