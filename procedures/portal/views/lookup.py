"""Look-up by code + PIN, and what the applicant does from there (portal items 5-6)."""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from django.contrib import messages
from django.db.models import Count, Q, Sum
from django.http import FileResponse, Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.timezone import get_current_timezone_name
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from procedures.accounts.session import applicant_current
from procedures.catalogue.fees import fee_format, vnd
from procedures.core import signing, throttle
from procedures.core.constants import Action, Outcome, ResultDelivery
from procedures.core.constants import DossierStatus as S
from procedures.core.errors import DomainError
from procedures.core.labels import choice_label
from procedures.core.middleware import uploads_hashed
from procedures.dossiers.documents import document_result_signed
from procedures.dossiers.lookup_selectors import page_documents, page_dossier
from procedures.dossiers.ratings import RATABLE_STATUSES, rating_submit
from procedures.dossiers.services import dossier_receive_supplement, pin_hash, pin_matches
from procedures.models import Dossier, DossierDocument, Rating
from procedures.payments.services import payment_payable
from procedures.portal.forms import LookupForm, RatingForm, SupplementForm
from procedures.portal.links import lookup_path
from procedures.portal.views.common import (
    access_grant,
    access_has,
    access_revoke,
    apply_domain_error,
    receipt_forget,
    receipt_pin,
)
from procedures.templatetags.frozen import CSRF_STAND_IN, csrf_put_back

NEUTRAL_FAILURE = gettext_lazy(
    "The dossier code or the PIN is not correct. Check both against your receipt."
)

# The status in plain words, and what happens next (portal item 5).
STATUS_TEXT = {
    S.SUBMITTED: gettext_lazy(
        "Received. The one-stop desk is checking that the dossier is "
        "complete; you will hear from us by email."
    ),
    S.ACCEPTED: gettext_lazy(
        "Accepted. The processing time has started; the dossier is going "
        "to the unit that handles it."
    ),
    S.REFUSED_AT_INTAKE: gettext_lazy("Not accepted. The reason is given below."),
    S.PROCESSING: gettext_lazy("Being processed by the department's specialists."),
    S.SUPPLEMENT_REQUESTED: gettext_lazy(
        "Waiting for you: some papers are missing or must be corrected. Upload them below."
    ),
    S.PAYMENT_REQUESTED: gettext_lazy(
        "Waiting for your payment of the fee. The processing time is paused until it is paid."
    ),
    S.WITHDRAWN: gettext_lazy("Withdrawn at your request."),
    S.STOPPED: gettext_lazy("Processing was stopped. The reason is given below."),
    S.FINISHED: gettext_lazy("The result is ready."),
    S.RETURNED: gettext_lazy("The result has been handed over to you."),
}

# Events the applicant sees, in their words; internal hand-overs stay internal.
TIMELINE_TEXT = {
    Action.REGISTER: gettext_lazy("Dossier received"),
    Action.ACCEPT: gettext_lazy("Accepted; processing time started"),
    Action.REFUSE_INTAKE: gettext_lazy("Not accepted"),
    Action.ASSIGN: gettext_lazy("Sent to the processing unit"),
    Action.REQUEST_SUPPLEMENT: gettext_lazy("Papers requested from you"),
    Action.RECEIVE_SUPPLEMENT: gettext_lazy("Your additional papers were received"),
    Action.REQUEST_PAYMENT: gettext_lazy("Payment requested"),
    Action.CONFIRM_PAYMENT: gettext_lazy("Payment received"),
    Action.APOLOGISE: gettext_lazy("Apology and new appointment"),
    Action.RESOLVE: gettext_lazy("Result ready"),
    Action.RETURN_RESULT: gettext_lazy("Result handed over"),
    Action.WITHDRAW: gettext_lazy("Withdrawn"),
    Action.STOP: gettext_lazy("Processing stopped"),
    Action.RATE: gettext_lazy("You rated the service"),
}
# Whose notes are written to the applicant (the others are internal remarks).
PUBLIC_NOTES = {
    Action.REFUSE_INTAKE,
    Action.REQUEST_SUPPLEMENT,
    Action.RECEIVE_SUPPLEMENT,
    Action.REQUEST_PAYMENT,
    Action.APOLOGISE,
    Action.RESOLVE,
    Action.STOP,
    Action.WITHDRAW,
}


