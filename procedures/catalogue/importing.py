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

from procedures.catalogue.national_format import looks_like_json, read_national_json
from procedures.catalogue.services import (
    VERSIONED_ATTRS,
    DocumentSpec,
    field_get_or_create_by_name,
    normalize_text,
    procedure_amend,
    procedure_create,
    procedure_documents_set,
    procedure_update,
)
from procedures.core.constants import DocumentKind, Level, OnlineLevel, TimeUnit
from procedures.core.errors import DomainError
from procedures.models import Field, Procedure

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
# The list of required documents (thành phần hồ sơ): one row per document, joined to its
# procedure by national code when given, else by the exact procedure name. In an XLSX it
# is a second worksheet named "documents"; with a CSV list it is a second CSV file.
DOCUMENT_COLUMNS = (
    "procedure_name",
    "code",
    "order",
    "document_name",
    "kind",
    "copies",
    "mandatory",
    "template",
    "source",
)
DOCUMENT_REQUIRED_COLUMNS = ("document_name",)
DOCUMENT_SHEET_NAMES = ("documents", "thanh_phan_ho_so", "thành_phần_hồ_sơ")
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
    # "" for the procedure list, "documents" for the list of required documents.
    sheet: str = ""


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RowRejection] = field(default_factory=list)
    procedures: list[Procedure] = field(default_factory=list)
    # Lists of required documents: procedures whose list was written or changed, and
    # those whose list in the file matched what was stored. None: the file had none.
    documents_set: int | None = None
    documents_unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.rejected


# --- Reading files ------------------------------------------------------------------


def _normalise_header(value: Any) -> str:
    return normalize_text(str(value or "")).lower().replace(" ", "_")


def _check_header(header: list[str], *, required=REQUIRED_COLUMNS, expected=COLUMNS) -> None:
    missing = [c for c in required if c not in header]
    if missing:
        raise DomainError(
            _("The file has no column %(columns)s. Expected columns: %(expected)s.")
            % {"columns": ", ".join(missing), "expected": ", ".join(expected)}
        )


def _csv_rows(data: bytes) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
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

    def rows():
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            yield reader.line_num, dict(zip(header, values, strict=False))

    return header, rows()


def read_csv(
    data: bytes, *, required=REQUIRED_COLUMNS, expected=COLUMNS
) -> list[tuple[int, dict[str, Any]]]:
    """(row number as staff see it in a spreadsheet, values) for each data row."""
    header, rows = _csv_rows(data)
    _check_header(header, required=required, expected=expected)
    return list(rows)


def _sheet_rows(sheet) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    rows = sheet.iter_rows(values_only=True)
    try:
        header = [_normalise_header(h) for h in next(rows)]
    except StopIteration:
        return [], []
    out = []
    for number, values in enumerate(rows, start=2):
        if not any(v not in (None, "") and str(v).strip() for v in values):
            continue
        out.append((number, dict(zip(header, values, strict=False))))
    return header, out


def _is_documents_sheet(title: str, header: list[str]) -> bool:
    return _normalise_header(title) in DOCUMENT_SHEET_NAMES or "document_name" in header


def read_xlsx(data: bytes) -> tuple[list, list | None]:
    """(procedure rows, document rows or None), header in row 1 of each sheet.

    The procedures are on the first worksheet; the documents on a worksheet named
    "documents" (or "thanh_phan_ho_so"), or any later sheet with a document_name column.
    """
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many unrelated types for a damaged file
        raise DomainError(_("The file is not a readable XLSX workbook.")) from exc
    try:
        header, procedures = _sheet_rows(workbook.worksheets[0])
        if not header:
            raise DomainError(_("The file is empty."))
        documents = None
        if _is_documents_sheet(workbook.worksheets[0].title, header):
            # A workbook of documents only (the --documents file of the command).
            documents, procedures = procedures, []
            _check_document_header(header)
            return procedures, documents
        _check_header(header)
        for sheet in workbook.worksheets[1:]:
            sheet_header, sheet_rows = _sheet_rows(sheet)
            if sheet_header and _is_documents_sheet(sheet.title, sheet_header):
                _check_document_header(sheet_header)
                documents = sheet_rows
                break
        return procedures, documents
    finally:
        workbook.close()


