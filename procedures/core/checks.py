"""System checks on settings that are choices rather than law.

A typo in one of them would otherwise change a legal figure silently (an unknown
supplement policy used to fall through to "pause").
"""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from procedures.core.constants import SupplementPolicy


@register()
def check_supplement_policy(app_configs, **kwargs) -> list[Error]:
    value = getattr(settings, "SUPPLEMENT_POLICY", None)
    if value in SupplementPolicy.values:
        return []
    return [
        Error(
            f"SUPPLEMENT_POLICY is {value!r}; it must be one of "
            f"{', '.join(repr(v) for v in SupplementPolicy.values)}.",
            hint="Set SUPPLEMENT_POLICY=restart (Decree 61/2018 art. 19(4) as amended) "
            "or SUPPLEMENT_POLICY=pause in the environment.",
            id="procedures.E001",
        )
    ]


@register()
def check_signing_certificate(app_configs, **kwargs) -> list[Warning]:
    """A configured certificate or key that does not load leaves every PDF unsigned.

    A warning, not an error: `make run` migrates before it creates the development
    certificate, and an error would stop every management command."""
    from procedures.core.signing import SigningError, signer_load, signing_configured

    if not signing_configured():
        return []
    try:
        signer_load()
    except SigningError as exc:
        return [
            Warning(
                str(exc),
                hint="Fix SIGNING_CERT_FILE, SIGNING_KEY_FILE and SIGNING_KEY_PASSPHRASE, or "
                "run `manage.py generate_signing_cert` for a development certificate.",
                id="procedures.W011",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_signing_configured(app_configs, **kwargs) -> list[Warning]:
    from procedures.core.signing import signing_configured

    if signing_configured():
        return []
    return [
        Warning(
            "No signing certificate is configured: results and slips are issued without "
            "the department's digital signature.",
            hint="Set SIGNING_CERT_FILE, SIGNING_KEY_FILE and SIGNING_KEY_PASSPHRASE "
            "(README, 'Signing results').",
            id="procedures.W010",
        )
    ]
