"""Brakes on the public dossier look-up, where a code and an 8-digit PIN open a file.

Two layers (issue item 8):
- `LookupRateThrottle` (here): a DRF throttle, so one address cannot hammer the
  endpoint at all (`DOSSIER_LOOKUP_RATE`, e.g. "30/min"). The address is the one
  every throttle uses (`procedures.core.throttle.client_ip`, `TRUSTED_PROXY_COUNT`).
  A fixed window on the portal's counters (one cache round trip), not DRF's sliding
  history, which reads and rewrites a list of timestamps in two round trips.
- failed code+PIN attempts, counted per dossier code and per address in
  `procedures.core.throttle`, shared with the portal's look-up page.
"""

from __future__ import annotations

import time

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from procedures.core.throttle import Window, client_ip, parse_rate


class LookupRateThrottle(BaseThrottle):
    """At most `DOSSIER_LOOKUP_RATE` requests per address and window; the 429 is DRF's,
    with the true wait until the window ends in its message and in Retry-After.

    The rate is read per request rather than from DEFAULT_THROTTLE_RATES so that it is
    one plainly named setting, overridable per environment and in tests; empty: off.
    """

    def __init__(self) -> None:
        self._wait: int | None = None

    def allow_request(self, request, view) -> bool:
        window = self.window()
        if window is None:
            return True
        now = time.time()
        if window.hit(client_ip(request), now=now) <= window.limit:
            return True
        self._wait = window.seconds_left(now=now)
        return False

    @staticmethod
    def window() -> Window | None:
        """The counter of `DOSSIER_LOOKUP_RATE`, or None when it is off. The look-up view
        bumps it itself, with the failure counters it reads (one round trip)."""
        rate = settings.DOSSIER_LOOKUP_RATE
        if not rate:
            return None
        limit, seconds = parse_rate(rate)
        return Window("api-lookup", limit, seconds)

    def wait(self) -> int | None:
        return self._wait
