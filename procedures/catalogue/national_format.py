"""The national procedure database's JSON export, read as the import's rows.

The national database of administrative procedures (Cơ sở dữ liệu quốc gia về thủ tục
hành chính) exports a department's procedures as JSON. This module turns an export into
the same rows a CSV or XLSX list gives (procedures/catalogue/importing.py), so the
import's rules hold unchanged: idempotent by national code, each procedure saved or
refused on its own, an empty value never erasing one.

The shape read (docs/legal-rules.md "National procedure database export"; a sample is
tests/procedures/data/national_export.json)::

    {
      "NgayXuat": "2026-05-01",
      "ThuTuc": [
        {
          "MaTTHC": "2.000633",
          "TenTTHC": "Cấp Giấy phép bán lẻ sản phẩm rượu",
          "CapThucHien": ["Cấp Tỉnh"],
          "LinhVuc": {"MaLinhVuc": "G02-CT10", "TenLinhVuc": "Lưu thông hàng hóa ..."},
          "MucDoDVC": "Toàn trình",
          "CachThucThucHien": [
            {"Kenh": "Trực tiếp",
             "ThoiGianGiaiQuyet": {"SoLuong": 10, "DonVi": "Ngày làm việc"},
             "PhiLePhi": [{"MoTa": "Phí thẩm định", "SoTien": 1200000}]},
            {"Kenh": "Trực tuyến", "ThoiGianGiaiQuyet": {"SoLuong": 8, ...}, ...}
          ],
          "ThanhPhanHoSo": [
            {"TenGiayTo": "Đơn đề nghị ...", "MauDon": "Mẫu số 01",
             "LoaiBan": "Bản chính", "SoLuong": 1, "BatBuoc": true}
          ],
          "CanCuPhapLy": [{"SoHieu": "105/2017/NĐ-CP", "TrichYeu": "Về kinh doanh rượu"}],
          "KetQuaThucHien": "Giấy phép bán lẻ sản phẩm rượu"
        }
      ]
    }

The processing time is the direct channel's ("Trực tiếp"), or the first channel's; a
shorter online time becomes the online processing time. One fee with an amount is the
fee in VND; several fees, or a fee in words, stay words.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from procedures.core.constants import Level, TimeUnit
from procedures.core.errors import DomainError

SOURCE = "CSDLQG TTHC"

# DonVi of ThoiGianGiaiQuyet -> our time unit.
TIME_UNITS = {
    "ngày làm việc": TimeUnit.WORKING_DAYS,
    "ngày": TimeUnit.CALENDAR_DAYS,
    "ngày dương lịch": TimeUnit.CALENDAR_DAYS,
    "giờ làm việc": TimeUnit.WORKING_HOURS,
    "giờ": TimeUnit.WORKING_HOURS,
}


def looks_like_json(data: bytes, filename: str = "") -> bool:
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return filename.lower().endswith(".json") or head in (b"{", b"[")


def _text(value: Any) -> str:
    return "" if value is None else " ".join(str(value).split())


def _channels(item: dict) -> list[dict]:
    channels = item.get("CachThucThucHien") or []
    return [c for c in channels if isinstance(c, dict)]


def _channel(item: dict, *words: str) -> dict | None:
    for channel in _channels(item):
        if any(word in _text(channel.get("Kenh")).lower() for word in words):
            return channel
    return None


def _time(channel: dict | None) -> tuple[str, str]:
    """(amount, our unit) of a channel's processing time; ("", "") when not given."""
    if channel is None:
        return "", ""
    time = channel.get("ThoiGianGiaiQuyet") or {}
    if not isinstance(time, dict):
        return "", ""
    amount = _text(time.get("SoLuong"))
    unit = TIME_UNITS.get(_text(time.get("DonVi")).lower(), "")
    if amount and not unit:
        raise DomainError(
            _('unknown unit of processing time "%(unit)s"') % {"unit": _text(time.get("DonVi"))}
        )
    return amount, unit


def _fee(channel: dict | None) -> Any:
    fees = [f for f in (channel or {}).get("PhiLePhi") or [] if isinstance(f, dict)]
    if not fees:
        return ""
    if len(fees) == 1 and isinstance(fees[0].get("SoTien"), int) and not fees[0].get("MoTaThem"):
        return fees[0]["SoTien"]
    parts = []
    for fee in fees:
        amount = fee.get("SoTien")
        words = _text(fee.get("MoTa"))
        if isinstance(amount, int):
            amount = f"{amount:,}".replace(",", ".")  # as published: 1.200.000
        parts.append(f"{words}: {amount} đồng" if amount not in (None, "") else words)
    return "; ".join(p for p in parts if p)