@never_cache
def lookup(request):
    status, wait = 200, None
    if request.method == "POST":
        form = LookupForm(request.POST)
        dossier, status, wait = lookup_check_pin(request, form)
        if dossier is not None:
            request.session.cycle_key()
            access_grant(request, dossier_id=dossier.pk)
            return redirect("procedures:lookup-dossier", code=dossier.code)
    else:
        form = LookupForm(initial={"code": request.GET.get("code", "")[:40]})
    response = render(request, "procedures/lookup.html", {"form": form}, status=status)
    return throttle.retry_after(response, wait) if status == 429 else response


def lookup_check_pin(request, form: LookupForm) -> tuple[Dossier | None, int, int | None]:
    """Check a posted code and PIN under the look-up throttle (the look-up page and the
    claim on "my dossiers"): (dossier, 200, None) when they match; otherwise no dossier,
    the reason on the form, and 400 or 429 with the seconds to wait."""
    code = request.POST.get("code", "")
    wait = throttle.lookup_blocked(request, code=code)
    if wait is not None:
        form.is_valid()
        form.add_error(None, _too_many_failures(wait))
        return None, 429, wait
    if not form.is_valid():
        return None, 400, None
    code, pin = form.cleaned_data["code"], form.cleaned_data["pin"]
    dossier = (
        Dossier.objects.numbered(code).only("id", "code", "submission_ref", "pin_hash").first()
    )
    if dossier is not None and pin_matches(dossier=dossier, pin=pin):
        throttle.lookup_succeeded(code=code, request=request)
        return dossier, 200, None
    if dossier is None:
        pin_hash(code=code, pin=pin)  # same work as a wrong PIN
    backoff = throttle.lookup_failed(request, code=code)
    form.add_error(None, NEUTRAL_FAILURE)
    if backoff:
        form.add_error(None, _too_many_failures(backoff))
    return None, 400, None


def _too_many_failures(seconds: int) -> str:
    return _("Too many failed attempts. Try again in %(wait)s, or ask the one-stop desk.") % {
        "wait": throttle.wait_text(seconds)
    }


def _form_throttled(request, form_name: str, dossier, **forms):
    """429 with the dossier page and the true wait, when this address used its quota."""
    wait = throttle.form_blocked(request, form_name)
    if wait is None:
        return None
    messages.error(request, throttle.TOO_MANY_REQUESTS % {"wait": throttle.wait_text(wait)})
    return throttle.retry_after(_render_dossier(request, dossier, status=429, **forms), wait)


def _accessible(request, code: str) -> Dossier | None:
    # The page shows the procedure's name only: no join to its field (its columns cost
    # more to compile and load than the look-up itself).
    dossier = Dossier.objects.select_related("procedure").numbered(code).first()
    if dossier is None or not access_has(request, dossier_id=dossier.pk):
        return None
    return dossier


def _applicant_sees(event) -> bool:
    """Whether the applicant's timeline shows the event. An assignment shows only when
    the dossier reached a new unit: the unit head naming its specialist afterwards is
    an internal hand-over, and showed as a second "Sent to the processing unit"."""
    if event.action not in TIMELINE_TEXT:
        return False
    if event.action == Action.ASSIGN:
        data = event.data or {}
        return data.get("unit") != (data.get("previous") or {}).get("unit")
    return True


def _timeline(events) -> list[dict]:
    out = []
    for event in events:
        if not _applicant_sees(event):
            continue
        text = TIMELINE_TEXT[event.action]
        out.append(
            {
                "at": event.at,
                "text": text,
                "action": event.action,
                "note": event.note if event.action in PUBLIC_NOTES else "",
                "data": event.data,
            }
        )
    return out


def _supplement_form_kwargs(dossier: Dossier) -> dict:
    totals = DossierDocument.objects.filter(dossier=dossier, by_applicant=True).aggregate(
        size=Sum("size"), count=Count("id")
    )
    return {
        "existing_count": totals["count"] or 0,
        "existing_bytes": totals["size"] or 0,
        "required_documents": list(dossier.procedure.documents.all()),
    }


# The unbound rating form's fields, rendered once per language and process: they are
# the same on every page that offers the form (its CSRF token is outside them), and
# their dozens of radio buttons cost more than the rest of the page.
_rating_fields: dict[str | None, str] = {}


_unbound: list[RatingForm] = []


