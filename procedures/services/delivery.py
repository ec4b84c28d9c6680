"""Sending what the ledger holds (issue: reminders and notifications)."""
from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from procedures.models import Delivery, DeliveryChannel, DeliveryStatus, Dossier, DossierEvent

logger = logging.getLogger(__name__)


def _context(delivery: Delivery) -> dict:
    payload = delivery.payload
    ctx: dict = {"delivery": delivery, "department_name": settings.DEPARTMENT_NAME,
                 "site_url": settings.SITE_URL}
    if "dossier_id" in payload:
        ctx["dossier"] = Dossier.objects.select_related("procedure").get(pk=payload["dossier_id"])
    if "event_id" in payload:
        ctx["event"] = DossierEvent.objects.get(pk=payload["event_id"])
    ctx.update(payload.get("context", {}))
    return ctx


def delivery_render(delivery: Delivery) -> tuple[str, str]:
    """Subject and body in the recipient's language."""
    with translation.override(delivery.language or "vi"):
        ctx = _context(delivery)
        name = delivery.kind.replace(".", "/")
        subject = render_to_string(f"notifications/{name}_subject.txt", ctx).strip()
        body = render_to_string(f"notifications/{name}.txt", ctx)
    return " ".join(subject.split()), body


def delivery_send(*, delivery_id: int, now: datetime | None = None) -> bool:
    """Send one ledger row unless it was sent already. Returns True when it went out.

    The row is locked while sending, so a duplicate task waits and then sees "sent".
    """
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=False).filter(pk=delivery_id).first()
        )
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return False
        delivery.attempts += 1
        if delivery.channel == DeliveryChannel.IN_APP:
            delivery.status = DeliveryStatus.SENT
            delivery.sent_at = now
            delivery.save(update_fields=["attempts", "status", "sent_at"])
            return True
        subject, body = delivery_render(delivery)
        message = EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL,
                                         [delivery.recipient])
        message.send()
        delivery.status = DeliveryStatus.SENT
        delivery.sent_at = now
        delivery.last_error = ""
        delivery.save(update_fields=["attempts", "status", "sent_at", "last_error"])
    logger.info("sent %s to %s (delivery %s)", delivery.kind, delivery.recipient, delivery.pk)
    return True
