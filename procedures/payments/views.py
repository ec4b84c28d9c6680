"""Pay button, the platform's return and IPN addresses, and the local stand-in platform."""

from __future__ import annotations

import logging
import secrets
import urllib.error
import urllib.request
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from procedures.catalogue.fees import vnd
from procedures.core.errors import DomainError
from procedures.core.throttle import client_ip
from procedures.models import Dossier
from procedures.payments import gateway as gw
from procedures.payments.models import PaymentStatus
from procedures.payments.services import payment_confirm, payment_return, payment_start
from procedures.portal.views.common import access_has

logger = logging.getLogger(__name__)


@never_cache
@require_POST
def start(request, code: str):
    """The look-up page's pay button: only for a session that proved the PIN."""
    dossier = Dossier.objects.numbered(code).first()
    if dossier is None or not access_has(request, dossier_id=dossier.pk):
        raise Http404("No such dossier.")
    try:
        _payment, url = payment_start(dossier=dossier, locale=get_language() or "vi")
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("procedures:lookup-dossier", code=dossier.code)
    return redirect(url)


@csrf_exempt  # called by the platform's server, authenticated by its signature
@require_POST
def ipn(request):
    answer = payment_confirm(params=request.POST.dict(), remote_addr=client_ip(request))
    return JsonResponse({"RspCode": answer.code, "Message": answer.message})


@never_cache
def payment_returned(request):
    """Where the platform sends the applicant back: says what is known, confirms nothing."""
    payment = payment_return(params=request.GET.dict(), remote_addr=client_ip(request))
    reported_paid = request.GET.get(gw.RESPONSE_CODE) == gw.PAID
    if payment is None:
        text = _("The answer of the payment platform could not be verified.")
    elif payment.status == PaymentStatus.PAID:
        text = _("Your payment was received. The processing time of your dossier has resumed.")
    elif payment.status == PaymentStatus.PENDING and reported_paid:
        text = _(
            "The payment platform reports your payment; it is being confirmed. "
            "Open your dossier again in a few minutes."
        )
    elif payment.status == PaymentStatus.PENDING:
        text = _("The payment was not made. You can try again from your dossier's page.")
    else:
        text = payment.get_status_display()
    return render(
        request,
        "payments/returned.html",
        {"payment": payment, "text": text},
        status=200 if payment is not None else 400,
    )


# --------------------------------------------------------------- the stand-in platform


def _standin_enabled() -> None:
    if getattr(settings, "PAYMENT_GATEWAY", "") != gw.STANDIN:
        raise Http404("The stand-in payment platform is off.")


def _request_params(data) -> dict[str, str]:
    return {
        k: v for k, v in data.items() if k not in ("csrfmiddlewaretoken", "decision") and v != ""
    }


def deliver_ipn(url: str, params: dict[str, str]) -> str:
    """POST the signed result to the merchant's IPN address, as the platform does."""
    body = urlencode(params).encode()
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our IPN URL
            return response.read().decode()
    except (urllib.error.URLError, OSError) as exc:
        logger.warning("stand-in platform: IPN to %s failed: %s", url, exc)
        return ""


@never_cache
def standin(request):
    """A page that plays the national payment platform: checks our signed request,
    asks "pay / cancel", posts the signed IPN back, then returns the browser."""
    _standin_enabled()
    secret = settings.PAYMENT_SECRET
    data = request.POST if request.method == "POST" else request.GET
    params = _request_params(data)
    if not gw.signature_valid(params, secret):
        return HttpResponseBadRequest(_("The payment request is not correctly signed."))
    if request.method != "POST":
        amount = params.get(gw.AMOUNT, "")
        return render(
            request,
            "payments/standin.html",
            {"params": params, "amount_text": vnd(int(amount)) if amount.isdigit() else amount},
        )
    result = {
        gw.MERCHANT: params.get(gw.MERCHANT, ""),
        gw.TXN_REF: params.get(gw.TXN_REF, ""),
        gw.AMOUNT: params.get(gw.AMOUNT, ""),
        gw.RESPONSE_CODE: gw.PAID if data.get("decision") == "pay" else gw.CANCELLED,
        gw.GATEWAY_TXN: "SI" + secrets.token_hex(6).upper(),
        gw.PAID_AT: gw.timestamp(timezone.now()),
    }
    result[gw.SIGNATURE] = gw.sign(result, secret)
    deliver_ipn(params[gw.IPN_URL], result)
    return redirect(f"{params[gw.RETURN_URL]}?{urlencode(result)}")
