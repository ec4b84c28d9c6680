"""Admin of the dialogues. State changes go through the services (actions), never
through editable status fields."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from dialogues import services
from dialogues.models import (
    AgendaItem,
    Business,
    DialogueSession,
    Recommendation,
    RecommendationAttachment,
    RecommendationEvent,
    Registration,
    SessionDocument,
)
from dialogues.validators import check_attachment
from procedures.core.errors import DomainError
from procedures.models import Field, Unit


class AgendaItemInline(admin.TabularInline):
    model = AgendaItem
    extra = 1


class SessionDocumentForm(forms.ModelForm):
    class Meta:
        model = SessionDocument
        fields = ("title", "file", "is_public")

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if isinstance(upload, UploadedFile):
            # A new file: published to businesses, so the portal's checks apply.
            check_attachment(upload)
            upload.seek(0)
        return upload


class SessionDocumentInline(admin.TabularInline):
    model = SessionDocument
    form = SessionDocumentForm
    extra = 0


@admin.register(DialogueSession)
class DialogueSessionAdmin(admin.ModelAdmin):
    list_display = ("title", "starts_at", "format", "status", "capacity", "host_unit")
    list_filter = ("status", "format", "host_unit")
    search_fields = ("title", "topic")
    date_hierarchy = "starts_at"
    filter_horizontal = ("fields",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    inlines = [AgendaItemInline, SessionDocumentInline]
    fieldsets = (
        (None, {"fields": ("title", "topic", "content", "format", "status", "is_published")}),
        (_("Time and place"), {"fields": ("starts_at", "ends_at", "venue", "online_link")}),
        (_("Organisation"), {"fields": ("chair", "host_unit", "fields")}),
        (
            _("Registration"),
            {"fields": ("capacity", "max_attendees_per_registration", "registration_deadline")},
        ),
        (_("Outcome"), {"fields": ("answer_working_days", "minutes", "conclusions")}),
    )

    def save_model(self, request, obj, form, change):
        services.dialogue_session_save(
            session=obj, changed=form.changed_data if change else [], now=timezone.now()
        )


@admin.register(Business)
class BusinessAdmin(admin.ModelAdmin):
    list_display = ("name", "tax_code", "created_at")
    search_fields = ("name", "tax_code")


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = (
        "business_name",
        "tax_code",
        "session",
        "attendees",
        "status",
        "attended",
        "created_at",
    )
    list_filter = ("status", "attended", "session")
    search_fields = ("business_name", "tax_code", "representative", "email")
    actions = ["cancel_registrations", "mark_attended", "mark_absent"]
    readonly_fields = (
        "public_id",
        "session",
        "business",
        "status",
        "created_at",
        "promoted_at",
        "cancelled_at",
        "tax_code",
    )
    exclude = ("token_hash",)

    def has_add_permission(self, request):
        # Registrations come through the public form (with its checks and mail).
        return False

    @admin.action(description=_("Cancel and promote the waiting list"))
    def cancel_registrations(self, request, queryset):
        done = 0
        for registration_id in queryset.values_list("pk", flat=True):
            try:
                services.registration_cancel(registration_id=registration_id)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"#{registration_id}: {exc.message}", messages.ERROR)
        self.message_user(request, _("%(n)d registrations cancelled.") % {"n": done})

    @admin.action(description=_("Mark as attended"))
    def mark_attended(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        services.registration_set_attendance(registration_ids=ids, attended=True)

    @admin.action(description=_("Mark as absent"))
    def mark_absent(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        services.registration_set_attendance(registration_ids=ids, attended=False)


class RecommendationAttachmentInline(admin.TabularInline):
    """Files come from businesses: listed with a permission-checked download link,
    never a media URL, and not added here (the public forms check them)."""

    model = RecommendationAttachment
    extra = 0
    fields = ("download", "content_type", "size", "uploaded_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("file"))
    def download(self, obj):
        url = reverse("dialogues:staff-attachment", args=[obj.recommendation_id, obj.pk])
        return format_html('<a href="{}" download>{}</a>', url, obj.original_name)


class RecommendationEventInline(admin.TabularInline):
    model = RecommendationEvent
    extra = 0
    can_delete = False
    readonly_fields = ("at", "action", "from_status", "to_status", "actor", "note")

    def has_add_permission(self, request, obj=None):
        return False


class RecommendationAddForm(forms.ModelForm):
    business_name = forms.CharField(label=_("Business name"), max_length=255)
    tax_code = forms.CharField(label=_("Tax code"), max_length=20)

    class Meta:
        model = Recommendation
        fields = (
            "session",
            "source",
            "field",
            "content",
            "contact_email",
            "is_public",
            "received_at",
        )


class AssignActionForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("Unit responsible"), queryset=Unit.objects.all())
    field = forms.ModelChoiceField(label=_("Field"), queryset=Field.objects.all(), required=False)


@admin.register(Recommendation)
class RecommendationAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "business",
        "short_content",
        "field",
        "unit",
        "status",
        "answer_state",
        "answer_due_at",
        "published_at",
    )
    list_filter = ("status", "answer_state", "source", "field", "unit", "session")
    search_fields = ("content", "business__name", "business__tax_code", "answer_text")
    date_hierarchy = "received_at"
    actions = ["assign_to_unit", "approve_answers", "publish", "unpublish"]
    inlines = [RecommendationAttachmentInline, RecommendationEventInline]
    readonly_fields = (
        "business",
        "source",
        "session",
        "registration",
        "status",
        "unit",
        "assigned_at",
        "answer_due_at",
        "escalate_at",
        "answer_kind",
        "answer_text",
        "answer_document_number",
        "answer_state",
        "answer_drafted_by",
        "answer_approved_by",
        "answer_approved_at",
        "answered_at",
        "forwarded_to",
        "forwarded_at",
        "closed_at",
        "is_public",
        "published_at",
        "received_at",
    )

    @admin.display(description=_("content"))
    def short_content(self, obj):
        return obj.content[:80]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = RecommendationAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("business_name", "tax_code", *RecommendationAddForm.Meta.fields)
        return super().get_fields(request, obj)

    def has_change_permission(self, request, obj=None):
        # Another unit's recommendation opens read-only (the service refuses it too).
        if obj is not None and not services.recommendation_may_act(
            user=request.user, recommendation=obj
        ):
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            # Only content, field and contact are editable here; state goes by actions.
            try:
                services.recommendation_edit(
                    recommendation_id=obj.pk,
                    by=request.user,
                    content=obj.content,
                    field=obj.field,
                    contact_email=obj.contact_email,
                )
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                raise PermissionDenied(exc.message) from exc
            return
        data = form.cleaned_data
        try:
            created = services.recommendation_receive(
                business_name=data["business_name"],
                tax_code=data["tax_code"],
                content=data["content"],
                source=data["source"],
                session=data["session"],
                field_id=data["field"].pk if data["field"] else None,
                contact_email=data["contact_email"],
                is_public=data["is_public"],
                received_at=data["received_at"],
                by=request.user,
            )
        except DomainError as exc:
            # The add view has validated the form already; report the rule broken.
            self.message_user(request, exc.message, messages.ERROR)
            raise
        obj.pk = created.pk
        obj.__dict__.update(created.__dict__)

    @admin.action(description=_("Assign to a unit"))
    def assign_to_unit(self, request, queryset):
        if "apply" in request.POST:
            form = AssignActionForm(request.POST)
            if form.is_valid():
                try:
                    count = services.recommendation_bulk_assign(
                        recommendation_ids=list(queryset.values_list("pk", flat=True)),
                        unit=form.cleaned_data["unit"],
                        field=form.cleaned_data["field"],
                        by=request.user,
                    )
                except DomainError as exc:
                    self.message_user(request, exc.message, messages.ERROR)
                else:
                    self.message_user(request, _("%(n)d recommendations assigned.") % {"n": count})
                return None
        else:
            form = AssignActionForm()
        return render(
            request,
            "dialogues/admin/assign.html",
            {
                **self.admin_site.each_context(request),
                "form": form,
                "queryset": queryset,
                "opts": self.model._meta,
                "title": _("Assign to a unit"),
            },
        )

    @admin.action(description=_("Approve the answers awaiting approval"), permissions=["approve"])
    def approve_answers(self, request, queryset):
        done = 0
        for recommendation_id in queryset.values_list("pk", flat=True):
            try:
                services.recommendation_answer_approve(
                    recommendation_id=recommendation_id, by=request.user
                )
                done += 1
            except DomainError as exc:
                self.message_user(request, f"#{recommendation_id}: {exc.message}", messages.ERROR)
        self.message_user(request, _("%(n)d answers approved.") % {"n": done})

    def has_approve_permission(self, request):
        return request.user.has_perm("dialogues.approve_answer")

    def _set_public(self, request, queryset, flag: bool):
        for recommendation_id in queryset.values_list("pk", flat=True):
            try:
                services.recommendation_set_public(
                    recommendation_id=recommendation_id, is_public=flag, by=request.user
                )
            except DomainError as exc:
                self.message_user(request, f"#{recommendation_id}: {exc.message}", messages.ERROR)

    @admin.action(description=_("Publish (approved answers only)"))
    def publish(self, request, queryset):
        self._set_public(request, queryset, True)

    @admin.action(description=_("Withdraw from the public page"))
    def unpublish(self, request, queryset):
        self._set_public(request, queryset, False)
