"""Import of a published procedure list (CSV or XLSX) into the catalogue.

The department receives its official list as a spreadsheet; staff re-import it after
each publishing decision. The import is therefore idempotent (a national code, or the
exact normalised name within a field, finds the existing procedure), each row is saved
or refused on its own, and nothing is ever guessed: an empty cell stays empty.
"""

from __future__ import annotations

import csv
import datetime
import io
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from procedures.constants import Level, OnlineLevel
from procedures.errors import DomainError
from procedures.models import Field, Procedure
from procedures.services.catalogue import (
    VERSIONED_ATTRS,
    field_get_or_create_by_name,
    normalize_text,
    procedure_amend,
    procedure_create,
    procedure_update,
)

logger = logging.getLogger(__name__)

COLUMNS = (
    "code",
    "name",
    "field",
    "processing_days",
    "fee_vnd",
    "online_level",
    "legal_basis",
    "result",
    "source",
)
REQUIRED_COLUMNS = ("name", "field")
# An uploaded list of a few hundred procedures is well under this; anything larger is
# not a procedure list and is refused before parsing.
MAX_FILE_BYTES = 5 * 1024 * 1024

# Thousands separators are dots, commas or spaces in published fee tables; VND has no
# decimals, so "1.200.000" is one million two hundred thousand.
_INTEGER_VND = re.compile(r"^\d{1,3}(?:[.,\s]\d{3})+$|^\d+$")
# National procedure codes are "d.dddddd" (e.g. 1.000948): a spreadsheet that stored one
# as a number has dropped its trailing zeros, which six decimals put back.
_CODE_DECIMALS = 6


@dataclass
class RowRejection:
    row: int
    reason: str
    name: str = ""


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RowRejection] = field(default_factory=list)
    procedures: list[Procedure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected


# --- Reading files ------------------------------------------------------------------


def _normalise_header(value: Any) -> str:
    return normalize_text(str(value or "")).lower().replace(" ", "_")


def _check_header(header: list[str]) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise DomainError(
            _("The file has no column %(columns)s. Expected columns: %(expected)s.")
            % {"columns": ", ".join(missing), "expected": ", ".join(COLUMNS)}
        )


def read_csv(data: bytes) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number as staff see it in a spreadsheet, values) for each data row."""
    try:
        # utf-8-sig: Excel writes a byte-order mark in front of UTF-8 CSV files.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DomainError(_('The CSV file is not UTF-8 encoded; save it as "CSV UTF-8".')) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [_normalise_header(h) for h in next(reader)]
    except StopIteration as exc:
        raise DomainError(_("The file is empty.")) from exc
    _check_header(header)
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        yield reader.line_num, dict(zip(header, values, strict=False))


def read_xlsx(data: bytes) -> Iterator[tuple[int, dict[str, Any]]]:
    """Rows of the first worksheet, with the header in row 1."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many unrelated types for a damaged file
        raise DomainError(_("The file is not a readable XLSX workbook.")) from exc
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        try:
            header = [_normalise_header(h) for h in next(rows)]
        except StopIteration as exc:
            raise DomainError(_("The file is empty.")) from exc
        _check_header(header)
        for number, values in enumerate(rows, start=2):
            if not any(v not in (None, "") and str(v).strip() for v in values):
                continue
            yield number, dict(zip(header, values, strict=False))
    finally:
        workbook.close()


