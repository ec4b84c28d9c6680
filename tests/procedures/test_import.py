"""import_procedures / seed_catalogue: idempotent, row by row, nothing guessed."""

import csv
import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from openpyxl import Workbook

from procedures.catalogue.importing import (
    COLUMNS,
    online_level_from_text,
    procedure_import_file,
)
from procedures.core.constants import ChangeKind, Level, OnlineLevel
from procedures.core.errors import DomainError
from procedures.models import Field, Procedure, ProcedureVersion, Unit
from tests import files
from tests.commands import run
from tests.factories import ProcedureFactory

pytestmark = pytest.mark.django_db

REFERENCE = Path(__file__).resolve().parents[2] / "procedures" / "data" / "procedures_reference.csv"


def write_csv(path: Path, rows: list[dict], columns=COLUMNS) -> Path:
    return files.write_csv(path, rows, columns)


def row(**values):
    return {"name": "Cấp Giấy phép bán lẻ rượu", "field": "Lưu thông hàng hóa trong nước", **values}


# --- the bundled reference list ---


def test_seed_imports_the_reference_list_and_is_idempotent():
    code, out, err = run("seed_catalogue")
    assert code == 0, err
    assert "Created: 102, updated: 0, unchanged: 0, rejected: 0" in out
    assert Procedure.objects.count() == 102
    assert ProcedureVersion.objects.count() == 102
    assert Unit.objects.count() == 6
    assert Unit.objects.get(is_one_stop_desk=True).code == "VP"

    # Empty times stay empty: "time not yet published", never a guess.
    with REFERENCE.open(encoding="utf-8") as f:
        empty_times = sum(1 for r in csv.DictReader(f) if not r["processing_days"].strip())
    assert empty_times > 0
    assert Procedure.objects.filter(processing_amount__isnull=True).count() == empty_times
    # The six district-level procedures are kept, flagged, and get no department unit.
    district = Procedure.objects.filter(level=Level.DISTRICT)
    assert district.count() == 6
    assert not district.filter(implementing_unit__isnull=False).exists()
    assert not Procedure.objects.filter(
        level=Level.PROVINCE, implementing_unit__isnull=True
    ).exists()
    # Sub-fields in brackets join their ministry field.
    petrol = Field.objects.get(ministry_code="G02-CT11")
    assert petrol.name == "Lưu thông hàng hóa trong nước"
    assert not Field.objects.filter(name__contains="(").exists()
    assert Field.objects.get(name="Xúc tiến thương mại").ministry_code == "G02-CT23"
    assert Field.objects.get(name="Cụm công nghiệp").ministry_code == ""

    snapshot = list(Procedure.objects.order_by("pk").values())
    code, out, err = run("seed_catalogue")
    assert code == 0, err
    assert "Created: 0, updated: 0, unchanged: 102, rejected: 0" in out
    assert "Units: 0 created" in out
    assert list(Procedure.objects.order_by("pk").values()) == snapshot
    assert ProcedureVersion.objects.count() == 102
    assert Unit.objects.count() == 6


def test_seed_keeps_a_unit_staff_chose():
    run("seed_catalogue")
    procedure = Procedure.objects.filter(level=Level.PROVINCE).first()
    procedure.implementing_unit = Unit.objects.get(code="TTRA")
    procedure.save()
    run("seed_catalogue")
    procedure.refresh_from_db()
    assert procedure.implementing_unit.code == "TTRA"


# --- values ---


@pytest.mark.parametrize(
    "text, level",
    [
        ("Toàn trình", OnlineLevel.FULL),
        ("Toàn trình (Nghệ An); Mức độ 4 (BR-VT)", OnlineLevel.FULL),
        ("Mức độ 4 (Lâm Đồng)", OnlineLevel.FULL),
        ("Một phần (Cao Bằng)", OnlineLevel.PARTIAL),
        ("Mức độ 3 (Huế)", OnlineLevel.PARTIAL),
        ("Toàn trình / Mức độ 4 (Lâm Đồng, Đà Nẵng); Mức độ 3 (Huế)", OnlineLevel.FULL),
        ("Mức 1-2 (Huế 2020)", OnlineLevel.NONE),
        ("Trực tiếp/Trực tuyến/Bưu chính", OnlineLevel.NONE),
        ("", OnlineLevel.NONE),
    ],
)
def test_online_level_from_text(text, level):
    assert online_level_from_text(text) == level


