"""The dialogue staff workspace (inside the admin layout): recommendations, assignment,
answers, imports and the report.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dialogues import exports, selectors, services
from dialogues.constants import (
    AWAITING_ANSWER_STATUSES,
    AnswerKind,
    AnswerState,
)
from dialogues.forms import (
    AnswerForm,
    AssignForm,
    CloseForm,
    ForwardForm,
    ImportForm,
    RejectForm,
    ReportForm,
    StaffFilterForm,
)
from dialogues.models import (
    Recommendation,
    RecommendationAttachment,
)
from dialogues.views.common import download_response
from procedures.core.errors import DomainError, apply_domain_error
from procedures.core.paging import page_of


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
    page, query = page_of(request, selectors.recommendation_staff_list(**filters), 50)
    return _staff_render(
        request,
        "dialogues/staff/recommendation_list.html",
        {"form": form, "page": page, "assign_form": AssignForm(), "query": query},
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
    attachment = get_object_or_404(RecommendationAttachment, pk=attachment_pk, recommendation_id=pk)
    response = download_response(
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
            apply_domain_error(form, exc, fallback="file")
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
