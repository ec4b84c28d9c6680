"""Keep the in-process working-time calendar in step with admin decisions."""

from django.core.signals import setting_changed
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from procedures.calendar import working_time as calendar
from procedures.models import CalendarOverride


@receiver(post_save, sender=CalendarOverride, dispatch_uid="calendar_override_saved")
@receiver(post_delete, sender=CalendarOverride, dispatch_uid="calendar_override_deleted")
def calendar_override_changed(**kwargs) -> None:
    # Now, so this request's next due time already uses the decision; and again on
    # commit, because another thread may have re-read the year before the row was
    # visible to it. Other processes pick it up after CALENDAR_CACHE_SECONDS.
    calendar.invalidate()
    transaction.on_commit(calendar.invalidate)


@receiver(setting_changed, dispatch_uid="calendar_setting_changed")
def calendar_setting_changed(*, setting: str, **kwargs) -> None:
    # override_settings(OFFICE_HOURS=...) in tests must not see the cached hours.
    if setting in {"OFFICE_HOURS", "CALENDAR_CACHE_SECONDS"}:
        calendar.invalidate()
