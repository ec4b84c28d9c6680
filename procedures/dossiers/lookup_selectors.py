"""The reads of the public look-up (API and page): one fixed SQL statement each.

The look-up is the busiest public request, and its SQL costs a fraction of a
millisecond (two unique-index probes, then the dossier's events by index). Building
the statements through the ORM for every request (compiling the joins, columns and
ordering, then model instances for every event) cost several times that. Here the
statement is written once from the models' column names: the dossier (by its legal
code or its submission reference, as `DossierQuerySet.numbered`), its procedure's
name, and its events oldest first (the event model's ordering), in one round trip;
for the page, every column of the dossier and its rating as well.
The database's own converters are applied to each column (dates arrive as text on
SQLite), so the values are the ORM's; tests/procedures/test_api_lookup.py compares
them with the ORM's queries.

On PostgreSQL the statements are prepared (procedures/core/prepared.py): planning the
page's statement cost about three times its execution, and more than the whole one-row
read the page is measured against.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from django.db import connection

from procedures.catalogue.models import RequiredDocument
from procedures.core.prepared import fetch_all
from procedures.models import Dossier, DossierDocument, DossierEvent, Procedure, Rating

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
# The page shows more of the dossier (and reads its properties): every column.
PAGE_DOSSIER_FIELDS = tuple(f.attname for f in Dossier._meta.concrete_fields)


class LookupEvent(NamedTuple):
    id: int
    action: str
    at: Any
    from_status: int | None
    to_status: int | None
    note: str


class PageEvent(NamedTuple):
    id: int
    action: str
    at: Any
    note: str
    data: Any


PAGE_EVENT_FIELDS = ("id", "action", "at", "note", "data")
RATING_FIELDS = ("id", "overall")


def _select(parts) -> tuple[list[str], list[tuple[list, Any]]]:
    """The quoted columns of (model, field names, table alias) parts, and for each the
    converters the ORM applies to it on this connection."""
    q = connection.ops.quote_name
    selected, columns = [], []
    for model, names, alias in parts:
        for name in names:
            field = model._meta.get_field(name)
            selected.append(f"{alias}.{q(field.column)}")
            col = field.get_col(alias)
            converters = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
            columns.append((converters, col))
    return selected, columns


class _Statement(NamedTuple):
    sql: str
    # Per selected column: (converters, column expression), the ORM's for that field.
    columns: list[tuple[list, Any]]


_statements: dict[tuple[str, str, int], _Statement] = {}


def _statement(kind: str) -> _Statement:
    # Per connection object: its converters are bound to it (a process has one per
    # thread and database alias).
    key = (kind, connection.alias, id(connection))
    found = _statements.get(key)
    if found is not None:
        return found
    if kind == "documents":
        found = _statements[key] = _documents_statement()
        return found
    q = connection.ops.quote_name
    dossier, event, rating = Dossier._meta, DossierEvent._meta, Rating._meta
    parts: list[tuple[Any, tuple[str, ...], str]] = [
        (Dossier, DOSSIER_FIELDS if kind == "api" else PAGE_DOSSIER_FIELDS, "d"),
        (Procedure, ("name",), "p"),
    ]
    if kind == "page":
        parts.append((Rating, RATING_FIELDS, "r"))
    parts.append((DossierEvent, EVENT_FIELDS if kind == "api" else PAGE_EVENT_FIELDS, "e"))
    columns, selected = [], []
    for model, names, alias in parts:
        for name in names:
            field = model._meta.get_field(name)
            selected.append(f"{alias}.{q(field.column)}")
            col = field.get_col(alias)
            converters = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
            columns.append((converters, col))

    def column(meta, name: str) -> str:
        return q(meta.get_field(name).column)

    rating_join = (
        f"LEFT OUTER JOIN {q(rating.db_table)} r ON r.{column(rating, 'dossier')} = d.{q('id')} "
        if kind == "page"
        else ""
    )
    sql = (
        f"SELECT {', '.join(selected)} "
        f"FROM {q(dossier.db_table)} d "
        f"INNER JOIN {q(Procedure._meta.db_table)} p "
        f"ON p.{q('id')} = d.{column(dossier, 'procedure')} "
        f"{rating_join}"
        f"LEFT OUTER JOIN {q(event.db_table)} e ON e.{column(event, 'dossier')} = d.{q('id')} "
        f"WHERE d.{column(dossier, 'code')} IN (%s, %s) "
        f"OR d.{column(dossier, 'submission_ref')} IN (%s, %s) "
        f"ORDER BY d.{q('id')}, e.{column(event, 'at')}, e.{q('id')}"
    )
    found = _statements[key] = _Statement(sql, columns)
    return found


# The applicant's files and the results, as the page lists them (with the name of the
# required document a file answers).
DOCUMENT_FIELDS = (
    "id",
    "dossier",
    "slot",
    "original_name",
    "size",
    "content_type",
    "by_applicant",
    "is_result",
    "created_at",
)
_DOCUMENT_ATTNAMES = tuple(DossierDocument._meta.get_field(n).attname for n in DOCUMENT_FIELDS)


def _documents_statement() -> _Statement:
    q = connection.ops.quote_name
    meta, slot = DossierDocument._meta, RequiredDocument._meta
    # In the model's order, as Model.from_db takes them.
    names = [f.name for f in meta.concrete_fields if f.name in DOCUMENT_FIELDS]
    selected, columns = _select([(DossierDocument, names, "f"), (RequiredDocument, ("name",), "s")])

    def column(name: str) -> str:
        return q(meta.get_field(name).column)

    sql = (
        f"SELECT {', '.join(selected)} FROM {q(meta.db_table)} f "
        f"LEFT OUTER JOIN {q(slot.db_table)} s ON s.{q('id')} = f.{column('slot')} "
        f"WHERE f.{column('dossier')} = %s "
        f"AND (f.{column('by_applicant')} OR f.{column('is_result')}) "
        f"ORDER BY f.{q('id')}"
    )
    return _Statement(sql, columns)


def page_documents(dossier: Dossier) -> list[DossierDocument]:
    """`dossier.documents.filter(Q(by_applicant=True) | Q(is_result=True))
    .select_related("slot").order_by("id")`, with the columns the page shows (and the
    slot's name only); any other column loads on access."""
    names = [
        f.attname for f in DossierDocument._meta.concrete_fields if f.attname in _DOCUMENT_ATTNAMES
    ]
    out = []
    for values in _converted(_statement("documents"), [dossier.pk]):
        doc = DossierDocument.from_db(connection.alias, names, values[:-1])
        doc.dossier = dossier
        if doc.slot_id is not None:
            doc.slot = RequiredDocument.from_db(
                connection.alias, ("id", "name"), [doc.slot_id, values[-1]]
            )
        out.append(doc)
    return out


def _converted(statement: _Statement, params: list) -> list[list]:
    return [_convert_row(statement, row) for row in fetch_all(statement.sql, params)]


def _convert_row(statement: _Statement, row) -> list:
    """A fetched row's values through each column's database converters, as the ORM does."""
    values = list(row)
    for i, (converters, col) in enumerate(statement.columns):
        value = values[i]
        if value is not None:
            for converter in converters:
                value = converter(value, col, connection)
            values[i] = value
    return values


def _rows(kind: str, number: str) -> list[list]:
    """The converted rows of the first dossier printed with `number` (only one can be)."""
    number = (number or "").strip()
    upper = number.upper()
    statement = _statement(kind)
    rows = fetch_all(statement.sql, [number, upper, number, upper])
    converted: list[list] = []
    for row in rows:
        if row[0] != rows[0][0]:  # only one dossier can match; the first, like .first()
            break
        converted.append(_convert_row(statement, row))
    return converted


def lookup_dossier(number: str) -> tuple[Dossier | None, list[LookupEvent]]:
    """The dossier printed with `number` (`Dossier.objects.numbered(number).first()`),
    with only the look-up's columns and its procedure's name as `procedure_name`, and
    its events oldest first; (None, []) when there is none."""
    rows = _rows("api", number)
    if not rows:
        return None, []
    n = len(DOSSIER_FIELDS)
    head = rows[0]
    dossier = Dossier.from_db(connection.alias, DOSSIER_FIELDS, head[:n])
    dossier.procedure_name = head[n]
    events = [LookupEvent(*values[n + 1 :]) for values in rows if values[n + 1] is not None]
    return dossier, events


def _page_statement() -> _Statement:
    """The dossier (every column) with its procedure's name and its rating, then its
    events, then its files (the applicant's and the results, with their slot's name):
    one UNION ALL whose first column says which row is which (0, 1, 2), each row only
    as wide as its part needs to fill. The dossier's id is found once, in a
    materialized WITH, and each part reads by it."""
    q = connection.ops.quote_name
    dossier, event, rating, doc = (
        Dossier._meta,
        DossierEvent._meta,
        Rating._meta,
        DossierDocument._meta,
    )

    def column(meta, name: str) -> str:
        return q(meta.get_field(name).column)

    head, head_columns = _select(
        [
            (Dossier, PAGE_DOSSIER_FIELDS, "d"),
            (Procedure, ("name",), "p"),
            (Rating, RATING_FIELDS, "r"),
        ]
    )
    events, event_columns = _select([(DossierEvent, PAGE_EVENT_FIELDS, "e")])
    doc_names = [f.name for f in doc.concrete_fields if f.name in DOCUMENT_FIELDS]
    files, file_columns = _select(
        [(DossierDocument, doc_names, "f"), (RequiredDocument, ("name",), "s")]
    )
    numbered = (
        f"d.{column(dossier, 'code')} IN (%s, %s) "
        f"OR d.{column(dossier, 'submission_ref')} IN (%s, %s)"
    )
    # The dossier's id, found once (only one dossier can carry the number; the first,
    # like .first()), then each part reads by it.
    found = (
        f"WITH found AS MATERIALIZED (SELECT d.{q('id')} FROM {q(dossier.db_table)} d "
        f"WHERE {numbered} ORDER BY d.{q('id')} LIMIT 1) "
    )
    first_id = f"(SELECT {q('id')} FROM found)"

    def nulls(columns: list) -> str:
        return ", ".join(["NULL"] * len(columns))

    def typed_nulls(columns: list) -> str:
        # The first part's NULLs carry their column's type: PostgreSQL settles each
        # column's type part by part, and two untyped NULLs would make it text.
        return ", ".join(
            f"CAST(NULL AS {col.target.cast_db_type(connection)})" for _c, col in columns
        )

    # Positions (1-based) of the dossier's id, the event's time and id, the file's id.
    event_id = 1 + len(head) + 1
    event_at = event_id + PAGE_EVENT_FIELDS.index("at")
    file_id = 1 + len(head) + len(events) + 1
    sql = (
        f"{found}"
        f"SELECT 0, {', '.join(head)}, {typed_nulls(event_columns)}, "
        f"{typed_nulls(file_columns)} "
        f"FROM {q(dossier.db_table)} d "
        f"INNER JOIN {q(Procedure._meta.db_table)} p "
        f"ON p.{q('id')} = d.{column(dossier, 'procedure')} "
        f"LEFT OUTER JOIN {q(rating.db_table)} r ON r.{column(rating, 'dossier')} = d.{q('id')} "
        f"WHERE d.{q('id')} = {first_id} "
        f"UNION ALL "
        f"SELECT 1, {nulls(head)}, {', '.join(events)}, {nulls(files)} "
        f"FROM {q(event.db_table)} e WHERE e.{column(event, 'dossier')} = {first_id} "
        f"UNION ALL "
        f"SELECT 2, {nulls(head)}, {nulls(events)}, {', '.join(files)} "
        f"FROM {q(doc.db_table)} f "
        f"LEFT OUTER JOIN {q(RequiredDocument._meta.db_table)} s "
        f"ON s.{q('id')} = f.{column(doc, 'slot')} "
        f"WHERE f.{column(doc, 'dossier')} = {first_id} "
        f"AND (f.{column(doc, 'by_applicant')} OR f.{column(doc, 'is_result')}) "
        f"ORDER BY 1, 2, {event_at}, {event_id}, {file_id}"
    )
    return _Statement(sql, [([], None), *head_columns, *event_columns, *file_columns])


def _document(dossier: Dossier, values: list) -> DossierDocument:
    names = [
        f.attname for f in DossierDocument._meta.concrete_fields if f.attname in _DOCUMENT_ATTNAMES
    ]
    doc = DossierDocument.from_db(connection.alias, names, values[:-1])
    doc.dossier = dossier
    if doc.slot_id is not None:
        doc.slot = RequiredDocument.from_db(
            connection.alias, ("id", "name"), [doc.slot_id, values[-1]]
        )
    return doc


def page_dossier(
    number: str,
) -> tuple[Dossier | None, Rating | None, list[PageEvent], list[DossierDocument]]:
    """For the look-up page: the dossier printed with `number`, whole, with its
    procedure (only its name loaded; any other column loads on access), its rating
    (id and overall answer), its events oldest first and its files as `page_documents`
    gives them; (None, None, [], []) when there is none."""
    number = (number or "").strip()
    upper = number.upper()
    key = ("page", connection.alias, id(connection))
    statement = _statements.get(key)
    if statement is None:
        statement = _statements[key] = _page_statement()
    rows = _converted(statement, [number, upper] * 2)
    if not rows or rows[0][0] != 0:
        return None, None, [], []
    n = len(PAGE_DOSSIER_FIELDS)
    head = rows[0][1:]
    dossier = Dossier.from_db(connection.alias, PAGE_DOSSIER_FIELDS, head[:n])
    dossier.procedure = Procedure.from_db(
        connection.alias, ("id", "name"), [dossier.procedure_id, head[n]]
    )
    rating = None
    if head[n + 1] is not None:
        rating = Rating.from_db(connection.alias, RATING_FIELDS, head[n + 1 : n + 3])
        rating.dossier = dossier
    at, end = 1 + n + 3, 1 + n + 3 + len(PAGE_EVENT_FIELDS)
    events = [PageEvent(*row[at:end]) for row in rows if row[0] == 1]
    documents = [_document(dossier, row[end:]) for row in rows if row[0] == 2]
    return dossier, rating, events, documents
