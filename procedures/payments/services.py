"""Starting an online payment, and the platform's callbacks (procedures/payments/gateway.py).

Only the signed IPN confirms a payment. It is idempotent: the payment row is locked,
and a notification about a payment already settled changes nothing and is answered
OK, so the platform stops repeating it. A paid IPN restarts the dossier's clock
through the dossier service that leaves the payment wait (`dossier_confirm_payment`),
in the same transaction.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from procedures.core.constants import Action
from procedures.core.constants import DossierStatus as S
from procedures.core.errors import DomainError
from procedures.dossiers.services import dossier_confirm_payment
from procedures.models import Dossier, DossierEvent
from procedures.payments import gateway as gw
from procedures.payments.models import (
    CallbackKind,
    CallbackOutcome,
    Payment,
    PaymentCallback,
    PaymentStatus,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IpnAnswer:
    """What we answer the platform (it retries until it gets code "00")."""

    code: str
    message: str
    outcome: str


def _now(now: datetime | None) -> datetime:
    return now if now is not None else timezone.now()


def _request_event(dossier: Dossier) -> DossierEvent | None:
    return (
        dossier.events.filter(action=Action.REQUEST_PAYMENT, to_status=S.PAYMENT_REQUESTED)
        .order_by("-at", "-id")
        .first()
    )


def payment_payable(*, dossier: Dossier) -> bool:
    """Whether the look-up page offers the pay button: online payment is on, the dossier
    waits for a payment, and its fee is a published amount (a tiered fee in words is
    paid as the request says, at the desk)."""
    return (
        gw.payment_gateway() is not None
        and dossier.status == S.PAYMENT_REQUESTED
        and bool(dossier.fee_vnd)
    )


def payment_start(
    *, dossier: Dossier, locale: str = "vi", now: datetime | None = None
) -> tuple[Payment, str]:
    """A new payment of the dossier's fee; returns it and the platform address to send
    the applicant's browser to. Each attempt gets its own transaction reference."""
    now = _now(now)
    gateway = gw.payment_gateway()
    if gateway is None:
        raise DomainError(_("Online payment is not available. Pay at the one-stop desk."))
    with transaction.atomic():
        d = Dossier.objects.select_for_update().get(pk=dossier.pk)
        if d.status != S.PAYMENT_REQUESTED:
            raise DomainError(_("This dossier is not waiting for a payment."), code="not_waiting")
        if not d.fee_vnd:
            raise DomainError(
                _("The fee of this dossier is not a fixed amount: pay it as the request says."),
                code="no_amount",
            )
        request = _request_event(d)
        if request is None:  # a dossier in status 6 always has its request event
            raise DomainError(_("This dossier is not waiting for a payment."), code="not_waiting")
        if Payment.objects.filter(request_event=request, status=PaymentStatus.PAID).exists():
            raise DomainError(
                _("This payment was received already; the dossier will resume shortly."),
                code="paid",
            )
        payment = Payment.objects.create(
            dossier=d,
            request_event=request,
            txn_ref=f"{d.pk}-{request.pk}-{secrets.token_hex(4)}".upper(),
            amount_vnd=d.fee_vnd,
            gateway=gateway.name,
            created_at=now,
        )
    params = {
        gw.MERCHANT: settings.PAYMENT_MERCHANT_CODE,
        gw.TXN_REF: payment.txn_ref,
        gw.AMOUNT: str(payment.amount_vnd),
        gw.CURRENCY: "VND",
        gw.ORDER_INFO: _("Fee of dossier %(code)s") % {"code": d.code},
        gw.RETURN_URL: gw.absolute(reverse("payments:return")),
        gw.IPN_URL: gw.absolute(reverse("payments:ipn")),
        gw.CREATED_AT: gw.timestamp(now),
        gw.LOCALE: locale,
    }
    logger.info("payment %s started for dossier %s", payment.txn_ref, d.code)
    return payment, gateway.payment_url(params=params)


def _log(kind: str, params: Mapping, outcome: str, payment, now, remote_addr: str):
    return PaymentCallback.objects.create(
        kind=kind,
        params=dict(params),
        outcome=outcome,
        payment=payment,
        remote_addr=remote_addr[:64],
        received_at=now,
    )


def _amount_matches(payment: Payment, params: Mapping) -> bool:
    return str(params.get(gw.AMOUNT, "")).strip() == str(payment.amount_vnd)


