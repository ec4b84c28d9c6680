"""Counting attempts of the public pages in the cache (Redis in production).

Fixed windows: the counter for a key lives for the window, and `incr` is atomic in
Redis, so two web processes never both let the N+1th attempt through. The keys hold
a hash of what the visitor typed, never the text itself (cache keys have a charset).

The portal's look-up page and the API's look-up share these counters, so switching
between them gains a guesser nothing. Look-up counts failures both per IP (one visitor guessing many PINs) and per dossier
code (many addresses guessing one PIN): an 8-digit PIN and 5 failures per 15 minutes
leave a guesser ~50 years on average. The price is that someone who knows a code can
lock its owner out for a window; the desk can still look the dossier up.
"""
from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


def client_ip(request) -> str:
    """The visitor's address: REMOTE_ADDR, or the last hop our proxy appended."""
    header = settings.PORTAL_CLIENT_IP_HEADER
    if header:
        forwarded = request.META.get(header, "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-1]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


@dataclass(frozen=True)
class Window:
    scope: str
    limit: int
    seconds: int

    def _bucket(self, key: str, now: float) -> tuple[str, float]:
        index = int(now // self.seconds)
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        return f"portal-throttle:{self.scope}:{digest}:{index}", (index + 1) * self.seconds

    def count(self, key: str, *, now: float | None = None) -> int:
        bucket, _ = self._bucket(key, time.time() if now is None else now)
        return int(cache.get(bucket, 0))

    def hit(self, key: str, *, now: float | None = None) -> int:
        now = time.time() if now is None else now
        bucket, _ = self._bucket(key, now)
        # add() is a no-op when the counter exists; incr() is atomic in Redis.
        cache.add(bucket, 0, timeout=self.seconds + 1)
        try:
            return cache.incr(bucket)
        except ValueError:  # expired between add() and incr()
            cache.set(bucket, 1, timeout=self.seconds + 1)
            return 1

    def reset(self, key: str, *, now: float | None = None) -> None:
        bucket, _ = self._bucket(key, time.time() if now is None else now)
        cache.delete(bucket)

    def exceeded(self, key: str, *, now: float | None = None) -> bool:
        return self.count(key, now=now) >= self.limit

    def minutes_left(self, *, now: float | None = None) -> int:
        now = time.time() if now is None else now
        _, ends = self._bucket("", now)
        return max(1, math.ceil((ends - now) / 60))


def submit_window() -> Window:
    return Window("submit-ip", settings.PORTAL_SUBMIT_MAX_PER_IP,
                  settings.PORTAL_SUBMIT_WINDOW_MINUTES * 60)


def lookup_windows() -> tuple[Window, Window]:
    seconds = settings.PORTAL_LOOKUP_WINDOW_MINUTES * 60
    return (
        Window("lookup-ip", settings.PORTAL_LOOKUP_MAX_FAILURES_PER_IP, seconds),
        Window("lookup-code", settings.PORTAL_LOOKUP_MAX_FAILURES_PER_CODE, seconds),
    )


def _code_key(code: str) -> str:
    return (code or "").strip().upper()


def submission_throttled(request) -> int | None:
    """Count one submission attempt; minutes to wait when over the limit, else None."""
    window = submit_window()
    ip = client_ip(request)
    if window.exceeded(ip):
        return window.minutes_left()
    window.hit(ip)
    return None


def lookup_blocked(request, *, code: str) -> int | None:
    """Minutes to wait when this IP or this code has failed too often, else None."""
    by_ip, by_code = lookup_windows()
    if by_ip.exceeded(client_ip(request)) or by_code.exceeded(_code_key(code)):
        return by_ip.minutes_left()
    return None


def lookup_failed(request, *, code: str) -> None:
    by_ip, by_code = lookup_windows()
    by_ip.hit(client_ip(request))
    by_code.hit(_code_key(code))


def lookup_succeeded(*, code: str) -> None:
    """The owner proved the PIN: earlier typos on this code no longer count."""
    _, by_code = lookup_windows()
    by_code.reset(_code_key(code))
