"""Small shared helper for PDF documents in Vietnamese (slips, reports).

ReportLab's built-in fonts are Latin-1 only, so Vietnamese letters (ệ, ữ, ợ, đ...)
would print as black boxes. We register Roboto, a TrueType font that covers them,
from the `font-roboto` package (installed, not vendored; style.md anti-patterns).
ReportLab embeds a subset with a ToUnicode map, so the text of the PDF stays
searchable and extractable (the tests read it back with pypdf).

Typical use::

    from procedures import pdf

    story = [pdf.para("Giấy tiếp nhận hồ sơ", "title"), pdf.table([["A", "B"], ["1", "2"]])]
    data = pdf.build(story, title="Phiếu")
"""

from __future__ import annotations

import io
import os
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape

import font_roboto
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.pagesizes import landscape as _landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

__all__ = [
    "FONT",
    "FONT_BOLD",
    "FONT_ITALIC",
    "build",
    "fonts_register",
    "mm",
    "para",
    "qr_code",
    "spacer",
    "styles",
    "table",
]

FONT = "Roboto"
FONT_BOLD = "Roboto-Bold"
FONT_ITALIC = "Roboto-Italic"
_FONT_FILES = {
    FONT: "Roboto-Regular.ttf",
    FONT_BOLD: "Roboto-Bold.ttf",
    FONT_ITALIC: "Roboto-Italic.ttf",
    "Roboto-BoldItalic": "Roboto-BoldItalic.ttf",
}
_lock = threading.Lock()
_registered = False


def _font_path(filename: str) -> str:
    path = os.path.join(os.path.dirname(font_roboto.__file__), "files", filename)
    if not os.path.exists(path):
        raise RuntimeError(
            f"Font file {path} is missing: reinstall the font-roboto package "
            "(see requirements.txt)."
        )
    return path


def fonts_register() -> str:
    """Register the Roboto family with ReportLab once per process; returns the regular name."""
    global _registered
    if _registered:
        return FONT
    with _lock:
        if not _registered:
            for name, filename in _FONT_FILES.items():
                pdfmetrics.registerFont(TTFont(name, _font_path(filename)))
            # <b> and <i> inside paragraphs pick the right face of the family.
            pdfmetrics.registerFontFamily(
                FONT,
                normal=FONT,
                bold=FONT_BOLD,
                italic=FONT_ITALIC,
                boldItalic="Roboto-BoldItalic",
            )
            _registered = True
    return FONT


def styles(base_size: float = 10.5) -> dict[str, ParagraphStyle]:
    """Paragraph styles in the registered font: title, heading, body, small, cell..."""
    fonts_register()
    leading = base_size * 1.35
    body = ParagraphStyle("body", fontName=FONT, fontSize=base_size, leading=leading)
    return {
        "body": body,
        "bold": ParagraphStyle("bold", parent=body, fontName=FONT_BOLD),
        "italic": ParagraphStyle("italic", parent=body, fontName=FONT_ITALIC),
        "small": ParagraphStyle(
            "small", parent=body, fontSize=base_size - 2, leading=(base_size - 2) * 1.3
        ),
        "center": ParagraphStyle("center", parent=body, alignment=TA_CENTER),
        "center_bold": ParagraphStyle(
            "center_bold", parent=body, fontName=FONT_BOLD, alignment=TA_CENTER
        ),
        "center_italic": ParagraphStyle(
            "center_italic", parent=body, fontName=FONT_ITALIC, alignment=TA_CENTER
        ),
        "right": ParagraphStyle("right", parent=body, alignment=TA_RIGHT),
        "title": ParagraphStyle(
            "title",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=base_size + 3.5,
            leading=(base_size + 3.5) * 1.3,
            alignment=TA_CENTER,
            spaceBefore=6,
            spaceAfter=4,
        ),
        "heading": ParagraphStyle(
            "heading",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=base_size + 1,
            leading=(base_size + 1) * 1.35,
            spaceBefore=6,
            spaceAfter=2,
        ),
        "cell": ParagraphStyle(
            "cell",
            parent=body,
            fontSize=base_size - 1.5,
            leading=(base_size - 1.5) * 1.25,
            alignment=TA_LEFT,
        ),
        "cell_bold": ParagraphStyle(
            "cell_bold",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=base_size - 1.5,
            leading=(base_size - 1.5) * 1.25,
        ),
        "cell_center": ParagraphStyle(
            "cell_center",
            parent=body,
            fontSize=base_size - 1.5,
            leading=(base_size - 1.5) * 1.25,
            alignment=TA_CENTER,
        ),
        "cell_right": ParagraphStyle(
            "cell_right",
            parent=body,
            fontSize=base_size - 1.5,
            leading=(base_size - 1.5) * 1.25,
            alignment=TA_RIGHT,
        ),
    }