def _unbound_rating_form() -> RatingForm:
    """One unbound rating form per process: the page only asks it whether it has errors
    (none) and takes its fields from `_rating_fields_html`; building one per request
    (copying its fields) cost more than that."""
    if not _unbound:
        _unbound.append(RatingForm())
    return _unbound[0]


def _rating_fields_html(rating_form) -> str:
    if rating_form is None or rating_form.is_bound:
        return ""  # a posted form shows its own values and errors
    language = get_language()
    html = _rating_fields.get(language)
    if html is None:
        html = _rating_fields[language] = render_to_string(
            "procedures/_rating_fields.html", {"rating_form": RatingForm()}
        )
    return mark_safe(html)  # noqa: S308 - our own template's output


def _render_dossier(
    request, dossier, *, supplement_form=None, rating_form=None, status=200, read=None
):
    """`read`: the rating, events and files `page_dossier` read with the dossier."""
    if read is None:
        rating = Rating.objects.filter(dossier=dossier).first()
        events = list(dossier.events.only("action", "at", "note", "data"))
        attached = page_documents(dossier)
    else:
        rating, events, attached = read
    can_rate = dossier.status in RATABLE_STATUSES and rating is None
    if dossier.status == S.SUPPLEMENT_REQUESTED and supplement_form is None:
        supplement_form = SupplementForm(**_supplement_form_kwargs(dossier))
    if can_rate and rating_form is None:
        rating_form = _unbound_rating_form()
    # Both lists (the applicant's documents and the results) come from one read: each
    # is a few rows of the same dossier, and a query costs more to build than to split.
    documents = [doc for doc in attached if doc.by_applicant]
    results = [doc for doc in attached if doc.is_result]
    context = {
        "dossier": dossier,
        "status_text": STATUS_TEXT.get(dossier.status, ""),
        # Not get_*_display(), which translates every choice of the field per call.
        "labels": {
            "status": choice_label(S, dossier.status),
            "outcome": choice_label(Outcome, dossier.outcome),
            "result_delivery": choice_label(ResultDelivery, dossier.result_delivery),
        },
        "timeline": _timeline(events),
        "documents": documents,
        "results": results,
        # Said beside a PDF result's link: it is signed when downloaded.
        "results_signed": signing.signing_configured(),
        "rating": rating,
        "can_rate": can_rate,
        "fee": fee_format(fee_vnd=dossier.fee_vnd, fee_text=dossier.fee_text),
        "payable": payment_payable(dossier=dossier),
        "payable_amount": vnd(dossier.fee_vnd) if dossier.fee_vnd else "",
        # Right after submission the session still holds the PIN for the receipt;
        # later the PDF cannot carry it (only its keyed hash is stored).
        "receipt_has_pin": receipt_pin(request, dossier_id=dossier.pk) is not None,
        "supplement_form": supplement_form if dossier.status == S.SUPPLEMENT_REQUESTED else None,
        "rating_form": rating_form if can_rate else None,
        "rating_fields_html": _rating_fields_html(rating_form if can_rate else None),
        "S": S,
    }
    memo = _page_memo_key(request, context, events=events, attached=attached, status=status)
    if memo is None:
        return render(request, "procedures/lookup_dossier.html", context, status=status)
    html = _pages.get(memo)
    if html is None:
        # Rendered with a stand-in for the CSRF token, which each request fills in.
        context["csrf_token"] = CSRF_STAND_IN
        html = render_to_string("procedures/lookup_dossier.html", context, request)
        _pages[memo] = html
        while len(_pages) > PAGE_MEMO_SIZE:
            _pages.popitem(last=False)
    else:
        _pages.move_to_end(memo)
    return HttpResponse(csrf_put_back(html, get_token(request)))


# The look-up page, rendered, per process: its HTML is a function of what the request
# read from the database (the whole dossier row, its procedure's name, rating, events
# and files, all read on every request) and of a few facts of the request, so the key
# is made of exactly those, and a change to the dossier makes a new key at once: there
# is nothing to invalidate. Least recently used pages are dropped beyond
# PAGE_MEMO_SIZE (about 20 kB each). Never with messages to show, a form with the
# visitor's input, or the supplement form (it lists the procedure's documents).
PAGE_MEMO_SIZE = 200
_pages: OrderedDict[str, str] = OrderedDict()


