"""Rate limits of the public pages and API, counted in the cache (Redis in production).

One mechanism for every public form (online submission, supplement upload, rating,
dialogue registration, dialogue recommendation, registration manage/cancel) and for
the look-up; the API's look-up shares the look-up counters, so switching between page
and API gains a guesser nothing. django-ratelimit was considered: it has no back-off,
cannot tell the true remaining wait, and lets a Redis error through; these counters
are plain cache calls, and the cache falls back to local memory when Redis is down
(config/cache.py), so a public request never fails on the throttle.

Forms (`PORTAL_RATE_LIMITS`): every POST counts as an *attempt* (a higher limit that
stops floods of junk), and only a completed one counts as a *success* (the quota an
honest applicant cares about: typos and refused files do not eat it).

Look-up: a wrong code+PIN makes the *address* wait, doubling with every failure past a
few free ones (30 s, 1 min, 2 min ... up to an hour), and counts against the *code*
with a much higher limit per window. A guesser on one address gets a handful of
guesses an hour; many addresses guessing one code are stopped by the per-code limit
(50 an hour against 10^8 PINs: centuries on average), which is high enough that a
stranger typing wrong PINs does not lock the owner out: the owner's own address has
no back-off, and the per-code window is short. Codes are sequential and so known;
the PIN is the secret.

Fixed windows: a counter lives for its window, and `incr` is atomic in Redis, so two
web processes never both let the N+1th attempt through. Keys hold a hash of what the
visitor typed, never the text itself (cache keys have a charset).

Cost: every check is one cache round trip (`config.cache.hit_counters`: the counters a
request bumps and the ones it reads go in one Redis pipeline). A look-up that opens a
dossier costs one (the check; nothing to reset when the code had no failures), a
failed one two, and a third only when the address starts waiting.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy, ngettext

from config.cache import Counter, hit_counters


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip_or_none(request) -> str | None:
    """The visitor's address, the one all throttles and the staff lock-out count.

    With `TRUSTED_PROXY_COUNT` = 0 (no proxy) it is REMOTE_ADDR, and any
    X-Forwarded-For a client sends is ignored. Behind N proxies that each append to
    X-Forwarded-For, it is the Nth entry from the right: the address our outermost
    proxy saw; whatever the client wrote to the left of it is not trusted. This is
    DRF's rule for NUM_PROXIES, which is set from the same setting. Anything that is
    not an IP address counts as the proxy's own address. None when there is none at
    all (a request built in code), which django-axes stores as such.
    """
    remote = _valid_ip(request.META.get("REMOTE_ADDR", "") or "")
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if hops:
            return _valid_ip(hops[-min(count, len(hops))]) or remote
    return remote


def client_ip(request) -> str:
    return client_ip_or_none(request) or "unknown"


_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\w*\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "20/h" -> (20, 3600); "5/10m" -> (5, 600). DRF's syntax plus a multiplier."""
    match = _RATE.match(rate or "")
    if not match:
        raise ValueError(f"Not a rate: {rate!r} (expected e.g. '20/h' or '5/10m')")
    count, multiplier, unit = match.groups()
    return int(count), int(multiplier or 1) * _UNIT_SECONDS[unit]


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Window:
    scope: str
    limit: int
    seconds: int

    def _bucket(self, key: str, now: float) -> tuple[str, float]:
        index = int(now // self.seconds)
        return f"portal-throttle:{self.scope}:{_digest(key)}:{index}", (index + 1) * self.seconds

    def bucket(self, key: str, *, now: float) -> str:
        """The cache key of `key`'s counter in the window that holds `now`."""
        return self._bucket(key, now)[0]

    def counter(self, key: str, *, now: float) -> Counter:
        return self.bucket(key, now=now), self.seconds + 1, False

    def count(self, key: str, *, now: float | None = None) -> int:
        bucket, _ = self._bucket(key, time.time() if now is None else now)
        return int(cache.get(bucket, 0))

    def hit(self, key: str, *, now: float | None = None) -> int:
        now = time.time() if now is None else now
        (count,), _ = hit_counters(cache, [self.counter(key, now=now)])
        return count

    def reset(self, key: str, *, now: float | None = None) -> None:
        bucket, _ = self._bucket(key, time.time() if now is None else now)
        cache.delete(bucket)

    def exceeded(self, key: str, *, now: float | None = None) -> bool:
        return self.count(key, now=now) >= self.limit

    def seconds_left(self, *, now: float | None = None) -> int:
        """The true wait until this window ends and its counter starts again."""
        now = time.time() if now is None else now
        _, ends = self._bucket("", now)
        return max(1, math.ceil(ends - now))


def wait_text(seconds: int) -> str:
    """ "45 seconds", "3 minutes": the wait as the visitor reads it, rounded up."""
    if seconds < 60:
        return ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}
    minutes = math.ceil(seconds / 60)
    return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}


# ----------------------------------------------------------------- public forms

TOO_MANY_REQUESTS = gettext_lazy("Too many requests from your connection. Try again in %(wait)s.")


def _form_windows(form: str) -> tuple[Window | None, Window | None]:
    rates = settings.PORTAL_RATE_LIMITS[form]
    out = []
    for kind in ("attempts", "successes"):
        if rates.get(kind):
            limit, seconds = parse_rate(rates[kind])
            out.append(Window(f"{form}-{kind}", limit, seconds))
        else:
            out.append(None)
    return out[0], out[1]


