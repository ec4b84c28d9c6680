"""Insert-first-then-send delivery of dialogue mail, one marker row per deadline."""

import logging
from collections.abc import Callable
from datetime import datetime
from smtplib import SMTPException

from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone

from dialogues.models import DialogueReminder

logger = logging.getLogger(__name__)


def reminder_deliver(
    *,
    kind: str,
    object_id: int,
    deadline: datetime,
    recipients: list[str],
    build: Callable[[], EmailMessage],
    now: datetime,
) -> bool:
    """Send one mail at most once for (kind, object, deadline); True when sent now.

    The marker is committed before the mail leaves, so two workers (or a re-run) can
    never both send: the second hits the unique constraint and stops.
    """
    recipients = [r for r in recipients if r]
    if not recipients:
        logger.warning("dialogue %s #%s: no recipient, nothing sent", kind, object_id)
        return False
    try:
        with transaction.atomic():
            marker = DialogueReminder.objects.create(
                kind=kind,
                object_id=object_id,
                deadline=deadline,
                recipients=", ".join(recipients),
                created_at=now,
            )
    except IntegrityError:
        return False
    try:
        message = build()
        message.to = recipients
        message.send()
    except (SMTPException, OSError) as exc:
        # Recorded on the row (visible in the admin), never swallowed silently.
        logger.exception("dialogue %s #%s: sending failed", kind, object_id)
        marker.error = f"{type(exc).__name__}: {exc}"
        marker.save(update_fields=["error"])
        return False
    marker.sent_at = timezone.now()
    marker.save(update_fields=["sent_at"])
    return True
