"""Day-counted limits of the one-stop rules, on top of the working-time calendar.

docs/legal-rules.md says which comparisons are to the second and which by date. The
limits here are counted in days, so they follow the Civil Code 2015: a period in days
starts on the day after the event (art. 147(1)) and ends at the end of its last day
(art. 148(1)); a last day that is not a working day moves to the next working day
(art. 148(4)). They return local dates (Asia/Ho_Chi_Minh) to compare with the local
date of the act.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from procedures.calendar import working_time as calendar

# The calendar covers a few years only; a limit further away than this is a bug.
_MAX_DAYS = 400


def working_day_after(day: date, n: int) -> date:
    """The n-th working date strictly after `day` (n >= 1)."""
    current, found = day, 0
    for _step in range(_MAX_DAYS):
        current += timedelta(days=1)
        if calendar.is_working_day(current):
            found += 1
            if found == n:
                return current
    raise ValueError(f"no {n} working days within {_MAX_DAYS} days after {day}")


def working_day_before(day: date, n: int = 1) -> date:
    """The n-th working date strictly before `day` (n >= 1)."""
    current, found = day, 0
    for _step in range(_MAX_DAYS):
        current -= timedelta(days=1)
        if calendar.is_working_day(current):
            found += 1
            if found == n:
                return current
    raise ValueError(f"no {n} working days within {_MAX_DAYS} days before {day}")


def supplement_last_day(*, accepted_at: datetime, days: int = 3) -> date:
    """Last local date on which a supplement may be requested during processing.

    "Within 3 working days of acceptance": the day of acceptance is not counted (Civil
    Code art. 147), so a dossier accepted on Monday may be sent a request until the end
    of Thursday (art. 148), whatever the hour of acceptance.
    """
    return working_day_after(timezone.localdate(accepted_at), days)


def apology_last_day(*, due_at: datetime) -> date:
    """Last local date on which the apology (form 04) may be sent.

    "At least 1 working day before the due date" is counted back in whole working
    days from the due date: for a dossier due on Friday at 10:00 the apology may be
    sent until the end of Thursday.
    """
    return working_day_before(timezone.localdate(due_at), 1)


def _cutoff() -> time:
    value = str(settings.TRANSFER_CUTOFF)
    try:
        hours, minutes = (int(p) for p in value.split(":"))
        return time(hours, minutes)
    except ValueError:
        raise ImproperlyConfigured(f"TRANSFER_CUTOFF: {value!r} is not a HH:MM time") from None


def _opening(day: date) -> datetime:
    return calendar.next_working_moment(datetime.combine(day, time.min, tzinfo=calendar.LOCAL_TZ))


def _closing(day: date) -> datetime:
    # A due time that ends exactly at closing stays at closing (calendar._clock).
    return calendar.add_working_hours(_opening(day), Decimal(calendar.working_day_seconds()) / 3600)


def transfer_due_at(received_at: datetime) -> datetime:
    """When a dossier received at the desk must have reached the processing unit.

    The same working day (by its closing time), or the next working morning (its
    opening time) when received at or after the cut-off (``settings.TRANSFER_CUTOFF``,
    15:00). Received before opening: the same day. Received on a day off: as if at the
    next opening, so by the closing of the next working day. Compared to the second.
    """
    local = timezone.localtime(received_at, calendar.LOCAL_TZ)
    day = local.date()
    if not calendar.is_working_day(day):
        return _closing(working_day_after(day, 1))
    if local.time() >= _cutoff():
        return _opening(working_day_after(day, 1))
    return _closing(day)
