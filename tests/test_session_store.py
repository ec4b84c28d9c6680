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
