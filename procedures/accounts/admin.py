"""Applicant accounts in the admin: read-only (they come from the identity provider)."""

from django.contrib import admin

from procedures.accounts.models import ApplicantAccount, ApplicantDossier


class ApplicantDossierInline(admin.TabularInline):
    model = ApplicantDossier
    fields = ["dossier", "claimed", "linked_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ApplicantAccount)
class ApplicantAccountAdmin(admin.ModelAdmin):
    list_display = ["name", "id_number", "tax_code", "email", "last_sign_in_at"]
    search_fields = ["name", "email", "id_number", "tax_code", "subject"]
    readonly_fields = [
        "issuer",
        "subject",
        "name",
        "email",
        "phone",
        "id_number",
        "tax_code",
        "created_at",
        "last_sign_in_at",
    ]
    inlines = [ApplicantDossierInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
