"""Public pages (sessions, registration, published answers) and the staff workspace.

Views stay thin: they read through selectors, write through services, and turn a
DomainError into a form or page message.
"""

import mimetypes
import os
from functools import wraps

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dialogues import exports, selectors, services
from dialogues.constants import (
    AWAITING_ANSWER_STATUSES,
    AnswerKind,
    AnswerState,
    RecommendationSource,
    RegistrationStatus,
    SessionStatus,
)
from dialogues.forms import (
    AnswerForm,
    AssignForm,
    CloseForm,
    ForwardForm,
    ImportForm,
    PublicAnswerSearchForm,
    RecommendationSubmitForm,
    RegistrationForm,
    RejectForm,
    ReportForm,
    StaffFilterForm,
)
from dialogues.ics import session_invitation_ics
from dialogues.models import (
    DialogueSession,
    Recommendation,
    RecommendationAttachment,
    SessionDocument,
)
from procedures.core import throttle
from procedures.core.errors import DomainError

# --------------------------------------------------------------------------- #
# Public
# --------------------------------------------------------------------------- #


def session_list(request):
    now = timezone.now()
    context = {
        "upcoming": selectors.session_list_upcoming(now=now),
        "past": selectors.session_list_past(now=now)[:30],
        "year": timezone.localdate().year,
    }
    return render(request, "dialogues/session_list.html", context)


def session_plan(request, year: int):
    if not 2000 <= year <= 2100:
        raise Http404
    plan = selectors.session_year_plan(year=year, include_unpublished=request.user.is_staff)
    return render(request, "dialogues/session_plan.html", {"plan": plan})


def _public_session(pk: int) -> DialogueSession:
    try:
        return selectors.session_get_public(session_id=pk)
    except DialogueSession.DoesNotExist:
        raise Http404 from None


def _registration_open(session: DialogueSession, now) -> bool:
    return (
        session.status == SessionStatus.REGISTRATION_OPEN and now <= session.registration_deadline
    )


def session_detail(request, pk: int):
    session = _public_session(pk)
    now = timezone.now()
    context = {
        "session": session,
        "registration_open": _registration_open(session, now),
        "seats_free": max(session.capacity - session.seats_taken, 0),
        "documents": session.documents.filter(is_public=True),
        "answers": selectors.recommendation_published_list(session_id=session.pk)[:20],
    }
    return render(request, "dialogues/session_detail.html", context)


def _download(fieldfile, *, filename: str, content_type: str = "") -> FileResponse:
    """A stored file as a download: never rendered by the browser, never sniffed."""
    try:
        handle = fieldfile.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The file is missing from storage.") from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=filename,
        content_type=content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def session_document(request, pk: int, document_pk: int):
    """A published document of a published session (MEDIA is never served directly)."""
    session = _public_session(pk)
    document = get_object_or_404(SessionDocument, pk=document_pk, session=session, is_public=True)
    name = os.path.basename(document.file.name)
    return _download(document.file, filename=name)


