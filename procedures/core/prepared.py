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

from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.models import Model
from django.db.models.constants import OnConflict


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


# ------------------------------------------------------------------ fixed inserts

# (vendor, model, rows, skip conflicts) -> (SQL, fields written, fields returned)
_INSERTS: dict[tuple, tuple[str, list, list]] = {}


def insert_rows(objs: Sequence[Model], *, skip_conflicts: bool = False) -> int:
    """Insert new model instances as `Model.save()` would (no signals are sent: nothing
    listens to the rows this is used for), setting their primary keys; returns how many
    rows were inserted.

    On PostgreSQL the INSERT is one fixed statement per model and number of rows, built
    once per process and prepared (`_cursor`): the registration of an online dossier
    writes four rows, and the ORM built each INSERT's SQL afresh and PostgreSQL parsed
    and planned it again, costing more than the inserts themselves (issue 13). Values
    are prepared by the fields as the ORM does (`pre_save`, `get_db_prep_save`); each
    placeholder carries its column's type, as parameters bound on the server must.
    Elsewhere, and for a value the ORM would have to compile (an expression), the
    ORM's own insert.

    `skip_conflicts` (one row only): ON CONFLICT DO NOTHING; 0 when a unique key was
    taken, and the instance keeps no primary key.
    """
    if not objs:
        return 0
    model = type(objs[0])
    using = router.db_for_write(model)
    connection = connections[using]
    if skip_conflicts and len(objs) != 1:
        raise ValueError("skip_conflicts inserts one row at a time")
    key = (connection.vendor, model, len(objs), skip_conflicts)
    built = _INSERTS.get(key)
    if built is None:
        built = _INSERTS[key] = _insert_sql(connection, model, len(objs), skip_conflicts)
    sql, fields, returning = built
    if connection.vendor != "postgresql":
        return _insert_by_orm(objs, using, fields, returning, skip_conflicts)
    params: list[Any] = []
    for obj in objs:
        for field in fields:
            value = field.pre_save(obj, add=True)
            if hasattr(value, "resolve_expression"):  # an expression: the ORM compiles it
                return _insert_by_orm(objs, using, fields, returning, skip_conflicts)
            params.append(field.get_db_prep_save(value, connection=connection))
    rows = fetch_all(sql, params, using=using)
    for obj, row in zip(objs, rows, strict=False):
        for value, field in zip(row, returning, strict=True):
            setattr(obj, field.attname, value)
        obj._state.adding, obj._state.db = False, using
    return len(rows)


def _insert_sql(connection, model, rows: int, skip_conflicts: bool) -> tuple[str, list, list]:
    meta = model._meta
    fields = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field]
    returning = list(meta.db_returning_fields)
    q = connection.ops.quote_name
    one = "(" + ", ".join(f"%s::{f.cast_db_type(connection)}" for f in fields) + ")"
    sql = (
        f"INSERT INTO {q(meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "
        f"VALUES {', '.join([one] * rows)}"
        + (" ON CONFLICT DO NOTHING" if skip_conflicts else "")
        + f" RETURNING {', '.join(q(f.column) for f in returning)}"
    )
    return sql, fields, returning


def _insert_by_orm(objs, using: str, fields: list, returning: list, skip_conflicts: bool) -> int:
    """What `Model.save()` and `bulk_create` do underneath (`QuerySet._insert`)."""
    model = type(objs[0])
    manager: Any = model._base_manager.using(using)
    on_conflict = OnConflict.IGNORE if skip_conflicts else None
    # All rows in one statement where the database returns every inserted row's key
    # (SQLite 3.35+, PostgreSQL), else one statement a row, as Model.save().
    together = connections[using].features.can_return_rows_from_bulk_insert
    batches = [list(objs)] if together else [[obj] for obj in objs]
    done = 0
    for batch in batches:
        rows = manager._insert(
            batch, fields=fields, returning_fields=returning, using=using, on_conflict=on_conflict
        )
        for obj, row in zip(batch, rows or [], strict=False):
            if row is None:
                continue
            for value, field in zip(row, returning, strict=True):
                setattr(obj, field.attname, value)
            obj._state.adding, obj._state.db = False, using
            done += 1
    return done