def test_values_are_mapped_and_empty_cells_stay_empty(tmp_path):
    path = write_csv(
        tmp_path / "list.csv",
        [
            row(
                code="2.000633",
                processing_days="7",
                fee_vnd="0",
                online_level="Toàn trình (Nghệ An)",
            ),
            row(
                name="Cấp Giấy phép bán lẻ sản phẩm thuốc lá",
                fee_vnd="TC/DN: 1.200.000 (TP) / 600.000 (huyện)",
                online_level="Mức độ 3 (Huế)",
                result="Giấy phép bán lẻ sản phẩm thuốc lá (cấp huyện - Phòng Kinh tế cấp)",
            ),
            row(name="Thủ tục không có dữ liệu", field="Hóa chất"),
            row(
                name="Phí có dấu chấm", field="Hóa chất", fee_vnd="1.200.000", processing_days="0,5"
            ),
        ],
    )
    report = procedure_import_file(path=path)
    assert (report.created, report.rejected) == (4, [])

    retail = Procedure.objects.get(code="2.000633")
    assert retail.processing_amount == Decimal("7.0")
    assert (retail.fee_vnd, retail.fee_text) == (0, "")
    # Only the Decree 42/2022 level is kept: no province, no "mức độ" wording.
    assert (retail.online_level, retail.online_level_text) == (OnlineLevel.FULL, "")
    assert retail.channel_online is True
    assert retail.level == Level.PROVINCE

    tobacco = Procedure.objects.get(name="Cấp Giấy phép bán lẻ sản phẩm thuốc lá")
    assert tobacco.code is None
    assert tobacco.processing_amount is None and not tobacco.time_published
    assert (tobacco.fee_vnd, tobacco.fee_text) == (None, "TC/DN: 1.200.000 (TP) / 600.000 (huyện)")
    assert tobacco.online_level == OnlineLevel.PARTIAL and tobacco.channel_online
    assert tobacco.level == Level.DISTRICT

    bare = Procedure.objects.get(name="Thủ tục không có dữ liệu")
    assert bare.processing_amount is None
    assert (bare.fee_vnd, bare.fee_text) == (None, "")
    assert (bare.online_level, bare.online_level_text, bare.channel_online) == (
        OnlineLevel.NONE,
        "",
        False,
    )

    dotted = Procedure.objects.get(name="Phí có dấu chấm")
    assert dotted.fee_vnd == 1_200_000
    assert dotted.processing_amount == Decimal("0.5")

    version = retail.versions.get()
    assert version.decision_number == "import list.csv"
    assert version.kind == ChangeKind.ADDED
    assert retail.publishing_decision == ""  # an import is not a publishing decision


def test_bad_rows_are_reported_and_good_rows_saved(tmp_path):
    path = write_csv(
        tmp_path / "list.csv",
        [
            row(code="2.000001", name="Thủ tục tốt 1", processing_days="5"),
            row(code="2.000002", name="Thủ tục xấu", processing_days="năm ngày"),
            row(code="2.000003", name=""),
            row(code="2.000004", name="Thủ tục tốt 2", field=""),
            row(code="2.000005", name="Thủ tục âm", processing_days="-3"),
            row(code="2.000006", name="Thủ tục tốt 3", processing_days="15"),
            row(code="2.000001", name="Thủ tục trùng", processing_days="6"),
            row(code="2.000007", name="Quá nhiều số lẻ", processing_days="2.25"),
        ],
    )
    code, out, err = run("import_procedures", str(path))
    assert code == 1
    assert "Created: 2, updated: 0, unchanged: 0, rejected: 6" in out
    # Row numbers are the spreadsheet's (header is row 1).
    assert 'Row 3 rejected (Thủ tục xấu): processing_days "năm ngày" is not a number' in err
    assert "Row 4 rejected (-): name is empty" in err
    assert "Row 5 rejected (Thủ tục tốt 2): field is empty" in err
    assert "Row 6 rejected (Thủ tục âm): processing_days must be greater than zero" in err
    assert "Row 8 rejected (Thủ tục trùng): same procedure as row 2" in err
    assert (
        "Row 9 rejected (Quá nhiều số lẻ): processing_days has more than one decimal place" in err
    )
    assert "6 row(s) rejected; the other rows were saved." in err
    assert set(Procedure.objects.values_list("code", flat=True)) == {"2.000001", "2.000006"}