def _level(item: dict) -> str:
    levels = item.get("CapThucHien") or []
    if isinstance(levels, str):
        levels = [levels]
    words = " ".join(_text(level).lower() for level in levels)
    if "tỉnh" in words:
        return Level.PROVINCE
    if "huyện" in words or "xã" in words:
        return Level.DISTRICT
    return ""


def _legal_basis(item: dict) -> str:
    out = []
    for basis in item.get("CanCuPhapLy") or []:
        if isinstance(basis, dict):
            out.append(
                " ".join(p for p in (_text(basis.get("SoHieu")), _text(basis.get("TrichYeu"))) if p)
            )
        else:
            out.append(_text(basis))
    return "; ".join(p for p in out if p)


def _field(item: dict) -> str:
    field = item.get("LinhVuc")
    if isinstance(field, dict):
        return _text(field.get("TenLinhVuc"))
    return _text(field)


def _shorter(online: str, direct: str) -> bool:
    """Only a shorter online time is one (the catalogue's constraint); a non-number is
    left to the import, which refuses it with the row."""
    try:
        return Decimal(online.replace(",", ".")) < Decimal(direct.replace(",", "."))
    except InvalidOperation:
        return False


def procedure_row(item: dict, *, exported: str = "") -> dict[str, Any]:
    """One procedure of the export as a row of the import (importing.COLUMNS)."""
    direct = _channel(item, "trực tiếp") or (_channels(item) or [None])[0]
    online = _channel(item, "trực tuyến")
    amount, unit = _time(direct)
    online_amount, online_unit = _time(online)
    row: dict[str, Any] = {
        "code": _text(item.get("MaTTHC")),
        "name": _text(item.get("TenTTHC")),
        "field": _field(item),
        "processing_days": amount,
        "fee_vnd": _fee(direct),
        "online_level": _text(item.get("MucDoDVC")),
        "legal_basis": _legal_basis(item),
        "result": _text(item.get("KetQuaThucHien")),
        "source": f"{SOURCE} {exported}".strip(),
        "level": _level(item),
    }
    if amount and unit:
        row["processing_unit"] = unit
    if online_amount and online_unit == unit and _shorter(online_amount, amount):
        row["online_processing_days"] = online_amount
    return row


def document_rows(item: dict) -> list[dict[str, Any]]:
    rows = []
    for position, doc in enumerate(item.get("ThanhPhanHoSo") or [], start=1):
        if not isinstance(doc, dict):
            continue
        mandatory = doc.get("BatBuoc")
        rows.append(
            {
                "procedure_name": _text(item.get("TenTTHC")),
                "code": _text(item.get("MaTTHC")),
                "order": str(position),
                "document_name": _text(doc.get("TenGiayTo")),
                "kind": _text(doc.get("LoaiBan")),
                "copies": _text(doc.get("SoLuong")),
                "mandatory": "" if mandatory is None else ("1" if mandatory else "0"),
                "template": _text(doc.get("MauDon")),
                "source": SOURCE,
            }
        )
    return rows


def read_national_json(data: bytes) -> tuple[list, list | None]:
    """(procedure rows, document rows or None), numbered by the procedure's position in
    the export (the "row" of an import report)."""
    try:
        export = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise DomainError(
            _("The file is not a readable JSON export of the national procedure database.")
        ) from exc
    items = export.get("ThuTuc") if isinstance(export, dict) else export
    if not isinstance(items, list):
        raise DomainError(_("The JSON export has no list of procedures (ThuTuc)."))
    exported = _text(export.get("NgayXuat")) if isinstance(export, dict) else ""
    procedures: list[tuple[int, dict[str, Any]]] = []
    documents: list[tuple[int, dict[str, Any]]] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            procedures.append((number, {}))  # refused by the import as empty
            continue
        try:
            procedures.append((number, procedure_row(item, exported=exported)))
        except DomainError as exc:
            bare = {"code": _text(item.get("MaTTHC")), "name": _text(item.get("TenTTHC"))}
            procedures.append((number, {**bare, "field": _field(item), "error": exc.message}))
            continue
        documents.extend((number, row) for row in document_rows(item))
    return procedures, documents if any(
        isinstance(i, dict) and i.get("ThanhPhanHoSo") for i in items
    ) else None
