"""The dialogue mail kinds, plugged into the shared delivery ledger's registry
(procedures/notifications/kinds.py) from DialoguesConfig.ready(): the ledger sends them
and knows nothing of dialogues. Templates: dialogues/templates/notifications/dialogue/.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from dialogues.constants import ReminderKind
from dialogues.ics import session_invitation_ics
from dialogues.models import Recommendation, Registration
from procedures.models import Delivery
from procedures.notifications.kinds import Attachment, Audience, MessageKind, register


def dialogue_context(delivery: Delivery) -> dict[str, Any]:
    """The recommendation or registration the row's payload names."""
    payload = delivery.payload
    ctx: dict[str, Any] = {}
    if "recommendation_id" in payload:
        ctx["recommendation"] = Recommendation.objects.select_related(
            "business", "session", "unit", "field"
        ).get(pk=payload["recommendation_id"])
    if "registration_id" in payload:
        ctx["registration"] = Registration.objects.select_related("session", "business").get(
            pk=payload["registration_id"]
        )
    return ctx


def invitation_attachments(delivery: Delivery, now: datetime | None = None) -> list[Attachment]:
    """A registrant's mail carries the calendar invitation (payload ``"invitation":
    true``), rendered at send time so that it has the session's current time, place and
    SEQUENCE even when the row waited for a retry."""
    if not (delivery.payload.get("invitation") and "registration_id" in delivery.payload):
        return []
    registration = Registration.objects.select_related("session").get(
        pk=delivery.payload["registration_id"]
    )
    ics = session_invitation_ics(
        session=registration.session,
        attendee_email=registration.email,
        description=registration.session.topic or registration.session.title,
        now=now or timezone.now(),
    )
    return [("invitation.ics", ics, "text/calendar; method=REQUEST; charset=UTF-8")]


def register_kinds() -> None:
    # Every dialogue message goes to addresses the dialogue services name (the
    # registrant, the unit, the approvers), in the language they give.
    register(
        *(
            MessageKind(
                str(kind),
                Audience.ADDRESSES,
                context=dialogue_context,
                attachments=invitation_attachments,
            )
            for kind in ReminderKind
        )
    )
