"""Admin: online payments and the platform's callbacks, read-only (evidence)."""

from django.contrib import admin

from procedures.payments.models import Payment, PaymentCallback


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "txn_ref", "dossier", "amount_vnd", "status", "settled_at")
    list_filter = ("status", "gateway")
    search_fields = ("txn_ref", "dossier__code", "gateway_txn")
    list_select_related = ("dossier",)
    date_hierarchy = "created_at"


@admin.register(PaymentCallback)
class PaymentCallbackAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "kind", "outcome", "payment", "remote_addr")
    list_filter = ("kind", "outcome")
    search_fields = ("payment__txn_ref",)
    list_select_related = ("payment",)
    date_hierarchy = "received_at"
