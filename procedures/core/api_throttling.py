"""Brakes on the public dossier look-up, where a code and an 8-digit PIN open a file.

Two layers (issue item 8):
- `LookupRateThrottle` (here): DRF's scoped throttle, so one address cannot hammer the
  endpoint at all (`DOSSIER_LOOKUP_RATE`, e.g. "30/min"). The address is the one
  every throttle uses (`procedures.core.throttle.client_ip`, `TRUSTED_PROXY_COUNT`).
- failed code+PIN attempts, counted per dossier code and per address in
  `procedures.core.throttle`, shared with the portal's look-up page.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import ScopedRateThrottle

from procedures.core.throttle import client_ip


class LookupRateThrottle(ScopedRateThrottle):
    """Scoped throttle whose rate is the `DOSSIER_LOOKUP_RATE` setting.

    Read per request rather than from DEFAULT_THROTTLE_RATES so that the rate is one
    plainly named setting, overridable per environment and in tests.
    """

    def get_rate(self) -> str | None:
        return settings.DOSSIER_LOOKUP_RATE or None

    def get_ident(self, request) -> str:
        return client_ip(request)
