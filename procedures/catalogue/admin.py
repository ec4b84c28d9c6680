"""Admin of the procedure catalogue.

Processing time, fees and abolition bind dossiers, so on an existing procedure they are
read-only here and change only through the Amend / Abolish pages, which ask for the
publishing decision and call the services that record a version.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from procedures.catalogue.process import process_validate
from procedures.catalogue.selectors import reform_year
from procedures.catalogue.services import (
    DESCRIPTIVE_ATTRS,
    VERSIONED_ATTRS,
    procedure_abolish,
    procedure_amend,
    procedure_create,
    procedure_update,
)
from procedures.core.admin import ReadOnlyAdminMixin
from procedures.core.constants import ProcedureStatus, TimeUnit
from procedures.core.errors import DomainError, apply_domain_error
from procedures.models import (
    Field,
    Procedure,
    ProcedureVersion,
    ProcessStep,
    RequiredDocument,
    Unit,
)


def format_changes(changes: dict) -> str:
    """{attr: [old, new]} as "label: old → new" lines, with the model's labels."""
    lines = []
    for attr, (old, new) in (changes or {}).items():
        try:
            label = Procedure._meta.get_field(attr).verbose_name
        except Exception:  # an attribute since removed from the model keeps its raw name
            label = attr
        empty = gettext("(empty)")
        lines.append(
            (
                label,
                old if old not in (None, "") else empty,
                new if new not in (None, "") else empty,
            )
        )
    return format_html_join("", "<div>{}: {} → {}</div>", lines)


# --- Fields and units -----------------------------------------------------------------


@admin.register(Field)
class FieldAdmin(admin.ModelAdmin):
    list_display = ["name", "ministry_code", "order", "procedure_count"]
    list_editable = ["order"]
    search_fields = ["name", "ministry_code"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _procedure_count=Count(
                    "procedures", filter=Q(procedures__status=ProcedureStatus.ACTIVE)
                )
            )
        )

    @admin.display(description=_("procedures in force"), ordering="_procedure_count")
    def procedure_count(self, obj):
        return obj._procedure_count


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "email", "is_one_stop_desk"]
    list_filter = ["is_one_stop_desk"]
    search_fields = ["code", "name"]


# --- Procedures -----------------------------------------------------------------------


