"""System checks on settings that are choices rather than law.

A typo in one of them would otherwise change a legal figure silently (an unknown
supplement policy used to fall through to "pause").
"""

from django.conf import settings
from django.core.checks import Error, register

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
