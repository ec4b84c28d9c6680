"""Shared fixtures.

Tests that need a real PostgreSQL or Redis use `require_postgres` / `require_redis`:
they skip on a laptop without the service, and fail when CI sets REQUIRE_SERVICES=1.
Browser tests take `chromium`, the one headless Debian Chromium of the suite, and
`vietnamese` serves the public default language.
"""

import os
import shutil

import pytest
from django.conf import settings
from django.db import connection
from django.test.signals import setting_changed


def pytest_make_parametrize_id(config, val, argname):
    """File contents as parameters are named by size, not by their bytes.

    pytest-xdist needs every worker to collect the same test names; a name spelled from
    bytes would differ between workers as soon as a file's bytes do (a zip entry's date,
    a PDF's generated id), and such names run to kilobytes besides.
    """
    if isinstance(val, bytes | bytearray):
        return f"{argname}-{len(val)}b"
    return None


def _missing(what: str) -> None:
    if getattr(settings, "REQUIRE_SERVICES", False):
        pytest.fail(f"{what} is required (REQUIRE_SERVICES=1) but not available")
    pytest.skip(f"{what} not configured")


@pytest.fixture
def require_postgres():
    if connection.vendor != "postgresql":
        _missing("PostgreSQL (DATABASE_URL)")


@pytest.fixture
def require_redis():
    url = settings.REDIS_URL
    if not url:
        _missing("Redis (REDIS_URL)")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if getattr(settings, "REQUIRE_SERVICES", False):
            pytest.fail(f"Redis at {url} is required but unreachable: {exc}")
        pytest.skip(f"Redis unreachable: {exc}")
    return url


@pytest.fixture(autouse=True)
def _clear_calendar_cache():
    """Each test sees the calendar as its own overrides make it."""
    from procedures.calendar import working_time as calendar

    calendar.invalidate()
    yield
    calendar.invalidate()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Throttle counters and lock-outs never leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def _forget_urls_on_language_change(*, setting, **kwargs):
    # URL resolvers cache the language prefix per language: a test that sets
    # LANGUAGE_CODE (the `settings` fixture) would leave "vi" unprefixed for the next.
    if setting == "LANGUAGE_CODE":
        from django.urls import clear_url_caches

        clear_url_caches()


setting_changed.connect(_forget_urls_on_language_change)


@pytest.fixture
def vietnamese(settings):
    """The portal as the public gets it: Vietnamese at /, English under /en/ (the test
    settings run in English; the URL caches follow through `setting_changed` above)."""
    settings.LANGUAGE_CODE = "vi"


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# The one browser of the suite (tests/browser, tests/dialogues/test_browser.py).
# Module scope, not session: Playwright's sync API keeps an event loop running in the
# test thread while it is open, which would break async_to_sync in later tests.
@pytest.fixture(scope="module")
def chromium():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("The playwright package (pip install -r requirements-dev.txt)")
    if not shutil.which(CHROMIUM):
        _missing(f"{CHROMIUM} (apt-get install chromium)")
    # The sync API runs an event loop in this thread; the ORM calls a test makes
    # between browser steps are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
