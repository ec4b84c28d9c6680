"""Public catalogue pages: home, procedure list with filters, procedure detail."""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from procedures.catalogue import cache as catalogue_cache
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


def _procedure_page(procedure: Procedure) -> dict[str, Any]:
    """The procedure-specific parts of its page, as the same for every visitor: the
    title, the HTML before the due time and the HTML after it (the due time depends on
    the moment of the request), and what the due time is computed from."""
    marker = mark_safe(
        f"<!--{uuid.uuid4().hex}-->"
    )  # the split points: no escaped text can hold "<"
    body = render_to_string(
        "procedures/procedure_detail_body.html",
        {
            "procedure": procedure,
            "documents": procedure.documents.all(),
            "documents_sources": [s for s in procedure.documents_source.split(" ; ") if s],
            "fee": fee_format(fee_vnd=procedure.fee_vnd, fee_text=procedure.fee_text),
            "department_address": settings.DEPARTMENT_ADDRESS,
            "marker": marker,
        },
    )
    title, head, tail = body.split(marker)
    return {
        "title": title,
        "head": head,
        "tail": tail,
        "accepts_dossiers": procedure.accepts_dossiers,
        "accepts_online": procedure.accepts_online,
        "time": (
            procedure.processing_amount,
            procedure.online_processing_amount,
            procedure.processing_unit,
        ),
    }


def procedure_detail(request, pk: int):
    # The procedure's own HTML comes from the catalogue cache (per language, dropped by
    # any catalogue write); the due time, the header (CSRF token, language switcher,
    # applicant's menu) and the messages are rendered for each request.
    entry_key = catalogue_cache.key("page", get_language(), pk)
    version, page = catalogue_cache.get(entry_key)
    if page is None:
        procedure = get_object_or_404(
            Procedure.objects.select_related("field", "implementing_unit").prefetch_related(
                "documents"
            ),
            pk=pk,
        )
        page = _procedure_page(procedure)
        catalogue_cache.put(entry_key, version, page)
    now = timezone.now()
    due_direct = due_online = None
    if page["accepts_dossiers"]:
        amount, online_amount, unit = page["time"]
        timing = Procedure(
            processing_amount=amount, online_processing_amount=online_amount, processing_unit=unit
        )
        due_direct = dossier_due_if_accepted(procedure=timing, now=now)
        if page["accepts_online"]:
            due_online = dossier_due_if_accepted(procedure=timing, now=now, online=True)
    return render(
        request,
        "procedures/procedure_detail.html",
        {
            "page": {
                # rendered and escaped by the body template
                "title": mark_safe(page["title"]),
                "head": mark_safe(page["head"]),
                "tail": mark_safe(page["tail"]),
            },
            "due_html": _due_html(due_direct, due_online) if due_direct else "",
            "due_direct": due_direct,
            "due_online": due_online,
            "now": now,
        },
    )


def _due_html(due_direct: datetime, due_online: datetime | None) -> str:
    """The "if accepted now, due on ..." lines. They show the due times to the minute,
    so many requests share them: kept per language, time zone and those minutes."""
    minute = {"second": 0, "microsecond": 0}
    return _due_html_for(
        get_language(),
        timezone.get_current_timezone_name(),
        due_direct.replace(**minute),
        due_online.replace(**minute) if due_online else None,
        bool(due_online and due_online != due_direct),
    )


@lru_cache(maxsize=1024)
def _due_html_for(
    language: str,
    zone: str,
    due_direct: datetime,
    due_online: datetime | None,
    online_differs: bool,
) -> str:
    # Whether the online time differs is decided on the exact times (as the page always
    # did), not on the minutes shown.
    return render_to_string(
        "procedures/procedure_detail_due.html",
        {
            "due_direct": due_direct,
            "due_online": due_online if online_differs else None,
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
