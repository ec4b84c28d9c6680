"""What the public views share: the session's access to dossiers, and errors on forms.

A browser session gets access to one dossier in two ways: it has just submitted it
(the receipt, which shows the PIN), or it typed the right code and PIN on the look-up
page. Both expire after PORTAL_ACCESS_MINUTES, and the PIN itself is never put in a
URL, a log line or an email (it is stored only as a keyed hash).
"""
from __future__ import annotations

import time

from django.conf import settings
from django.core.exceptions import ValidationError

from procedures.errors import DomainError

ACCESS_KEY = "portal_access"
RECEIPT_KEY = "portal_receipt"


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
    receipt = request.session.get(RECEIPT_KEY)
    if receipt and receipt.get("dossier") == dossier_id:
        del request.session[RECEIPT_KEY]


def receipt_store(request, *, dossier_id: int, pin: str) -> None:
    """Keep the PIN for the receipt page and PDF of the dossier just submitted."""
    request.session[RECEIPT_KEY] = {"dossier": dossier_id, "pin": pin, "expires": _expires()}
    access_grant(request, dossier_id=dossier_id)


def receipt_pin(request, *, dossier_id: int) -> str | None:
    receipt = request.session.get(RECEIPT_KEY)
    if not receipt or receipt.get("dossier") != dossier_id:
        return None
    if receipt.get("expires", 0) <= time.time():
        del request.session[RECEIPT_KEY]  # expired: the PIN leaves the session
        return None
    return receipt["pin"]


# Names the services use for a field, and the name of that field on the portal forms.
FIELD_NAMES = {"applicant_id_number": "id_number", "applicant_name": "applicant_name",
               "files": "files"}


def apply_domain_error(form, exc: DomainError) -> None:
    """Show a service's refusal on the field it names, or above the form."""
    field = FIELD_NAMES.get(exc.field or "", exc.field)
    if field not in form.fields:
        field = None
    form.add_error(field, ValidationError(exc.message, code=exc.code or "invalid"))