class TimePublishedFilter(admin.SimpleListFilter):
    title = _("processing time")
    parameter_name = "time_published"

    def lookups(self, request, model_admin):
        return [("yes", _("Published")), ("no", _("Not yet published"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(processing_amount__isnull=False)
        if self.value() == "no":
            return queryset.filter(processing_amount__isnull=True)
        return queryset


class DocumentsPublishedFilter(admin.SimpleListFilter):
    """Which procedures still lack their list of documents (the portal then offers one
    generic slot): staff complete these first."""

    title = _("list of documents")
    parameter_name = "documents"

    def lookups(self, request, model_admin):
        return [("yes", _("Published")), ("no", _("Not published"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(documents__isnull=False).distinct()
        if self.value() == "no":
            return queryset.filter(documents__isnull=True)
        return queryset


class RequiredDocumentInline(admin.TabularInline):
    model = RequiredDocument
    extra = 0
    fields = ["order", "name", "kind", "copies", "mandatory", "template_name", "template"]


class ProcessStepFormSet(BaseInlineFormSet):
    """The steps must add up to the procedure's time (services/process.py)."""

    def clean(self):
        super().clean()
        if any(self.errors) or self.instance.pk is None:
            return
        hours = [
            form.cleaned_data["allotted_hours"]
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        try:
            process_validate(procedure=self.instance, hours=hours)
        except DomainError as exc:
            raise ValidationError(exc.message) from exc


class ProcessStepInline(admin.TabularInline):
    """The internal process (quy trình nội bộ); dossiers already running keep theirs."""

    model = ProcessStep
    formset = ProcessStepFormSet
    extra = 0
    fields = ["order", "name", "role", "unit", "allotted_hours"]


class _VersionHistory(ReadOnlyAdminMixin):
    """Versions are the record of publishing decisions: read only, with their changes."""

    @admin.display(description=_("changes"))
    def changes_display(self, obj):
        return format_changes(obj.changes)


class ProcedureVersionInline(_VersionHistory, admin.TabularInline):
    """The history, newest first; versions are evidence and never edited."""

    model = ProcedureVersion
    extra = 0
    can_delete = False
    ordering = ["-number"]
    fields = [
        "number",
        "kind",
        "decision_number",
        "decision_date",
        "effective_from",
        "changes_display",
        "processing_amount",
        "processing_unit",
        "fee_vnd",
        "created_by",
        "created_at",
    ]
    readonly_fields = fields
    verbose_name_plural = _("history of versions")


def _date_input():
    # The browser's date picker; ISO format is what <input type="date"> exchanges.
    return forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class DecisionForm(forms.Form):
    """The publishing decision behind a change (Decree 63/2010: quyết định công bố)."""

    decision_number = forms.CharField(
        label=_("Decision number"), max_length=255, help_text=_("For example 1234/QĐ-UBND.")
    )
    decision_date = forms.DateField(label=_("Decision date"), required=False, widget=_date_input())
    effective_from = forms.DateField(
        label=_("Effective from"),
        widget=_date_input(),
        help_text=_("Dossiers accepted from this date follow the new version."),
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class AmendForm(DecisionForm):
    def __init__(self, *args, procedure: Procedure, **kwargs):
        super().__init__(*args, **kwargs)
        # The values being changed come first, pre-filled with the current ones.
        decision_fields = dict(self.fields)
        self.fields.clear()
        for attr in VERSIONED_ATTRS:
            model_field = Procedure._meta.get_field(attr)
            self.fields[attr] = model_field.formfield(initial=getattr(procedure, attr))
        self.fields.update(decision_fields)


class ProcedureAddForm(forms.ModelForm):
    """A new procedure needs the decision that publishes it, for version 1."""

    decision_number = forms.CharField(label=_("Decision number"), max_length=255)
    decision_date = forms.DateField(label=_("Decision date"), required=False, widget=_date_input())
    version_effective_from = forms.DateField(
        label=_("Effective from"),
        widget=_date_input(),
        help_text=_("Date the publishing decision takes effect."),
    )

    class Meta:
        model = Procedure
        # Status, validity dates and the publishing decision come from the decision.
        fields = [
            "code",
            "name",
            "field",
            "level",
            "processing_amount",
            "processing_unit",
            "online_processing_amount",
            "fee_vnd",
            "fee_text",
            "online_level",
            "online_level_text",
            "channel_direct",
            "channel_postal",
            "channel_online",
            "steps",
            "applicants",
            "conditions",
            "result",
            "legal_basis",
            "implementing_unit",
            "source",
            "documents_source",
        ]


@admin.register(Procedure)
class ProcedureAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "field",
        "processing_time",
        "online_level",
        "level",
        "status",
    ]
    list_display_links = ["code", "name"]
    list_filter = [
        "field",
        "status",
        "online_level",
        "level",
        TimePublishedFilter,
        DocumentsPublishedFilter,
    ]
    list_select_related = ["field"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["field", "implementing_unit"]
    inlines = [RequiredDocumentInline, ProcessStepInline, ProcedureVersionInline]
    actions = ["amend_selected", "abolish_selected"]
    change_form_template = "admin/procedures/procedure/change_form.html"
    change_list_template = "admin/procedures/procedure/change_list.html"

    _descriptive_fieldsets = [
        (None, {"fields": ["code", "name", "field", "level", "implementing_unit"]}),
        (
            _("Channels and online level"),
            {
                "fields": [
                    "channel_direct",
                    "channel_postal",
                    "channel_online",
                    "online_level",
                    "online_level_text",
                ]
            },
        ),
        (
            _("Published content"),
            {
                "fields": [
                    "steps",
                    "applicants",
                    "conditions",
                    "result",
                    "legal_basis",
                    "source",
                    "documents_source",
                ]
            },
        ),
    ]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                *self._descriptive_fieldsets,
                (_("Processing time and fees"), {"fields": list(VERSIONED_ATTRS)}),
                (
                    _("Publishing decision"),
                    {"fields": ["decision_number", "decision_date", "version_effective_from"]},
                ),
            ]
        return [
            *self._descriptive_fieldsets,
            (
                _("Processing time and fees (change with Amend)"),
                {"fields": list(VERSIONED_ATTRS)},
            ),
            (
                _("Publication"),
                {
                    "fields": [
                        "status",
                        "publishing_decision",
                        "effective_from",
                        "effective_to",
                        "created_at",
                        "updated_at",
                    ]
                },
            ),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [
            *VERSIONED_ATTRS,
            "status",
            "effective_from",
            "effective_to",
            "created_at",
            "updated_at",
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ProcedureAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def has_delete_permission(self, request, obj=None):
        # Dossiers and the published history refer to procedures: abolish, never delete.
        return False

    @admin.display(description=_("processing time"), ordering="processing_amount")
    def processing_time(self, obj: Procedure):
        if not obj.time_published:
            return gettext("Not yet published")
        return f"{obj.processing_amount.normalize():f} {obj.get_processing_unit_display()}"

    def save_model(self, request, obj, form, change):
        if not change:
            attrs = {
                name: form.cleaned_data[name]
                for name in form.cleaned_data
                if name in (*DESCRIPTIVE_ATTRS, *VERSIONED_ATTRS) and name != "publishing_decision"
            }
            created = procedure_create(
                **attrs,
                decision_number=form.cleaned_data["decision_number"],
                decision_date=form.cleaned_data.get("decision_date"),
                effective_from=form.cleaned_data["version_effective_from"],
                actor=request.user,
            )
            # The admin goes on to save the inlines against `obj`: make it the saved row.
            obj.pk = created.pk
            obj._state.adding = False
            obj.created_at, obj.updated_at = created.created_at, created.updated_at
            return
        changes = {
            name: form.cleaned_data[name] for name in form.changed_data if name in DESCRIPTIVE_ATTRS
        }
        if changes:
            procedure_update(procedure=Procedure.objects.get(pk=obj.pk), changes=changes)

    # --- custom pages ---

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "reform/",
                self.admin_site.admin_view(self.reform_view),
                name=f"{info[0]}_{info[1]}_reform",
            ),
            path(
                "<path:object_id>/amend/",
                self.admin_site.admin_view(self.amend_view),
                name=f"{info[0]}_{info[1]}_amend",
            ),
            path(
                "<path:object_id>/abolish/",
                self.admin_site.admin_view(self.abolish_view),
                name=f"{info[0]}_{info[1]}_abolish",
            ),
            *super().get_urls(),
        ]

    def _get_for_change(self, request: HttpRequest, object_id: str) -> Procedure:
        procedure = get_object_or_404(Procedure.objects.select_related("field"), pk=object_id)
        if not self.has_change_permission(request, procedure):
            raise PermissionDenied
        return procedure

    def _context(self, request, title, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            **extra,
        }

    def _change_url(self, procedure: Procedure) -> str:
        return reverse("admin:procedures_procedure_change", args=[procedure.pk])

    def _decision_view(self, request, procedure, form, *, record, logged, done, template, title):
        """A page that records one publishing decision through a service.

        `record(data)` calls the service and returns the new version; `logged(version)`
        and `done(version)` word the admin log entry and the success message.
        """
        if request.method == "POST" and form.is_valid():
            try:
                version = record(form.cleaned_data)
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                self.log_change(request, procedure, logged(version))
                self.message_user(request, done(version), messages.SUCCESS)
                return HttpResponseRedirect(self._change_url(procedure))
        return TemplateResponse(
            request,
            template,
            self._context(request, title % {"procedure": procedure}, original=procedure, form=form),
        )

    @staticmethod
    def _decision(data, request) -> dict:
        return {
            "decision_number": data["decision_number"],
            "decision_date": data["decision_date"],
            "effective_from": data["effective_from"],
            "note": data["note"],
            "actor": request.user,
        }

    def amend_view(self, request, object_id):
        procedure = self._get_for_change(request, object_id)
        return self._decision_view(
            request,
            procedure,
            AmendForm(request.POST or None, procedure=procedure),
            record=lambda data: procedure_amend(
                procedure=procedure,
                changes={attr: data[attr] for attr in VERSIONED_ATTRS},
                **self._decision(data, request),
            ),
            logged=lambda v: gettext("Amended: version %(n)d") % {"n": v.number},
            done=lambda v: gettext("Version %(n)d recorded under decision %(decision)s.")
            % {"n": v.number, "decision": v.decision_number},
            template="admin/procedures/procedure/amend.html",
            title=gettext("Amend %(procedure)s"),
        )

    def abolish_view(self, request, object_id):
        procedure = self._get_for_change(request, object_id)
        return self._decision_view(
            request,
            procedure,
            DecisionForm(request.POST or None),
            record=lambda data: procedure_abolish(
                procedure=procedure, **self._decision(data, request)
            ),
            logged=lambda v: gettext("Abolished: version %(n)d") % {"n": v.number},
            done=lambda v: gettext("The procedure is abolished from %(date)s.")
            % {"date": v.effective_from.strftime("%d/%m/%Y")},
            template="admin/procedures/procedure/abolish.html",
            title=gettext("Abolish %(procedure)s"),
        )

    def reform_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            year = int(request.GET.get("year") or timezone.localdate().year)
        except ValueError:
            year = timezone.localdate().year
        year = min(max(year, 1990), 2100)
        report = reform_year(year=year)
        return TemplateResponse(
            request,
            "admin/procedures/procedure/reform_year.html",
            self._context(
                request,
                gettext("Reform of administrative procedures in %(year)d") % {"year": year},
                report=report,
                time_saved=[
                    (TimeUnit(unit).label, saved) for unit, saved in report["time_saved"].items()
                ],
                previous_year=year - 1,
                next_year=year + 1,
            ),
        )

    # --- actions ---

    @admin.action(
        description=_("Amend the selected procedure (new decision)"), permissions=["change"]
    )
    def amend_selected(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(
                request, gettext("Select exactly one procedure to amend."), messages.WARNING
            )
            return None
        return HttpResponseRedirect(
            reverse("admin:procedures_procedure_amend", args=[queryset.get().pk])
        )

    @admin.action(
        description=_("Abolish the selected procedures (one decision)"), permissions=["change"]
    )
    def abolish_selected(self, request, queryset):
        """One decision often abolishes several procedures at once, as in 2019."""
        queryset = queryset.filter(status=ProcedureStatus.ACTIVE)
        form = DecisionForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            data = form.cleaned_data
            done, failed = 0, []
            for procedure in queryset:
                try:
                    procedure_abolish(
                        procedure=procedure,
                        decision_number=data["decision_number"],
                        decision_date=data["decision_date"],
                        effective_from=data["effective_from"],
                        note=data["note"],
                        actor=request.user,
                    )
                    done += 1
                except DomainError as exc:
                    failed.append(f"{procedure}: {exc.message}")
            if done:
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d procedure abolished.", "%(count)d procedures abolished.", done
                    )
                    % {"count": done},
                    messages.SUCCESS,
                )
            for failure in failed:
                self.message_user(request, failure, messages.ERROR)
            return None
        return TemplateResponse(
            request,
            "admin/procedures/procedure/abolish_selected.html",
            self._context(
                request,
                gettext("Abolish procedures"),
                form=form,
                queryset=queryset,
                action_checkbox_name=ACTION_CHECKBOX_NAME,
            ),
        )


@admin.register(ProcedureVersion)
class ProcedureVersionAdmin(_VersionHistory, admin.ModelAdmin):
    """Versions are written only by the services; here they can be read and searched."""

    list_display = [
        "procedure",
        "number",
        "kind",
        "decision_number",
        "decision_date",
        "effective_from",
        "time_saved",
    ]
    list_filter = ["kind", "procedure__field"]
    list_select_related = ["procedure"]
    date_hierarchy = "effective_from"
    search_fields = ["procedure__code", "procedure__name", "decision_number"]
    readonly_fields = ["changes_display"]
    exclude = ["changes"]

    @admin.display(description=_("time saved"))
    def time_saved(self, obj):
        return obj.time_saved
