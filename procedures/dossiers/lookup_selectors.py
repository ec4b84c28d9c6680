"""The read of the public look-up API: one fixed SQL statement.

The look-up is the busiest public request, and its SQL costs a fraction of a
millisecond (two unique-index probes, then the dossier's events by index). Building
the statements through the ORM for every request (compiling the joins, columns and
ordering, then model instances for every event) cost several times that. Here the
statement is written once from the models' column names: the dossier (by its legal
code or its submission reference, as `DossierQuerySet.numbered`), its procedure's
name, and its events oldest first (the event model's ordering), in one round trip.
The database's own converters are applied to each column (dates arrive as text on
SQLite), so the values are the ORM's; tests/procedures/test_api_lookup.py compares
them with the ORM's queries.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from django.db import connection

from procedures.models import Dossier, DossierEvent, Procedure

# The columns the look-up's answer shows, and the PIN's hash.
_WANTED = {
    "id",
    "code",
    "submission_ref",
    "pin_hash",
    "applicant_name",
    "status",
    "channel",
    "submitted_at",
    "accepted_at",
    "due_at",
    "finished_at",
    "returned_at",
    "on_time_result",
    "supplement_reason",
    "payment_note",
    "outcome",
    "outcome_note",
}
# In the model's order, as Model.from_db takes them.
DOSSIER_FIELDS = tuple(f.attname for f in Dossier._meta.concrete_fields if f.attname in _WANTED)
EVENT_FIELDS = ("id", "action", "at", "from_status", "to_status", "note")


class LookupEvent(NamedTuple):
    id: int
    action: str
    at: Any
    from_status: int | None
    to_status: int | None
    note: str


class _Statement(NamedTuple):
    sql: str
    # Per selected column: (converters, column expression), the ORM's for that field.
    columns: list[tuple[list, Any]]


_statements: dict[tuple[str, int], _Statement] = {}


def _statement() -> _Statement:
    # Per connection object: its converters are bound to it (a process has one per
    # thread and database alias).
    key = (connection.alias, id(connection))
    found = _statements.get(key)
    if found is not None:
        return found
    q = connection.ops.quote_name
    columns, selected = [], []
    for model, names, alias in (
        (Dossier, DOSSIER_FIELDS, "d"),
        (Procedure, ("name",), "p"),
        (DossierEvent, EVENT_FIELDS, "e"),
    ):
        for name in names:
            field = model._meta.get_field(name)
            selected.append(f"{alias}.{q(field.column)}")
            col = field.get_col(alias)
            converters = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
            columns.append((converters, col))
    dossier, event = Dossier._meta, DossierEvent._meta
    column = lambda meta, name: q(meta.get_field(name).column)  # noqa: E731
    sql = (
        f"SELECT {', '.join(selected)} "
        f"FROM {q(dossier.db_table)} d "
        f"INNER JOIN {q(Procedure._meta.db_table)} p "
        f"ON p.{q('id')} = d.{column(dossier, 'procedure')} "
        f"LEFT OUTER JOIN {q(event.db_table)} e ON e.{column(event, 'dossier')} = d.{q('id')} "
        f"WHERE d.{column(dossier, 'code')} IN (%s, %s) "
        f"OR d.{column(dossier, 'submission_ref')} IN (%s, %s) "
        f"ORDER BY d.{q('id')}, e.{column(event, 'at')}, e.{q('id')}"
    )
    found = _statements[key] = _Statement(sql, columns)
    return found


def lookup_dossier(number: str) -> tuple[Dossier | None, list[LookupEvent]]:
    """The dossier printed with `number` (`Dossier.objects.numbered(number).first()`),
    with only the look-up's columns and its procedure's name as `procedure_name`, and
    its events oldest first; (None, []) when there is none."""
    number = (number or "").strip()
    upper = number.upper()
    statement = _statement()
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, [number, upper, number, upper])
        rows = cursor.fetchall()
    if not rows:
        return None, []
    first_id = rows[0][0]
    converted = []
    for row in rows:
        if row[0] != first_id:  # only one dossier can match; the first, like .first()
            break
        values = list(row)
        for i, (converters, col) in enumerate(statement.columns):
            value = values[i]
            if value is not None:
                for converter in converters:
                    value = converter(value, col, connection)
                values[i] = value
        converted.append(values)
    n = len(DOSSIER_FIELDS)
    head = converted[0]
    dossier = Dossier.from_db(connection.alias, DOSSIER_FIELDS, head[:n])
    dossier.procedure_name = head[n]
    events = [LookupEvent(*values[n + 1 :]) for values in converted if values[n + 1] is not None]
    return dossier, events