def test_row_failing_after_its_field_was_created_is_rolled_back_alone(tmp_path):
    path = write_csv(
        tmp_path / "list.csv",
        [
            row(code="2.000001", name="Tốt"),
            # Passes parsing, creates its field, then fails model validation (6 digits max).
            row(code="2.000002", name="Hỏng", field="Lĩnh vực mới", processing_days="1000000"),
            row(code="x" * 31, name="Mã quá dài"),
            row(code="2.000003", name="Tốt nữa", field="Lĩnh vực mới"),
        ],
    )
    report = procedure_import_file(path=path)
    assert report.created == 2
    assert [r.row for r in report.rejected] == [3, 4]
    assert "processing time" in report.rejected[0].reason
    assert Procedure.objects.get(code="2.000003").field.name == "Lĩnh vực mới"
    assert Field.objects.filter(name="Lĩnh vực mới").count() == 1


def test_missing_columns_reject_the_whole_file(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("ma,ten\n1,2\n", encoding="utf-8")
    with pytest.raises(DomainError):
        procedure_import_file(path=path)
    code, out, err = run("import_procedures", str(path))
    assert code == 1 and "no column name, field" in err
    assert not Procedure.objects.exists()


def test_reimport_updates_through_amend_and_keeps_history(tmp_path):
    write_csv(
        tmp_path / "v1.csv", [row(code="2.000633", processing_days="15", legal_basis="NĐ 105/2017")]
    )
    procedure_import_file(path=tmp_path / "v1.csv", effective_from=datetime.date(2019, 1, 1))

    write_csv(
        tmp_path / "v2.csv",
        [row(code="2.000633", processing_days="10", legal_basis="NĐ 17/2020", source="Cổng DVC")],
    )
    code, out, err = run(
        "import_procedures",
        str(tmp_path / "v2.csv"),
        "--decision",
        "1234/QĐ-UBND",
        "--decision-date",
        "2019-06-01",
        "--effective-from",
        "2019-07-01",
    )
    assert code == 0, err
    assert "Created: 0, updated: 1, unchanged: 0, rejected: 0" in out
    procedure = Procedure.objects.get(code="2.000633")
    assert procedure.processing_amount == Decimal("10.0")
    assert procedure.publishing_decision == "1234/QĐ-UBND"
    version = procedure.versions.get(number=2)
    assert version.kind == ChangeKind.AMENDED
    assert version.decision_number == "1234/QĐ-UBND"
    assert version.decision_date == datetime.date(2019, 6, 1)
    assert version.effective_from == datetime.date(2019, 7, 1)
    assert version.changes["processing_amount"] == ["15.0", "10.0"]
    assert version.changes["legal_basis"] == ["NĐ 105/2017", "NĐ 17/2020"]
    assert version.time_saved == Decimal("5.0")


def test_reimport_of_descriptive_change_needs_no_version(tmp_path):
    write_csv(tmp_path / "a.csv", [row(code="2.000633", processing_days="15")])
    procedure_import_file(path=tmp_path / "a.csv")
    write_csv(
        tmp_path / "b.csv",
        [row(code="2.000633", processing_days="15", source="https://dichvucong.gov.vn")],
    )
    report = procedure_import_file(path=tmp_path / "b.csv")
    assert report.updated == 1
    procedure = Procedure.objects.get()
    assert procedure.source == "https://dichvucong.gov.vn"
    assert procedure.versions.count() == 1


def test_empty_cell_never_erases_a_value_staff_entered(tmp_path):
    write_csv(tmp_path / "a.csv", [row(code="2.000633")])
    procedure_import_file(path=tmp_path / "a.csv")
    from procedures.catalogue.services import procedure_amend

    procedure_amend(
        procedure=Procedure.objects.get(),
        changes={"processing_amount": 5},
        decision_number="5/QĐ",
        decision_date=None,
        effective_from=timezone.localdate(),
    )
    report = procedure_import_file(path=tmp_path / "a.csv")
    assert report.unchanged == 1
    assert Procedure.objects.get().processing_amount == Decimal("5.0")


def test_rows_without_code_match_by_normalised_name_and_field(tmp_path):
    write_csv(tmp_path / "a.csv", [row(name="Cấp  Giấy phép   bán lẻ rượu ", processing_days="10")])
    procedure_import_file(path=tmp_path / "a.csv")
    write_csv(tmp_path / "b.csv", [row(name="Cấp Giấy phép bán lẻ rượu", processing_days="10")])
    assert procedure_import_file(path=tmp_path / "b.csv").unchanged == 1
    # Same name in another field is another procedure.
    write_csv(
        tmp_path / "c.csv", [row(name="Cấp Giấy phép bán lẻ rượu", field="Công nghiệp tiêu dùng")]
    )
    assert procedure_import_file(path=tmp_path / "c.csv").created == 1
    # Once the list carries the code, it is attached to the existing procedure.
    write_csv(
        tmp_path / "d.csv",
        [row(code="2.000633", name="Cấp Giấy phép bán lẻ rượu", processing_days="10")],
    )
    report = procedure_import_file(path=tmp_path / "d.csv")
    assert report.updated == 1
    assert Procedure.objects.count() == 2
    assert Procedure.objects.get(code="2.000633").field.name == "Lưu thông hàng hóa trong nước"


def test_change_to_an_abolished_procedure_is_rejected(tmp_path):
    ProcedureFactory(code="2.000633", processing_amount=10, abolished=True)
    write_csv(tmp_path / "a.csv", [row(code="2.000633", processing_days="5")])
    report = procedure_import_file(path=tmp_path / "a.csv")
    assert [r.row for r in report.rejected] == [2]
    assert "abolished" in report.rejected[0].reason


def test_xlsx_import(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(list(COLUMNS))
    # A spreadsheet stores the code 1.000940 as the number 1.00094, and days as numbers.
    ws.append(
        [
            1.00094,
            "Cấp Giấy phép sản xuất rượu công nghiệp",
            "Công nghiệp tiêu dùng",
            15,
            0,
            "Một phần",
            "",
            "",
            "",
        ]
    )
    ws.append(
        [
            "2.000162",
            "Cấp Giấy phép bán lẻ sản phẩm thuốc lá",
            "Lưu thông hàng hóa trong nước",
            None,
            "Theo TT 168/2016/TT-BTC",
            None,
            None,
            "Giấy phép (cấp huyện)",
            None,
        ]
    )
    ws.append([None, None, None, None, None, None, None, None, None])
    ws.append(["2.000163", "Thủ tục lỗi", "Hóa chất", "mười", None, None, None, None, None])
    path = tmp_path / "danh-muc.xlsx"
    wb.save(path)

    code, out, err = run("import_procedures", str(path))
    assert code == 1
    assert "Created: 2, updated: 0, unchanged: 0, rejected: 1" in out
    assert "Row 5 rejected" in err
    wine = Procedure.objects.get(code="1.000940")
    assert wine.processing_amount == Decimal("15.0")
    assert wine.fee_vnd == 0
    assert wine.online_level == OnlineLevel.PARTIAL
    tobacco = Procedure.objects.get(code="2.000162")
    assert tobacco.processing_amount is None
    assert tobacco.fee_text == "Theo TT 168/2016/TT-BTC"
    assert tobacco.level == Level.DISTRICT
    assert wine.versions.get().decision_number == "import danh-muc.xlsx"
    # Idempotent for XLSX as well.
    code, out, err = run("import_procedures", str(path))
    assert "Created: 0, updated: 0, unchanged: 2, rejected: 1" in out


def test_file_named_xlsx_that_is_not_one_is_refused(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_text("code,name\n", encoding="utf-8")
    code, out, err = run("import_procedures", str(path))
    assert code == 1 and "not an XLSX workbook" in err


def test_csv_with_excel_bom_and_missing_file(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffcode,name,field\n2.000633,Cấp Giấy phép bán lẻ rượu,Điện\n".encode())
    assert procedure_import_file(path=path).created == 1
    code, out, err = run("import_procedures", str(tmp_path / "missing.csv"))
    assert code == 1 and "Cannot read" in err


@pytest.mark.parametrize(
    "text, cleaned",
    [
        (
            "2200000 (phí thẩm định/lần/hồ sơ, theo trang Đà Nẵng)",
            "2200000 (phí thẩm định/lần/hồ sơ)",
        ),
        ("1100000 (Bến Tre, /lần thẩm định/hồ sơ)", "1100000 (lần thẩm định/hồ sơ)"),
        ("Một phần (Cao Bằng)", "Một phần"),
        ("TC/DN: 1.200.000 (TP) / 600.000 (huyện)", "TC/DN: 1.200.000 (TP) / 600.000 (huyện)"),
        ("Theo TT 168/2016/TT-BTC", "Theo TT 168/2016/TT-BTC"),
    ],
)
def test_other_provinces_are_dropped_from_fee_texts(text, cleaned):
    from procedures.catalogue.importing import strip_other_provinces

    assert strip_other_provinces(text) == cleaned


def test_the_seeded_catalogue_names_no_other_province_and_no_old_level():
    run("seed_catalogue")
    assert not Procedure.objects.exclude(online_level_text="").exists()
    for fee_text in Procedure.objects.exclude(fee_text="").values_list("fee_text", flat=True):
        for province in ("Đà Nẵng", "Bến Tre", "Nghệ An", "Cao Bằng", "Ninh Bình", "Huế"):
            assert province not in fee_text