def read_rows(*, data: bytes, filename: str) -> Iterator[tuple[int, dict[str, Any]]]:
    if len(data) > MAX_FILE_BYTES:
        raise DomainError(
            _("The file is larger than %(size)d MB.") % {"size": MAX_FILE_BYTES // (1024 * 1024)}
        )
    # Type by content, not by name: XLSX is a ZIP archive.
    if data[:4] == b"PK\x03\x04":
        return read_xlsx(data)
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise DomainError(_("The file is named .xlsx but is not an XLSX workbook."))
    return read_csv(data)


# --- Parsing one row ----------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return normalize_text(str(value))


def _code(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:.{_CODE_DECIMALS}f}"
    return _text(value)


def _processing_amount(value: Any) -> Decimal | None:
    text = _text(value).replace(",", ".")
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise DomainError(
            _('processing_days "%(value)s" is not a number.') % {"value": _text(value)},
            field="processing_days",
        ) from None
    if not amount.is_finite() or amount <= 0:
        raise DomainError(
            _("processing_days must be greater than zero (got %(value)s).") % {"value": text},
            field="processing_days",
        )
    if amount != amount.quantize(Decimal("0.1")):
        raise DomainError(
            _("processing_days has more than one decimal place (%(value)s).") % {"value": text},
            field="processing_days",
        )
    return amount.quantize(Decimal("0.1"))


def _fee(value: Any) -> tuple[int | None, str]:
    """(fee_vnd, fee_text): a plain amount is a number; a tiered fee stays words."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if float(value).is_integer() and value >= 0:
            return int(value), ""
        return None, _text(value)
    text = _text(value)
    if not text:
        return None, ""
    if _INTEGER_VND.match(text):
        return int(re.sub(r"\D", "", text)), ""
    return None, text


def online_level_from_text(text: str) -> str:
    """Decree 42/2022 level for a published wording; older lists say "mức độ 3/4".

    When a text quotes several provinces, the fullest level wins: the procedure is
    nationally standard, and one province offering it fully online shows it can be.
    """
    lowered = text.lower()
    if "toàn trình" in lowered or "mức độ 4" in lowered:
        return OnlineLevel.FULL
    if "một phần" in lowered or "mức độ 3" in lowered:
        return OnlineLevel.PARTIAL
    return OnlineLevel.NONE


def parse_row(values: dict[str, Any]) -> dict[str, Any]:
    """Catalogue attributes for one row; raises DomainError listing every problem.

    Attributes whose cell is empty are left out, so an update never erases a value that
    staff entered or another source gave: an empty cell means "no source said".
    """
    problems: list[str] = []
    attrs: dict[str, Any] = {}

    name = _text(values.get("name"))
    if not name:
        problems.append(_("name is empty"))
    attrs["name"] = name
    field_name = _text(values.get("field"))
    if not field_name:
        problems.append(_("field is empty"))
    attrs["field_name"] = field_name

    code = _code(values.get("code"))
    if code and (len(code) > 30 or " " in code):
        problems.append(_('code "%(code)s" is not a national procedure code') % {"code": code})
    attrs["code"] = code or None

    try:
        amount = _processing_amount(values.get("processing_days"))
        if amount is not None:
            attrs["processing_amount"] = amount
    except DomainError as exc:
        problems.append(exc.message)

    fee_vnd, fee_text = _fee(values.get("fee_vnd"))
    if fee_vnd is not None or fee_text:
        attrs["fee_vnd"], attrs["fee_text"] = fee_vnd, fee_text

    online_text = _text(values.get("online_level"))
    if online_text:
        level = online_level_from_text(online_text)
        attrs["online_level"] = level
        attrs["online_level_text"] = online_text
        attrs["channel_online"] = level in (OnlineLevel.FULL, OnlineLevel.PARTIAL)

    for column in ("legal_basis", "result", "source"):
        text = _text(values.get(column))
        if text:
            attrs[column] = text
    # District procedures are published in the same set but handled by the district's
    # economic office; they stay in the catalogue, flagged, so the list is complete.
    if "cấp huyện" in attrs.get("result", "").lower():
        attrs["level"] = Level.DISTRICT
    elif "result" in attrs:
        attrs["level"] = Level.PROVINCE

    if problems:
        raise DomainError("; ".join(problems))
    return attrs


# --- Saving -------------------------------------------------------------------------


def _find_existing(*, code: str | None, name: str, field_obj: Field) -> Procedure | None:
    if code:
        found = Procedure.objects.filter(code=code).first()
        if found is not None:
            return found
        # The department's list may have been imported before codes were known:
        # attach the code to that procedure instead of creating a twin.
        return Procedure.objects.filter(code__isnull=True, name=name, field=field_obj).first()
    matches = list(Procedure.objects.filter(name=name, field=field_obj)[:2])
    if len(matches) > 1:
        raise DomainError(
            _("several procedures in this field have this name; add the national code")
        )
    return matches[0] if matches else None


def _changes(procedure: Procedure, attrs: dict[str, Any]) -> dict[str, Any]:
    changes = {}
    for attr, new in attrs.items():
        old = getattr(procedure, attr)
        if attr == "field":
            if old.pk != new.pk:
                changes[attr] = new
        elif attr == "code":
            # A row without a code never removes the code a procedure already has.
            if new and old != new:
                changes[attr] = new
        elif old != new:
            changes[attr] = new
    return changes


def procedure_import_rows(
    *,
    rows: Iterable[tuple[int, dict[str, Any]]],
    decision_number: str,
    decision_date: datetime.date | None = None,
    effective_from: datetime.date | None = None,
    set_publishing_decision: bool = False,
    actor=None,
) -> ImportReport:
    """Create or update one procedure per row; each row commits or fails on its own.

    New procedures get version 1 with `decision_number`; a change of processing time or
    fees goes through procedure_amend so the history keeps old and new values; other
    corrections (legal basis, source...) are plain updates.
    """
    effective_from = effective_from or timezone.localdate()
    report = ImportReport()
    seen: dict[tuple, int] = {}
    for number, values in rows:
        try:
            attrs = parse_row(values)
            key = (
                ("code", attrs["code"])
                if attrs["code"]
                else ("name", attrs["name"], attrs["field_name"])
            )
            if key in seen:
                raise DomainError(
                    _("same procedure as row %(row)d; each procedure must appear once")
                    % {"row": seen[key]}
                )
            seen[key] = number
            with transaction.atomic():
                outcome, procedure = _import_one(
                    number=number,
                    attrs=attrs,
                    decision_number=decision_number,
                    decision_date=decision_date,
                    effective_from=effective_from,
                    set_publishing_decision=set_publishing_decision,
                    actor=actor,
                )
        except (DomainError, ValidationError, DatabaseError) as exc:
            reason = (
                exc.message
                if isinstance(exc, DomainError)
                else "; ".join(getattr(exc, "messages", [str(exc)]))
            )
            logger.info("import row %s rejected: %s", number, reason)
            report.rejected.append(
                RowRejection(row=number, reason=reason, name=_text(values.get("name")))
            )
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
        report.procedures.append(procedure)
    return report


def _import_one(
    *,
    number: int,
    attrs: dict[str, Any],
    decision_number: str,
    decision_date: datetime.date | None,
    effective_from: datetime.date,
    set_publishing_decision: bool,
    actor,
) -> tuple[str, Procedure]:
    # Not cached across rows: a field created in a row that is then rolled back would
    # leave a cached object pointing at a row that no longer exists.
    attrs["field"], _created = field_get_or_create_by_name(name=attrs.pop("field_name"))
    existing = _find_existing(code=attrs["code"], name=attrs["name"], field_obj=attrs["field"])
    if existing is None:
        created = procedure_create(
            **attrs,
            decision_number=decision_number,
            decision_date=decision_date,
            effective_from=effective_from,
            publishing_decision=decision_number if set_publishing_decision else "",
            note=_("Imported from row %(row)d.") % {"row": number},
            actor=actor,
        )
        return "created", created
    changes = _changes(existing, attrs)
    if not changes:
        return "unchanged", existing
    if set(changes) & set(VERSIONED_ATTRS):
        if set_publishing_decision:
            changes["publishing_decision"] = decision_number
        procedure_amend(
            procedure=existing,
            changes=changes,
            decision_number=decision_number,
            decision_date=decision_date,
            effective_from=effective_from,
            note=_("Imported from row %(row)d.") % {"row": number},
            actor=actor,
        )
    else:
        procedure_update(procedure=existing, changes=changes)
    existing.refresh_from_db()
    return "updated", existing


def procedure_import_file(
    *,
    path: str | Path,
    decision_number: str | None = None,
    decision_date: datetime.date | None = None,
    effective_from: datetime.date | None = None,
    actor=None,
) -> ImportReport:
    """Import a CSV or XLSX list; without a decision the versions say "import <file>"."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DomainError(
            _("Cannot read %(file)s: %(error)s") % {"file": path, "error": exc.strerror}
        ) from exc
    return procedure_import_rows(
        rows=read_rows(data=data, filename=path.name),
        decision_number=decision_number or f"import {path.name}",
        decision_date=decision_date,
        effective_from=effective_from,
        set_publishing_decision=bool(decision_number),
        actor=actor,
    )
