"""XLSX files for staff: the follow-up report and the import template."""

from io import BytesIO

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from dialogues.selectors import REPORT_COLUMNS, FollowUpReport
from dialogues.services.imports import COLUMNS


def _headers() -> list[str]:
    return [
        _("Received"),
        _("Answered on time"),
        _("Answered late"),
        _("Pending"),
        _("Overdue"),
        _("Forwarded"),
        _("Closed without answer"),
    ]


def followup_report_xlsx(*, report: FollowUpReport) -> bytes:
    workbook = Workbook()
    sheets = (
        (workbook.active, _("By field"), report.by_field, _("Field")),
        (workbook.create_sheet(), _("By unit"), report.by_unit, _("Unit")),
    )
    as_of = timezone.localtime(report.as_of)
    for sheet, name, rows, label in sheets:
        sheet.title = name[:31]
        sheet.append([report.title])
        sheet.append([_("As of %(time)s") % {"time": f"{as_of:%d/%m/%Y %H:%M}"}])
        sheet.append([label, *_headers()])
        for cell in sheet[3]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([row["name"] or _("(not set)"), *(row[c] for c in REPORT_COLUMNS)])
        sheet.append([_("Total"), *(report.totals[c] for c in REPORT_COLUMNS)])
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        sheet.column_dimensions["A"].width = 40
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def recommendation_template_xlsx(*, recommendations) -> bytes:
    """The import sheet pre-filled with the given recommendations (round trip)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "import"
    sheet.append([*COLUMNS, "content", "business", "status"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for r in recommendations:
        sheet.append(
            [
                r.pk,
                r.unit.code if r.unit else "",
                r.field.name if r.field else "",
                r.answer_text,
                r.answer_kind,
                r.answer_document_number,
                r.content,
                r.business.name,
                r.get_status_display(),
            ]
        )
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
