"""Admin: the delivery ledger (with readable failures and "Retry now"), officers'
notification choices, and each officer's in-app notification list (the inbox)."""

from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from procedures.core.admin import ReadOnlyAdminMixin
from procedures.core.roles import sees_all_dossiers
from procedures.models import (
    Delivery,
    DeliveryChannel,
    DeliveryStatus,
    ScheduledRun,
    StaffProfile,
)
from procedures.notifications.delivery import delivery_render, delivery_retry
from procedures.notifications.services import (
    delivery_mark_read,
    staff_notification_preferences_set,
)


class RowTypeFilter(admin.SimpleListFilter):
    """Reminder items are markers inside digests; by default the list shows messages."""

    title = gettext_lazy("type")
    parameter_name = "type"

    def lookups(self, request, model_admin):
        return [("items", _("Reminder items (inside digests)")), ("all", _("All rows"))]

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("Messages"),
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        if self.value() == "all":
            return queryset
        if self.value() == "items":
            return queryset.filter(status=DeliveryStatus.IN_DIGEST)
        return queryset.exclude(status=DeliveryStatus.IN_DIGEST)


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    superuser_may_delete = True
    list_display = (
        "created_at",
        "kind",
        "channel",
        "recipient",
        "status",
        "attempts",
        "failure",
        "next_attempt_at",
        "sent_at",
    )
    list_filter = (RowTypeFilter, "status", "channel", "kind")
    search_fields = ("recipient", "subject_key")
    date_hierarchy = "created_at"
    actions = ["retry_now"]
    list_select_related = ("user",)
    readonly_fields = (
        "kind",
        "channel",
        "recipient",
        "user",
        "subject_key",
        "language",
        "status",
        "digest",
        "attempts",
        "last_error",
        "next_attempt_at",
        "created_at",
        "sent_at",
        "read_at",
        "payload",
        "preview",
    )
    fields = readonly_fields

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        # Applicants' addresses are personal data: only the desk, directors and those
        # who may change deliveries see every row; others see their own.
        if sees_all_dossiers(request.user) or request.user.has_perm("procedures.change_delivery"):
            return qs
        return qs.filter(user=request.user)

    @admin.display(description=gettext_lazy("why it failed"))
    def failure(self, obj):
        if not obj.last_error:
            return ""
        text = obj.last_error if len(obj.last_error) <= 120 else obj.last_error[:117] + "…"
        return format_html('<span title="{}">{}</span>', obj.last_error, text)

    @admin.display(description=gettext_lazy("message"))
    def preview(self, obj):
        if obj is None or obj.status == DeliveryStatus.IN_DIGEST:
            return ""
        try:
            subject, body = delivery_render(obj)
        except Exception as exc:  # noqa: BLE001 - shown to staff as the reason
            return format_html('<p class="errornote">{}: {}</p>', type(exc).__name__, exc)
        return format_html(
            "<strong>{}</strong><pre style='white-space:pre-wrap'>{}</pre>", subject, body
        )

    @admin.action(description=gettext_lazy("Retry now"), permissions=["retry"])
    def retry_now(self, request, queryset):
        retried = delivery_retry(ids=queryset.values_list("pk", flat=True), actor=request.user)
        skipped = queryset.count() - len(retried)
        self.message_user(
            request, _("%(n)s message(s) queued again.") % {"n": len(retried)}, messages.SUCCESS
        )
        if skipped:
            self.message_user(
                request,
                _("%(n)s row(s) were already sent or are reminder items, and were left alone.")
                % {"n": skipped},
                messages.WARNING,
            )

    def has_retry_permission(self, request):
        return (
            request.user.is_superuser
            or request.user.has_perm("procedures.change_delivery")
            or sees_all_dossiers(request.user)
        )

    # ------------------------------------------------------------------ the inbox

    def get_urls(self):
        return [
            path("inbox/", self.admin_site.admin_view(self.inbox_view), name="procedures_inbox"),
        ] + super().get_urls()

    def inbox_view(self, request):
        user = request.user
        if request.method == "POST":
            if "preferences" in request.POST:
                staff_notification_preferences_set(
                    user=user,
                    by_email=bool(request.POST.get("notify_by_email")),
                    in_app=bool(request.POST.get("notify_in_app")),
                )
                self.message_user(request, _("Your notification settings are saved."))
            elif "read" in request.POST:
                ids = request.POST.getlist("id") or None
                n = delivery_mark_read(user=user, ids=ids, now=timezone.now())
                self.message_user(request, _("%(n)s notification(s) marked as read.") % {"n": n})
            return HttpResponseRedirect(reverse("admin:procedures_inbox"))
        rows = Delivery.objects.filter(
            user=user, channel=DeliveryChannel.IN_APP, status=DeliveryStatus.SENT
        ).order_by("-sent_at", "-id")
        page = Paginator(rows, 20).get_page(request.GET.get("page"))
        entries = []
        for d in page:
            try:
                subject, body = delivery_render(d)
            except Exception as exc:  # noqa: BLE001 - the row stays listed, with why
                subject, body = d.kind, _("This notification cannot be shown: %(e)s") % {"e": exc}
            entries.append({"delivery": d, "subject": subject, "body": body})
        profile = StaffProfile.objects.filter(user=user).first()
        context = {
            **self.admin_site.each_context(request),
            "title": _("My notifications"),
            "entries": entries,
            "page": page,
            "unread": Delivery.objects.filter(
                user=user,
                channel=DeliveryChannel.IN_APP,
                status=DeliveryStatus.SENT,
                read_at__isnull=True,
            ).count(),
            "profile": profile,
            "notify_by_email": profile.notify_by_email if profile else True,
            "notify_in_app": profile.notify_in_app if profile else False,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/procedures/delivery/inbox.html", context)


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "unit", "title", "language", "notify_by_email", "notify_in_app")
    list_editable = ("notify_by_email", "notify_in_app")
    list_filter = ("unit", "notify_by_email", "notify_in_app")
    search_fields = ("user__username", "user__first_name", "user__last_name", "user__email")
    list_select_related = ("user", "unit")
    autocomplete_fields = ()
    raw_id_fields = ("user",)


@admin.register(ScheduledRun)
class ScheduledRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Each reminder sweep and month close as run (or caught up after a lost beat
    tick): read-only, written by procedures/notifications/scheduling.py."""

    superuser_may_delete = True
    list_display = ("day", "slot", "job", "finished_at", "outcome", "attempts", "claimed_by")
    list_filter = ("job", "day")
    readonly_fields = (
        "job",
        "day",
        "slot",
        "claimed_at",
        "claimed_by",
        "attempts",
        "progress",
        "finished_at",
        "outcome",
    )