def _check_size(data: bytes) -> None:
    if len(data) > MAX_FILE_BYTES:
        raise DomainError(
            _("The file is larger than %(size)d MB.") % {"size": MAX_FILE_BYTES // (1024 * 1024)}
        )


def _is_xlsx(data: bytes, filename: str) -> bool:
    # Type by content, not by name: XLSX is a ZIP archive.
    if data[:4] == b"PK\x03\x04":
        return True
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise DomainError(_("The file is named .xlsx but is not an XLSX workbook."))
    return False


def read_file(*, data: bytes, filename: str) -> tuple[list, list | None]:
    """(procedure rows, document rows or None) of a procedure list, CSV or XLSX."""
    _check_size(data)
    if _is_xlsx(data, filename):
        return read_xlsx(data)
    if looks_like_json(data, filename):
        # The national procedure database's export (procedures/catalogue/national_format.py).
        return read_national_json(data)
    return read_csv(data), None


def read_document_file(*, data: bytes, filename: str) -> list[tuple[int, dict[str, Any]]]:
    """Rows of a separate list of documents (CSV, or the first sheet of an XLSX)."""
    _check_size(data)
    if _is_xlsx(data, filename):
        _procedures, documents = read_xlsx(data)
        if documents is None:
            raise DomainError(
                _("The documents file has no column %(columns)s. Expected columns: %(expected)s.")
                % {"columns": "document_name", "expected": ", ".join(DOCUMENT_COLUMNS)}
            )
        return documents
    header, rows = _csv_rows(data)
    _check_document_header(header)
    return list(rows)


def _check_document_header(header: list[str]) -> None:
    _check_header(header, required=DOCUMENT_REQUIRED_COLUMNS, expected=DOCUMENT_COLUMNS)
    if "procedure_name" not in header and "code" not in header:
        raise DomainError(
            _(
                "The documents sheet needs a procedure_name or a code column to say which "
                "procedure each document belongs to."
            )
        )


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

    Mức độ 4 became "toàn trình" and mức độ 3 "một phần"; anything else (mức độ 1-2,
    "trực tiếp/trực tuyến", an empty cell) means the procedure takes no online dossier.
    When a text quotes several provinces, the fullest level wins: the procedure is
    nationally standard, and one province offering it fully online shows it can be.
    """
    lowered = text.lower()
    if "toàn trình" in lowered or "mức độ 4" in lowered:
        return OnlineLevel.FULL
    if "một phần" in lowered or "mức độ 3" in lowered:
        return OnlineLevel.PARTIAL
    return OnlineLevel.NONE


# The provinces (before and after the 2025 merger) whose published pages the bundled
# list was compiled from: their names are attributions of where a value was read, not
# part of this department's list, and are dropped from the text shown to the public.
OTHER_PROVINCES = (
    "An Giang",
    "Bà Rịa - Vũng Tàu",
    "Bà Rịa-Vũng Tàu",
    "BR-VT",
    "Bắc Giang",
    "Bắc Kạn",
    "Bạc Liêu",
    "Bắc Ninh",
    "Bến Tre",
    "Bình Định",
    "Bình Dương",
    "Bình Phước",
    "Bình Thuận",
    "Cà Mau",
    "Cần Thơ",
    "Cao Bằng",
    "Đà Nẵng",
    "Đắk Lắk",
    "Đắk Nông",
    "Điện Biên",
    "Đồng Nai",
    "Đồng Tháp",
    "Gia Lai",
    "Hà Giang",
    "Hà Nam",
    "Hà Nội",
    "Hà Tĩnh",
    "Hải Dương",
    "Hải Phòng",
    "Hậu Giang",
    "Hòa Bình",
    "Hưng Yên",
    "Khánh Hòa",
    "Kiên Giang",
    "Kon Tum",
    "Lai Châu",
    "Lâm Đồng",
    "Lạng Sơn",
    "Lào Cai",
    "Long An",
    "Nam Định",
    "Nghệ An",
    "Ninh Bình",
    "Ninh Thuận",
    "Phú Thọ",
    "Phú Yên",
    "Quảng Bình",
    "Quảng Nam",
    "Quảng Ngãi",
    "Quảng Ninh",
    "Quảng Trị",
    "Sóc Trăng",
    "Sơn La",
    "Tây Ninh",
    "Thái Bình",
    "Thái Nguyên",
    "Thanh Hóa",
    "Thừa Thiên Huế",
    "Huế",
    "Tiền Giang",
    "TP.HCM",
    "TP. Hồ Chí Minh",
    "Hồ Chí Minh",
    "Trà Vinh",
    "Tuyên Quang",
    "Vĩnh Long",
    "Vĩnh Phúc",
    "Yên Bái",
)
_PROVINCE = "|".join(re.escape(name) for name in sorted(OTHER_PROVINCES, key=len, reverse=True))
# "(theo trang Đà Nẵng)", "(Bến Tre, /lần thẩm định)", "(Huế 2020)": a province named
# inside brackets, optionally after "theo trang"/"theo" and before a year.
_ATTRIBUTION = re.compile(
    rf"(?:,\s*)?(?:theo\s+(?:trang\s+)?)?(?:{_PROVINCE})(?:\s+\d{{4}})?\s*,?\s*",
    re.IGNORECASE,
)
_BRACKETS = re.compile(r"\(([^()]*)\)")


def strip_other_provinces(text: str) -> str:
    """Remove the attributions to other provinces found in brackets of a published text."""

    def clean(match: re.Match) -> str:
        inner = _ATTRIBUTION.sub(" ", match.group(1))
        inner = re.sub(r"\s+", " ", inner).strip(" ,;/")
        return f"({inner})" if inner else ""

    return normalize_text(re.sub(r"\s+([,;])", r"\1", _BRACKETS.sub(clean, text)))


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
    # Columns only the national database's export gives (national_format.py).
    if values.get("error"):
        problems.append(str(values["error"]))
    if values.get("processing_unit") in TimeUnit.values:
        attrs["processing_unit"] = values["processing_unit"]
    try:
        online_amount = _processing_amount(values.get("online_processing_days"))
        if online_amount is not None:
            attrs["online_processing_amount"] = online_amount
    except DomainError as exc:
        problems.append(exc.message)

    fee_vnd, fee_text = _fee(values.get("fee_vnd"))
    if fee_vnd is not None or fee_text:
        attrs["fee_vnd"], attrs["fee_text"] = fee_vnd, strip_other_provinces(fee_text)

    online_text = _text(values.get("online_level"))
    if online_text:
        level = online_level_from_text(online_text)
        attrs["online_level"] = level
        # Only the Decree 42/2022 level is kept: the published wording carries the old
        # "mức độ 3/4" scale and the province whose page it was read from.
        attrs["online_level_text"] = ""
        attrs["channel_online"] = level in (OnlineLevel.FULL, OnlineLevel.PARTIAL)

    for column in ("legal_basis", "result", "source"):
        text = _text(values.get(column))
        if text:
            attrs[column] = text
    # District procedures are published in the same set but handled by the district's
    # economic office; they stay in the catalogue, flagged, so the list is complete.
    if values.get("level") in Level.values:
        attrs["level"] = values["level"]
    elif "cấp huyện" in attrs.get("result", "").lower():
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


# --- Required documents ---------------------------------------------------------------

_KIND_WORDS = {
    # The published texts say "bản chính", "bản sao", "bản sao có chứng thực", "bản chính
    # hoặc bản sao có chứng thực"; the bundled list uses the choice values.
    "original": DocumentKind.ORIGINAL,
    "bản chính": DocumentKind.ORIGINAL,
    "copy": DocumentKind.COPY,
    "bản sao": DocumentKind.COPY,
    "bản chụp": DocumentKind.COPY,
    "certified_copy": DocumentKind.CERTIFIED_COPY,
    "bản sao chứng thực": DocumentKind.CERTIFIED_COPY,
    "bản sao có chứng thực": DocumentKind.CERTIFIED_COPY,
    "original_or_copy": DocumentKind.ORIGINAL_OR_COPY,
    "bản chính hoặc bản sao": DocumentKind.ORIGINAL_OR_COPY,
    "bản chính hoặc bản sao chứng thực": DocumentKind.ORIGINAL_OR_COPY,
    "bản chính hoặc bản sao có chứng thực": DocumentKind.ORIGINAL_OR_COPY,
}
_YES = {"1", "x", "yes", "true", "có", "bắt buộc"}
_NO = {"0", "no", "false", "không", "nếu có"}


@dataclass
class _DocumentRow:
    number: int
    code: str | None
    procedure_name: str
    spec: DocumentSpec | None
    source: str
    problems: list[str]
    procedure: Procedure | None = None


def _positive_int(value: Any, column: str, *, minimum: int) -> int | None:
    text = _text(value)
    if not text:
        return None
    try:
        number = int(Decimal(text))
        if number != Decimal(text) or number < minimum:
            raise InvalidOperation
    except InvalidOperation:
        raise DomainError(
            _('%(column)s "%(value)s" is not a whole number of at least %(minimum)d.')
            % {"column": column, "value": text, "minimum": minimum}
        ) from None
    return number


def parse_document_row(number: int, values: dict[str, Any], position: int) -> _DocumentRow:
    """One row of the documents sheet; every problem of the row is collected."""
    problems: list[str] = []
    code = _code(values.get("code")) or None
    procedure_name = _text(values.get("procedure_name"))
    if not code and not procedure_name:
        problems.append(_("procedure_name and code are both empty"))
    name = _text(values.get("document_name"))
    if not name:
        problems.append(_("document_name is empty"))

    kind_text = _text(values.get("kind")).lower()
    kind = _KIND_WORDS.get(kind_text, DocumentKind.ORIGINAL if not kind_text else None)
    if kind is None:
        problems.append(
            _('kind "%(value)s" is not one of %(choices)s')
            % {"value": kind_text, "choices": ", ".join(DocumentKind.values)}
        )
    mandatory_text = _text(values.get("mandatory")).lower()
    if mandatory_text in _YES or not mandatory_text:
        mandatory = True
    elif mandatory_text in _NO:
        mandatory = False
    else:
        mandatory = True
        problems.append(_('mandatory "%(value)s" is not 1 or 0') % {"value": mandatory_text})
    copies = order = None
    try:
        copies = _positive_int(values.get("copies"), "copies", minimum=1)
    except DomainError as exc:
        problems.append(exc.message)
    try:
        order = _positive_int(values.get("order"), "order", minimum=0)
    except DomainError as exc:
        problems.append(exc.message)
    spec = None
    if kind is not None and not problems:
        spec = DocumentSpec(
            name=name,
            kind=kind,
            copies=copies or 1,
            mandatory=mandatory,
            order=position if order is None else order,
            template_name=_text(values.get("template")),
        )
    return _DocumentRow(
        number=number,
        code=code,
        procedure_name=procedure_name,
        spec=spec,
        source=_text(values.get("source")),
        problems=problems,
    )


def _procedure_for_documents(*, code: str | None, name: str) -> Procedure:
    """The procedure a document row belongs to: its exact name in the procedure list,
    the national code deciding between namesakes or standing in for an empty name."""
    if name:
        matches = list(Procedure.objects.filter(name=name)[:2])
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            found = Procedure.objects.filter(name=name, code=code).first() if code else None
            if found is None:
                raise DomainError(_("several procedures have this name; add the national code"))
            return found
    if code:
        found = Procedure.objects.filter(code=code).first()
        if found is not None:
            return found
    if name:
        raise DomainError(
            _(
                'no procedure is named "%(name)s" (the name must be exactly as in the '
                "procedure list)"
            )
            % {"name": name}
        )
    raise DomainError(_('no procedure has the code "%(code)s"') % {"code": code})


def procedure_documents_import_rows(
    *, rows: Iterable[tuple[int, dict[str, Any]]], report: ImportReport | None = None
) -> ImportReport:
    """Set the required documents of each procedure named in `rows`.

    The rows of one procedure make its whole list, saved at once: if one of them is
    wrong, that procedure keeps the list it had and every bad row is reported, so a
    half list never reaches the portal. A procedure with no row keeps its list.
    """
    report = report or ImportReport()
    report.documents_set = report.documents_set or 0
    procedures: dict[tuple, Procedure | DomainError] = {}
    groups: dict[int, list[_DocumentRow]] = {}
    for position, (number, values) in enumerate(rows, start=1):
        parsed = parse_document_row(number, values, position)
        key = (parsed.code, parsed.procedure_name)
        if key not in procedures and (parsed.code or parsed.procedure_name):
            try:
                procedures[key] = _procedure_for_documents(
                    code=parsed.code, name=parsed.procedure_name
                )
            except DomainError as exc:
                procedures[key] = exc
        procedure = procedures.get(key)
        if not isinstance(procedure, Procedure):
            problems = [*parsed.problems]
            if isinstance(procedure, DomainError):
                problems.append(procedure.message)
            report.rejected.append(
                RowRejection(
                    row=number,
                    reason="; ".join(problems),
                    name=parsed.procedure_name or parsed.code or "",
                    sheet="documents",
                )
            )
            continue
        parsed.procedure = procedure
        groups.setdefault(procedure.pk, []).append(parsed)
    for group in groups.values():
        procedure = group[0].procedure
        assert procedure is not None  # set on every row grouped above
        label = procedure.name
        bad = [r for r in group if r.problems]
        if bad:
            for r in bad:
                report.rejected.append(
                    RowRejection(
                        row=r.number,
                        reason="; ".join(r.problems)
                        + "; "
                        + _("the documents of this procedure were not changed"),
                        name=label,
                        sheet="documents",
                    )
                )
            continue
        # A row without problems has its spec.
        specs = sorted((r.spec for r in group if r.spec), key=lambda spec: spec.order)
        sources = list(dict.fromkeys(r.source for r in group if r.source))
        try:
            with transaction.atomic():
                changed = procedure_documents_set(
                    procedure=procedure, documents=specs, source=" ; ".join(sources)
                )
        except (DomainError, DatabaseError) as exc:
            reason = exc.message if isinstance(exc, DomainError) else str(exc)
            logger.info("documents of %s rejected: %s", procedure.pk, reason)
            report.rejected.append(
                RowRejection(row=group[0].number, reason=reason, name=label, sheet="documents")
            )
            continue
        if changed:
            report.documents_set += 1
        else:
            report.documents_unchanged += 1
    return report


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DomainError(
            _("Cannot read %(file)s: %(error)s") % {"file": path, "error": exc.strerror}
        ) from exc


def procedure_import_file(
    *,
    path: str | Path,
    documents_path: str | Path | None = None,
    decision_number: str | None = None,
    decision_date: datetime.date | None = None,
    effective_from: datetime.date | None = None,
    actor=None,
) -> ImportReport:
    """Import a CSV or XLSX list; without a decision the versions say "import <file>".

    The required documents come from the workbook's "documents" sheet or, for a CSV
    list, from `documents_path`; they are read after the procedures, so a document
    row may name a procedure created by the same import.
    """
    path = Path(path)
    procedure_rows, document_rows = read_file(data=_read_bytes(path), filename=path.name)
    if documents_path is not None:
        documents_path = Path(documents_path)
        document_rows = read_document_file(
            data=_read_bytes(documents_path), filename=documents_path.name
        )
    report = procedure_import_rows(
        rows=procedure_rows,
        decision_number=decision_number or f"import {path.name}",
        decision_date=decision_date,
        effective_from=effective_from,
        set_publishing_decision=bool(decision_number),
        actor=actor,
    )
    if document_rows is not None:
        procedure_documents_import_rows(rows=document_rows, report=report)
    return report
