"""Bulk assignment and answers from an XLSX sheet (one row per recommendation).

Columns, by header name in the first row (order free, unknown columns ignored):
  id | unit_code | field | answer | answer_kind | document_number
`unit_code` assigns; `answer` (with `answer_kind` "in_writing" or "at_session",
default in writing) stores a draft submitted for approval: an import never
publishes. The sheet is checked whole first; one bad row rejects the file.
"""

import zipfile
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from dialogues import conf
from dialogues.constants import AnswerKind
from dialogues.models import Recommendation
from dialogues.services.recommendations import (
    recommendation_answer_draft,
    recommendation_assign,
)
from dialogues.validators import sniff_type
from procedures.core.errors import DomainError
from procedures.models import Field, Unit

COLUMNS = ("id", "unit_code", "field", "answer", "answer_kind", "document_number")


@dataclass
class ImportResult:
    assigned: int = 0
    answered: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class _Row:
    number: int
    recommendation_id: int
    unit: Unit | None
    field: Field | None
    answer: str
    answer_kind: str
    document_number: str


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _read_rows(upload) -> list[dict]:
    if upload.size > conf.import_max_bytes():
        raise DomainError(
            _("The file is too large (at most %(mb)d MB).")
            % {"mb": conf.import_max_bytes() // (1024 * 1024)},
            field="file",
        )
    if sniff_type(upload) != "zip":
        raise DomainError(_("This is not an Excel (.xlsx) file."), field="file")
    try:
        workbook = load_workbook(upload, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise DomainError(_("The Excel file cannot be read."), field="file") from exc
    try:
        sheet = workbook.active
        assert sheet is not None  # a workbook always has an active sheet
        rows = sheet.iter_rows(values_only=True)
        header = [_text(c).lower() for c in next(rows, ())]
        if "id" not in header:
            raise DomainError(
                _("The first row must hold the column names, with an 'id' column."), field="file"
            )
        records = []
        for values in rows:
            record = {name: values[i] if i < len(values) else None for i, name in enumerate(header)}
            if any(_text(v) for v in record.values()):
                records.append(record)
        return records
    finally:
        workbook.close()


def recommendation_import_xlsx(*, upload, by, now: datetime | None = None) -> ImportResult:
    now = now or timezone.now()
    records = _read_rows(upload)
    units = {u.code.lower(): u for u in Unit.objects.all()}
    fields_by_name = {f.name.lower(): f for f in Field.objects.all()}
    fields_by_code = {
        f.ministry_code.lower(): f for f in fields_by_name.values() if f.ministry_code
    }
    result = ImportResult()
    rows: list[_Row] = []
    ids = []
    for number, record in enumerate(records, start=2):
        raw_id = _text(record.get("id"))
        if not raw_id.isdigit():
            result.errors.append(_("Row %(row)d: the id is not a number.") % {"row": number})
            continue
        ids.append(int(raw_id))
        unit_code = _text(record.get("unit_code")).lower()
        unit = units.get(unit_code) if unit_code else None
        if unit_code and unit is None:
            result.errors.append(_("Row %(row)d: unknown unit code.") % {"row": number})
        field_key = _text(record.get("field")).lower()
        field_obj = (
            (fields_by_code.get(field_key) or fields_by_name.get(field_key)) if field_key else None
        )
        if field_key and field_obj is None:
            result.errors.append(_("Row %(row)d: unknown field.") % {"row": number})
        kind = _text(record.get("answer_kind")).lower() or AnswerKind.IN_WRITING
        if kind not in AnswerKind.values:
            result.errors.append(
                _("Row %(row)d: the answer kind must be 'in_writing' or 'at_session'.")
                % {"row": number}
            )
        answer = _text(record.get("answer"))
        if field_obj is not None and unit is None and not answer:
            # A field alone is applied with the assignment; say so instead of ignoring it.
            result.errors.append(
                _("Row %(row)d: a field is set only together with a unit.") % {"row": number}
            )
        rows.append(
            _Row(
                number,
                int(raw_id),
                unit,
                field_obj,
                answer,
                kind,
                _text(record.get("document_number")),
            )
        )
    known = set(Recommendation.objects.filter(pk__in=ids).values_list("pk", flat=True))
    for row in rows:
        if row.recommendation_id not in known:
            result.errors.append(
                _("Row %(row)d: no recommendation #%(id)d.")
                % {"row": row.number, "id": row.recommendation_id}
            )
    if not rows and not result.errors:
        result.errors.append(_("The sheet has no rows."))
    if result.errors:
        return result
    try:
        with transaction.atomic():
            for row in rows:
                if row.unit is not None:
                    recommendation_assign(
                        recommendation_id=row.recommendation_id,
                        unit=row.unit,
                        field=row.field,
                        by=by,
                        now=now,
                    )
                    result.assigned += 1
                if row.answer:
                    recommendation_answer_draft(
                        recommendation_id=row.recommendation_id,
                        text=row.answer,
                        kind=row.answer_kind,
                        document_number=row.document_number,
                        submit=True,
                        by=by,
                        now=now,
                    )
                    result.answered += 1
    except DomainError as exc:
        result.assigned = result.answered = 0
        result.errors.append(
            _("Row %(row)d: %(error)s") % {"row": row.number, "error": exc.message}
        )
    return result
