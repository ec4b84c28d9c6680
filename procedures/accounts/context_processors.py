from django.conf import settings

from procedures.accounts.oidc import oidc_enabled
from procedures.accounts.session import applicant_current


def applicant(request):
    """The signed-in applicant and whether the sign-in button is shown, on every page."""
    return {
        "applicant_account": applicant_current(request),
        "applicant_sign_in_enabled": oidc_enabled(),
        "applicant_sign_in_provider": settings.OIDC_PROVIDER_NAME,
    }
