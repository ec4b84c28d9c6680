"""Online submission of a dossier, its receipt page and receipt PDF (portal items 3-4)."""

from __future__ import annotations

from contextlib import closing

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from procedures.accounts.session import applicant_current
from procedures.catalogue import cache as catalogue_cache
from procedures.core import throttle
from procedures.core.constants import Channel
from procedures.core.errors import DomainError
from procedures.core.middleware import uploads_hashed
from procedures.core.uploads import upload_limits
from procedures.dossiers.services import Applicant, dossier_due_if_accepted, dossier_register
from procedures.models import Dossier, Procedure
from procedures.portal.forms import SubmissionForm
from procedures.portal.links import lookup_path, lookup_url
from procedures.portal.views.common import (
    access_has,
    apply_domain_error,
    receipt_pin,
    receipt_store,
)


def _procedure(pk: int) -> Procedure:
    """The procedure with its field and its list of documents, from the catalogue cache
    (one round trip, dropped by any catalogue write) or else from the database.

    What the submission takes from it is checked again where it binds: the version in
    force is read in the registration's transaction (dossier_register)."""
    entry_key = catalogue_cache.key("submit-procedure", pk)
    version, procedure = catalogue_cache.get(entry_key)
    if procedure is None:
        procedure = get_object_or_404(
            Procedure.objects.select_related("field").prefetch_related("documents"), pk=pk
        )
        catalogue_cache.put(entry_key, version, procedure)
    return procedure


@uploads_hashed
@never_cache
def submit(request, pk: int):
    procedure = _procedure(pk)
    if not procedure.accepts_online:
        messages.error(
            request,
            _(
                "This procedure does not take dossiers online. The page "
                "below says where and how to submit it."
            ),
        )
        return redirect("procedures:procedure-detail", pk=procedure.pk)
    status = 200
    account = applicant_current(request)  # signed in: pre-filled, and the dossier is theirs
    if request.method == "POST":
        form = SubmissionForm(request.POST, request.FILES, procedure=procedure, applicant=account)
        # Files reused from earlier dossiers are temporary copies: closed (deleted) after.
        with closing(form):
            wait = throttle.form_blocked(request, "submit")
            if wait is not None:
                form.is_valid()  # keep what was typed, and show its own errors too
                form.add_error(
                    None,
                    _(
                        "Too many submissions from your connection. Try again in %(wait)s, or "
                        "bring the dossier to the one-stop desk."
                    )
                    % {"wait": throttle.wait_text(wait)},
                )
                status = 429
            elif form.is_valid():
                data = form.cleaned_data
                applicant = Applicant(
                    type=data["applicant_type"],
                    name=data["applicant_name"],
                    id_number=data["id_number"],
                    address=data["address"],
                    phone=data["phone"],
                    sms_consent=data["sms_consent"],
                    email=data["email"],
                    language=translation.get_language() or "vi",
                )
                try:
                    dossier, pin = dossier_register(
                        procedure=procedure,
                        applicant=applicant,
                        channel=Channel.ONLINE,
                        result_delivery=data["result_delivery"],
                        note=data["note"],
                        documents=form.documents(),
                        actor=None,
                        account=account,  # signed in: the dossier is theirs, in the same commit
                    )
                except DomainError as exc:
                    apply_domain_error(form, exc)
                    status = 400
                else:
                    throttle.form_succeeded(request, "submit")
                    response = redirect("procedures:receipt", code=dossier.code)
                    # The receipt cookie is the grant: no session is written or rotated.
                    receipt_store(request, response, dossier=dossier, pin=pin)
                    return response
            else:
                status = 400
    else:
        form = SubmissionForm(procedure=procedure, applicant=account)
    response = render(
        request,
        "procedures/submit.html",
        {
            "procedure": procedure,
            "form": form,
            "limits": upload_limits(),
            "due_online": dossier_due_if_accepted(procedure=procedure, online=True),
        },
        status=status,
    )
    return throttle.retry_after(response, wait) if status == 429 else response


