"""Files of the periodic report: XLSX laid out like table 06/VPCP/KSTT, CSV and PDF.

The XLSX and PDF are the documents leaders sign, so by default their headings are the
wording of the form prescribed by Circular 01/2020/TT-VPCP, in Vietnamese, whatever
the language of the page that asked for them: legal form text, like the role group
names in constants.py, is not interface text to translate. ``language="en"`` gives
the same layout with the interface's (gettext) labels, for reading, not for signing.

Layout (both files): title block; a three-level header with merged cells (received:
total, carried over, newly accepted online / direct and postal; results: resolved
total, early, on time, late and in progress total, within deadline, overdue; then the
extra columns); a row of column numbers (1), (2)...; the total row first ("Tổng số"),
then each field (roman numeral) with its procedures (arabic), or units / officers;
a signature block. Figures are numbers, rates are numbers with one decimal.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from procedures.core.formatting import percent
from procedures.reports.selectors import (
    BY_OFFICER,
    BY_UNIT,
    COLUMNS,
    GROUP_LABELS,
    RATE_LABELS,
    STEP_LABELS,
    MonthlyReport,
)

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
PDF_CONTENT_TYPE = "application/pdf"
FORM_NUMBER = "Biểu số 06/VPCP/KSTT"

# Wording of the form (Circular 01/2020/TT-VPCP, table 06) and of the extra columns
# provinces add; keyed like the report columns.
_VI = {
    "stt": "STT",
    "name:field": "Lĩnh vực, thủ tục hành chính",
    "name:unit": "Đơn vị xử lý",
    "name:officer": "Cán bộ xử lý",
    "g:received": "Số hồ sơ nhận giải quyết",
    "received": "Tổng số",
    "received_new": "Số mới tiếp nhận",
    "carried_over": "Số kỳ trước chuyển qua",
    "g:new": "Số mới tiếp nhận",
    "received_online": "Trực tuyến",
    "received_direct_postal": "Trực tiếp, dịch vụ bưu chính",
    "g:results": "Kết quả giải quyết",
    "g:resolved": "Số hồ sơ đã giải quyết",
    "resolved": "Tổng số",
    "resolved_early": "Trước hạn",
    "resolved_on_time": "Đúng hạn",
    "resolved_late": "Quá hạn",
    "g:in_progress": "Số hồ sơ đang giải quyết",
    "in_progress": "Tổng số",
    "in_progress_within": "Trong hạn",
    "in_progress_overdue": "Quá hạn",
    "g:paused": "Tạm dừng, dừng xử lý",
    "paused_supplement": "Chờ bổ sung hồ sơ",
    "paused_payment": "Chờ thực hiện nghĩa vụ tài chính",
    "stopped": "Dừng xử lý",
    "withdrawn": "Rút hồ sơ",
    "refused_intake": "Từ chối tiếp nhận",
    "on_time_rate": "Tỷ lệ giải quyết đúng hạn (%)",
    "online_share": "Tỷ lệ tiếp nhận trực tuyến (%)",
    "g:steps": "Bước xử lý theo phiếu kiểm soát (mẫu 05)",
    "steps": "Tổng số",
    "steps_early": "Trước hạn",
    "steps_on_time": "Đúng hạn",
    "steps_late": "Quá hạn",
    "total": "Tổng số",
    "title": "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH",
    "period": "Kỳ báo cáo: {label} (từ ngày {start} đến ngày {end})",
    "unit_of_count": "Đơn vị tính: Số hồ sơ thủ tục hành chính",
    "month": "Tháng {value}",
    "quarter": "Quý {value}",
    "year": "Năm {value}",
    "made_by": "NGƯỜI LẬP BIỂU",
    "head": "THỦ TRƯỞNG CƠ QUAN",
    "sign": "(Ký, ghi rõ họ tên)",
    "sign_seal": "(Ký, ghi rõ họ tên, đóng dấu)",
    "date": "ngày {d} tháng {m} năm {y}",
    "generated": "Số liệu tính lúc {time}",
}


def _en() -> dict[str, str]:
    by_key = {c.key: str(c.label) for c in COLUMNS}
    return {
        "stt": _("No."),
        "name:field": _("Field, procedure"),
        "name:unit": _("Unit"),
        "name:officer": _("Officer"),
        "g:received": str(GROUP_LABELS["received"]),
        **by_key,
        "g:new": _("Newly accepted"),
        "g:results": _("Results"),
        "g:resolved": str(GROUP_LABELS["resolved"]),
        "g:in_progress": str(GROUP_LABELS["in_progress"]),
        "g:paused": str(GROUP_LABELS["paused"]),
        "paused_supplement": _("Awaiting supplement"),
        "paused_payment": _("Awaiting payment"),
        **{k: str(v) for k, v in RATE_LABELS.items()},
        "g:steps": _("Steps on the control slips (form 05)"),
        **{k: str(v) for k, v in STEP_LABELS.items()},
        "steps": _("Total"),
        "total": _("Total"),
        "title": _("HANDLING OF ADMINISTRATIVE PROCEDURES: STATUS AND RESULTS"),
        "period": _("Reporting period: {label} ({start} to {end})"),
        "unit_of_count": _("Unit: dossiers"),
        "month": _("Month {value}"),
        "quarter": _("Quarter {value}"),
        "year": _("Year {value}"),
        "made_by": _("PREPARED BY"),
        "head": _("HEAD OF THE AGENCY"),
        "sign": _("(Signature and full name)"),
        "sign_seal": _("(Signature, full name and seal)"),
        "date": _("{d}/{m}/{y}"),
        "generated": _("Figures computed at {time}"),
    }


def labels(language: str = "vi") -> dict[str, str]:
    if language == "vi":
        return _VI
    with translation.override(language):
        return _en()


# --------------------------------------------------------------------------- layout

# Leaf columns in the order of the form, then the extra ones.
OFFICIAL_KEYS = (
    "received",
    "carried_over",
    "received_online",
    "received_direct_postal",
    "resolved",
    "resolved_early",
    "resolved_on_time",
    "resolved_late",
    "in_progress",
    "in_progress_within",
    "in_progress_overdue",
    "paused_supplement",
    "paused_payment",
    "stopped",
    "withdrawn",
    "refused_intake",
    "on_time_rate",
    "online_share",
)
STEP_EXPORT_KEYS = ("steps", "steps_early", "steps_on_time", "steps_late")
HEADER_ROWS = 3


@dataclass(frozen=True)
class HeaderCell:
    row: int  # 0-2 within the header
    col: int  # 0 = STT, 1 = name, 2.. = figures
    rowspan: int
    colspan: int
    label_key: str


def leaf_keys(report: MonthlyReport) -> tuple[str, ...]:
    return OFFICIAL_KEYS + (STEP_EXPORT_KEYS if report.steps else ())


def header_cells(report: MonthlyReport) -> list[HeaderCell]:
    name = {BY_UNIT: "name:unit", BY_OFFICER: "name:officer"}.get(report.by, "name:field")
    cells = [
        HeaderCell(0, 0, 3, 1, "stt"),
        HeaderCell(0, 1, 3, 1, name),
        HeaderCell(0, 2, 1, 4, "g:received"),
        HeaderCell(1, 2, 2, 1, "received"),
        HeaderCell(1, 3, 2, 1, "carried_over"),
        HeaderCell(1, 4, 1, 2, "g:new"),
        HeaderCell(2, 4, 1, 1, "received_online"),
        HeaderCell(2, 5, 1, 1, "received_direct_postal"),
        HeaderCell(0, 6, 1, 7, "g:results"),
        HeaderCell(1, 6, 1, 4, "g:resolved"),
        HeaderCell(2, 6, 1, 1, "resolved"),
        HeaderCell(2, 7, 1, 1, "resolved_early"),
        HeaderCell(2, 8, 1, 1, "resolved_on_time"),
        HeaderCell(2, 9, 1, 1, "resolved_late"),
        HeaderCell(1, 10, 1, 3, "g:in_progress"),
        HeaderCell(2, 10, 1, 1, "in_progress"),
        HeaderCell(2, 11, 1, 1, "in_progress_within"),
        HeaderCell(2, 12, 1, 1, "in_progress_overdue"),
        HeaderCell(0, 13, 1, 3, "g:paused"),
        HeaderCell(1, 13, 2, 1, "paused_supplement"),
        HeaderCell(1, 14, 2, 1, "paused_payment"),
        HeaderCell(1, 15, 2, 1, "stopped"),
        HeaderCell(0, 16, 3, 1, "withdrawn"),
        HeaderCell(0, 17, 3, 1, "refused_intake"),
        HeaderCell(0, 18, 3, 1, "on_time_rate"),
        HeaderCell(0, 19, 3, 1, "online_share"),
    ]
    if report.steps:
        cells += [HeaderCell(0, 20, 1, 4, "g:steps")] + [
            HeaderCell(1, 20 + i, 2, 1, key) for i, key in enumerate(STEP_EXPORT_KEYS)
        ]
    return cells


def _roman(n: int) -> str:
    out = ""
    for value, letters in (
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ):
        while n >= value:
            out += letters
            n -= value
    return out


def body_rows(report: MonthlyReport, words: dict) -> list[tuple[str, str, str, dict]]:
    """(number, label, kind, figures): the total first, then fields and their procedures."""
    rows = [("", words["total"], "total", report.total.figures)]
    nested = any(r.children for r in report.rows)
    for i, row in enumerate(report.rows, start=1):
        label = f"{row.label} ({row.code})" if row.kind == "officer" and row.code else row.label
        rows.append((_roman(i) if nested else str(i), label, row.kind, row.figures))
        for j, child in enumerate(row.children, start=1):
            code = f"{child.code} - " if child.code else ""
            rows.append((str(j), f"{code}{child.label}", child.kind, child.figures))
    return rows


def _period_words(report: MonthlyReport, words: dict) -> str:
    p = report.period
    value = {
        "month": f"{p.start:%m/%Y}",
        "quarter": f"{(p.start.month - 1) // 3 + 1}/{p.start.year}",
        "year": str(p.start.year),
    }[p.kind]
    label = words[p.kind].format(value=value)
    return words["period"].format(label=label, start=f"{p.start:%d/%m/%Y}", end=f"{p.end:%d/%m/%Y}")


def _date_line(report: MonthlyReport, words: dict) -> str:
    day = timezone.localtime(report.generated_at).date()
    return words["date"].format(d=f"{day:%d}", m=f"{day:%m}", y=day.year)


# --------------------------------------------------------------------------- XLSX

_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def report_xlsx(*, report: MonthlyReport, language: str = "vi") -> bytes:
    words = labels(language)
    keys = leaf_keys(report)
    width = 2 + len(keys)
    last_col = get_column_letter(width)
    wb = Workbook()
    ws = wb.active
    ws.title = report.period.key
    bold = Font(bold=True)

    ws["A1"] = settings.DEPARTMENT_NAME
    ws["A1"].font = bold
    ws.merge_cells("A1:F1")
    ws.cell(row=1, column=width - 3, value=FORM_NUMBER).font = bold
    ws.merge_cells(start_row=1, start_column=width - 3, end_row=1, end_column=width)
    for row, key, font in (
        (3, "title", Font(bold=True, size=13)),
        (4, None, Font(italic=True)),
        (5, "unit_of_count", Font(italic=True)),
    ):
        ws.cell(row=row, column=1, value=words[key] if key else _period_words(report, words))
        ws.cell(row=row, column=1).font = font
        ws.cell(row=row, column=1).alignment = Alignment(horizontal="center")
        ws.merge_cells(f"A{row}:{last_col}{row}")

    top = 7
    for cell in header_cells(report):
        r, c = top + cell.row, 1 + cell.col
        ws.cell(row=r, column=c, value=words[cell.label_key])
        if cell.rowspan > 1 or cell.colspan > 1:
            ws.merge_cells(
                start_row=r,
                start_column=c,
                end_row=r + cell.rowspan - 1,
                end_column=c + cell.colspan - 1,
            )
    numbers_row = top + HEADER_ROWS
    for c in range(1, width + 1):
        ws.cell(row=numbers_row, column=c, value=f"({c})")
    grey = PatternFill("solid", fgColor="EEEEEE")
    for r in range(top, numbers_row + 1):
        for c in range(1, width + 1):
            cell = ws.cell(row=r, column=c)
            cell.font = bold if r < numbers_row else Font(italic=True)
            cell.alignment = _CENTER
            cell.border = _BORDER
            cell.fill = grey

    r = numbers_row + 1
    for number, label, kind, figures in body_rows(report, words):
        ws.cell(row=r, column=1, value=number).alignment = Alignment(horizontal="center")
        ws.cell(row=r, column=2, value=label).alignment = Alignment(wrap_text=True, vertical="top")
        for i, key in enumerate(keys):
            value = figures.get(key)
            cell = ws.cell(row=r, column=3 + i, value=value)
            if key in ("on_time_rate", "online_share"):
                cell.number_format = "0.0"
        for c in range(1, width + 1):
            ws.cell(row=r, column=c).border = _BORDER
            if kind in ("total", "field"):
                ws.cell(row=r, column=c).font = bold
        r += 1

    r += 1
    ws.cell(row=r, column=width - 5, value=_date_line(report, words)).font = Font(italic=True)
    ws.merge_cells(start_row=r, start_column=width - 5, end_row=r, end_column=width)
    r += 1
    for col, (title, note) in ((2, ("made_by", "sign")), (width - 5, ("head", "sign_seal"))):
        ws.cell(row=r, column=col, value=words[title]).font = bold
        ws.cell(row=r + 1, column=col, value=words[note]).font = Font(italic=True)
    ws.cell(
        row=r + 6,
        column=2,
        value=words["generated"].format(
            time=f"{timezone.localtime(report.generated_at):%H:%M %d/%m/%Y}"
        ),
    ).font = Font(italic=True, size=8)

    ws.column_dimensions["A"].width = 6
    ws.column_dimensions["B"].width = 48
    for i in range(len(keys)):
        ws.column_dimensions[get_column_letter(3 + i)].width = 11
    for row in range(top, numbers_row):
        ws.row_dimensions[row].height = 45
    ws.freeze_panes = ws.cell(row=numbers_row + 1, column=3)
    ws.print_options.horizontalCentered = True
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- CSV


def report_csv(*, report: MonthlyReport, language: str = "vi") -> bytes:
    """One header row ("group - column") and one line per row, total first.

    UTF-8 with a byte-order mark, so Excel opens the Vietnamese letters correctly.
    """
    words = labels(language)
    keys = leaf_keys(report)
    group_of = {}
    for cell in header_cells(report):
        if cell.label_key.startswith("g:"):
            for c in range(cell.col, cell.col + cell.colspan):
                group_of.setdefault(c, []).append(words[cell.label_key])
    name = {BY_UNIT: "name:unit", BY_OFFICER: "name:officer"}.get(report.by, "name:field")
    header = [words["stt"], "key", words[name]]
    for i, key in enumerate(keys):
        header.append(" - ".join([*group_of.get(2 + i, []), words[key]]))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    flat = [report.total] + [x for r in report.rows for x in (r, *r.children)]
    for (number, label, _kind, figures), row in zip(body_rows(report, words), flat, strict=False):
        writer.writerow(
            [number, row.key, label, *("" if figures.get(k) is None else figures[k] for k in keys)]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --------------------------------------------------------------------------- PDF


def report_pdf(*, report: MonthlyReport, language: str = "vi") -> bytes:
    """A4 landscape, the same header with spans, through procedures.core.pdf (Roboto)."""
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm

    from procedures.core import pdf

    words = labels(language)
    keys = leaf_keys(report)
    st = pdf.styles(base_size=7.5)
    head_style = ParagraphStyle("report_head", parent=st["cell_bold"], alignment=TA_CENTER)
    width = 2 + len(keys)

    grid = [["" for _c in range(width)] for _r in range(HEADER_ROWS)]
    spans = []
    for cell in header_cells(report):
        grid[cell.row][cell.col] = pdf.para(words[cell.label_key], head_style)
        if cell.rowspan > 1 or cell.colspan > 1:
            spans.append(
                (
                    "SPAN",
                    (cell.col, cell.row),
                    (cell.col + cell.colspan - 1, cell.row + cell.rowspan - 1),
                )
            )
    numbers = [pdf.para(f"({c})", st["cell_center"]) for c in range(1, width + 1)]
    body = []
    bold_rows = []
    for number, label, kind, figures in body_rows(report, words):
        style = st["cell_bold"] if kind in ("total", "field") else st["cell"]
        cells = [pdf.para(number, st["cell_center"]), pdf.para(label, style)]
        for key in keys:
            value = figures.get(key)
            text = (
                ""
                if value is None
                else (
                    percent(value, sign=False, language=language)
                    if isinstance(value, float)
                    else str(value)
                )
            )
            cells.append(pdf.para(text, st["cell_right"]))
        if kind in ("total", "field"):
            bold_rows.append(HEADER_ROWS + 1 + len(body))
        body.append(cells)
    usable = 297 - 15 - 15
    name_width = 62 if not report.steps else 50
    figure_width = (usable - 8 - name_width) / len(keys)
    table = pdf.table(
        grid + [numbers] + body,
        header_rows=HEADER_ROWS + 1,
        col_widths=[8 * mm, name_width * mm] + [figure_width * mm] * len(keys),
        extra_style=[*spans, ("VALIGN", (0, 0), (-1, HEADER_ROWS), "MIDDLE")],
    )
    sign = pdf.table(
        [
            [
                pdf.para(words["made_by"], st["center_bold"]),
                pdf.para(_date_line(report, words), st["center_italic"]),
            ],
            [
                pdf.para(words["sign"], st["center_italic"]),
                pdf.para(words["head"], st["center_bold"]),
            ],
            ["", pdf.para(words["sign_seal"], st["center_italic"])],
        ],
        header_rows=0,
        grid=False,
        col_widths=[120 * mm, 120 * mm],
    )
    story = [
        pdf.table(
            [[pdf.para(settings.DEPARTMENT_NAME, st["bold"]), pdf.para(FORM_NUMBER, st["right"])]],
            header_rows=0,
            grid=False,
            col_widths=[180 * mm, 87 * mm],
        ),
        pdf.para(words["title"], pdf.styles(base_size=10)["title"]),
        pdf.para(_period_words(report, words), st["center_italic"]),
        pdf.para(words["unit_of_count"], st["center_italic"]),
        pdf.spacer(3),
        table,
        pdf.spacer(6),
        sign,
    ]
    return pdf.build(
        story,
        title=f"{words['title']} - {report.period.key}",
        author=settings.DEPARTMENT_NAME,
        landscape=True,
        margins_mm=(12, 15, 12, 15),
        footer=f"{FORM_NUMBER} - {report.period.key}",
    )


def report_filename(*, report: MonthlyReport, extension: str) -> str:
    return f"bao-cao-06-{report.period.key}-{report.by}.{extension}"
