"""config.sessions.SessionStore: Django's database sessions, read by a fixed statement.

Same rows and the same answers as django.contrib.sessions.backends.db: a live session
loads, an expired or unknown one is empty and loses its key (so a new one is made).
"""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DjangoStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from config.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_it_is_the_engine():
    assert settings.SESSION_ENGINE == "config.sessions"


def test_a_live_session_loads_as_with_django_s_store():
    store = SessionStore()
    store["portal_access"] = {"12": 1e12}
    store.create()
    key = store.session_key
    mine, django = SessionStore(key), DjangoStore(key)
    assert mine.load() == django.load() == {"portal_access": {"12": 1e12}}
    assert mine.session_key == key


def test_an_expired_or_unknown_session_is_empty_and_loses_its_key():
    store = SessionStore()
    store["x"] = 1
    store.create()
    key = store.session_key
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    expired = SessionStore(key)
    assert expired.load() == {} and expired.session_key is None
    unknown = SessionStore("a" * 32)
    assert unknown.load() == {} and unknown.session_key is None


def test_a_deleted_session_no_longer_loads():
    store = SessionStore()
    store["x"] = 1
    store.create()
    key = store.session_key
    SessionStore(key).delete()
    assert SessionStore(key).load() == {}


def test_a_new_session_is_one_insert_without_a_look_up_first():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    store = SessionStore()
    store["x"] = 1
    # Django's store asks whether the key is taken first; this one lets the insert say so
    # (the rest is the savepoint around the insert).
    with CaptureQueriesContext(connection) as captured:
        store.create()
    sql = [q["sql"] for q in captured.captured_queries]
    assert len([s for s in sql if "SAVEPOINT" not in s.upper()]) == 1, sql
    assert not any(s.lstrip().upper().startswith("SELECT") for s in sql), sql
    assert any(s.lstrip().upper().startswith("INSERT") for s in sql), sql
    assert Session.objects.filter(session_key=store.session_key).exists()


def test_a_taken_key_is_never_overwritten_another_is_drawn(monkeypatch):
    taken = SessionStore()
    taken["owner"] = "first"
    taken.create()
    keys = iter([taken.session_key, "k" * 32])
    monkeypatch.setattr("config.sessions.get_random_string", lambda n, chars: next(keys))
    store = SessionStore()
    store["owner"] = "second"
    store.create()
    assert store.session_key == "k" * 32
    assert SessionStore(taken.session_key).load() == {"owner": "first"}
    assert SessionStore("k" * 32).load() == {"owner": "second"}
