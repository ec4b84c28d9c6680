"""The throttle counters on a real Redis: one round trip per check (issue 13 item 1).

`config.cache.hit_counters` bumps the counters and reads the keys of one check in one
pipeline; these tests run it against a redis-server of their own (as
test_redis_down.py does) and count the round trips of a whole look-up.
"""

import time

import pytest
import redis
from django.core.cache import cache
from rest_framework.test import APIClient

from config.cache import hit_counters

from .test_api_lookup import processed as processed_fixture
from .test_redis_down import _fresh_outage_state, own_redis, redis_cache  # noqa: F401

processed = processed_fixture

pytestmark = pytest.mark.django_db

LOOKUP_API = "/api/v1/dossiers/lookup/"


@pytest.fixture
def on_redis(own_redis, settings):  # noqa: F811
    proc, url = own_redis
    settings.CACHES = redis_cache(url)
    settings.DOSSIER_LOOKUP_RATE = "1000/min"
    return redis.Redis.from_url(url)


@pytest.fixture
def round_trips(monkeypatch):
    """Counts single commands and pipelines sent to Redis."""
    sent = []
    single = redis.Redis.execute_command
    pipeline = redis.client.Pipeline.execute

    def count_single(self, *args, **kwargs):
        if not isinstance(self, redis.client.Pipeline):
            sent.append(args[0])
        return single(self, *args, **kwargs)

    def count_pipeline(self, *args, **kwargs):
        sent.append("PIPELINE")
        return pipeline(self, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "execute_command", count_single)
    monkeypatch.setattr(redis.client.Pipeline, "execute", count_pipeline)
    return sent


def test_counters_count_expire_and_read_in_one_round_trip(on_redis, round_trips):
    cache.set("until", 12.5, 60)
    cache.set("seen", 7, 60)
    del round_trips[:]
    counts, values = hit_counters(
        cache, [("a", 30, False), ("b", 3600, True)], ["until", "seen", "missing"]
    )
    assert counts == [1, 1]
    assert values == [12.5, 7, None]
    assert round_trips == ["PIPELINE"]
    counts, _ = hit_counters(cache, [("a", 30, False), ("b", 3600, True)])
    assert counts == [2, 2]
    assert cache.get("a") == 2  # the same keys as the cache's own calls
    names = {key.decode(): key for key in on_redis.keys("*")}
    a = next(k for n, k in names.items() if n.endswith(":a"))
    b = next(k for n, k in names.items() if n.endswith(":b"))
    assert 0 < on_redis.ttl(a) <= 30
    on_redis.expire(b, 10)
    hit_counters(cache, [("b", 3600, True)])
    assert on_redis.ttl(b) > 3000  # a sliding counter's expiry moves with each hit


def test_a_look_up_costs_one_round_trip_and_a_wrong_pin_two(on_redis, processed, round_trips):
    # round_trips after processed: building the catalogue bumps the catalogue cache
    # version (a SET per write), which is not the look-up's cost.
    response = APIClient().post(
        LOOKUP_API, {"code": processed.code, "pin": processed.pin}, format="json"
    )
    assert response.status_code == 200
    # The API's rate counter bumped and the back-off and code counters read in one
    # pipeline; nothing to reset since the code had no failures.
    assert round_trips == ["PIPELINE"]
    del round_trips[:]
    response = APIClient().post(
        LOOKUP_API, {"code": processed.code, "pin": "00000000"}, format="json"
    )
    assert response.status_code == 404
    assert round_trips == ["PIPELINE"] * 2  # + the failure, counted per address and code
    del round_trips[:]
    response = APIClient().post(
        LOOKUP_API, {"code": processed.code, "pin": processed.pin}, format="json"
    )
    assert response.status_code == 200
    assert round_trips == ["PIPELINE", "DEL"]  # the code's failure is wiped


def test_the_api_throttle_answers_429_with_the_wait_on_redis(on_redis, processed, settings):
    settings.DOSSIER_LOOKUP_RATE = "2/min"
    body = {"code": processed.code, "pin": processed.pin}
    for _ in range(2):
        assert APIClient().post(LOOKUP_API, body, format="json").status_code == 200
    refused = APIClient().post(LOOKUP_API, body, format="json")
    assert refused.status_code == 429
    wait = int(refused["Retry-After"])
    assert 1 <= wait <= 60 - int(time.time()) % 60 + 1
    assert "Request was throttled" in refused.json()["detail"]
