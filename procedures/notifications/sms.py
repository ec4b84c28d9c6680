"""SMS to applicants through a pluggable backend (issue 12 item 5).

An SMS is a row of the delivery ledger like an email (channel ``sms``, recipient the
phone number), queued in the transaction of the change it tells about and sent by the
same claim / send / mark loop (procedures/notifications/delivery.py), so it has the
same exactly-once key, retries and admin view. Only an applicant who gave a phone
number and ticked the SMS consent gets one (Dossier.applicant_sms_consent).

``SMS_BACKEND`` picks the backend, as ``EMAIL_BACKEND`` does for mail:

- ``ConsoleBackend`` (default): prints the message and logs it;
- ``LocmemBackend`` (tests): appends it to ``outbox``;
- ``HttpBackend``: POSTs JSON to the gateway at ``SMS_GATEWAY_URL`` with the bearer
  token ``SMS_GATEWAY_TOKEN``. The delivery's stable reference goes with it as
  ``Idempotency-Key``, so a gateway that honours it drops the resend that follows a
  crash between its "OK" and our mark (the one duplicate window of the ledger).

A backend raises SmsError; ``transient`` says whether the ledger tries again later.
"""

from __future__ import annotations

import logging
import sys
import unicodedata
from dataclasses import dataclass

import requests
from django.conf import settings
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from procedures.notifications.peers import PeerError, peer_may_retry, peer_post_json

logger = logging.getLogger(__name__)

__all__ = [
    "ConsoleBackend",
    "HttpBackend",
    "LocmemBackend",
    "SmsError",
    "SmsMessage",
    "outbox",
    "sms_backend",
    "sms_number",
    "sms_render",
    "sms_send_delivery",
]


class SmsError(PeerError):
    """The gateway did not take the message; `transient` failures are retried."""


@dataclass(frozen=True)
class SmsMessage:
    to: str
    text: str
    reference: str
    sender: str = ""


# What the applicant is told, one short text per kind of applicant message (160
# characters once the accents are stripped, with the look-up address).
TEXTS = {
    "applicant.receipt": gettext_lazy("Dossier %(code)s was received. Follow it at %(url)s"),
    "applicant.accepted": gettext_lazy(
        "Dossier %(code)s was accepted; result due %(due)s. Follow it at %(url)s"
    ),
    "applicant.refused": gettext_lazy("Dossier %(code)s was not accepted. Reasons at %(url)s"),
    "applicant.supplement_requested": gettext_lazy(
        "Dossier %(code)s needs more papers. Details at %(url)s"
    ),
    "applicant.payment_requested": gettext_lazy(
        "Dossier %(code)s: please pay the fee. Details at %(url)s"
    ),
    "applicant.apology": gettext_lazy(
        "Dossier %(code)s is delayed, new appointment %(due)s. Details at %(url)s"
    ),
    "applicant.result_ready": gettext_lazy("The result of dossier %(code)s is ready. See %(url)s"),
}


def sms_number(phone: str) -> str:
    """A Vietnamese number in international form: 0912345678 -> +84912345678."""
    digits = "".join(ch for ch in phone if ch.isdigit() or ch == "+")
    if digits.startswith("+"):
        return digits
    if digits.startswith("84") and len(digits) == 11:
        return f"+{digits}"
    if digits.startswith("0"):
        return f"+84{digits[1:]}"
    return digits


def strip_accents(text: str) -> str:
    """Vietnamese without diacritics (đ -> d): fits a plain 160-character SMS."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def sms_render(delivery) -> str:
    """The message of a ledger row, in the applicant's language."""
    from django.utils import timezone

    from procedures.models import Dossier

    dossier = Dossier.objects.get(pk=delivery.payload["dossier_id"])
    with translation.override(delivery.language or "vi"):
        from procedures.dossiers.slips import lookup_url

        template = TEXTS.get(delivery.kind)
        if template is None:
            raise SmsError(
                _("There is no SMS text for messages of kind %(kind)s.") % {"kind": delivery.kind},
                transient=False,
            )
        due = (
            timezone.localtime(dossier.due_at).strftime("%H:%M %d/%m/%Y") if dossier.due_at else ""
        )
        text = str(template) % {
            "code": dossier.code,
            "due": due,
            "url": lookup_url(dossier=dossier),
        }
    return strip_accents(text) if settings.SMS_STRIP_ACCENTS else text


def sms_backend():
    return import_string(settings.SMS_BACKEND)()


def sms_send_delivery(delivery) -> None:
    """Send one ledger row of channel SMS (called by delivery_send)."""
    message = SmsMessage(
        to=sms_number(delivery.recipient),
        text=sms_render(delivery),
        reference=f"motcua-delivery-{delivery.pk}",
        sender=settings.SMS_SENDER,
    )
    sms_backend().send(message)


# --------------------------------------------------------------------------- backends


class ConsoleBackend:
    """Development: the message on stdout (the worker's log under `make run`)."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def send(self, message: SmsMessage) -> None:
        self.stream.write(f"SMS to {message.to} [{message.reference}]: {message.text}\n")
        self.stream.flush()
        logger.info("SMS to %s (%s) written to the console", message.to, message.reference)


# Messages the locmem backend "sent", as django.core.mail.outbox for mail.
outbox: list[SmsMessage] = []


class LocmemBackend:
    def send(self, message: SmsMessage) -> None:
        outbox.append(message)


class HttpBackend:
    """A JSON gateway: POST {"to", "from", "text", "reference"} with a bearer token.

    2xx is sent. 408, 429 and 5xx, timeouts and refused connections are transient;
    another 4xx (a wrong number, a wrong token) is permanent and shown in the admin.
    A real gateway with another body is a subclass overriding `payload`.
    """

    def __init__(self, url: str | None = None, token: str | None = None, timeout=None):
        self.url = url or settings.SMS_GATEWAY_URL
        self.token = token if token is not None else settings.SMS_GATEWAY_TOKEN
        self.timeout = timeout or settings.SMS_TIMEOUT
        if not self.url:
            raise SmsError(_("SMS_GATEWAY_URL is not set."), transient=True)

    def payload(self, message: SmsMessage) -> dict:
        return {
            "to": message.to,
            "from": message.sender,
            "text": message.text,
            "reference": message.reference,
        }

    def send(self, message: SmsMessage) -> None:
        try:
            reply = peer_post_json(
                self.url,
                payload=self.payload(message),
                token=self.token,
                idempotency_key=message.reference,
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise SmsError(
                _("Could not reach the SMS gateway %(url)s (%(error)s).")
                % {"url": self.url, "error": type(exc).__name__},
                transient=True,
            ) from exc
        if not reply.ok:
            raise SmsError(
                _("The SMS gateway answered %(status)s: %(reply)s")
                % {"status": reply.status, "reply": reply.text[:200]},
                transient=peer_may_retry(reply.status),
            )
