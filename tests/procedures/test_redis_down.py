"""Public requests do not depend on Redis (issue 14 item 3).

With the production cache (config.cache.FallbackRedisCache) pointing at a Redis that is
down, stopped or frozen, an online submission is saved and acknowledged, the look-up
page and API answer, and a warning is logged; the throttles go on counting locally.
"""

import logging
import signal
import time

import pytest
import redis
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from config import cache as fallback
from procedures.models import Dossier
from tests.servers import free_port, redis_server, redis_server_answering, redis_server_needed

from .test_portal_submission import _english, form_data, submit_url  # noqa: F401
from .test_portal_submission import online_procedure as online_procedure_fixture

online_procedure = online_procedure_fixture

# Each test times a request against a 0.5 s socket timeout: run alone (`make test`).
pytestmark = [pytest.mark.django_db, pytest.mark.serial]


def redis_cache(url: str) -> dict:
    production = {
        "BACKEND": "config.cache.FallbackRedisCache",
        "LOCATION": url,
        "KEY_PREFIX": "motcua",
        "OPTIONS": {
            "socket_connect_timeout": 0.5,
            "socket_timeout": 0.5,
            "health_check_interval": 30,
        },
    }
    return {"default": production}


@pytest.fixture(autouse=True)
def _fresh_outage_state():
    fallback.redis_recovered()
    fallback._local().clear()
    yield
    fallback.redis_recovered()
    fallback._local().clear()


@pytest.fixture
def own_redis():
    """A redis-server of this test's own on a free port, which the test stops or freezes."""
    redis_server_needed()
    port = free_port()
    proc = redis_server(port)
    url = f"redis://127.0.0.1:{port}/0"
    redis_server_answering(url, proc)
    yield proc, url
    if proc.poll() is None:
        proc.send_signal(signal.SIGCONT)
        proc.terminate()
        proc.wait(10)


def submit_and_look_up(client, procedure) -> Dossier:
    started = time.monotonic()
    response = client.post(submit_url(procedure), form_data(procedure))
    assert response.status_code == 302, response.content[:500]
    dossier = Dossier.objects.get()
    receipt = client.get(response["Location"])
    assert receipt.status_code == 200
    pin = receipt.context["pin"]
    page = client.post(reverse("procedures:lookup"), {"code": dossier.code, "pin": pin})
    assert page.status_code == 302
    assert client.get(page["Location"]).status_code == 200
    api = APIClient().post(
        "/api/v1/dossiers/lookup/", {"code": dossier.code, "pin": pin}, format="json"
    )
    assert api.status_code == 200
    assert api.json()["code"] == dossier.code
    # A wrong PIN is still counted, locally.
    assert (
        APIClient()
        .post("/api/v1/dossiers/lookup/", {"code": dossier.code, "pin": "1"}, format="json")
        .status_code
        == 404
    )
    assert time.monotonic() - started < 10
    return dossier


def test_with_nothing_listening_on_the_redis_port_the_public_is_served(
    client, online_procedure, settings, caplog
):
    settings.CACHES = redis_cache(f"redis://127.0.0.1:{free_port()}/0")
    with caplog.at_level(logging.WARNING, logger="config.cache"):
        dossier = submit_and_look_up(client, online_procedure)
    assert dossier.applicant_name == "Nguyễn Thị Bình"
    warnings = [r for r in caplog.records if r.name == "config.cache"]
    assert len(warnings) == 1  # once per outage, not once per call
    assert "Redis cache unavailable" in warnings[0].getMessage()


def test_a_stopped_redis_server_fails_over_to_the_local_cache(
    own_redis, client, online_procedure, settings, caplog
):
    proc, url = own_redis
    settings.CACHES = redis_cache(url)
    cache.set("probe", "in redis", 60)
    assert redis.Redis.from_url(url).keys("*probe*")  # really stored in our redis
    proc.terminate()
    proc.wait(10)
    with caplog.at_level(logging.WARNING, logger="config.cache"):
        submit_and_look_up(client, online_procedure)
    assert any("Redis cache unavailable" in r.getMessage() for r in caplog.records)


def test_a_frozen_redis_costs_a_request_at_most_the_socket_timeout(
    own_redis, client, online_procedure, settings, caplog
):
    proc, url = own_redis
    settings.CACHES = redis_cache(url)
    cache.set("probe", 1, 60)  # the pool holds a live connection now
    proc.send_signal(signal.SIGSTOP)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="config.cache"):
        response = client.post(submit_url(online_procedure), form_data(online_procedure))
    assert response.status_code == 302
    assert time.monotonic() - started < 3
    assert Dossier.objects.count() == 1
    assert any("TimeoutError" in r.getMessage() for r in caplog.records)


def test_the_limits_still_hold_while_redis_is_down(client, online_procedure, settings):
    settings.CACHES = redis_cache(f"redis://127.0.0.1:{free_port()}/0")
    settings.PORTAL_RATE_LIMITS = {
        **settings.PORTAL_RATE_LIMITS,
        "submit": {"attempts": "10/h", "successes": "1/h"},
    }
    assert client.post(submit_url(online_procedure), form_data(online_procedure)).status_code == 302
    assert client.post(submit_url(online_procedure), form_data(online_procedure)).status_code == 429


def test_when_redis_answers_again_it_is_used_again(own_redis, settings, caplog):
    proc, url = own_redis
    settings.CACHES = redis_cache(url)
    fallback._state["down_until"] = time.monotonic() - 1  # an outage that has passed
    with caplog.at_level(logging.WARNING, logger="config.cache"):
        cache.set("after", "back", 60)
    assert redis.Redis.from_url(url).keys("*after*")
    assert any("answers again" in r.getMessage() for r in caplog.records)
