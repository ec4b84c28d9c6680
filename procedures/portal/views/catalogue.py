"""Public catalogue pages: home, procedure list with filters, procedure detail."""

from __future__ import annotations

import os

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from procedures.catalogue.fees import fee_format
from procedures.catalogue.selectors import field_list_with_counts, procedure_list
from procedures.core.constants import ProcedureStatus
from procedures.core.paging import page_of
from procedures.dossiers.services import dossier_due_if_accepted
from procedures.models import Procedure, RequiredDocument
from procedures.portal.forms import ProcedureFilterForm
from procedures.reports.public_stats import public_catalogue_counts

PAGE_SIZE = 20


def home(request):
    return render(
        request,
        "procedures/home.html",
        {
            "fields": field_list_with_counts(),
            "counts": public_catalogue_counts(),
        },
    )


def procedure_list_view(request):
    form = ProcedureFilterForm(request.GET or None)
    procedures = Procedure.objects.none()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        procedures = procedure_list(
            field_id=data["field"], online_level=data["online_level"] or None, search=data["q"]
        )
    elif not form.is_bound:
        procedures = procedure_list()
    page, query = page_of(request, procedures, PAGE_SIZE)
    return render(
        request,
        "procedures/procedure_list.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "searching": bool(form.is_bound and any(request.GET.get(k) for k in form.fields)),
        },
        status=200 if not form.errors else 400,
    )


def procedure_detail(request, pk: int):
    procedure = get_object_or_404(
        Procedure.objects.select_related("field", "implementing_unit").prefetch_related(
            "documents"
        ),
        pk=pk,
    )
    now = timezone.now()
    due_direct = due_online = None
    if procedure.accepts_dossiers:
        due_direct = dossier_due_if_accepted(procedure=procedure, now=now)
        if procedure.accepts_online:
            due_online = dossier_due_if_accepted(procedure=procedure, now=now, online=True)
    return render(
        request,
        "procedures/procedure_detail.html",
        {
            "procedure": procedure,
            "documents": procedure.documents.all(),
            "documents_sources": [s for s in procedure.documents_source.split(" ; ") if s],
            "due_direct": due_direct,
            "due_online": due_online,
            "fee": fee_format(fee_vnd=procedure.fee_vnd, fee_text=procedure.fee_text),
            "now": now,
        },
    )


def document_template(request, pk: int, document_pk: int):
    """The blank form of a required document: public, but only through this view."""
    doc = get_object_or_404(
        RequiredDocument.objects.select_related("procedure"),
        pk=document_pk,
        procedure_id=pk,
        procedure__status=ProcedureStatus.ACTIVE,
    )
    if not doc.template:
        raise Http404("This document has no template.")
    try:
        handle = doc.template.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The template file is missing from storage.") from exc
    return FileResponse(handle, as_attachment=True, filename=os.path.basename(doc.template.name))
