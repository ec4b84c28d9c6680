"""The report files: XLSX laid out like table 06/VPCP/KSTT, CSV, PDF (read back)."""

import csv
import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from procedures.reports import export
from procedures.reports import selectors as sel
from procedures.reports.selectors import Period

from .test_reports import (
    EXPECTED_A,
    EXPECTED_B,
    EXPECTED_TOTAL,
)

pytestmark = pytest.mark.django_db

JUNE = Period.month(2026, 6)
# Column letters of the official table (row 10 numbers them (1)...(20)).
COL = {
    "received": "C",
    "carried_over": "D",
    "received_online": "E",
    "received_direct_postal": "F",
    "resolved": "G",
    "resolved_early": "H",
    "resolved_on_time": "I",
    "resolved_late": "J",
    "in_progress": "K",
    "in_progress_within": "L",
    "in_progress_overdue": "M",
    "paused_supplement": "N",
    "paused_payment": "O",
    "stopped": "P",
    "withdrawn": "Q",
    "refused_intake": "R",
    "on_time_rate": "S",
    "online_share": "T",
}


@pytest.fixture
def report(june):
    return sel.report_monthly(period=JUNE, by="procedure")


@pytest.fixture
def sheet(report):
    return load_workbook(io.BytesIO(export.report_xlsx(report=report))).active


def test_xlsx_title_block(sheet, settings):
    assert sheet.title == "2026-06"
    assert sheet["A1"].value == settings.DEPARTMENT_NAME
    assert sheet["Q1"].value == "Biểu số 06/VPCP/KSTT"
    assert sheet["A3"].value == "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH"
    assert sheet["A4"].value == "Kỳ báo cáo: Tháng 06/2026 (từ ngày 01/06/2026 đến ngày 30/06/2026)"
    assert "A3:T3" in {str(r) for r in sheet.merged_cells.ranges}


def test_xlsx_merged_headers_where_the_official_table_has_them(sheet):
    merged = {str(r) for r in sheet.merged_cells.ranges}
    expected = {
        "A7:A9": "STT",
        "B7:B9": "Lĩnh vực, thủ tục hành chính",
        "C7:F7": "Số hồ sơ nhận giải quyết",
        "C8:C9": "Tổng số",
        "D8:D9": "Số kỳ trước chuyển qua",
        "E8:F8": "Số mới tiếp nhận",
        "G7:M7": "Kết quả giải quyết",
        "G8:J8": "Số hồ sơ đã giải quyết",
        "K8:M8": "Số hồ sơ đang giải quyết",
        "N7:P7": "Tạm dừng, dừng xử lý",
        "Q7:Q9": "Rút hồ sơ",
        "R7:R9": "Từ chối tiếp nhận",
        "S7:S9": "Tỷ lệ giải quyết đúng hạn (%)",
    }
    for cells, text in expected.items():
        assert cells in merged, cells
        assert sheet[cells.split(":")[0]].value == text
    leaves = {
        "E9": "Trực tuyến",
        "F9": "Trực tiếp, dịch vụ bưu chính",
        "G9": "Tổng số",
        "H9": "Trước hạn",
        "I9": "Đúng hạn",
        "J9": "Quá hạn",
        "K9": "Tổng số",
        "L9": "Trong hạn",
        "M9": "Quá hạn",
    }
    for cell, text in leaves.items():
        assert sheet[cell].value == text
    assert [sheet.cell(row=10, column=c).value for c in range(1, 21)] == [
        f"({c})" for c in range(1, 21)
    ]


def test_xlsx_total_first_then_fields_and_procedures_as_numbers(sheet, procedure):
    assert (sheet["A11"].value, sheet["B11"].value) == (None, "Tổng số")
    assert sheet["B11"].font.bold
    for key, col in COL.items():
        if key in EXPECTED_TOTAL:
            assert sheet[f"{col}11"].value == EXPECTED_TOTAL[key], key
            assert isinstance(sheet[f"{col}11"].value, int)
    assert sheet["S11"].value == 60.0 and sheet["S11"].number_format == "0.0"
    assert sheet["T11"].value == 12.5
    assert (sheet["A12"].value, sheet["B12"].value) == ("I", "Lưu thông hàng hóa trong nước")
    assert (sheet["A13"].value, sheet["B13"].value) == ("1", f"2.000633 - {procedure.name}")
    assert (sheet["A14"].value, sheet["B14"].value) == ("II", "Công nghiệp địa phương")
    for key, col in COL.items():
        if key in EXPECTED_A:
            assert sheet[f"{col}12"].value == sheet[f"{col}13"].value == EXPECTED_A[key]
            assert sheet[f"{col}14"].value == EXPECTED_B[key]
    assert sheet["S14"].value == 100.0