def form_blocked(request, form: str) -> int | None:
    """Count one attempt at a public form; seconds to wait when over a limit, else None.

    Refused when this attempt is over the attempts limit, or when the address has used
    up its quota of completed ones (which `form_succeeded` counts).
    """
    attempts, successes = _form_windows(form)
    ip = client_ip(request)
    now = time.time()
    # One round trip: bump the attempts, read the successes.
    counts, done = hit_counters(
        cache,
        [attempts.counter(ip, now=now)] if attempts is not None else [],
        [successes.bucket(ip, now=now)] if successes is not None else [],
    )
    if attempts is not None and counts[0] > attempts.limit:
        return attempts.seconds_left(now=now)
    if successes is not None and int(done[0] or 0) >= successes.limit:
        return successes.seconds_left(now=now)
    return None


def form_succeeded(request, form: str) -> None:
    """The form did its work (a dossier saved, a registration made): count it."""
    _attempts, successes = _form_windows(form)
    if successes is not None:
        successes.hit(client_ip(request))


def retry_after(response, seconds: int):
    """Tell browsers and scripts the same wait the page shows (RFC 9110 s. 10.2.3)."""
    response["Retry-After"] = str(int(seconds))
    return response


# ----------------------------------------------------------------- look-up


def _code_key(code: str) -> str:
    return (code or "").strip().upper()


def lookup_code_window() -> Window:
    return Window(
        "lookup-code",
        settings.PORTAL_LOOKUP_MAX_FAILURES_PER_CODE,
        settings.PORTAL_LOOKUP_WINDOW_MINUTES * 60,
    )


def _backoff_keys(ip: str) -> tuple[str, str]:
    digest = _digest(ip)
    return f"portal-backoff:lookup-ip:{digest}:n", f"portal-backoff:lookup-ip:{digest}:until"


def backoff_seconds(failures: int) -> int:
    """The wait after the nth failure from one address: 0 for the free ones, then
    PORTAL_LOOKUP_BACKOFF_SECONDS doubling each time, capped."""
    over = failures - settings.PORTAL_LOOKUP_FREE_FAILURES
    if over <= 0:
        return 0
    cap = settings.PORTAL_LOOKUP_BACKOFF_MAX_SECONDS
    # 2**over overflows nothing in Python, but keep the number small anyway.
    return min(cap, settings.PORTAL_LOOKUP_BACKOFF_SECONDS * 2 ** min(over - 1, 30))


def lookup_blocked(request, *, code: str) -> int | None:
    """Seconds this address must still wait, or this code is closed for, else None."""
    return lookup_check(request, code=code)[1]


def lookup_check(
    request, *, code: str | None, rate: Window | None = None
) -> tuple[int | None, int | None]:
    """One round trip for the look-up API: count this request against `rate` (the API's
    per-address limit), and read what `lookup_blocked` reads for `code` (None: the
    request named no valid code, only the rate counts). Returns the seconds to wait for
    the rate limit (None: within it) and for the look-up's back-off or closed code."""
    now = time.time()
    ip = client_ip(request)
    counters = [rate.counter(ip, now=now)] if rate is not None else []
    if code is None:
        counts, _ = hit_counters(cache, counters)
        return _over(rate, counts, now), None
    _n, until_key = _backoff_keys(ip)
    by_code = lookup_code_window()
    code_bucket = by_code.bucket(_code_key(code), now=now)
    counts, (until, failures) = hit_counters(cache, counters, [until_key, code_bucket])
    # Remembered for lookup_succeeded: no failures on this code, nothing to reset.
    request._lookup_code_failures = (_code_key(code), int(failures or 0))
    waits = []
    if until is not None and float(until) > now:
        waits.append(math.ceil(float(until) - now))
    if int(failures or 0) >= by_code.limit:
        waits.append(by_code.seconds_left(now=now))
    return _over(rate, counts, now), max(waits) if waits else None


def _over(rate: Window | None, counts: list[int], now: float) -> int | None:
    if rate is None or counts[0] <= rate.limit:
        return None
    return rate.seconds_left(now=now)


def lookup_failed(request, *, code: str) -> int:
    """Count a wrong code+PIN; returns the seconds the address must now wait (0: none)."""
    now = time.time()
    n_key, until_key = _backoff_keys(client_ip(request))
    # The address's count is forgotten only after a quiet day, not mid-guessing: its
    # expiry moves with every failure.
    memory = settings.PORTAL_LOOKUP_FORGET_HOURS * 3600
    (failures, _by_code), _ = hit_counters(
        cache, [(n_key, memory, True), lookup_code_window().counter(_code_key(code), now=now)]
    )
    wait = backoff_seconds(failures)
    if wait:
        cache.set(until_key, now + wait, timeout=wait + 1)
    return wait


def lookup_succeeded(*, code: str, request=None) -> None:
    """The owner proved the PIN: earlier typos on this code no longer count.

    The address's back-off stays: a guesser who owns one dossier must not be able to
    wipe it by opening their own. Given the request that `lookup_blocked` checked, no
    cache call at all when that check saw no failures on this code.
    """
    seen = getattr(request, "_lookup_code_failures", None)
    if seen is not None and seen == (_code_key(code), 0):
        return
    lookup_code_window().reset(_code_key(code))
