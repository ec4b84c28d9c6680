"""The Redis cache, with a local fallback so that public requests never depend on Redis.

The cache holds nothing that must survive: throttle counters (portal forms, the DRF
look-up throttle) and the like. When Redis refuses, times out or is frozen, a request
must still be served (issue 14 item 3: a submission was lost and the look-up answered
500 while Redis was down). Every operation that fails with a Redis error is done on a
per-process local-memory cache instead, with one logged warning per outage; for
`FALLBACK_SECONDS` after a failure the process does not try Redis again, so a frozen
Redis costs at most one socket timeout per process per period, not one per call.

Counters kept locally are per process, so limits are looser while Redis is down (each
worker counts on its own); they are never off.

Django's client keeps one connection pool per cache object, and cache objects are per
thread; the pools here are per process and shared by threads, so connections are reused
across requests (https://redis-py.readthedocs.io/en/stable/connections.html).
"""

from __future__ import annotations

import logging
import threading
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger("config.cache")

FALLBACK_SECONDS = 30

_clients: dict[tuple, RedisCacheClient] = {}
_clients_lock = threading.Lock()
_state = {"down_until": 0.0}


def _local() -> LocMemCache:
    # LocMemCache instances of one name share their storage within the process.
    return LocMemCache("redis-fallback", {"TIMEOUT": 300, "OPTIONS": {"MAX_ENTRIES": 10000}})


def _fallback(name: str):
    def method(self, *args, **kwargs):
        if time.monotonic() < _state["down_until"]:
            return getattr(_local(), name)(*args, **kwargs)
        try:
            result = getattr(RedisCache, name)(self, *args, **kwargs)
        except RedisError as exc:
            if _state["down_until"] == 0.0:
                logger.warning(
                    "Redis cache unavailable (%s: %s); using a local in-process cache "
                    "for %d s at a time until it answers again.",
                    type(exc).__name__,
                    exc,
                    FALLBACK_SECONDS,
                )
            _state["down_until"] = time.monotonic() + FALLBACK_SECONDS
            return getattr(_local(), name)(*args, **kwargs)
        if _state["down_until"]:
            redis_recovered()
        return result

    method.__name__ = name
    return method


class FallbackRedisCache(RedisCache):
    """`django.core.cache.backends.redis.RedisCache` that falls back to local memory."""

    @property
    def _cache(self) -> RedisCacheClient:
        key = (tuple(self._servers), tuple(sorted((k, repr(v)) for k, v in self._options.items())))
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = self._class(self._servers, **self._options)
        return client

    get = _fallback("get")
    get_many = _fallback("get_many")
    set = _fallback("set")
    set_many = _fallback("set_many")
    add = _fallback("add")
    touch = _fallback("touch")
    delete = _fallback("delete")
    delete_many = _fallback("delete_many")
    has_key = _fallback("has_key")
    incr = _fallback("incr")
    clear = _fallback("clear")


def redis_recovered() -> None:
    """Forget an outage (tests, and a process that knows Redis is back)."""
    if _state["down_until"]:
        logger.warning("Redis cache answers again; the local fallback is no longer used.")
    _state["down_until"] = 0.0