def test_xlsx_signature_block(sheet):
    values = [c.value for row in sheet.iter_rows(min_row=16) for c in row if c.value]
    assert "NGƯỜI LẬP BIỂU" in values and "THỦ TRƯỞNG CƠ QUAN" in values


def test_xlsx_by_unit_adds_the_control_slip_columns(june):
    report = sel.report_monthly(period=JUNE, by="unit")
    ws = load_workbook(io.BytesIO(export.report_xlsx(report=report))).active
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert "U7:X7" in merged
    assert ws["U7"].value == "Bước xử lý theo phiếu kiểm soát (mẫu 05)"
    assert ws["B7"].value == "Đơn vị xử lý"
    assert ws["U11"].value == 11  # every step that ended in June, with its result


def test_xlsx_in_english_keeps_the_layout(report):
    ws = load_workbook(io.BytesIO(export.report_xlsx(report=report, language="en"))).active
    assert ws["C7"].value == "Received"
    assert ws["B11"].value == "Total"
    assert ws["C11"].value == EXPECTED_TOTAL["received"]


def test_csv_has_a_labelled_header_and_a_line_per_row(report, procedure, industry_procedure):  # noqa: F811
    data = export.report_csv(report=report)
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    header = rows[0]
    assert header[:3] == ["STT", "key", "Lĩnh vực, thủ tục hành chính"]
    assert header[3] == "Số hồ sơ nhận giải quyết - Tổng số"
    assert header[5] == "Số hồ sơ nhận giải quyết - Số mới tiếp nhận - Trực tuyến"
    assert [r[1] for r in rows[1:]] == [
        "total",
        report.rows[0].key,
        f"procedure:{procedure.pk}",
        report.rows[1].key,
        f"procedure:{industry_procedure.pk}",
    ]
    total = dict(zip(header, rows[1], strict=False))
    assert total["Số hồ sơ nhận giải quyết - Tổng số"] == str(EXPECTED_TOTAL["received"])
    assert total["Kết quả giải quyết - Số hồ sơ đang giải quyết - Quá hạn"] == "1"
    assert total["Tỷ lệ giải quyết đúng hạn (%)"] == "60.0"


def test_pdf_is_landscape_and_its_text_is_vietnamese(report):
    data = export.report_pdf(report=report)
    reader = PdfReader(io.BytesIO(data))
    page = reader.pages[0]
    assert float(page.mediabox.width) > float(page.mediabox.height)
    text = "\n".join(p.extract_text() for p in reader.pages)
    for phrase in (
        "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH",
        "Biểu số 06/VPCP/KSTT",
        "Số hồ sơ nhận giải quyết",
        "Lưu thông hàng hóa trong nước",
        "Công nghiệp địa phương",
        "Tổng số",
        "60,0",
    ):  # a decimal comma
        assert phrase in text, phrase
    assert "60.0" not in text
    # The English copy writes the point.
    english = "\n".join(
        p.extract_text()
        for p in PdfReader(io.BytesIO(export.report_pdf(report=report, language="en"))).pages
    )
    assert "60.0" in english


def test_empty_period_still_makes_files(db):
    empty = sel.report_monthly(period=Period.month(2020, 1), by="field")
    ws = load_workbook(io.BytesIO(export.report_xlsx(report=empty))).active
    assert ws["B11"].value == "Tổng số" and ws["C11"].value == 0 and ws["S11"].value is None
    assert export.report_pdf(report=empty).startswith(b"%PDF")
    assert export.report_csv(report=empty).count(b"\r\n") == 2
