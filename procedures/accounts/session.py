"""Which applicant this browser session is signed in as (never a django User)."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse

from procedures.accounts.models import ApplicantAccount

SESSION_KEY = "applicant_account_id"
_CACHE = "_applicant_account"


def applicant_login(request, account: ApplicantAccount) -> None:
    # A new session key at sign-in, as django.contrib.auth.login does (no fixation).
    request.session.cycle_key()
    request.session[SESSION_KEY] = account.pk
    setattr(request, _CACHE, account)


def applicant_logout(request) -> None:
    # Everything goes, as django.contrib.auth.logout does: on a shared computer the next
    # person must not find the dossiers opened in this session still open.
    request.session.flush()
    setattr(request, _CACHE, None)


def applicant_current(request) -> ApplicantAccount | None:
    if not hasattr(request, _CACHE):
        account_id = request.session.get(SESSION_KEY)
        account = ApplicantAccount.objects.filter(pk=account_id).first() if account_id else None
        setattr(request, _CACHE, account)
    return getattr(request, _CACHE)


def applicant_required(view):
    """The view gets `request.applicant`; without one, the browser goes to sign in."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        account = applicant_current(request)
        if account is None:
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('accounts:sign-in')}?{query}")
        request.applicant = account
        return view(request, *args, **kwargs)

    return wrapper
