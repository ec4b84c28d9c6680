"""What the public views share: the session's access to dossiers, and errors on forms.

A browser session gets access to one dossier in two ways: it has just submitted it
(the receipt, which shows the PIN), or it typed the right code and PIN on the look-up
page. Both expire after PORTAL_ACCESS_MINUTES. The session holds only the grant
(dossier id, expiry), never the PIN: the session table is a database table kept for
weeks and backed up. The PIN reaches the receipt page and PDF in a cookie of their
own, encrypted and signed with the server's key, bound to the dossier, HttpOnly and
expiring with the grant; it is never put in a URL, a log line or an email (the
database stores only a keyed hash).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

from django.conf import settings
from django.core import signing

from procedures.core import errors
from procedures.core.errors import DomainError

ACCESS_KEY = "portal_access"
RECEIPT_COOKIE = "motcua_receipt"
_RECEIPT_SALT = "procedures.receipt-pin"


def _expires() -> float:
    return time.time() + settings.PORTAL_ACCESS_MINUTES * 60


def access_grant(request, *, dossier_id: int) -> None:
    grants = {k: v for k, v in request.session.get(ACCESS_KEY, {}).items() if v > time.time()}
    grants[str(dossier_id)] = _expires()
    request.session[ACCESS_KEY] = grants


def access_has(request, *, dossier_id: int) -> bool:
    expires = request.session.get(ACCESS_KEY, {}).get(str(dossier_id))
    return bool(expires and expires > time.time())


def access_revoke(request, *, dossier_id: int) -> None:
    grants = dict(request.session.get(ACCESS_KEY, {}))
    grants.pop(str(dossier_id), None)
    request.session[ACCESS_KEY] = grants


def _keystream(nonce: bytes, dossier_id: int, length: int) -> bytes:
    key = hashlib.sha256(("receipt-pin:" + settings.SECRET_KEY).encode()).digest()
    return hmac.new(key, nonce + str(dossier_id).encode(), hashlib.sha256).digest()[:length]


def receipt_store(request, response, *, dossier, pin: str) -> None:
    """Grant the session access, and hand the PIN to this browser for its receipt.

    The PIN is XORed with a keystream derived from the server's key and a random
    nonce, then signed: the cookie is useless to anyone without SECRET_KEY, and the
    session table never sees the PIN.
    """
    access_grant(request, dossier_id=dossier.pk)
    raw = pin.encode()
    nonce = secrets.token_bytes(16)
    sealed = bytes(
        a ^ b for a, b in zip(raw, _keystream(nonce, dossier.pk, len(raw)), strict=False)
    )
    value = f"{dossier.pk}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"
    response.set_signed_cookie(
        RECEIPT_COOKIE,
        value,
        salt=_RECEIPT_SALT,
        max_age=settings.PORTAL_ACCESS_MINUTES * 60,
        httponly=True,
        samesite="Strict",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def receipt_pin(request, *, dossier_id: int) -> str | None:
    """The PIN of the dossier this browser just submitted, while its cookie lasts."""
    try:
        value = request.get_signed_cookie(
            RECEIPT_COOKIE, salt=_RECEIPT_SALT, max_age=settings.PORTAL_ACCESS_MINUTES * 60
        )
    except (KeyError, signing.BadSignature):
        return None
    owner, _sep, blob = value.partition(":")
    if owner != str(dossier_id):
        return None
    data = base64.urlsafe_b64decode(blob.encode())
    nonce, sealed = data[:16], data[16:]
    return bytes(
        a ^ b for a, b in zip(sealed, _keystream(nonce, dossier_id, len(sealed)), strict=False)
    ).decode()


def receipt_forget(response) -> None:
    response.delete_cookie(RECEIPT_COOKIE, samesite="Strict")


# Names the services use for a field, and the name of that field on the portal forms.
FIELD_NAMES = {
    "applicant_id_number": "id_number",
    "applicant_name": "applicant_name",
    "files": "files",
}


def apply_domain_error(form, exc: DomainError) -> None:
    """Show a service's refusal on the field it names (portal names), or above the form."""
    errors.apply_domain_error(form, exc, field_names=FIELD_NAMES)
