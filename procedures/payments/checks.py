"""System checks on the payment and national sync settings: a half-configured adapter
would refuse every payment, or silently send nothing, only once applicants use it."""

from django.conf import settings
from django.core.checks import Error, Warning, register

from procedures.payments.gateway import NATIONAL, STANDIN


@register()
def check_payment_settings(app_configs, **kwargs) -> list:
    gateway = getattr(settings, "PAYMENT_GATEWAY", "")
    problems: list = []
    if gateway and not getattr(settings, "PAYMENT_SECRET", ""):
        problems.append(
            Error(
                f"PAYMENT_GATEWAY is {gateway!r} but PAYMENT_SECRET is empty.",
                hint="Set PAYMENT_SECRET to the shared secret given by the payment platform.",
                id="procedures.E101",
            )
        )
    if gateway == NATIONAL and not getattr(settings, "PAYMENT_GATEWAY_URL", ""):
        problems.append(
            Error(
                "PAYMENT_GATEWAY is 'national' but PAYMENT_GATEWAY_URL is empty.",
                hint="Set PAYMENT_GATEWAY_URL to the national payment platform's address.",
                id="procedures.E102",
            )
        )
    if gateway == STANDIN and getattr(settings, "SECURE_SSL_REDIRECT", False):
        # Production settings turn on the HTTPS redirect; the stand-in confirms
        # payments without any money moving.
        problems.append(
            Warning(
                "PAYMENT_GATEWAY is 'standin' on what looks like a production server.",
                hint="The stand-in confirms payments without money: set PAYMENT_GATEWAY to "
                "'national' or leave it empty.",
                id="procedures.W103",
            )
        )
    if getattr(settings, "NATIONAL_SYNC_ENABLED", False) and not (
        getattr(settings, "NATIONAL_SYNC_URL", "") and getattr(settings, "NATIONAL_SYNC_TOKEN", "")
    ):
        problems.append(
            Error(
                "NATIONAL_SYNC_ENABLED is on but NATIONAL_SYNC_URL or NATIONAL_SYNC_TOKEN "
                "is empty.",
                hint="Set both, as given by the national public-service portal.",
                id="procedures.E104",
            )
        )
    return problems
