"""The look-up's fixed statements and the session read, prepared on PostgreSQL
(procedures/core/prepared.py): the same rows as an ordinary cursor, still one counted
query each, and prepared once they ran psycopg's threshold of times."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.settings.base import database_options
from procedures.core.prepared import fetch_all
from procedures.dossiers.lookup_selectors import lookup_dossier, page_dossier

pytestmark = pytest.mark.django_db


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_fetch_all_gives_the_rows_an_ordinary_cursor_gives(register):
    d = register()
    sql = "SELECT id, code, submitted_at, due_at, status FROM procedures_dossier WHERE code = %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [d.code])
        expected = cursor.fetchall()
    for _ in range(8):  # before and after psycopg prepares it
        assert fetch_all(sql, [d.code]) == expected
    assert expected
    if connection.vendor == "postgresql":  # the connection's time zone, as the ORM reads it
        assert expected[0][2].tzinfo is not None


def test_each_read_is_one_counted_query(register):
    d = register()
    with CaptureQueriesContext(connection) as queries:
        page_dossier(d.code)
        lookup_dossier(d.code)
    assert len(queries.captured_queries) == 2


def test_on_postgresql_the_look_up_statements_are_prepared_and_answer_alike(
    require_postgres, register, staff
):
    from procedures.dossiers import services as svc

    d = register()
    other = register()
    other = svc.dossier_accept(dossier=other, actor=staff["intake"])
    assert connection.connection.prepare_threshold == 5
    first = page_dossier(d.code), lookup_dossier(d.code)
    for _ in range(7):  # psycopg prepares at the 5th run; PostgreSQL plans generically later
        again = page_dossier(d.code), lookup_dossier(d.code)
        assert repr(again) == repr(first)
        # A prepared statement answers for other parameters too (its own dossier).
        dossier, rating, events, files = page_dossier(other.code)
        assert dossier.pk == other.pk and dossier.status == other.status
        assert [e.action for e in events] == list(
            other.events.order_by("at", "id").values_list("action", flat=True)
        )
    statements = _prepared_statements()
    assert any(s.startswith("WITH found AS MATERIALIZED") for s in statements)
    assert any('"procedures_dossierevent"' in s and "WITH" not in s for s in statements)
    assert page_dossier("NO-SUCH-CODE") == (None, None, [], [])


def test_database_options_prepare_on_postgresql_only_and_yield_to_the_environment(monkeypatch):
    pg = {"ENGINE": "django.db.backends.postgresql"}
    assert database_options(dict(pg))["OPTIONS"] == {"prepare_threshold": 5}
    # An explicit OPTIONS value (e.g. from the deployment) is kept.
    kept = database_options({**pg, "OPTIONS": {"prepare_threshold": None}})
    assert kept["OPTIONS"] == {"prepare_threshold": None}
    monkeypatch.setenv("DATABASE_PREPARED_STATEMENTS", "false")
    assert database_options(dict(pg))["OPTIONS"] == {"prepare_threshold": None}
    sqlite = database_options({"ENGINE": "django.db.backends.sqlite3"})
    assert "prepare_threshold" not in sqlite.get("OPTIONS", {})
