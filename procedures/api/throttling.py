"""Brakes on the public dossier look-up, where a code and an 8-digit PIN open a file.

Two layers (issue item 8):
- `LookupRateThrottle`: DRF's scoped throttle, so one address cannot hammer the
  endpoint at all (`DOSSIER_LOOKUP_RATE`, e.g. "20/min").
- `LookupLockout`: failed code+PIN pairs are counted per dossier code and client
  address; after `DOSSIER_LOOKUP_MAX_FAILURES` within the window the pair is refused for
  `DOSSIER_LOOKUP_LOCKOUT_MINUTES`, even with the right PIN. Guessing a PIN of one
  dossier from one address therefore costs minutes per handful of tries.

Both live in the default cache (Redis in production, shared by every worker). The
client address is DRF's `get_ident`, which trusts X-Forwarded-For only as far as
`REST_FRAMEWORK["NUM_PROXIES"]` says: set it to the number of reverse proxies.
"""
from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import ScopedRateThrottle


class LookupRateThrottle(ScopedRateThrottle):
    """Scoped throttle whose rate is the `DOSSIER_LOOKUP_RATE` setting.

    Read per request rather than from DEFAULT_THROTTLE_RATES so that the rate is one
    plainly named setting, overridable per environment and in tests.
    """

    def get_rate(self) -> str | None:
        return settings.DOSSIER_LOOKUP_RATE or None


def client_ident(request) -> str:
    return LookupRateThrottle().get_ident(request) or "unknown"


class LookupLockout:
    """Failed attempts for one dossier code from one client address."""

    def __init__(self, *, code: str, ident: str):
        digest = hashlib.sha256(f"{code.strip().upper()}|{ident}".encode()).hexdigest()
        self.fail_key = f"dossier-lookup:fail:{digest}"
        self.lock_key = f"dossier-lookup:lock:{digest}"

    @staticmethod
    def _seconds() -> int:
        return max(1, int(settings.DOSSIER_LOOKUP_LOCKOUT_MINUTES * 60))

    def locked_for(self) -> int:
        """Seconds left of a lockout, 0 when the pair may try."""
        until = cache.get(self.lock_key)
        if until is None:
            return 0
        return max(1, math.ceil(until - time.time()))

    def record_failure(self) -> bool:
        """Count one failure; True when this failure starts a lockout."""
        window = self._seconds()
        if cache.add(self.fail_key, 1, window):
            count = 1
        else:
            try:
                count = cache.incr(self.fail_key)
            except ValueError:  # the window expired between add() and incr()
                cache.set(self.fail_key, 1, window)
                count = 1
        if count >= settings.DOSSIER_LOOKUP_MAX_FAILURES:
            cache.set(self.lock_key, time.time() + window, window)
            cache.delete(self.fail_key)
            return True
        return False

    def reset(self) -> None:
        cache.delete(self.fail_key)
