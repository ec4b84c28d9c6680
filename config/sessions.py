"""Sessions end after a time without requests (issue 11 item 8), cheaply.

`SESSION_COOKIE_AGE` is the idle limit: the database row expires that long after the
session was last saved. Rather than saving every session on every request
(SESSION_SAVE_EVERY_REQUEST: one more write per page), the session is saved again
when it was last saved more than `REFRESH_SECONDS` ago, so the limit is exact to the
minute and a busy page costs no write. The cookie itself ends with the browser
(SESSION_EXPIRE_AT_BROWSER_CLOSE).

`SessionStore` (SESSION_ENGINE = "config.sessions") is Django's database store, the same
table and rows, reading a session with one fixed statement instead of a query built
through the ORM on every request: on the public look-up page that building cost more
than the rest of the session's work. On PostgreSQL the statement is prepared
(procedures/core/prepared.py).
"""

from __future__ import annotations

import time

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.db import connections, router
from django.utils import timezone
from django.utils.crypto import get_random_string

from procedures.core.prepared import fetch_all

REFRESH_SECONDS = 60
TOUCHED_KEY = "_touched_at"


def session_touch(sender=None, request=None, **kwargs) -> None:
    """Mark the session fresh (receiver of user_logged_in: log-in saves it anyway)."""
    if request is not None and hasattr(request, "session"):
        request.session[TOUCHED_KEY] = int(time.time())


class IdleSessionMiddleware:
    """Place right after SessionMiddleware, so that its save sees the refresh."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # Only sessions this request read (never load one just to refresh it).
        if session is None or not session.accessed or session.modified or session.is_empty():
            return response
        touched = session.get(TOUCHED_KEY, 0)
        if time.time() - touched > REFRESH_SECONDS:
            session[TOUCHED_KEY] = int(time.time())
        return response


class SessionStore(db.SessionStore):
    """django.contrib.sessions.backends.db, whose read is one fixed SQL statement."""

    _sql: dict[str, str] = {}

    def _get_new_session_key(self) -> str:
        """A random key, without first asking the database whether it is taken.

        Every new key is written by `create()` with must_create=True, whose insert fails
        on a taken key (the primary key) and draws another, so Django's SELECT before it
        only cost a query per new session (each first submission of a visitor).
        """
        return get_random_string(32, VALID_KEY_CHARS)

    async def _aget_new_session_key(self) -> str:
        return self._get_new_session_key()

    def _get_session_from_db(self):
        model = self.model
        alias = router.db_for_read(model)
        connection = connections[alias]
        sql = self._sql.get(connection.vendor)
        if sql is None:
            q = connection.ops.quote_name
            meta = model._meta
            sql = self._sql[connection.vendor] = (
                f"SELECT {q(meta.get_field('session_data').column)} FROM {q(meta.db_table)} "
                f"WHERE {q(meta.get_field('session_key').column)} = %s "
                f"AND {q(meta.get_field('expire_date').column)} > %s"
            )
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        rows = fetch_all(sql, [self.session_key, now], using=alias)
        row = rows[0] if rows else None
        if row is None:
            self._session_key = None  # as the ORM read does for a missing or expired row
            return None
        return model(session_key=self.session_key, session_data=row[0])