def _dossier_for_session(request, code: str) -> Dossier | None:
    dossier = Dossier.objects.select_related("procedure__field").numbered(code).first()
    if dossier is None or not access_has(request, dossier_id=dossier.pk):
        return None
    return dossier


@never_cache
def receipt(request, code: str):
    dossier = _dossier_for_session(request, code)
    pin = receipt_pin(request, dossier_id=dossier.pk) if dossier else None
    if dossier is None or pin is None:
        messages.info(request, _("Open your dossier with its code and PIN."))
        return redirect(lookup_path(code))
    return render(
        request,
        "procedures/receipt.html",
        {
            "dossier": dossier,
            "pin": pin,
            "documents": dossier.documents.select_related("slot").order_by("slot__order", "id"),
            "due_if_accepted": dossier_due_if_accepted(procedure=dossier.procedure, online=True),
        },
    )


def receipt_pdf_bytes(*, dossier: Dossier, pin: str | None) -> bytes:
    """The receipt as PDF with a QR code to the look-up page (never carrying the PIN).

    The official form 01 comes from procedures.dossiers.slips; where it does not apply (e.g. a
    dossier refused at intake) the portal prints its own short receipt of what arrived.
    """
    from procedures.dossiers import slips

    try:
        slip = slips.slip_build(dossier=dossier, kind="receipt", pin=pin)
    except DomainError:
        return _own_receipt_pdf(dossier=dossier, pin=pin)
    return slips.slip_render_pdf(slip=slip)


def _own_receipt_pdf(*, dossier: Dossier, pin: str | None) -> bytes:
    from procedures.core import pdf, signing

    local = timezone.localtime(dossier.submitted_at)
    documents = list(dossier.documents.filter(by_applicant=True).order_by("id"))
    rows = [
        [_("Dossier code"), dossier.code],
        [_("Procedure"), dossier.procedure.name],
        [_("Applicant"), dossier.applicant_name],
        [_("Citizen ID or tax code"), dossier.applicant_id_number],
        [_("Submitted online at"), local.strftime("%H:%M %d/%m/%Y")],
        [_("Status"), dossier.get_status_display()],
        [
            _("PIN"),
            pin or _("not on this copy: it is shown only once, when the dossier is submitted"),
        ],
    ]
    doc_rows = [[_("No."), _("Document received"), _("Size")]] + [
        [str(i), d.original_name, f"{d.size / 1024:.0f} KB"] for i, d in enumerate(documents, 1)
    ]
    story = [
        pdf.para(settings.DEPARTMENT_NAME, "center_bold"),
        pdf.para(_("RECEIPT OF AN ONLINE DOSSIER"), "title"),
        pdf.table(rows, header_rows=0, col_widths=[140, 300]),
        pdf.spacer(),
        pdf.table(doc_rows, col_widths=[40, 330, 70]),
        pdf.spacer(),
        pdf.para(
            _(
                "Next step: the one-stop desk checks the dossier and tells you by email "
                "whether it is accepted. The processing time starts on acceptance."
            )
        ),
        pdf.para(
            _("Look it up with the code and PIN at: %(url)s") % {"url": lookup_url(dossier.code)}
        ),
        pdf.spacer(),
        pdf.qr_code(lookup_url(dossier.code), size_mm=30),
    ]
    data = pdf.build(
        story,
        title=_("Receipt %(code)s") % {"code": dossier.code},
        author=settings.DEPARTMENT_NAME,
        footer=dossier.code,
    )
    return signing.pdf_sign_if_configured(data, reason=_("RECEIPT OF AN ONLINE DOSSIER"))


@never_cache
def receipt_pdf(request, code: str):
    dossier = _dossier_for_session(request, code)
    if dossier is None:
        messages.info(request, _("Open your dossier with its code and PIN."))
        return redirect(lookup_path(code))
    data = receipt_pdf_bytes(dossier=dossier, pin=receipt_pin(request, dossier_id=dossier.pk))
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="bien-nhan-{dossier.code}.pdf"'
    return response
