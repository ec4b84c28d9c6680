"""What the public views share: the session's access to dossiers, and errors on forms.

A browser gets access to one dossier in two ways: it has just submitted it (its
receipt cookie, which also carries the PIN for the receipt page), or it typed the right
code and PIN on the look-up page (a grant in its session). Both expire after
PORTAL_ACCESS_MINUTES. The session holds only the grant (dossier id, expiry), never
the PIN: the session table is a database table kept for weeks and backed up. The
receipt cookie is encrypted and signed with the server's key, bound to the dossier,
HttpOnly and expiring with the grant; the PIN is never put in a URL, a log line or an
email (the database stores only a keyed hash).
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
    """The session's grant, or this browser's receipt of the dossier (it submitted it)."""
    if _receipt_of(request, dossier_id=dossier_id) is not None:
        return True
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
    """Hand this browser its receipt: access to the dossier and its PIN, for
    PORTAL_ACCESS_MINUTES.

    The receipt is a cookie of its own, signed with a timestamp (so it expires with
    the grant it stands for) and bound to the dossier; `access_has` honours it as it
    honours a session's grant, and closing the dossier (look-up's "close") deletes it.
    So a submission writes no session row: a new session row, its key and a second
    commit were a tenth of an online submission's cost (issue 13), and a session that
    an attacker fixed beforehand gains nothing (the grant is not in it). The PIN is
    XORed with a keystream derived from the server's key and a random nonce before it
    is signed: the cookie is useless to anyone without SECRET_KEY, and no table ever
    sees the PIN.
    """
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
        # Lax, as the session cookie whose grant it stands for: the link in the
        # receipt mail, opened in the same browser, still finds the dossier open.
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def _receipt_of(request, *, dossier_id: int) -> str | None:
    """The sealed PIN of this browser's receipt cookie when it is valid (signature, age)
    and for `dossier_id`; read and checked once per request."""
    value = getattr(request, "_receipt_cookie", False)
    if value is False:
        try:
            value = request.get_signed_cookie(
                RECEIPT_COOKIE, salt=_RECEIPT_SALT, max_age=settings.PORTAL_ACCESS_MINUTES * 60
            )
        except (KeyError, signing.BadSignature):
            value = None
        request._receipt_cookie = value
    if value is None:
        return None
    owner, _sep, blob = value.partition(":")
    return blob if owner == str(dossier_id) and blob else None


def receipt_pin(request, *, dossier_id: int) -> str | None:
    """The PIN of the dossier this browser just submitted, while its cookie lasts."""
    blob = _receipt_of(request, dossier_id=dossier_id)
    if blob is None:
        return None
    try:
        data = base64.urlsafe_b64decode(blob.encode())
    except ValueError:
        return None
    nonce, sealed = data[:16], data[16:]
    return bytes(
        a ^ b for a, b in zip(sealed, _keystream(nonce, dossier_id, len(sealed)), strict=False)
    ).decode()


def receipt_forget(response) -> None:
    response.delete_cookie(RECEIPT_COOKIE, samesite="Lax")


# Names the services use for a field, and the name of that field on the portal forms.
FIELD_NAMES = {
    "applicant_id_number": "id_number",
    "applicant_name": "applicant_name",
    "files": "files",
}


def apply_domain_error(form, exc: DomainError) -> None:
    """Show a service's refusal on the field it names (portal names), or above the form."""
    errors.apply_domain_error(form, exc, field_names=FIELD_NAMES)