def registration_create(request, pk: int):
    session = _public_session(pk)
    if not _registration_open(session, timezone.now()):
        return render(request, "dialogues/registration_closed.html", {"session": session})
    form = RegistrationForm(request.POST or None, request.FILES or None, session=session)
    if request.method == "POST" and (wait := throttle.form_blocked(
            request, "dialogue-registration")) is not None:
        form.is_valid()
        form.add_error(None, throttle.TOO_MANY_REQUESTS % {"wait": throttle.wait_text(wait)})
        return throttle.retry_after(render(
            request, "dialogues/registration_form.html", {"session": session, "form": form},
            status=429), wait)
    if request.method == "POST" and form.is_valid():
        if form.is_spam:
            # Same answer as a success: a bot learns nothing.
            return redirect("dialogues:registration-done", pk=session.pk)
        data = form.cleaned_data
        try:
            registration, _token = services.registration_create(
                session_id=session.pk,
                business_name=data["business_name"],
                tax_code=data["tax_code"],
                representative=data["representative"],
                position=data["position"],
                email=data["email"],
                phone=data["phone"],
                attendees=data["attendees"],
                questions=data["questions"],
                question_field_id=data["question_field"].pk if data["question_field"] else None,
                attachment=data.get("attachment"),
                language=translation.get_language() or "vi",
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            # Only the id: the done page reads the status and the queue position
            # fresh, and the raw token stays out of the session store.
            request.session[_JUST_REGISTERED] = registration.pk
            throttle.form_succeeded(request, "dialogue-registration")
            return redirect("dialogues:registration-done", pk=session.pk)
    return render(request, "dialogues/registration_form.html", {"session": session, "form": form})


def recommendation_submit(request):
    """Difficulties and recommendations sent between sessions (docs/legal-rules.md: "Business dialogues")."""
    form = RecommendationSubmitForm(request.POST or None, request.FILES or None)
    status, wait = 200, None
    if request.method == "POST":
        wait = throttle.form_blocked(request, "dialogue-recommendation")
        if wait is not None:
            form.is_valid()
            form.add_error(None, _("Too many submissions from your connection. Try again in "
                                   "%(wait)s.") % {"wait": throttle.wait_text(wait)})
            status = 429
        elif form.is_valid():
            if form.is_spam:
                return redirect("dialogues:recommendation-done")  # a bot learns nothing
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    recommendation = services.recommendation_receive(
                        content=data["content"],
                        source=RecommendationSource.BETWEEN_SESSIONS,
                        business_name=data["business_name"],
                        tax_code=data["tax_code"],
                        field_id=data["field"].pk if data["field"] else None,
                        contact_email=data["email"],
                        is_public=data["is_public"],
                    )
                    if data.get("attachment"):
                        services.recommendation_attach(
                            recommendation=recommendation, upload=data["attachment"]
                        )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                throttle.form_succeeded(request, "dialogue-recommendation")
                return redirect("dialogues:recommendation-done")
        else:
            status = 400
    response = render(request, "dialogues/recommendation_form.html", {"form": form},
                      status=status)
    return throttle.retry_after(response, wait) if status == 429 else response


def recommendation_done(request):
    return render(request, "dialogues/recommendation_done.html")


_JUST_REGISTERED = "dialogues.just_registered"


def registration_done(request, pk: int):
    session = _public_session(pk)
    registration = None
    registration_id = request.session.get(_JUST_REGISTERED)
    if registration_id is not None:
        registration = session.registrations.filter(pk=registration_id).first()
    context = {
        "session": session,
        "registration": registration,
        "position": registration
        and selectors.registration_waitlist_position(registration=registration),
    }
    return render(request, "dialogues/registration_done.html", context)


def _private(response: HttpResponse) -> HttpResponse:
    """Headers of a page whose URL holds a personal token.

    Not cached anywhere, and the URL never leaves in a Referer to another site.
    `same-origin`, not `no-referrer`: with `no-referrer` Chromium posts the page's own
    forms (cancel, language switch) with `Origin: null`, which the CSRF check rightly
    refuses; same-origin requests keep their real Origin and Referer.
    """
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "same-origin"
    return response


def _registration_by_link(public_id, token):
    registration = selectors.registration_get_by_link(public_id=public_id, token=token)
    if registration is None:
        raise Http404
    return registration


def _manage_throttled(request) -> HttpResponse | None:
    # Every visit of a personal link counts, found or not: the token is long and
    # random, and this keeps anyone from trying them in bulk.
    wait = throttle.form_blocked(request, "dialogue-manage")
    if wait is None:
        return None
    response = HttpResponse(throttle.TOO_MANY_REQUESTS % {"wait": throttle.wait_text(wait)},
                            status=429, content_type="text/plain; charset=utf-8")
    return _private(throttle.retry_after(response, wait))


def registration_manage(request, public_id, token: str):
    if (refused := _manage_throttled(request)) is not None:
        return refused
    registration = _registration_by_link(public_id, token)
    if request.method == "POST":
        try:
            services.registration_cancel(registration_id=registration.pk)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Your registration is cancelled."))
        return redirect(request.path)
    session = registration.session
    context = {
        "registration": registration,
        "session": session,
        "position": selectors.registration_waitlist_position(registration=registration),
        "can_cancel": registration.status != RegistrationStatus.CANCELLED
        and timezone.now() < session.starts_at,
        "token": token,
    }
    return _private(render(request, "dialogues/registration_manage.html", context))


def registration_ics(request, public_id, token: str):
    if (refused := _manage_throttled(request)) is not None:
        return refused
    registration = _registration_by_link(public_id, token)
    if registration.status != RegistrationStatus.CONFIRMED:
        raise Http404
    body = session_invitation_ics(
        session=registration.session,
        attendee_email=registration.email,
        description=registration.session.topic or registration.session.title,
        now=timezone.now(),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="invitation.ics"'
    return _private(response)


def answer_list(request):
    form = PublicAnswerSearchForm(request.GET or None)
    filters = {"q": "", "field_id": None, "session_id": None}
    if form.is_valid():
        data = form.cleaned_data
        filters = {
            "q": data["q"],
            "field_id": data["field"].pk if data["field"] else None,
            "session_id": data["session"].pk if data["session"] else None,
        }
    page = Paginator(selectors.recommendation_published_list(**filters), 20).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "dialogues/answer_list.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


# --------------------------------------------------------------------------- #
# Staff workspace
# --------------------------------------------------------------------------- #


def _staff_render(request, template: str, context: dict, *, title: str):
    """A staff page inside the admin: its header, user tools, sidebar and breadcrumbs."""
    from django.contrib import admin

    return render(
        request,
        template,
        {**admin.site.each_context(request), "title": title, **context},
    )


def _require(perm: str):
    def decorator(view):
        @staff_member_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.has_perm(perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


@_require("dialogues.view_recommendation")
def staff_recommendation_list(request):
    form = StaffFilterForm(request.GET or None)
    filters = {}
    if form.is_valid():
        data = form.cleaned_data
        filters = {
            "q": data["q"],
            "session_id": data["session"].pk if data["session"] else None,
            "status": data["status"],
            "answer_state": data["answer_state"],
            "unit_id": data["unit"].pk if data["unit"] else None,
        }
    page = Paginator(selectors.recommendation_staff_list(**filters), 50).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return _staff_render(
        request,
        "dialogues/staff/recommendation_list.html",
        {"form": form, "page": page, "assign_form": AssignForm(), "query": query.urlencode()},
        title=_("Business recommendations"),
    )


@require_POST
@_require("dialogues.change_recommendation")
def staff_bulk_assign(request):
    form = AssignForm(request.POST)
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    if not ids:
        messages.error(request, _("Tick the recommendations to assign."))
    elif not form.is_valid():
        messages.error(request, _("Choose the unit responsible."))
    else:
        try:
            count = services.recommendation_bulk_assign(
                recommendation_ids=ids,
                unit=form.cleaned_data["unit"],
                field=form.cleaned_data["field"],
                by=request.user,
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("%(n)d recommendations assigned.") % {"n": count})
    return redirect(request.POST.get("next") or reverse("dialogues:staff-recommendations"))


def _detail_forms(recommendation: Recommendation, bound: dict | None = None) -> dict:
    forms = {
        "assign_form": AssignForm(
            initial={"unit": recommendation.unit_id, "field": recommendation.field_id}
        ),
        "answer_form": AnswerForm(
            initial={
                "answer_text": recommendation.answer_text,
                "answer_kind": recommendation.answer_kind or AnswerKind.IN_WRITING,
                "document_number": recommendation.answer_document_number,
            }
        ),
        "reject_form": RejectForm(),
        "forward_form": ForwardForm(),
        "close_form": CloseForm(),
    }
    forms.update(bound or {})
    return forms


_FORMS = {
    "assign": ("assign_form", AssignForm),
    "answer": ("answer_form", AnswerForm),
    "reject": ("reject_form", RejectForm),
    "forward": ("forward_form", ForwardForm),
    "resolve": ("close_form", CloseForm),
    "close": ("close_form", CloseForm),
}


def _run_action(action: str, recommendation: Recommendation, data: dict, user):
    rid = recommendation.pk
    if action == "assign":
        return services.recommendation_assign(
            recommendation_id=rid, unit=data["unit"], field=data["field"], by=user
        )
    if action == "answer":
        return services.recommendation_answer_draft(
            recommendation_id=rid,
            text=data["answer_text"],
            kind=data["answer_kind"],
            document_number=data["document_number"],
            submit=data["submit_for_approval"],
            by=user,
        )
    if action == "approve":
        return services.recommendation_answer_approve(recommendation_id=rid, by=user)
    if action == "reject":
        return services.recommendation_answer_reject(
            recommendation_id=rid, note=data["note"], by=user
        )
    if action == "forward":
        return services.recommendation_forward(
            recommendation_id=rid, authority=data["authority"], by=user
        )
    if action == "resolve":
        return services.recommendation_resolve(recommendation_id=rid, note=data["note"], by=user)
    if action == "close":
        return services.recommendation_close(recommendation_id=rid, note=data["note"], by=user)
    if action in ("publish", "unpublish"):
        return services.recommendation_set_public(
            recommendation_id=rid, is_public=action == "publish", by=user
        )
    raise Http404


@_require("dialogues.view_recommendation")
def staff_recommendation_detail(request, pk: int):
    recommendation = get_object_or_404(
        Recommendation.objects.select_related("business", "field", "unit", "session"), pk=pk
    )
    bound = {}
    if request.method == "POST":
        if not request.user.has_perm("dialogues.change_recommendation"):
            raise PermissionDenied
        action = request.POST.get("action", "")
        data: dict = {}
        valid = True
        if action in _FORMS:
            name, form_class = _FORMS[action]
            form = form_class(request.POST)
            valid = form.is_valid()
            data = form.cleaned_data if valid else {}
            bound[name] = form
        if valid:
            try:
                _run_action(action, recommendation, data, request.user)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Saved."))
                return redirect("dialogues:staff-recommendation", pk=pk)
    context = {
        "recommendation": recommendation,
        "events": recommendation.events.select_related("actor"),
        "attachments": recommendation.attachments.all(),
        "awaiting": recommendation.status in AWAITING_ANSWER_STATUSES,
        "pending_approval": recommendation.answer_state == AnswerState.PENDING_APPROVAL,
        "can_approve": request.user.has_perm("dialogues.approve_answer"),
        **_detail_forms(recommendation, bound),
    }
    return _staff_render(
        request,
        "dialogues/staff/recommendation_detail.html",
        context,
        title=_("Recommendation #%(id)d") % {"id": recommendation.pk},
    )


@_require("dialogues.view_recommendation")
def staff_attachment(request, pk: int, attachment_pk: int):
    """A business's attachment, to staff who may read recommendations: under its
    original name, as a download (it came from the public)."""
    attachment = get_object_or_404(
        RecommendationAttachment, pk=attachment_pk, recommendation_id=pk
    )
    response = _download(
        attachment.file, filename=attachment.original_name, content_type=attachment.content_type
    )
    response["Cache-Control"] = "private, no-store"
    return response


@_require("dialogues.change_recommendation")
def staff_import(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result = services.recommendation_import_xlsx(
                upload=form.cleaned_data["file"], by=request.user
            )
        except DomainError as exc:
            form.add_error("file", exc.message)
        else:
            if not result.errors:
                messages.success(
                    request,
                    _("%(a)d assigned, %(b)d answers submitted for approval.")
                    % {"a": result.assigned, "b": result.answered},
                )
                return redirect("dialogues:staff-import")
    return _staff_render(
        request,
        "dialogues/staff/import.html",
        {"form": form, "result": result},
        title=_("Bulk assignment and answers from XLSX"),
    )


@_require("dialogues.view_recommendation")
def staff_import_template(request):
    recommendations = (
        selectors.recommendation_staff_list()
        .filter(status__in=AWAITING_ANSWER_STATUSES)
        .select_related("business", "unit", "field")
    )
    response = HttpResponse(
        exports.recommendation_template_xlsx(recommendations=recommendations),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="kien-nghi.xlsx"'
    return response


@_require("dialogues.view_recommendation")
def staff_report(request):
    form = ReportForm(request.GET or None)
    report = None
    if form.is_valid():
        data = form.cleaned_data
        now = timezone.now()
        if data["session"]:
            report = selectors.recommendation_report_session(
                session_id=data["session"].pk, as_of=now
            )
        else:
            report = selectors.recommendation_report_period(
                start=data["start"], end=data["end"], now=now
            )
        if request.GET.get("format") == "xlsx":
            response = HttpResponse(
                exports.followup_report_xlsx(report=report),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            response["Content-Disposition"] = 'attachment; filename="bao-cao-kien-nghi.xlsx"'
            return response
    query = request.GET.copy()
    query["format"] = "xlsx"
    return _staff_render(
        request,
        "dialogues/staff/report.html",
        {"form": form, "report": report, "xlsx_query": query.urlencode()},
        title=_("Follow-up of recommendations"),
    )