def _page_memo_key(request, context: dict, *, events, attached, status: int) -> str | None:
    dossier = context["dossier"]
    if (
        status != 200
        or request.method != "GET"
        or context["supplement_form"] is not None
        or (context["rating_form"] is not None and context["rating_form"].is_bound)
        or len(messages.get_messages(request))  # len() leaves them unread
    ):
        return None
    rating = context["rating"]
    facts = (
        get_language(),
        get_current_timezone_name(),
        request.get_full_path(),
        getattr(request.resolver_match, "url_name", None),
        applicant_current(request) is not None,
        context["receipt_has_pin"],
        context["results_signed"],
        context["payable"],
        tuple(getattr(dossier, f.attname) for f in dossier._meta.concrete_fields),
        dossier.procedure.name,
        None if rating is None else (rating.pk, rating.overall),
        tuple((e.action, e.at, e.note, e.data) for e in events),
        tuple(
            (
                doc.pk,
                doc.original_name,
                doc.size,
                doc.created_at,
                doc.content_type,
                doc.by_applicant,
                doc.is_result,
                doc.slot.name if doc.slot_id else None,
            )
            for doc in attached
        ),
    )
    return hashlib.sha256(repr(facts).encode()).hexdigest()


def _denied(request, code: str):
    messages.info(request, _("Enter the code and PIN of the dossier to open it."))
    return redirect(lookup_path(code))


@never_cache
def lookup_dossier(request, code: str):
    # One statement reads the dossier, its procedure's name, rating, events and files
    # (lookup_selectors): the ORM's compiling of four queries cost more than their SQL.
    dossier, rating, events, attached = page_dossier(code)
    if dossier is None or not access_has(request, dossier_id=dossier.pk):
        return _denied(request, code)
    return _render_dossier(request, dossier, read=(rating, events, attached))


@uploads_hashed
@never_cache
@require_POST
def lookup_supplement(request, code: str):
    dossier = _accessible(request, code)
    if dossier is None:
        return _denied(request, code)
    form = SupplementForm(request.POST, request.FILES, **_supplement_form_kwargs(dossier))
    if (refused := _form_throttled(request, "supplement", dossier)) is not None:
        return refused
    if form.is_valid():
        try:
            dossier_receive_supplement(
                dossier=dossier,
                actor=None,
                documents=form.documents(),
                note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            throttle.form_succeeded(request, "supplement")
            messages.success(
                request,
                _("Thank you: your papers were received. The one-stop desk will check them."),
            )
            return redirect("procedures:lookup-dossier", code=dossier.code)
    dossier.refresh_from_db()
    return _render_dossier(request, dossier, supplement_form=form, status=400)


@never_cache
@require_POST
def lookup_rate(request, code: str):
    dossier = _accessible(request, code)
    if dossier is None:
        return _denied(request, code)
    form = RatingForm(request.POST)
    if (refused := _form_throttled(request, "rating", dossier)) is not None:
        return refused
    if form.is_valid():
        try:
            rating_submit(dossier=dossier, **form.cleaned_data)
        except DomainError as exc:
            if exc.field is None:  # rated already, or not yet ratable: no form to fix
                messages.error(request, exc.message)
                return redirect("procedures:lookup-dossier", code=dossier.code)
            apply_domain_error(form, exc)
        else:
            throttle.form_succeeded(request, "rating")
            messages.success(request, _("Thank you for rating our service."))
            return redirect("procedures:lookup-dossier", code=dossier.code)
    return _render_dossier(request, dossier, rating_form=form, status=400)


@require_POST
def lookup_close(request, code: str):
    dossier = Dossier.objects.numbered(code).only("id").first()
    if dossier is not None:
        access_revoke(request, dossier_id=dossier.pk)
    messages.info(request, _("The dossier is closed on this device."))
    response = redirect("procedures:lookup")
    receipt_forget(response)
    return response


@never_cache
def lookup_document(request, code: str, document_pk: int):
    """The applicant's own files and the result, to a session that proved the PIN."""
    dossier = _accessible(request, code)
    if dossier is None:
        raise Http404("No such document.")
    doc = DossierDocument.objects.filter(
        Q(by_applicant=True) | Q(is_result=True), dossier=dossier, pk=document_pk
    ).first()
    if doc is None:
        raise Http404("No such document.")
    if doc.is_result:
        # A PDF result goes out with the department's digital signature.
        doc = document_result_signed(document=doc)
    response = FileResponse(
        (doc.signed_file or doc.file).open("rb"),
        as_attachment=True,
        filename=doc.original_name,
        content_type=doc.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