def _text(value) -> str:
    # Combining accents (NFD, e.g. pasted from some PDFs) render as detached marks: compose.
    return unicodedata.normalize("NFC", "" if value is None else str(value))


def para(text, style: str | ParagraphStyle = "body", *, markup: bool = False) -> Paragraph:
    """A paragraph of plain text (escaped; newlines kept) unless `markup` allows <b>/<i>/<br/>."""
    st = styles()[style] if isinstance(style, str) else style
    value = _text(text)
    if not markup:
        value = escape(value).replace("\n", "<br/>")
    return Paragraph(value, st)


def spacer(height_mm: float = 4) -> Spacer:
    return Spacer(1, height_mm * mm)


def table(
    rows: Sequence[Sequence],
    *,
    col_widths: Sequence[float] | None = None,
    header_rows: int = 1,
    grid: bool = True,
    extra_style: Iterable[tuple] = (),
    cell_style: str = "cell",
    repeat_header: bool = True,
) -> Table:
    """A table whose str cells become wrapped paragraphs; other flowables pass through.

    `extra_style` takes ReportLab TableStyle commands, e.g. ("SPAN", (0, 0), (1, 0)) for
    merged headers.
    """
    st = styles()
    cells = []
    for r, row in enumerate(rows):
        out = []
        for value in row:
            if isinstance(value, Flowable) or (
                isinstance(value, (list, tuple)) and all(isinstance(v, Flowable) for v in value)
            ):
                out.append(value)  # a flowable, or a list of them stacked in the cell
            elif r < header_rows:
                out.append(para(value, "cell_bold"))
            else:
                out.append(para(value, st[cell_style]))
        cells.append(out)
    t = Table(cells, colWidths=col_widths, repeatRows=header_rows if repeat_header else 0)
    commands: list[tuple] = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if grid:
        commands.append(("GRID", (0, 0), (-1, -1), 0.5, colors.black))
    if header_rows:
        commands.append(("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.HexColor("#eeeeee")))
    commands.extend(extra_style)
    t.setStyle(TableStyle(commands))
    return t


def qr_code(data: str, *, size_mm: float = 30) -> Drawing:
    """A QR code flowable (reportlab.graphics.barcode.qr), `size_mm` square."""
    widget = QrCodeWidget(data, barLevel="M")
    x1, y1, x2, y2 = widget.getBounds()
    size = size_mm * mm
    drawing = Drawing(size, size, transform=[size / (x2 - x1), 0, 0, size / (y2 - y1), 0, 0])
    drawing.add(widget)
    return drawing


def build(
    flowables: Sequence[Flowable],
    *,
    title: str = "",
    author: str = "",
    subject: str = "",
    pagesize=A4,
    landscape: bool = False,
    margins_mm: tuple[float, float, float, float] = (20, 15, 15, 25),
    footer: str = "",
) -> bytes:
    """Lay out the flowables on A4 (or `pagesize`) and return the PDF bytes.

    Margins are (top, right, bottom, left) in mm; the defaults follow the layout of
    administrative documents (Decree 30/2020: left 30-35, right 15-20 — narrowed a
    little for slips). `footer` is printed at the bottom of each page with its number.
    """
    fonts_register()
    size = _landscape(pagesize) if landscape else pagesize
    top, right, bottom, left = margins_mm
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=size,
        topMargin=top * mm,
        rightMargin=right * mm,
        bottomMargin=bottom * mm,
        leftMargin=left * mm,
        title=_text(title),
        author=_text(author),
        subject=_text(subject),
    )
    footer_text = _text(footer)

    def _page(canvas, document):
        canvas.saveState()
        canvas.setFont(FONT, 8)
        label = f"{footer_text}  —  {document.page}" if footer_text else str(document.page)
        canvas.drawRightString(size[0] - right * mm, bottom * mm / 2, label)
        canvas.restoreState()

    doc.build(list(flowables), onFirstPage=_page, onLaterPages=_page)
    return buffer.getvalue()
