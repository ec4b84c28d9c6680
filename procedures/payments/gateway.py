"""The payment adapter: the national payment platform's request / return / IPN pattern.

1. *Request*: the applicant's browser is sent to the platform with the payment's
   parameters and their signature, an HMAC-SHA256 (shared secret PAYMENT_SECRET) over
   the canonical string: the parameters other than the signature, non-empty, sorted by
   name, each ``name=value`` with the value percent-encoded (RFC 3986), joined by ``&``.
2. *Return*: after paying, the platform sends the browser back to our return address
   with the result, signed the same way. It is shown, never trusted.
3. *IPN*: the platform calls our IPN address server to server with the signed result;
   that alone confirms a payment (procedures/payments/services.py).

`SignedRedirectGateway` speaks this protocol to any platform address: the national
platform's (PAYMENT_GATEWAY=national, PAYMENT_GATEWAY_URL) or the local stand-in
(PAYMENT_GATEWAY=standin, procedures/payments/views.py), which plays the platform for
`make run` and the tests. A platform that signs differently is another class with the
same two methods, named by its dotted path in PAYMENT_GATEWAY.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol
from urllib.parse import quote, urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

# The parameter names of the protocol, in one place.
SIGNATURE = "signature"
MERCHANT = "merchant"
TXN_REF = "txn_ref"
AMOUNT = "amount"
CURRENCY = "currency"
ORDER_INFO = "order_info"
RETURN_URL = "return_url"
IPN_URL = "ipn_url"
CREATED_AT = "created_at"
LOCALE = "locale"
RESPONSE_CODE = "response_code"
GATEWAY_TXN = "gateway_txn"
PAID_AT = "paid_at"
# Response codes of the platform's result, and of our answer to its IPN.
PAID = "00"
CANCELLED = "24"
ANSWER_OK = "00"
ANSWER_UNKNOWN = "01"
ANSWER_WRONG_AMOUNT = "04"
ANSWER_BAD_SIGNATURE = "97"

STANDIN = "standin"
NATIONAL = "national"


def timestamp(moment: datetime) -> str:
    """yyyyMMddHHmmss in local time, the platform's date format."""
    return timezone.localtime(moment).strftime("%Y%m%d%H%M%S")


def canonical(params: Mapping[str, object]) -> str:
    """The string that is signed (module docstring, step 1)."""
    return "&".join(
        f"{name}={quote(str(value), safe='')}"
        for name, value in sorted(params.items())
        if name != SIGNATURE and value not in (None, "")
    )


def sign(params: Mapping[str, object], secret: str) -> str:
    return hmac.new(secret.encode(), canonical(params).encode(), hashlib.sha256).hexdigest()


def signature_valid(params: Mapping[str, object], secret: str) -> bool:
    """Constant-time comparison: the time taken says nothing about how much matched."""
    given = str(params.get(SIGNATURE) or "")
    return bool(secret) and hmac.compare_digest(sign(params, secret), given.lower())


class PaymentGateway(Protocol):
    name: str

    def payment_url(self, *, params: dict[str, str]) -> str:
        """Where to send the applicant's browser to pay."""
        ...

    def callback_valid(self, params: Mapping[str, object]) -> bool:
        """Whether a return or IPN callback was signed by the platform."""
        ...


class SignedRedirectGateway:
    def __init__(self, *, name: str, url: str, secret: str):
        self.name, self.url, self.secret = name, url, secret

    def payment_url(self, *, params: dict[str, str]) -> str:
        signed = {**params, SIGNATURE: sign(params, self.secret)}
        return f"{self.url}?{urlencode(signed)}"

    def callback_valid(self, params: Mapping[str, object]) -> bool:
        return signature_valid(params, self.secret)


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def payment_gateway() -> PaymentGateway | None:
    """The configured adapter; None when online payment is off (pay at the desk)."""
    choice = getattr(settings, "PAYMENT_GATEWAY", "")
    secret = getattr(settings, "PAYMENT_SECRET", "")
    if not choice:
        return None
    if choice == STANDIN:
        return SignedRedirectGateway(
            name=STANDIN, url=absolute(reverse("payments:standin")), secret=secret
        )
    if choice == NATIONAL:
        return SignedRedirectGateway(name=NATIONAL, url=settings.PAYMENT_GATEWAY_URL, secret=secret)
    return import_string(choice)()
