"""Queue messages in the delivery ledger (the outbox); the worker sends them.

Writes happen inside the caller's transaction. Only after commit is the worker
poked; if the broker is down the rows stay pending and the periodic sweep sends them.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import IntegrityError, transaction

from procedures.constants import Action, Channel
from procedures.models import Delivery, DeliveryChannel, DossierEvent

logger = logging.getLogger(__name__)

# What the applicant hears about (portal issue, item 8).
APPLICANT_KINDS = {
    Action.REGISTER: "applicant.receipt",
    Action.ACCEPT: "applicant.accepted",
    Action.REFUSE_INTAKE: "applicant.refused",
    Action.REQUEST_SUPPLEMENT: "applicant.supplement_requested",
    Action.REQUEST_PAYMENT: "applicant.payment_requested",
    Action.APOLOGISE: "applicant.apology",
    Action.RESOLVE: "applicant.result_ready",
}
# What the assigned officer hears about.
STAFF_KINDS = {
    Action.ASSIGN: "staff.assigned",
    Action.RECEIVE_SUPPLEMENT: "staff.supplement_received",
    Action.CONFIRM_PAYMENT: "staff.payment_confirmed",
}


def delivery_queue(
    *,
    kind: str,
    recipient: str,
    subject_key: str,
    payload: dict,
    language: str = "vi",
    user=None,
    channel: str = DeliveryChannel.EMAIL,
) -> Delivery | None:
    """Insert one ledger row; returns None when the same message was queued before."""
    try:
        with transaction.atomic():
            delivery = Delivery.objects.create(
                kind=kind, recipient=recipient, subject_key=subject_key, payload=payload,
                language=language, user=user, channel=channel,
            )
    except IntegrityError:
        return None
    _send_after_commit([delivery.pk])
    return delivery


def _send_after_commit(ids: Iterable[int]) -> None:
    ids = list(ids)
    if ids:
        transaction.on_commit(lambda: enqueue_deliveries(ids))


def enqueue_deliveries(ids: list[int]) -> None:
    """Poke the worker. A broker outage is logged, not raised: the sweep catches up."""
    from procedures.tasks import deliver

    for pk in ids:
        try:
            deliver.apply_async(args=[pk], retry=False)
        except Exception as exc:  # kombu raises various transport errors
            logger.warning("broker unavailable, delivery %s left for the sweep: %s", pk, exc)


def notify_dossier_event(*, event: DossierEvent) -> list[Delivery]:
    dossier = event.dossier
    queued = []
    kind = APPLICANT_KINDS.get(event.action)
    if kind and dossier.applicant_email:
        if event.action == Action.REGISTER and dossier.channel == Channel.DIRECT:
            kind = None  # the desk hands over the paper receipt
        if kind:
            d = delivery_queue(
                kind=kind, recipient=dossier.applicant_email,
                subject_key=f"dossier:{dossier.pk}:event:{event.pk}",
                payload={"dossier_id": dossier.pk, "event_id": event.pk},
                language=dossier.applicant_language,
            )
            queued.append(d)
    staff_kind = STAFF_KINDS.get(event.action)
    officer = dossier.assigned_officer
    if staff_kind and officer is not None and officer != event.actor and officer.email:
        profile = getattr(officer, "staff_profile", None)
        d = delivery_queue(
            kind=staff_kind, recipient=officer.email, user=officer,
            subject_key=f"dossier:{dossier.pk}:event:{event.pk}",
            payload={"dossier_id": dossier.pk, "event_id": event.pk},
            language=profile.language if profile else "vi",
        )
        queued.append(d)
    return [d for d in queued if d is not None]
