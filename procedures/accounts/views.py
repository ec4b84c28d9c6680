"""Sign-in through OpenID Connect, sign-out, and the applicant's own dossiers."""

from __future__ import annotations

import requests
from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from procedures.accounts import selectors, services
from procedures.accounts.oidc import SignInError, oidc_client, oidc_enabled, oidc_finish
from procedures.accounts.session import (
    applicant_login,
    applicant_logout,
    applicant_required,
)
from procedures.core.errors import DomainError
from procedures.portal.forms import LookupForm
from procedures.portal.views.common import access_grant
from procedures.portal.views.lookup import lookup_check_pin

NEXT_KEY = "applicant_sign_in_next"
LANGUAGE_KEY = "applicant_sign_in_language"


def _safe_next(request, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return reverse("accounts:my-dossiers")


def _require_enabled() -> None:
    if not oidc_enabled():
        raise Http404(_("Sign-in with an account is not available on this site."))


@never_cache
def sign_in(request):
    """Off to the identity provider (a top-level redirect; nothing is posted to it)."""
    _require_enabled()
    request.session[NEXT_KEY] = _safe_next(request, request.GET.get("next"))
    request.session[LANGUAGE_KEY] = translation.get_language()
    redirect_uri = settings.OIDC_REDIRECT_URI or request.build_absolute_uri(
        reverse("oidc-callback")
    )
    try:
        return oidc_client().authorize_redirect(request, redirect_uri)
    except requests.RequestException:  # discovery failed: the provider is down
        return _failed(
            request,
            SignInError(
                _("The identity provider could not be reached. Try again in a few minutes."),
                code="unreachable",
            ),
            status=503,
        )


def _failed(request, error: SignInError, *, status: int = 400):
    return render(
        request,
        "procedures/accounts/sign_in_failed.html",
        {"error": error.message},
        status=status,
    )


@never_cache
def callback(request):
    _require_enabled()
    # The callback has one address for every language (the provider knows only one),
    # so it answers in the language of the page the sign-in started from.
    language = request.session.get(LANGUAGE_KEY) or translation.get_language()
    with translation.override(language):
        try:
            identity = oidc_finish(request)
        except SignInError as error:
            return _failed(request, error)
        account = services.account_sign_in(identity=identity)
        target = request.session.pop(NEXT_KEY, None)
        applicant_login(request, account)
        messages.success(
            request,
            _("You are signed in as %(name)s.") % {"name": account.name or account.subject},
        )
        return redirect(_safe_next(request, target))


@require_POST
def sign_out(request):
    applicant_logout(request)
    messages.info(request, _("You are signed out."))
    return redirect("procedures:home")


@never_cache
@applicant_required
def my_dossiers(request):
    account = request.applicant
    status = 200
    form = LookupForm()
    if request.method == "POST":
        form = LookupForm(request.POST)
        dossier, status, _wait = lookup_check_pin(request, form)
        if dossier is not None:
            try:
                services.account_link_dossier(account=account, dossier=dossier, claimed=True)
            except DomainError as exc:
                form.add_error("code", exc.message)
                status = 400
            else:
                messages.success(
                    request,
                    _("Dossier %(code)s is now in your account.") % {"code": dossier.code},
                )
                return redirect("accounts:my-dossiers")
    return render(
        request,
        "procedures/accounts/my_dossiers.html",
        {"dossiers": selectors.account_dossiers(account=account), "claim_form": form},
        status=status,
    )


@never_cache
@applicant_required
def open_dossier(request, code: str):
    """The status page of one of the account's own dossiers, without the PIN."""
    dossier = selectors.account_dossier(account=request.applicant, code=code)
    if dossier is None:
        raise Http404(_("This dossier is not in your account."))
    access_grant(request, dossier_id=dossier.pk)
    return redirect("procedures:lookup-dossier", code=dossier.code)
