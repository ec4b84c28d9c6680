"""Writes for applicant accounts: sign-in, and the dossiers an account holds."""

from __future__ import annotations

import re
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from procedures.accounts.models import ApplicantAccount, ApplicantDossier
from procedures.accounts.oidc import Identity
from procedures.core.errors import DomainError
from procedures.core.validators import normalize_identity, validate_citizen_id, validate_tax_code
from procedures.models import Dossier

_PHONE = re.compile(r"^(?:\+84|0)\d{9,10}$")


def _valid(value, check) -> str:
    """The claim if it passes the same check as the form, else nothing: a value the
    form would refuse is not worth pre-filling."""
    try:
        check(value)
    except ValidationError:
        return ""
    return value


def _claims_profile(claims: dict) -> dict:
    phone = re.sub(r"[\s.\-()]", "", str(claims.get("phone_number") or ""))
    email = str(claims.get("email") or "")[:254]
    id_number = normalize_identity(str(claims.get(settings.OIDC_CLAIM_ID_NUMBER) or ""))
    tax_code = normalize_identity(str(claims.get(settings.OIDC_CLAIM_TAX_CODE) or ""))
    name = " ".join(str(claims.get("name") or "").split())[:255]
    return {
        "name": name,
        "email": _valid(email, validate_email) if email else "",
        "phone": phone if _PHONE.match(phone) else "",
        "id_number": _valid(id_number, validate_citizen_id) if id_number else "",
        "tax_code": _valid(tax_code, validate_tax_code) if tax_code else "",
    }


def account_sign_in(*, identity: Identity, now: datetime | None = None) -> ApplicantAccount:
    """The account of this (issuer, subject), created at first sign-in; the profile is
    refreshed from the provider's claims every time."""
    now = now or timezone.now()
    profile = _claims_profile(identity.claims)
    for attempt in range(2):
        try:
            with transaction.atomic():
                account, created = ApplicantAccount.objects.select_for_update().get_or_create(
                    issuer=identity.issuer,
                    subject=identity.subject,
                    defaults={**profile, "created_at": now, "last_sign_in_at": now},
                )
                if not created:
                    for key, value in profile.items():
                        setattr(account, key, value)
                    account.last_sign_in_at = now
                    account.save()
                return account
        except IntegrityError:
            # Two first sign-ins at once: the other created it; the second pass reads it.
            if attempt:
                raise
    raise AssertionError("unreachable")


def account_link_dossier(
    *,
    account: ApplicantAccount,
    dossier: Dossier,
    claimed: bool = False,
    now=None,
    new_dossier: bool = False,
) -> ApplicantDossier:
    """Give the dossier to the account. A dossier belongs to one account only (the
    unique dossier column decides a race); it is never moved to another.

    `new_dossier`: created in the caller's transaction, so no other transaction can
    see it yet, let alone link it: one insert, without the look-up and the savepoint
    that a claim of an existing dossier needs."""
    now = now or timezone.now()
    if new_dossier:
        return ApplicantDossier.objects.create(
            account=account, dossier=dossier, claimed=claimed, linked_at=now
        )
    existing = ApplicantDossier.objects.filter(dossier=dossier).first()
    if existing is None:
        try:
            with transaction.atomic():
                return ApplicantDossier.objects.create(
                    account=account, dossier=dossier, claimed=claimed, linked_at=now
                )
        except IntegrityError:
            existing = ApplicantDossier.objects.get(dossier=dossier)
    if existing.account_id != account.pk:
        raise DomainError(
            _(
                "This dossier is already in another account. Only the account that claimed "
                "it first sees it."
            ),
            field="code",
            code="claimed_elsewhere",
        )
    return existing
