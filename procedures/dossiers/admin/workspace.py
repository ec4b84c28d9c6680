"""Staff admin of dossiers: list, dossier page, action forms, desk registration, slips.

The admin never edits a dossier directly. The dossier page is read-only; every change
is an action form that calls its service (which checks role, status and version and
writes the append-only event). Events and documents have no admin of their own.

The list must stay fast on a million rows (issue item 6):
- one query for the page, related rows joined (`list_select_related`) and only the
  columns shown loaded;
- no full-table COUNT(*): the unfiltered list uses PostgreSQL's row estimate
  (pg_class.reltuples), a filtered list counts at most ADMIN_DOSSIER_COUNT_LIMIT rows;
- ordered by id (the primary key index), newest first;
- search goes to an index when it can (`dossier_search_filter`, the API's rule too): a
  full dossier code, an ID number or a phone is an exact match; other text with digits
  is part of a code, without digits a name.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from procedures.core.constants import OPEN_STATUSES, Action
from procedures.core.errors import DomainError
from procedures.core.people import staff_display_name
from procedures.core.roles import may_perform
from procedures.dossiers.actions import action_def, role_refusal, status_refusal
from procedures.dossiers.admin.filters import (
    DueRangeFilter,
    OfficerFilter,
    ProcedureFilter,
    QueueFilter,
    SelectRelatedFilter,
)
from procedures.dossiers.admin.forms import (
    ACTION_FORMS,
    RegisterForm,
    RegisterProcedureForm,
    dossier_actions_available,
)
from procedures.dossiers.admin.paginator import DossierPaginator
from procedures.dossiers.selectors import (
    dossier_for_page,
    dossier_page,
    dossier_search_filter,
    dossier_visible_filter,
)
from procedures.dossiers.slips import (
    SlipKind,
    slip_build,
    slip_filename,
    slip_render_html,
    slip_render_pdf,
    slips_available,
)
from procedures.models import Dossier, DossierDocument

PIN_SESSION_KEY = "dossier_pin_%d"
# ?after=<id>: the list's keyset page, the dossiers older than that id.
KEYSET_VAR = "after"
KEYSET_REQUEST_ATTR = "dossier_list_after"


# ---------------------------------------------------------------- the admin


@admin.register(Dossier)
class DossierAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "applicant",
        "procedure_short",
        "status_display",
        "channel",
        "submitted",
        "due_display",
        "assigned_unit",
        "officer",
        "on_time_result",
    ]
    list_display_links = ["code"]
    list_filter = [
        QueueFilter,
        "status",
        ("procedure__field", SelectRelatedFilter),
        ("procedure", ProcedureFilter),
        ("assigned_unit", SelectRelatedFilter),
        ("assigned_officer", OfficerFilter),
        "channel",
        DueRangeFilter,
        "on_time_result",
    ]
    list_select_related = ["procedure", "assigned_unit", "assigned_officer"]
    search_fields = ["code", "applicant_name", "applicant_id_number"]
    search_help_text = gettext_lazy(
        "A full dossier code or citizen ID / tax code finds it at once; part of a code (with "
        "digits) or of the applicant's name also works, more slowly."
    )
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = DossierPaginator
    list_per_page = 50
    list_max_show_all = 200
    ordering = ["-id"]
    # Sorting only where an index serves it: the code (unique; it starts with the
    # acceptance date, so it sorts by date) and the due time (the open-dossier index).
    sortable_by = ["code", "due_display"]
    actions = None
    change_list_template = "admin/procedures/dossier/change_list.html"

    # Columns loaded for a list row; anything else would be a query per row.
    LIST_COLUMNS = [
        "id",
        "code",
        "applicant_name",
        "applicant_id_number",
        "status",
        "channel",
        "submitted_at",
        "due_at",
        "reappointment_count",
        "on_time_result",
        "procedure",
        "procedure__code",
        "procedure__name",
        "assigned_unit",
        "assigned_unit__code",
        "assigned_unit__name",
        "assigned_officer",
        "assigned_officer__username",
        "assigned_officer__first_name",
        "assigned_officer__last_name",
    ]

    # --- permissions: read-only pages, changes only through the action forms ---

    def get_queryset(self, request):
        return super().get_queryset(request).filter(dossier_visible_filter(request.user))

    def has_add_permission(self, request):
        return may_perform(request.user, Action.REGISTER)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_changelist(self, request, **kwargs):
        from django.contrib.admin.views.main import ORDER_VAR, PAGE_VAR, ChangeList

        columns = self.LIST_COLUMNS

        class DossierChangeList(ChangeList):
            """Pages past the first by keyset: "older" links carry the last id shown
            (`after`), and the next page is `id < after` in the default order (newest
            first), an index seek at any depth where `?p=N` would skip N pages of rows.
            Filters and search apply as on the numbered pages."""

            def __init__(self, request, *args, **kwargs):
                self.keyset_after = getattr(request, KEYSET_REQUEST_ATTR, None)
                super().__init__(request, *args, **kwargs)

            @property
            def keyset_ordered(self) -> bool:
                return ORDER_VAR not in self.params  # the default ordering: -id

            def get_queryset(self, request, exclude_parameters=None):
                qs = super().get_queryset(request, exclude_parameters).only(*columns)
                if self.keyset_after is not None and self.keyset_ordered:
                    qs = qs.filter(pk__lt=self.keyset_after)
                return qs

            def keyset_older_url(self) -> str | None:
                """The next page by keyset, when this one is full in the default order."""
                if not self.keyset_ordered or self.show_all:
                    return None
                rows = list(self.result_list)  # the page already read: no query
                if len(rows) < self.list_per_page:
                    return None
                return self.get_query_string({KEYSET_VAR: rows[-1].pk}, [PAGE_VAR])

            def keyset_newest_url(self) -> str:
                return self.get_query_string(remove=[PAGE_VAR])

        return DossierChangeList

    def get_search_results(self, request, queryset, search_term):
        # The same rule as the staff API (procedures/dossiers/selectors.py).
        return queryset.filter(dossier_search_filter(search_term)), False

    # --- list columns ---

    @admin.display(description=gettext_lazy("applicant"), ordering="applicant_name")
    def applicant(self, obj):
        return format_html("{}<br><small>{}</small>", obj.applicant_name, obj.applicant_id_number)

    @admin.display(description=gettext_lazy("procedure"))
    def procedure_short(self, obj):
        name = obj.procedure.name
        short = name if len(name) <= 70 else name[:67].rstrip() + "…"
        return format_html('<span title="{}">{} {}</span>', name, obj.procedure.code or "", short)

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_display(self, obj):
        return format_html(
            '<span class="dossier-status s{}">{}</span>', obj.status, obj.get_status_display()
        )

    @admin.display(description=gettext_lazy("submitted"))
    def submitted(self, obj):
        return timezone.localtime(obj.submitted_at).strftime("%H:%M %d/%m/%Y")

    @admin.display(description=gettext_lazy("due"), ordering="due_at")
    def due_display(self, obj):
        if obj.due_at is None:
            return "—"
        text = timezone.localtime(obj.due_at).strftime("%H:%M %d/%m/%Y")
        if obj.status in OPEN_STATUSES and obj.due_at < timezone.now():
            return format_html('<strong class="overdue">{} ({})</strong>', text, _("overdue"))
        if obj.reappointment_count:
            return format_html("{} <small>({})</small>", text, _("new appointment"))
        return text

    @admin.display(description=gettext_lazy("officer"), ordering="assigned_officer")
    def officer(self, obj):
        return staff_display_name(obj.assigned_officer)

    def changelist_view(self, request, extra_context=None):
        if KEYSET_VAR in request.GET:
            # The keyset cursor is the list's own: the admin would take any other
            # parameter for a field look-up. Not a number: the newest page.
            query = request.GET.copy()
            raw = query.pop(KEYSET_VAR)[-1]
            request.GET = query
            setattr(request, KEYSET_REQUEST_ATTR, int(raw) if raw.isdigit() else None)
        extra_context = {
            **(extra_context or {}),
            "can_register": self.has_add_permission(request),
        }
        return super().changelist_view(request, extra_context)

    # --- URLs of the custom pages ---

    def get_urls(self):
        from procedures.dossiers.admin.dashboard import dashboard_view

        info = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view
        return [
            path(
                "dashboard/",
                view(lambda request: dashboard_view(request, model_admin=self)),
                name="procedures_dashboard",
            ),
            path(
                "<int:object_id>/action/<str:action>/",
                view(self.action_view),
                name="{}_{}_action".format(*info),
            ),
            path(
                "<int:object_id>/slip/<str:kind>/",
                view(self.slip_view),
                name="{}_{}_slip".format(*info),
            ),
            path(
                "<int:object_id>/slip/<str:kind>/pdf/",
                view(self.slip_pdf_view),
                name="{}_{}_slip_pdf".format(*info),
            ),
            path(
                "<int:object_id>/document/<int:document_id>/",
                view(self.document_view),
                name="{}_{}_document".format(*info),
            ),
            *super().get_urls(),
        ]

    def _context(self, request, title, **extra):
        return {**self.admin_site.each_context(request), "opts": self.opts, "title": title, **extra}

    def _visible(self, request, object_id) -> Dossier:
        """The dossier if this user may see it; otherwise a 404 that reveals nothing."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        dossier = dossier_for_page(user=request.user, pk=object_id)
        if dossier is None:
            raise Http404(_("No dossier with this number is visible to you."))
        return dossier

    def _detail_url(self, dossier) -> str:
        return reverse("admin:procedures_dossier_change", args=[dossier.pk])

    # --- the dossier page (read-only) ---

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method not in ("GET", "HEAD"):
            # No free edit: status, due times and the rest change only through actions.
            return HttpResponseNotAllowed(["GET", "HEAD"])
        try:
            pk = int(object_id)
        except (TypeError, ValueError):
            raise Http404(_("No dossier with this number is visible to you.")) from None
        dossier = self._visible(request, pk)
        page = dossier_page(dossier=dossier)
        actions = dossier_actions_available(
            dossier=dossier, user=request.user, has_open_step=page.open_step is not None
        )
        now = timezone.now()
        return TemplateResponse(
            request,
            "admin/procedures/dossier/detail.html",
            self._context(
                request,
                _("Dossier %(code)s") % {"code": dossier.code},
                original=dossier,
                dossier=dossier,
                steps=page.steps,
                open_step=page.open_step,
                documents=page.documents,
                events=page.events,
                missing=page.missing,
                actions=[(a, action_def(a).label) for a in actions],
                slips=[(k, SlipKind(k).label) for k in slips_available(dossier=dossier)],
                overdue=dossier.is_open and dossier.due_at is not None and dossier.due_at < now,
                has_pin=PIN_SESSION_KEY % dossier.pk in request.session,
                people=page.people,
            ),
        )

    def history_view(self, request, object_id, extra_context=None):
        # The dossier's history is its event log, shown on the dossier page.
        return redirect(reverse("admin:procedures_dossier_change", args=[object_id]))

    # --- action forms ---

    def action_view(self, request, object_id, action):
        form_class = ACTION_FORMS.get(action)
        if form_class is None:
            raise Http404(_("Unknown action."))
        dossier = self._visible(request, object_id)
        has_open_step = None
        if action == Action.COMPLETE_STEP:
            has_open_step = dossier.steps.filter(
                started_at__isnull=False, completed_at__isnull=True
            ).exists()
        form, refusal = None, None
        if action in dossier_actions_available(
            dossier=dossier, user=request.user, has_open_step=has_open_step
        ):
            form = form_class(
                request.POST or None, request.FILES or None, dossier=dossier, user=request.user
            )
        else:
            # The services' own words where the registry refuses (role, then status).
            refused = role_refusal(action=action, user=request.user) or status_refusal(
                action=action, status=dossier.status
            )
            refusal = (
                refused.message
                if refused
                else _("You may not “%(action)s” this dossier in its current status.")
                % {"action": Action(action).label}
            )
        if form is not None and request.method == "POST" and form.is_valid():
            try:
                form.perform(now=timezone.now())
            except DomainError as exc:
                form.apply_error(exc)
            else:
                self.log_change(request, dossier, str(Action(action).label))
                self.message_user(request, self._done_message(dossier, action), messages.SUCCESS)
                return redirect(self._detail_url(dossier))
        return TemplateResponse(
            request,
            "admin/procedures/dossier/action.html",
            self._context(
                request,
                _("%(action)s: dossier %(code)s")
                % {"action": action_def(action).label, "code": dossier.code},
                original=dossier,
                dossier=dossier,
                form=form,
                action=action,
                refusal=refusal,
            ),
            status=403 if refusal else 200,
        )

    def _done_message(self, dossier, action):
        text = _("%(action)s: dossier %(code)s.") % {
            "action": Action(action).label,
            "code": dossier.code,
        }
        kind = action_def(action).slip  # the slip the registry says the action produces
        if kind is None:
            return text
        url = reverse("admin:procedures_dossier_slip", args=[dossier.pk, kind])
        return format_html(
            '{} <a href="{}" target="_blank">{}</a>',
            text,
            url,
            _("Print the %(slip)s") % {"slip": SlipKind(kind).label.lower()},
        )

    # --- registration at the desk (the admin's "add" page) ---

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        procedure_form = RegisterProcedureForm(request.GET if "procedure" in request.GET else None)
        procedure = None
        if request.method == "POST":
            procedure_form = RegisterProcedureForm({"procedure": request.POST.get("procedure")})
        if procedure_form.is_bound and procedure_form.is_valid():
            procedure = procedure_form.cleaned_data["procedure"]
        form = None
        if procedure is not None:
            form = RegisterForm(request.POST or None, request.FILES or None, procedure=procedure)
            if request.method == "POST" and form.is_valid():
                now = timezone.now()
                try:
                    dossier, pin = form.perform(user=request.user, now=now)
                except DomainError as exc:
                    form.apply_error(exc)
                else:
                    return self._registered(request, form, dossier, pin, now)
        return TemplateResponse(
            request,
            "admin/procedures/dossier/register.html",
            self._context(
                request,
                _("Register a dossier at the desk"),
                procedure_form=procedure_form,
                procedure=procedure,
                form=form,
            ),
        )

    def _registered(self, request, form, dossier, pin, now):
        from procedures.dossiers.services import dossier_accept

        # The PIN is stored only as a keyed hash: this session keeps it so the receipt
        # printed now can carry it; nobody can print it again later.
        request.session[PIN_SESSION_KEY % dossier.pk] = pin
        self.log_addition(request, dossier, [{"added": {}}])
        self.message_user(
            request,
            _(
                "Dossier %(code)s registered. Look-up PIN for the applicant: %(pin)s — it is "
                "shown only now and printed on the receipt printed from this session."
            )
            % {"code": dossier.code, "pin": pin},
            messages.SUCCESS,
        )
        missing = form.missing_mandatory()
        if missing:
            self.message_user(
                request,
                _(
                    "No file for these mandatory papers: %(names)s. Request a supplement "
                    "(form 02) if the applicant did not bring them."
                )
                % {"names": "; ".join(missing)},
                messages.WARNING,
            )
        if form.cleaned_data["accept_now"]:
            try:
                dossier_accept(
                    dossier=dossier, actor=request.user, now=now, expected_version=dossier.version
                )
            except DomainError as exc:
                self.message_user(
                    request,
                    _("The dossier could not be accepted: %(error)s") % {"error": exc.message},
                    messages.ERROR,
                )
            else:
                self.message_user(
                    request, self._done_message(dossier, Action.ACCEPT), messages.SUCCESS
                )
        return redirect(self._detail_url(dossier))

    # --- slips and documents ---

    def _slip(self, request, object_id, kind):
        dossier = self._visible(request, object_id)
        if kind not in SlipKind.values:
            raise Http404(_("Unknown slip."))
        pin = (
            request.session.get(PIN_SESSION_KEY % dossier.pk) if kind == SlipKind.RECEIPT else None
        )
        try:
            return dossier, slip_build(dossier=dossier, kind=kind, pin=pin)
        except DomainError as exc:
            raise Http404(exc.message) from exc

    def slip_view(self, request, object_id, kind):
        dossier, slip = self._slip(request, object_id, kind)
        html = slip_render_html(
            slip=slip,
            pdf_url=reverse("admin:procedures_dossier_slip_pdf", args=[dossier.pk, kind]),
            back_url=self._detail_url(dossier),
        )
        return HttpResponse(html)

    def slip_pdf_view(self, request, object_id, kind):
        dossier, slip = self._slip(request, object_id, kind)
        response = HttpResponse(slip_render_pdf(slip=slip), content_type="application/pdf")
        response["Content-Disposition"] = (
            f'inline; filename="{slip_filename(dossier=dossier, kind=kind)}"'
        )
        return response

    def document_view(self, request, object_id, document_id):
        """Private files: served only to staff who may see the dossier, as a download."""
        dossier = self._visible(request, object_id)
        document = DossierDocument.objects.filter(dossier=dossier, pk=document_id).first()
        if document is None:
            raise Http404(_("No such document in this dossier."))
        try:
            handle = document.file.open("rb")
        except FileNotFoundError as exc:
            raise Http404(_("The stored file is missing; tell the administrator.")) from exc
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=document.original_name,
            content_type=document.content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response