def payment_confirm(
    *, params: Mapping[str, str], remote_addr: str = "", now: datetime | None = None
) -> IpnAnswer:
    """Handle one IPN: check, settle the payment once, restart the dossier's clock."""
    now = _now(now)
    params = {k: str(v) for k, v in params.items()}
    gateway = gw.payment_gateway()
    with transaction.atomic():
        if gateway is None or not gateway.callback_valid(params):
            _log(CallbackKind.IPN, params, CallbackOutcome.BAD_SIGNATURE, None, now, remote_addr)
            logger.warning("payment IPN refused: bad signature (from %s)", remote_addr)
            return IpnAnswer(
                gw.ANSWER_BAD_SIGNATURE, "Invalid signature", CallbackOutcome.BAD_SIGNATURE
            )
        payment = (
            Payment.objects.select_for_update().filter(txn_ref=params.get(gw.TXN_REF, "")).first()
        )
        if payment is None:
            _log(CallbackKind.IPN, params, CallbackOutcome.UNKNOWN, None, now, remote_addr)
            return IpnAnswer(gw.ANSWER_UNKNOWN, "Order not found", CallbackOutcome.UNKNOWN)
        if not _amount_matches(payment, params):
            _log(CallbackKind.IPN, params, CallbackOutcome.WRONG_AMOUNT, payment, now, remote_addr)
            logger.warning(
                "payment %s IPN refused: amount %s, expected %s",
                payment.txn_ref,
                params.get(gw.AMOUNT),
                payment.amount_vnd,
            )
            return IpnAnswer(gw.ANSWER_WRONG_AMOUNT, "Invalid amount", CallbackOutcome.WRONG_AMOUNT)
        if payment.status != PaymentStatus.PENDING:
            # The platform repeats its notification until it hears "00": the first
            # one settled the payment, the repeats change nothing.
            _log(CallbackKind.IPN, params, CallbackOutcome.REPLAY, payment, now, remote_addr)
            return IpnAnswer(gw.ANSWER_OK, "Confirm Success", CallbackOutcome.REPLAY)
        payment.raw_callback = params
        payment.response_code = params.get(gw.RESPONSE_CODE, "")
        payment.gateway_txn = params.get(gw.GATEWAY_TXN, "")[:60]
        payment.settled_at = now
        if payment.response_code != gw.PAID:
            payment.status = PaymentStatus.FAILED
            outcome = CallbackOutcome.NOT_PAID
        elif Payment.objects.filter(
            request_event_id=payment.request_event_id, status=PaymentStatus.PAID
        ).exists():
            payment.status = PaymentStatus.DUPLICATE
            outcome = CallbackOutcome.DUPLICATE
            logger.warning("payment %s: the request was paid already; refund due", payment.txn_ref)
        else:
            payment.status = PaymentStatus.PAID
            outcome = CallbackOutcome.CONFIRMED
        payment.save()
        if outcome == CallbackOutcome.CONFIRMED:
            _resume_dossier(payment, now)
        _log(CallbackKind.IPN, params, outcome, payment, now, remote_addr)
    logger.info("payment %s settled: %s", payment.txn_ref, outcome)
    return IpnAnswer(gw.ANSWER_OK, "Confirm Success", outcome)


def _resume_dossier(payment: Payment, now: datetime) -> None:
    """Leave the payment wait through the dossier service, which shifts the due times
    by the paused working time (docs/legal-rules.md "Payment pause")."""
    dossier = Dossier.objects.get(pk=payment.dossier_id)
    if dossier.status != S.PAYMENT_REQUESTED or _request_event(dossier) != payment.request_event:
        # Withdrawn or stopped meanwhile: the money is recorded, the desk settles it.
        logger.warning(
            "payment %s confirmed but dossier %s no longer waits for it (status %s)",
            payment.txn_ref,
            dossier.code,
            dossier.status,
        )
        return
    try:
        # A savepoint: if a desk action got in first, the payment stays recorded.
        with transaction.atomic():
            dossier_confirm_payment(
                dossier=dossier,
                actor=None,
                note=_("Paid online: %(amount)s VND, transaction %(ref)s.")
                % {"amount": f"{payment.amount_vnd:,}".replace(",", "."), "ref": payment.txn_ref},
                now=now,
            )
    except DomainError as exc:
        logger.warning(
            "payment %s confirmed but dossier %s did not resume: %s",
            payment.txn_ref,
            dossier.code,
            exc.message,
        )


def payment_return(
    *, params: Mapping[str, str], remote_addr: str = "", now: datetime | None = None
) -> Payment | None:
    """The applicant's browser coming back: the payment it names if the signature holds.
    Shown only; the IPN alone settles a payment."""
    now = _now(now)
    params = {k: str(v) for k, v in params.items()}
    gateway = gw.payment_gateway()
    if gateway is None or not gateway.callback_valid(params):
        _log(CallbackKind.RETURN, params, CallbackOutcome.BAD_SIGNATURE, None, now, remote_addr)
        return None
    payment = Payment.objects.filter(txn_ref=params.get(gw.TXN_REF, "")).first()
    _log(
        CallbackKind.RETURN,
        params,
        CallbackOutcome.SHOWN if payment else CallbackOutcome.UNKNOWN,
        payment,
        now,
        remote_addr,
    )
    return payment
