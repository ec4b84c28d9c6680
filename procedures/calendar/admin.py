"""Admin of the working-day overrides that win over the `holidays` package
(docs/legal-rules.md: "Working time, holidays and overrides")."""

from django.contrib import admin

from procedures.models import CalendarOverride


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(admin.ModelAdmin):
    list_display = ["date", "is_working", "reason"]
    list_filter = ["is_working"]
    date_hierarchy = "date"
    search_fields = ["reason"]
    ordering = ["-date"]
