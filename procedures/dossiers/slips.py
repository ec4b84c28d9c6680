"""Printable slips of the one-stop desk (forms of Circular 01/2018/TT-VPCP).

- 01 receipt and appointment (giấy tiếp nhận hồ sơ và hẹn trả kết quả), with a QR
  code to the public look-up page;
- 02 supplement request (phiếu yêu cầu bổ sung, hoàn thiện hồ sơ);
- 03 refusal (phiếu từ chối tiếp nhận giải quyết hồ sơ);
- 04 apology and new appointment (phiếu xin lỗi và hẹn lại ngày trả kết quả);
- 05 processing control slip (phiếu kiểm soát quá trình giải quyết hồ sơ).

A slip is built once as a list of plain blocks (fields, paragraphs, tables, a QR
code, signatures) and the same blocks are rendered to an HTML print view and to a
PDF, so the two never disagree. Slips are printed in the applicant's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from reportlab.platypus import KeepTogether

from procedures.core import pdf, signing
from procedures.core.constants import Action, DossierStatus, OnTimeResult, TimeUnit
from procedures.core.errors import DomainError
from procedures.core.people import staff_display_name
from procedures.models import Dossier, DossierEvent
from procedures.portal import links

__all__ = [
    "Slip",
    "SlipKind",
    "lookup_url",
    "slip_build",
    "slip_filename",
    "slip_render_html",
    "slip_render_pdf",
    "slips_available",
]


class SlipKind(models.TextChoices):
    RECEIPT = "receipt", gettext_lazy("Receipt and appointment slip")
    SUPPLEMENT = "supplement", gettext_lazy("Supplement request")
    REFUSAL = "refusal", gettext_lazy("Refusal slip")
    APOLOGY = "apology", gettext_lazy("Apology and new appointment")
    CONTROL = "control", gettext_lazy("Processing control slip")


FORM_NUMBERS = {
    SlipKind.RECEIPT: "01",
    SlipKind.SUPPLEMENT: "02",
    SlipKind.REFUSAL: "03",
    SlipKind.APOLOGY: "04",
    SlipKind.CONTROL: "05",
}


@dataclass(frozen=True)
class Block:
    """One piece of a slip. `kind` is heading, text, fields, table, qr, fields_qr (label
    and value lines beside a QR code) or signatures."""

    kind: str
    text: str = ""
    rows: tuple = ()
    header: tuple = ()
    widths: tuple = ()  # relative column widths of a table
    url: str = ""
    svg: str = ""


@dataclass
class Slip:
    kind: str
    form_number: str
    title: str
    dossier: Dossier
    issued_on: str
    blocks: list[Block] = field(default_factory=list)
    language: str = "vi"

    @property
    def header_left(self) -> list[str]:
        return [settings.DEPARTMENT_NAME.upper(), _("ONE-STOP DESK")]

    @property
    def header_right(self) -> list[str]:
        return [_("SOCIALIST REPUBLIC OF VIETNAM"), _("Independence – Freedom – Happiness")]

    @property
    def form_label(self) -> str:
        return _("Form %(number)s") % {"number": self.form_number}

    @property
    def code_line(self) -> str:
        return _("Dossier code: %(code)s") % {"code": self.dossier.code}


# ------------------------------------------------------------------ formatting helpers


def _dt(value: datetime | None) -> str:
    if value is None:
        return ""
    return timezone.localtime(value).strftime("%H:%M, %d/%m/%Y")


def _day(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y") if value else ""


def _processing_time(d: Dossier) -> str:
    if d.processing_amount is None:
        return _("Not published")
    amount = Decimal(d.processing_amount).normalize()
    return f"{amount:f} {TimeUnit(d.processing_unit).label}"


def lookup_url(*, dossier: Dossier) -> str:
    """Absolute address of the public look-up page for this dossier (code only, no PIN)."""
    return links.lookup_url(dossier.code)


def _qr_svg(url: str) -> str:
    from reportlab.graphics import renderSVG

    svg = renderSVG.drawToString(pdf.qr_code(url, size_mm=32))
    # Drop the XML prolog and doctype so the SVG can sit inline in HTML.
    return svg[svg.index("<svg") :]


def _last_event(d: Dossier, action: str) -> DossierEvent | None:
    return (
        DossierEvent.objects.filter(dossier=d, action=action)
        .select_related("actor")
        .order_by("-at", "-id")
        .first()
    )


# ------------------------------------------------------------------ which slips apply


def slips_available(*, dossier: Dossier) -> list[str]:
    """The slips that make sense for the dossier as it stands (no query)."""
    kinds = []
    if dossier.accepted_at is not None or dossier.status == DossierStatus.SUBMITTED:
        kinds.append(SlipKind.RECEIPT)
    if dossier.supplement_count:
        kinds.append(SlipKind.SUPPLEMENT)
    if dossier.status == DossierStatus.REFUSED_AT_INTAKE:
        kinds.append(SlipKind.REFUSAL)
    if dossier.reappointment_count:
        kinds.append(SlipKind.APOLOGY)
    if dossier.accepted_at is not None:
        kinds.append(SlipKind.CONTROL)
    return [str(k) for k in kinds]


# ------------------------------------------------------------------ building


def _applicant_fields(d: Dossier) -> list[tuple[str, str]]:
    rows = [
        (_("Applicant"), d.applicant_name),
        (_("Citizen ID or tax code"), d.applicant_id_number),
    ]
    if d.applicant_address:
        rows.append((_("Address"), d.applicant_address))
    if d.applicant_phone:
        rows.append((_("Phone"), d.applicant_phone))
    if d.applicant_email:
        rows.append((_("Email"), d.applicant_email))
    request = d.procedure.name
    if d.procedure.code:
        request = f"{request} ({d.procedure.code})"
    rows.append((_("Request"), request))
    return rows


def _receipt(d: Dossier, pin: str | None) -> list[Block]:
    documents = [doc for doc in d.documents.all() if not doc.is_result]
    files_by_slot: dict[int | None, list[str]] = {}
    for doc in documents:
        files_by_slot.setdefault(doc.slot_id, []).append(doc.original_name)
    rows = []
    for i, slot in enumerate(d.procedure.documents.all(), start=1):
        files = files_by_slot.pop(slot.pk, [])
        rows.append(
            (
                str(i),
                slot.name,
                slot.get_kind_display(),
                str(slot.copies),
                ", ".join(files) if files else (_("Not received") if slot.mandatory else "—"),
            )
        )
    for names in files_by_slot.values():  # files outside the published list
        rows.append((str(len(rows) + 1), _("Other document"), "", "1", ", ".join(names)))

    received_at = d.accepted_at or d.submitted_at
    if d.due_at:
        due = _dt(d.due_at)
    else:
        due = _(
            "Set when the dossier is accepted; you will be told by email and on the look-up page."
        )
    url = lookup_url(dossier=d)
    pin_text = (
        _("Look-up PIN: %(pin)s (keep it private).") % {"pin": pin}
        if pin
        # A copy printed later never has it: only its keyed hash is stored.
        else _(
            "This copy does not show the look-up PIN: it is given only once, on the "
            "receipt issued when the dossier was registered."
        )
    )
    fee = ""
    if d.fee_vnd:
        fee = _("%(amount)s VND") % {"amount": f"{d.fee_vnd:,}".replace(",", ".")}
    blocks = [
        Block("fields", rows=tuple(_applicant_fields(d))),
        Block("heading", text=_("1. Documents received")),
        Block(
            "table",
            header=(_("No."), _("Document"), _("Form"), _("Copies"), _("Files")),
            rows=tuple(rows),
            widths=(1, 9, 3, 2, 5),
        ),
        # Items 2-6 beside the QR code: one band instead of two keeps form 01 on one
        # sheet with a long address and a long list of papers.
        Block(
            "fields_qr",
            url=url,
            svg=_qr_svg(url),
            text=_("Follow the dossier on the look-up page with its code: %(url)s") % {"url": url}
            + "\n"
            + pin_text,
            rows=tuple(
                r
                for r in [
                    (_("2. Number of dossier sets"), "01"),
                    (_("3. Processing time as published"), _processing_time(d)),
                    (_("4. Received at"), _dt(received_at)),
                    (_("5. Result due at"), due),
                    (_("6. Result delivered"), d.get_result_delivery_display()),
                    (_("Channel"), d.get_channel_display()),
                    (_("Fees and charges"), fee) if fee else None,
                ]
                if r
            ),
        ),
        Block(
            "signatures",
            rows=(
                (_("APPLICANT"), d.applicant_name),
                (_("RECEIVED BY"), staff_display_name(d.received_by)),
            ),
        ),
    ]
    return blocks


def _supplement(d: Dossier) -> list[Block]:
    event = _last_event(d, Action.REQUEST_SUPPLEMENT)
    if event is None:
        raise DomainError(_("No supplement has been requested for this dossier."), code="no_slip")
    return [
        Block("fields", rows=(*_applicant_fields(d), (_("Received at"), _dt(d.submitted_at)))),
        Block("text", text=_("The dossier must be supplemented and completed with the following:")),
        Block("text", text=event.note),
        Block(
            "text",
            text=_(
                "Reason: the papers above are missing or not as required. Please supplement "
                "them once, completely, at the one-stop desk or through the look-up page: %(url)s"
            )
            % {"url": lookup_url(dossier=d)},
        ),
        Block("fields", rows=((_("Requested at"), _dt(event.at)),)),
        Block("signatures", rows=((_("GUIDED BY"), staff_display_name(event.actor)),)),
    ]


def _refusal(d: Dossier) -> list[Block]:
    event = _last_event(d, Action.REFUSE_INTAKE)
    if event is None:
        raise DomainError(_("This dossier was not refused at intake."), code="no_slip")
    return [
        Block("fields", rows=(*_applicant_fields(d), (_("Received at"), _dt(d.submitted_at)))),
        Block(
            "text",
            text=_(
                "After checking the dossier against the rules, the one-stop desk "
                "cannot accept it, for the following reasons:"
            ),
        ),
        Block("text", text=event.note),
        Block("fields", rows=((_("Refused at"), _dt(event.at)),)),
        Block("signatures", rows=((_("REFUSED BY"), staff_display_name(event.actor)),)),
    ]


def _apology(d: Dossier) -> list[Block]:
    event = _last_event(d, Action.APOLOGISE)
    if event is None:
        raise DomainError(_("No new appointment was made for this dossier."), code="no_slip")
    old_due = event.data.get("old_due_at")
    new_due = event.data.get("new_due_at")
    old_due = _dt(datetime.fromisoformat(old_due)) if old_due else _dt(d.original_due_at)
    new_due = _dt(datetime.fromisoformat(new_due)) if new_due else _dt(d.due_at)
    department = settings.DEPARTMENT_NAME
    return [
        Block(
            "text",
            text=_(
                "On %(accepted)s, %(department)s accepted the dossier of %(applicant)s for "
                "“%(procedure)s”, code %(code)s, and promised the result at %(old_due)s."
            )
            % {
                "accepted": _day(d.accepted_at),
                "department": department,
                "applicant": d.applicant_name,
                "procedure": d.procedure.name,
                "code": d.code,
                "old_due": old_due,
            },
        ),
        Block("text", text=_("The dossier could not be resolved by then, for this reason:")),
        Block("text", text=event.note),
        Block(
            "text",
            text=_(
                "%(department)s apologises to %(applicant)s for this delay and the inconvenience "
                "it causes, and makes a new appointment to return the result at %(new_due)s."
            )
            % {"department": department, "applicant": d.applicant_name, "new_due": new_due},
        ),
        Block("fields", rows=((_("New appointment"), new_due),)),
        Block("signatures", rows=((_("HEAD OF THE AGENCY"), staff_display_name(event.actor)),)),
    ]


def _hours(seconds: int | None) -> str:
    if seconds is None:
        return ""
    hours = Decimal(seconds) / 3600
    return _("%(hours)s h") % {"hours": f"{hours.quantize(Decimal('0.01')).normalize():f}"}


def _user_unit(user):
    profile = getattr(user, "staff_profile", None) if user is not None else None
    return profile.unit if profile is not None else None


def _step_doer(d: Dossier, step) -> tuple[str, str]:
    """The unit and officer of a step as form 05 records them: who really handed it
    over (and that officer's unit), not whoever the dossier is assigned to now; a step
    still open is with the unit and officer holding it; one not reached, with nobody."""
    if step.completed_at is not None:
        doer = step.completed_by or step.officer
        unit = _user_unit(doer) or step.unit
    elif step.started_at is not None:
        doer = step.officer or d.assigned_officer
        unit = step.unit or d.assigned_unit
    else:
        doer, unit = None, step.unit
    return (unit.name if unit else ""), staff_display_name(doer)


def _control(d: Dossier) -> list[Block]:
    if d.accepted_at is None:
        raise DomainError(
            _("The dossier has not been accepted: it has no control slip yet."), code="no_slip"
        )
    results = dict(OnTimeResult.choices)
    rows = []
    for step in d.steps.all():
        unit, officer = _step_doer(d, step)
        rows.append(
            (
                str(step.order),
                step.name,
                unit,
                officer,
                _dt(step.started_at),
                _hours(step.allotted_seconds),
                _dt(step.due_at),
                _dt(step.completed_at),
                str(results.get(step.on_time_result, "")),
                step.note,
            )
        )
    summary = [
        (_("Accepted at"), _dt(d.accepted_at)),
        (_("Processing time as published"), _processing_time(d)),
        (_("Result due at"), _dt(d.due_at)),
    ]
    if d.reappointment_count:
        summary.append((_("Originally due at"), _dt(d.original_due_at)))
    if d.finished_at:
        summary.append((_("Resolved at"), _dt(d.finished_at)))
        summary.append((_("Result of the dossier"), str(results.get(d.on_time_result, ""))))
    return [
        Block("fields", rows=(*_applicant_fields(d), *summary)),
        Block(
            "table",
            header=(
                _("No."),
                _("Step"),
                _("Unit"),
                _("Officer"),
                _("Received at"),
                _("Time allotted"),
                _("Due"),
                _("Handed over at"),
                _("Result"),
                _("Note"),
            ),
            rows=tuple(rows),
            widths=(1, 4, 4, 3, 3, 2, 3, 3, 2, 3),
        ),
        Block(
            "signatures",
            rows=(
                (_("ONE-STOP DESK"), staff_display_name(d.received_by)),
                (_("PROCESSING UNIT"), d.assigned_unit.name if d.assigned_unit else ""),
            ),
        ),
    ]


_BUILDERS = {
    SlipKind.SUPPLEMENT: _supplement,
    SlipKind.REFUSAL: _refusal,
    SlipKind.APOLOGY: _apology,
    SlipKind.CONTROL: _control,
}


def _load(dossier: Dossier | int) -> Dossier:
    pk = dossier.pk if isinstance(dossier, Dossier) else dossier
    return (
        Dossier.objects.select_related(
            "procedure", "procedure__field", "assigned_unit", "assigned_officer", "received_by"
        )
        .prefetch_related(
            "procedure__documents",
            "documents",
            "steps__unit",
            "steps__officer__staff_profile__unit",
            "steps__completed_by__staff_profile__unit",
        )
        .get(pk=pk)
    )


def slip_build(
    *,
    dossier: Dossier | int,
    kind: str,
    pin: str | None = None,
    language: str | None = None,
    now: datetime | None = None,
) -> Slip:
    """Assemble the slip's blocks; raises DomainError(code="no_slip") if it does not apply."""
    if kind not in SlipKind.values:
        raise DomainError(_("Unknown slip: %(kind)s.") % {"kind": kind}, code="no_slip")
    d = _load(dossier)
    if kind not in slips_available(dossier=d):
        raise DomainError(
            _("A “%(slip)s” does not apply to dossier %(code)s in status “%(status)s”.")
            % {"slip": SlipKind(kind).label, "code": d.code, "status": d.get_status_display()},
            code="no_slip",
        )
    language = language or d.applicant_language or settings.LANGUAGE_CODE
    with translation.override(language):
        blocks = _receipt(d, pin) if kind == SlipKind.RECEIPT else _BUILDERS[kind](d)
        return Slip(
            kind=kind,
            form_number=FORM_NUMBERS[kind],
            title=str(SlipKind(kind).label).upper(),
            dossier=d,
            issued_on=_("%(place)s, %(date)s")
            % {
                "place": settings.SLIP_PLACE,
                "date": _day(now or timezone.now()),
            },
            blocks=blocks,
            language=language,
        )


def slip_filename(*, dossier: Dossier, kind: str) -> str:
    return f"{dossier.code}-{FORM_NUMBERS.get(kind, kind)}-{kind}.pdf"


# ------------------------------------------------------------------ rendering


def slip_render_html(*, slip: Slip, pdf_url: str = "", back_url: str = "") -> str:
    """A complete print-ready HTML page (A4, print stylesheet inline, no external asset)."""
    with translation.override(slip.language):
        return render_to_string(
            "slips/slip.html",
            {
                "slip": slip,
                "pdf_url": pdf_url,
                "back_url": back_url,
                "header_left": slip.header_left,
                "header_right": slip.header_right,
                "blocks": [_html_block(b) for b in slip.blocks],
            },
        )


def _html_block(block: Block) -> Block:
    if block.kind in ("qr", "fields_qr"):
        return Block(
            block.kind, text=block.text, url=block.url, svg=mark_safe(block.svg), rows=block.rows
        )
    if block.kind == "table" and block.widths:
        total = sum(block.widths)
        percents = tuple(round(100 * w / total, 1) for w in block.widths)
        return Block(block.kind, rows=block.rows, header=block.header, widths=percents)
    return block


def slip_render_pdf(*, slip: Slip) -> bytes:
    """The same slip as a PDF (A4 portrait; the control slip in landscape for its table),
    signed by the department (procedures/core/signing.py)."""
    with translation.override(slip.language):
        st = pdf.styles()
        wide = slip.kind == SlipKind.CONTROL
        width_mm = (297 if wide else 210) - 35
        left = [pdf.para(line, "center_bold") for line in slip.header_left]
        right = [pdf.para(line, "center_bold") for line in slip.header_right[:1]] + [
            pdf.para(slip.header_right[1], "center_italic")
        ]
        story = [
            pdf.para(slip.form_label, "right"),
            pdf.table(
                [[left, right]],
                header_rows=0,
                grid=False,
                col_widths=[width_mm * 0.45 * pdf.mm, width_mm * 0.55 * pdf.mm],
            ),
            pdf.para(slip.issued_on, "right"),
            pdf.spacer(1),
            pdf.para(slip.title, "title"),
            pdf.para(slip.code_line, "center_bold"),
            pdf.spacer(2),
        ]
        for block in slip.blocks:
            story.extend(_pdf_block(block, st, width_mm))
        data = pdf.build(
            story,
            title=f"{slip.title} {slip.dossier.code}",
            author=settings.DEPARTMENT_NAME,
            landscape=wide,
            margins_mm=(15, 15, 15, 20),
            footer=slip.dossier.code,
        )
        # The department's digital signature, when a certificate is configured.
        return signing.pdf_sign_if_configured(data, reason=f"{slip.form_label}: {slip.title}")


# Label/value lines and signatures without the default 3 pt above and below each row:
# with a long organisation address the receipt otherwise spilled onto a second page.
_TIGHT = (("TOPPADDING", (0, 0), (-1, -1), 0.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 0.5))


def _pdf_block(block: Block, st, width_mm: float) -> list:
    if block.kind == "heading":
        return [pdf.para(block.text, "heading")]
    if block.kind == "text":
        return [pdf.para(block.text), pdf.spacer(1.5)]
    if block.kind == "fields":
        rows = [[pdf.para(label, "bold"), pdf.para(value)] for label, value in block.rows]
        widths = [width_mm * 0.3 * pdf.mm, width_mm * 0.7 * pdf.mm]
        if width_mm > 200 and len(rows) > 4:
            # Landscape (form 05): two label/value columns side by side, or the step
            # table and the signatures do not fit under them on one sheet.
            half = (len(rows) + 1) // 2
            left, right = rows[:half], rows[half:] + [["", ""]] * (2 * half - len(rows))
            rows = [a + b for a, b in zip(left, right, strict=True)]
            widths = [width_mm * w * pdf.mm for w in (0.14, 0.36, 0.14, 0.36)]
        return [pdf.table(rows, header_rows=0, grid=False, col_widths=widths, extra_style=_TIGHT)]
    if block.kind == "table":
        total = sum(block.widths) or 1
        widths = [width_mm * w / total * pdf.mm for w in block.widths] or None
        rows = [list(r) for r in block.rows] or [["—"] + [""] * (len(block.header) - 1)]
        return [pdf.table([list(block.header), *rows], col_widths=widths), pdf.spacer(2)]
    if block.kind == "fields_qr":
        qr_mm = 28
        side_mm = 32
        fields = pdf.table(
            [[pdf.para(label, "bold"), pdf.para(value)] for label, value in block.rows],
            header_rows=0,
            grid=False,
            col_widths=[(width_mm - side_mm) * w * pdf.mm for w in (0.45, 0.55)],
            extra_style=_TIGHT,
        )
        return [
            pdf.table(
                [[fields, pdf.qr_code(block.url, size_mm=qr_mm)]],
                header_rows=0,
                grid=False,
                col_widths=[(width_mm - side_mm) * pdf.mm, side_mm * pdf.mm],
                extra_style=(("LEFTPADDING", (0, 0), (0, 0), 0),),
            ),
            # Full width below, so the look-up address stays on one line.
            pdf.para(block.text, "small"),
        ]
    if block.kind == "qr":
        return [
            pdf.spacer(2),
            pdf.table(
                [[pdf.qr_code(block.url, size_mm=30), pdf.para(block.text)]],
                header_rows=0,
                grid=False,
                col_widths=[34 * pdf.mm, (width_mm - 34) * pdf.mm],
            ),
        ]
    if block.kind == "signatures":
        n = len(block.rows)
        col = width_mm / n * pdf.mm
        # Kept together: a signer's name never sits alone on a second page.
        return [
            KeepTogether(
                [
                    pdf.spacer(4),
                    pdf.table(
                        [
                            [pdf.para(role, "center_bold") for role, _name in block.rows],
                            [
                                pdf.para(_("(signature and full name)"), "center_italic")
                                for _r in block.rows
                            ],
                            [pdf.spacer(15) for _r in block.rows],
                            [pdf.para(name, "center_bold") for _role, name in block.rows],
                        ],
                        header_rows=0,
                        grid=False,
                        col_widths=[col] * n,
                        repeat_header=False,
                        extra_style=_TIGHT,
                    ),
                ]
            )
        ]
    raise ValueError(f"Unknown slip block {block.kind!r}")
