"""The national procedure database's JSON export (issue 12 item 4), imported through the
same rules as a CSV list: by national code, each procedure on its own, nothing guessed."""

from decimal import Decimal
from pathlib import Path

import pytest

from procedures.catalogue.importing import procedure_import_file, read_file
from procedures.catalogue.national_format import read_national_json
from procedures.core.constants import DocumentKind, Level, OnlineLevel, TimeUnit
from procedures.core.errors import DomainError
from procedures.models import Procedure

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).resolve().parent / "data" / "national_export.json"


def test_export_becomes_import_rows():
    procedures, documents = read_national_json(SAMPLE.read_bytes())
    number, first = procedures[0]
    assert number == 1
    assert first["code"] == "2.000633"
    assert first["field"] == "Lưu thông hàng hóa trong nước"
    assert first["processing_days"] == "10" and first["processing_unit"] == TimeUnit.WORKING_DAYS
    assert first["online_processing_days"] == "8"
    assert first["fee_vnd"] == 1_200_000
    assert first["level"] == Level.PROVINCE
    assert first["source"] == "CSDLQG TTHC 2026-05-01"
    assert procedures[1][1]["fee_vnd"] == (
        "Cơ sở kinh doanh: 1.000.000 đồng; Cơ sở sản xuất: 2.500.000 đồng"
    )
    assert documents is not None
    assert [(n, d["document_name"][:20], d["order"]) for n, d in documents] == [
        (1, "Đơn đề nghị cấp Giấy", "1"),
        (1, "Bản sao Giấy chứng n", "2"),
        (1, "Hợp đồng thuê địa đi", "3"),
    ]
    assert read_file(data=SAMPLE.read_bytes(), filename="export.json") == (procedures, documents)


def test_import_of_the_export_is_idempotent_and_refuses_bad_procedures():
    report = procedure_import_file(path=SAMPLE)
    assert (report.created, report.updated, report.unchanged) == (2, 0, 0)
    reasons = {r.row: r.reason for r in report.rejected}
    assert reasons[3] == 'unknown unit of processing time "Tuần"'
    assert reasons[4] == "name is empty"

    wine = Procedure.objects.get(code="2.000633")
    assert wine.name == "Cấp Giấy phép bán lẻ sản phẩm rượu"
    assert wine.processing_amount == Decimal("10.0")
    assert wine.online_processing_amount == Decimal("8.0")
    assert wine.processing_unit == TimeUnit.WORKING_DAYS
    assert wine.fee_vnd == 1_200_000
    assert wine.online_level == OnlineLevel.FULL
    assert wine.level == Level.PROVINCE
    assert "105/2017/NĐ-CP Về kinh doanh rượu" in wine.legal_basis
    docs = list(wine.documents.order_by("order"))
    assert [(d.kind, d.mandatory) for d in docs] == [
        (DocumentKind.ORIGINAL, True),
        (DocumentKind.COPY, True),
        (DocumentKind.CERTIFIED_COPY, False),
    ]
    assert docs[0].template_name == "Mẫu số 01"

    food = Procedure.objects.get(code="2.000181")
    assert food.processing_unit == TimeUnit.CALENDAR_DAYS
    assert food.processing_amount == Decimal("20.0")
    assert food.fee_vnd is None and "2.500.000" in food.fee_text
    assert food.online_level == OnlineLevel.PARTIAL

    again = procedure_import_file(path=SAMPLE)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert again.documents_unchanged == 1
    assert Procedure.objects.count() == 2


def test_not_an_export_is_refused():
    with pytest.raises(DomainError, match="not a readable JSON export"):
        read_national_json(b"{not json")
    with pytest.raises(DomainError, match="no list of procedures"):
        read_national_json(b'{"NgayXuat": "2026-05-01"}')
