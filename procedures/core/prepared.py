"""Fixed SQL statements run as prepared statements on PostgreSQL.

The busiest public reads (the look-up page's and API's one statement each, the session
read) are fixed strings. Through Django's cursor, psycopg binds their parameters on the
client and PostgreSQL parses and plans them afresh on every request: for the look-up
page's statement (the dossier, its events and files; the dossier table carries some
twenty indexes) planning cost about three times the execution, and more PostgreSQL
time than the whole one-row read the page is measured against. A cursor that binds on
the server lets psycopg prepare a statement once it has run `prepare_threshold` times
on a connection (database OPTIONS, set by config.settings.base.database_options), and
PostgreSQL then settles on a generic plan: the statement is neither parsed nor planned
again while the connection lives. With `prepare_threshold` None (Django's default, and
DATABASE_PREPARED_STATEMENTS=false) psycopg prepares nothing and this is an ordinary
cursor.

The cursor is Django's wrapper around psycopg's server-binding cursor, so each query is
logged, counted (assertNumQueries) and passed to execute wrappers as any other. Other
databases get Django's ordinary cursor.
"""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections


def fetch_all(sql: str, params: list[Any], *, using: str = DEFAULT_DB_ALIAS) -> list[tuple]:
    """The rows of `sql` with `params` (%s placeholders), prepared on PostgreSQL."""
    with _cursor(connections[using]) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _cursor(connection):
    if connection.vendor != "postgresql":
        return connection.cursor()
    from django.db.backends.postgresql.base import TIMESTAMPTZ_OID, ServerBindingCursor
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.pq import Format

    # What connection.cursor() does (BaseDatabaseWrapper._cursor and the PostgreSQL
    # backend's create_cursor), with the server-binding cursor class.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = ServerBindingCursor(connection.connection)
        loader = connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
        if connection.timezone != loader.timezone:
            register_tzloader(connection.timezone, raw)
    connection.validate_thread_sharing()
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)
