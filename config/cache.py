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
across requests (https://redis-py.readthedocs.io/en/stable/connections.html). Django
also builds a new `redis.Redis` object for every call; the one here is built once per
pool and reused (a `redis.Redis` over a pool is safe to share between threads).

`hit_counters` does what the throttles need in one round trip: increment a few
fixed-window counters (created with their expiry when absent) and read a few keys, in
one pipeline, instead of an add, an incr, a touch and a get each.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger("config.cache")

FALLBACK_SECONDS = 30

_clients: dict[tuple, RedisCacheClient] = {}
_redis: dict[tuple, Any] = {}
_clients_lock = threading.Lock()
_state = {"down_until": 0.0}


def _local() -> LocMemCache:
    # LocMemCache instances of one name share their storage within the process.
    return LocMemCache("redis-fallback", {"TIMEOUT": 300, "OPTIONS": {"MAX_ENTRIES": 10000}})


def _redis_failed(exc: RedisError) -> None:
    if _state["down_until"] == 0.0:
        logger.warning(
            "Redis cache unavailable (%s: %s); using a local in-process cache "
            "for %d s at a time until it answers again.",
            type(exc).__name__,
            exc,
            FALLBACK_SECONDS,
        )
    _state["down_until"] = time.monotonic() + FALLBACK_SECONDS


def _fallback(name: str):
    def method(self, *args, **kwargs):
        if time.monotonic() < _state["down_until"]:
            return getattr(_local(), name)(*args, **kwargs)
        try:
            result = getattr(RedisCache, name)(self, *args, **kwargs)
        except RedisError as exc:
            _redis_failed(exc)
            return getattr(_local(), name)(*args, **kwargs)
        if _state["down_until"]:
            redis_recovered()
        return result

    method.__name__ = name
    return method


# (key, seconds, sliding): a counter that starts at 0 and lives `seconds` from its
# creation, or from its latest increment when `sliding`.
Counter = tuple[str, int, bool]


def hit_counters(
    cache: BaseCache, counters: Sequence[Counter], reads: Sequence[str] = ()
) -> tuple[list[int], list[Any]]:
    """Increment `counters` and read `reads`: (the new counts, the values or None).

    One round trip on `FallbackRedisCache`; on any other cache (local memory in tests
    and development) the same result from its ordinary methods.
    """
    own = getattr(cache, "hit_counters", None)
    if own is not None:
        return own(counters, reads)
    return _hit_counters_plainly(cache, counters, reads)


def _hit_counters_plainly(
    cache: BaseCache, counters: Sequence[Counter], reads: Sequence[str]
) -> tuple[list[int], list[Any]]:
    counts = []
    for key, seconds, sliding in counters:
        cache.add(key, 0, timeout=seconds)  # a no-op when the counter exists
        try:
            counts.append(cache.incr(key))
        except ValueError:  # expired between add() and incr()
            cache.set(key, 1, timeout=seconds)
            counts.append(1)
        if sliding:
            cache.touch(key, seconds)
    found = cache.get_many(list(reads)) if reads else {}
    return counts, [found.get(key) for key in reads]


class FallbackRedisCache(RedisCache):
    """`django.core.cache.backends.redis.RedisCache` that falls back to local memory."""

    def _pool_key(self) -> tuple:
        key = self.__dict__.get("_pool_key_value")
        if key is None:
            options = tuple(sorted((k, repr(v)) for k, v in self._options.items()))
            key = self.__dict__["_pool_key_value"] = (tuple(self._servers), options)
        return key

    @property
    def _cache(self) -> RedisCacheClient:
        key = self._pool_key()
        client = _clients.get(key)
        if client is None:
            with _clients_lock:
                client = _clients.get(key)
                if client is None:
                    client = _clients[key] = self._class(self._servers, **self._options)
        return client

    def _redis(self):
        """The process's one `redis.Redis` over the writer pool of this location."""
        key = self._pool_key()
        client = _redis.get(key)
        if client is None:
            built = self._cache.get_client(write=True)  # takes _clients_lock itself
            with _clients_lock:
                client = _redis.setdefault(key, built)
        return client

    def hit_counters(
        self, counters: Sequence[Counter], reads: Sequence[str] = ()
    ) -> tuple[list[int], list[Any]]:
        """`hit_counters` in one pipeline: SET NX EX + INCR (+ EXPIRE) per counter,
        one MGET for the reads. Not a transaction: each INCR is atomic on its own,
        which is all a fixed window needs."""
        if time.monotonic() < _state["down_until"]:
            return _hit_counters_plainly(_local(), counters, reads)
        pipe = self._redis().pipeline(transaction=False)
        for key, seconds, sliding in counters:
            name = self.make_and_validate_key(key)
            pipe.set(name, 0, ex=seconds, nx=True)
            pipe.incr(name)
            if sliding:
                pipe.expire(name, seconds)
        if reads:
            pipe.mget([self.make_and_validate_key(key) for key in reads])
        try:
            replies = pipe.execute()
        except RedisError as exc:
            _redis_failed(exc)
            return _hit_counters_plainly(_local(), counters, reads)
        if _state["down_until"]:
            redis_recovered()
        counts, at = [], 0
        for _key, _seconds, sliding in counters:
            counts.append(int(replies[at + 1]))
            at += 3 if sliding else 2
        values = []
        if reads:
            loads = self._cache._serializer.loads
            values = [None if raw is None else loads(raw) for raw in replies[at]]
        return counts, values

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
