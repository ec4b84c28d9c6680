"""The dossier list's side filters: queues, procedure, officer, due range."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from procedures.core.people import staff_display_name
from procedures.dossiers.queues import Queue, queue_filter, queue_statuses

# ---------------------------------------------------------------- list filters


class QueueFilter(admin.SimpleListFilter):
    """The dashboard's queues, so each count links to the dossiers behind it."""

    title = gettext_lazy("work queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return Queue.choices

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        if self.value() not in Queue.values:
            raise IncorrectLookupParameters(f"Unknown queue {self.value()!r}")
        return queryset.filter(status__in=queue_statuses(queue=self.value())).filter(
            queue_filter(queue=self.value(), user=request.user, now=timezone.now())
        )


class SelectRelatedFilter(admin.RelatedFieldListFilter):
    """A drop-down instead of a list of links: a department has a hundred procedures.

    Works without JavaScript: a small GET form that keeps the other filters.
    """

    template = "admin/procedures/dossier/select_filter.html"

    def choices(self, changelist):
        keep = [
            (k, v)
            for k, v in changelist.params.items()
            if k not in self.expected_parameters() and k != "p"
        ]
        yield {
            "selected": self.lookup_val is not None or self.lookup_val_isnull is not None,
            "name": self.lookup_kwarg,
            "value": (self.lookup_val or [""])[-1]
            if isinstance(self.lookup_val, list)
            else (self.lookup_val or ""),
            "options": [(str(pk), label) for pk, label in self.lookup_choices],
            "hidden": keep,
            "clear_url": changelist.get_query_string(remove=self.expected_parameters()),
            "field_id": f"filter-{self.field_path.replace('__', '-')}",
        }


class ProcedureFilter(SelectRelatedFilter):
    def field_choices(self, field, request, model_admin):
        procedures = field.related_model.objects.order_by("code", "name").only("id", "code", "name")
        return [(p.pk, f"{p.code} {p.name}" if p.code else p.name) for p in procedures]


class OfficerFilter(SelectRelatedFilter):
    """Only staff with a unit are officers; shown by full name."""

    def field_choices(self, field, request, model_admin):
        model = field.related_model
        users = (
            model.objects.filter(staff_profile__unit__isnull=False)
            .order_by("last_name", "first_name")
            .only("id", "username", "first_name", "last_name")
        )
        return [(u.pk, staff_display_name(u)) for u in users]


class DueRangeFilter(admin.ListFilter):
    """Due between two dates (inclusive, local days): `?due_from=YYYY-MM-DD&due_to=...`."""

    title = gettext_lazy("due date")
    template = "admin/procedures/dossier/due_filter.html"
    parameters = ("due_from", "due_to")

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.values: dict[str, date] = {}
        self.raw: dict[str, str] = {}
        for name in self.parameters:
            if name in params:
                value = params.pop(name)
                value = value[-1] if isinstance(value, list) else value
                self.raw[name] = value
                if value:
                    try:
                        self.values[name] = date.fromisoformat(value)
                    except ValueError as exc:
                        raise IncorrectLookupParameters(_("Enter the date as YYYY-MM-DD.")) from exc
        self.request = request

    def has_output(self):
        return True

    def expected_parameters(self):
        return list(self.parameters)

    def queryset(self, request, queryset):
        tz = timezone.get_current_timezone()
        if "due_from" in self.values:
            queryset = queryset.filter(
                due_at__gte=datetime.combine(self.values["due_from"], time.min, tzinfo=tz)
            )
        if "due_to" in self.values:
            queryset = queryset.filter(
                due_at__lt=datetime.combine(
                    self.values["due_to"] + timedelta(days=1), time.min, tzinfo=tz
                )
            )
        return queryset

    def choices(self, changelist):
        # One "choice" carrying what the template's small GET form needs.
        keep = [
            (k, v) for k, v in changelist.params.items() if k not in self.parameters and k != "p"
        ]
        yield {
            "selected": bool(self.values),
            "due_from": self.raw.get("due_from", ""),
            "due_to": self.raw.get("due_to", ""),
            "hidden": keep,
            "clear_url": changelist.get_query_string(remove=list(self.parameters)),
        }
