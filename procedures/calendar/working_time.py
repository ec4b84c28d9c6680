"""The working-time calendar of the one-stop desk (docs/legal-rules.md: "Due time", "Working
time, holidays and overrides").

Every processing time is counted in working time, so every due date in the app
comes from here. Inputs are timezone-aware datetimes; outputs are aware
datetimes in Asia/Ho_Chi_Minh, whole seconds.

How it stays exact and fast:
- Arithmetic is in integer seconds: a working day is the sum of the office-hours
  intervals (``settings.OFFICE_HOURS``), 8 h = 28 800 s by default, so half a day
  is exactly 14 400 s and no float drift accumulates over a report.
- Each calendar year is computed once per process: a sorted tuple of the
  ordinals of its working dates (for ``bisect``) and a frozenset (for look-ups).
  A year costs one query for its ``CalendarOverride`` rows; it is re-read after
  ``CALENDAR_CACHE_SECONDS`` or after ``invalidate()`` (called by the signals in
  ``procedures.calendar.signals`` when an override is saved or deleted).
- Skipping N working days is a bisect plus an index into that tuple, not a walk.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from time import monotonic
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation
from django.utils.translation import gettext as _

from procedures.core.constants import TimeUnit

# Office hours are Vietnamese wall-clock time whatever the server's TIME_ZONE is;
# Vietnam has had no daylight-saving time since 1975, so wall-clock arithmetic is safe.
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

# The `holidays` package knows Vietnamese public holidays for these years only;
# outside them we would silently treat Tết as a working week, so we refuse instead.
MIN_YEAR: int = holidays.Vietnam.start_year
MAX_YEAR: int = holidays.Vietnam.end_year

SOURCE_HOLIDAYS = "holidays"
SOURCE_OVERRIDE = "override"


class CalendarRangeError(ValueError):
    """A computation needs a year the holiday data does not cover."""


# --------------------------------------------------------------------------- #
# Cached state
# --------------------------------------------------------------------------- #


@dataclass(frozen=True, slots=True)
class _Hours:
    # (opening, closing) in seconds since local midnight, sorted, disjoint.
    intervals: tuple[tuple[int, int], ...]
    # Working seconds used up at the closing of each interval.
    cumulative: tuple[int, ...]
    day_seconds: int
    cache_seconds: float


@dataclass(frozen=True, slots=True)
class _Year:
    working: tuple[int, ...]  # sorted date ordinals
    working_set: frozenset[int]
    # (ordinal, is_working, source, override reason or "") for the exceptions list.
    exceptions: tuple[tuple[int, bool, str, str], ...]
    expires_at: float


# Loading holds the lock so that concurrent requests in a threaded server read a
# year's overrides once, and invalidate() cannot interleave with a half-done load.
_lock = threading.RLock()
_years: dict[int, _Year] = {}
_hours: _Hours | None = None


def invalidate() -> None:
    """Forget every cached year and the parsed office hours."""
    global _hours
    with _lock:
        _years.clear()
        _hours = None


def _parse_clock(value: str) -> int:
    try:
        parts = [int(p) for p in str(value).split(":")]
    except ValueError:
        parts = []
    if len(parts) not in (2, 3) or not (0 <= parts[0] <= 24 and 0 <= parts[1] < 60):
        raise ImproperlyConfigured(f"OFFICE_HOURS: {value!r} is not a HH:MM time")
    seconds = parts[0] * 3600 + parts[1] * 60 + (parts[2] if len(parts) == 3 else 0)
    if seconds > 86400:
        raise ImproperlyConfigured(f"OFFICE_HOURS: {value!r} is after midnight")
    return seconds


def _config() -> _Hours:
    global _hours
    hours = _hours
    if hours is not None:
        return hours
    intervals = tuple(
        (_parse_clock(opening), _parse_clock(closing)) for opening, closing in settings.OFFICE_HOURS
    )
    if not intervals:
        raise ImproperlyConfigured("OFFICE_HOURS must hold at least one (opening, closing) pair")
    previous_end = -1
    for opening, closing in intervals:
        if not previous_end <= opening < closing:
            raise ImproperlyConfigured(
                "OFFICE_HOURS must be sorted, non-overlapping (opening, closing) pairs"
            )
        previous_end = closing
    cumulative, total = [], 0
    for opening, closing in intervals:
        total += closing - opening
        cumulative.append(total)
    hours = _Hours(
        intervals=intervals,
        cumulative=tuple(cumulative),
        day_seconds=total,
        cache_seconds=float(settings.CALENDAR_CACHE_SECONDS),
    )
    _hours = hours
    return hours


def _public_holidays(year: int):
    # Adjacent years too: a Saturday worked in December may be swapped for a day off
    # in the next January (and the package files such swaps under the later year).
    years = range(max(MIN_YEAR, year - 1), min(MAX_YEAR, year + 1) + 1)
    return holidays.country_holidays("VN", years=years)


def _load_year(year: int, expires_at: float) -> _Year:
    from procedures.models import CalendarOverride

    first, last = date(year, 1, 1), date(year, 12, 31)
    public = _public_holidays(year)
    worked_weekend_days = {d for d in public.weekend_workdays if d.year == year}
    overrides = {
        d: (is_working, reason)
        for d, is_working, reason in CalendarOverride.objects.filter(
            date__range=(first, last)
        ).values_list("date", "is_working", "reason")
    }

    working: list[int] = []
    exceptions: list[tuple[int, bool, str, str]] = []
    for ordinal in range(first.toordinal(), last.toordinal() + 1):
        day = date.fromordinal(ordinal)
        weekend = day.weekday() >= 5
        # Civil servants work Monday to Friday; Labour Code 2019 art. 112 holidays and
        # the Prime Minister's yearly swap decisions come from the package; the
        # department's own overrides win because the package may not know them yet.
        if day in overrides:
            is_working, reason = overrides[day]
            source = SOURCE_OVERRIDE
        else:
            is_working = day in worked_weekend_days if weekend else day not in public
            reason, source = "", SOURCE_HOLIDAYS
        if is_working:
            working.append(ordinal)
        if is_working == weekend:
            exceptions.append((ordinal, is_working, source, reason))
    return _Year(
        working=tuple(working),
        working_set=frozenset(working),
        exceptions=tuple(exceptions),
        expires_at=expires_at,
    )


def _year(year: int) -> _Year:
    entry = _years.get(year)
    now = monotonic()
    if entry is not None and entry.expires_at > now:
        return entry
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise CalendarRangeError(
            _("The working-time calendar covers the years %(first)d to %(last)d only.")
            % {"first": MIN_YEAR, "last": MAX_YEAR}
        )
    with _lock:
        entry = _years.get(year)
        if entry is None or entry.expires_at <= now:
            entry = _load_year(year, now + _config().cache_seconds)
            _years[year] = entry
    return entry


# --------------------------------------------------------------------------- #
# Day and second helpers (local date ordinal, seconds since local midnight)
# --------------------------------------------------------------------------- #


def _split(value: datetime, name: str) -> tuple[int, int]:
    if not isinstance(value, datetime):
        raise TypeError(_("%(name)s must be a datetime.") % {"name": name})
    if value.tzinfo is None or value.utcoffset() is None:
        # A naive time is ambiguous evidence: the register must say which instant it was.
        raise ValueError(_("%(name)s must be timezone-aware.") % {"name": name})
    local = value.astimezone(LOCAL_TZ)
    # Whole seconds: sub-second parts are dropped so sums stay integers.
    return local.toordinal(), local.hour * 3600 + local.minute * 60 + local.second


def _join(ordinal: int, seconds: int) -> datetime:
    day = date.fromordinal(ordinal)
    return datetime(day.year, day.month, day.day, tzinfo=LOCAL_TZ) + timedelta(seconds=seconds)


def _is_working(ordinal: int) -> bool:
    return ordinal in _year(date.fromordinal(ordinal).year).working_set


def _nth_working_day_after(ordinal: int, n: int) -> int:
    """The n-th working date strictly after `ordinal` (n >= 1)."""
    year = date.fromordinal(ordinal).year
    while True:
        working = _year(year).working
        index = bisect_right(working, ordinal)
        if index + n - 1 < len(working):
            return working[index + n - 1]
        n -= len(working) - index
        year += 1


def _count_working_days(first: int, stop: int) -> int:
    """Working dates in [first, stop)."""
    if stop <= first:
        return 0
    total = 0
    for year in range(date.fromordinal(first).year, date.fromordinal(stop - 1).year + 1):
        working = _year(year).working
        total += bisect_left(working, stop) - bisect_left(working, first)
    return total


def _elapsed(hours: _Hours, seconds: int) -> int:
    """Working seconds of a working day used up by the local time `seconds`."""
    used = 0
    for opening, closing in hours.intervals:
        if seconds <= opening:
            break
        used += min(seconds, closing) - opening
    return used


def _clock(hours: _Hours, used: int) -> int:
    """The local time at which `used` (0 < used <= day) working seconds are spent.

    The `<=` keeps a due time that ends exactly at a closing time (11:30, 17:00) at
    that closing time instead of the next opening (docs/legal-rules.md: "Due time").
    """
    for (_opening, closing), cumulative in zip(hours.intervals, hours.cumulative, strict=False):
        if used <= cumulative:
            return closing - (cumulative - used)
    raise AssertionError("more than one working day of seconds")


def _normalise(ordinal: int, seconds: int) -> tuple[int, int]:
    # Counting in office hours only is common practice, not statute (docs/legal-rules.md:
    # "Due time";
    # office hours are a setting because provinces differ): an acceptance before
    # opening, in the lunch break or after closing counts from the next opening.
    hours = _config()
    if _is_working(ordinal):
        for opening, closing in hours.intervals:
            if seconds < opening:
                return ordinal, opening
            if seconds < closing:
                return ordinal, seconds
    return _nth_working_day_after(ordinal, 1), hours.intervals[0][0]


def _decimal(amount: Decimal | int | float | str, name: str) -> Decimal:
    if isinstance(amount, bool):
        raise TypeError(_("%(name)s must be a number.") % {"name": name})
    try:
        # repr() keeps 0.1 as Decimal("0.1") rather than its binary approximation.
        value = Decimal(repr(amount)) if isinstance(amount, float) else Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        raise TypeError(_("%(name)s must be a number.") % {"name": name}) from None
    if not value.is_finite() or value < 0:
        raise ValueError(_("%(name)s must be zero or a positive number.") % {"name": name})
    return value


def _to_seconds(amount: Decimal, unit_seconds: int) -> int:
    return int((amount * unit_seconds).to_integral_value(rounding=ROUND_HALF_UP))


def _add_seconds(start: datetime, seconds: int) -> datetime:
    hours = _config()
    ordinal, clock = _normalise(*_split(start, "start"))
    if seconds == 0:
        return _join(ordinal, clock)
    used = _elapsed(hours, clock)
    left_today = hours.day_seconds - used
    if seconds <= left_today:
        return _join(ordinal, _clock(hours, used + seconds))
    rest = seconds - left_today
    # rest = (days - 1) * day + last with 0 < last <= day: the due falls on the
    # `days`-th working date after today, `last` seconds into it.
    days, last = divmod(rest - 1, hours.day_seconds)
    return _join(_nth_working_day_after(ordinal, days + 1), _clock(hours, last + 1))


# --------------------------------------------------------------------------- #
# Public API
# --------------------------------------------------------------------------- #


def working_day_seconds() -> int:
    """Length of one working day: the sum of the office-hours intervals."""
    return _config().day_seconds


def is_working_day(d: date) -> bool:
    if isinstance(d, datetime):
        raise TypeError(_("Pass a date, not a datetime."))
    return _is_working(d.toordinal())


def next_working_moment(dt: datetime) -> datetime:
    """`dt` itself in office hours, else the next opening time."""
    return _join(*_normalise(*_split(dt, "dt")))


def add_working_hours(start: datetime, hours: Decimal | int | float) -> datetime:
    return _add_seconds(start, _to_seconds(_decimal(hours, "hours"), 3600))


def add_working_days(start: datetime, days: Decimal | int | float) -> datetime:
    """One working day is the day's office hours (8 h by default), so 0.5 day = 4 h.

    Accepted Monday 10:00 with 1 working day is due Tuesday 10:00 (docs/legal-rules.md: "Due time").
    """
    return _add_seconds(start, _to_seconds(_decimal(days, "days"), working_day_seconds()))


def add_calendar_days(start: datetime, days: Decimal | int | float) -> datetime:
    """Due at closing time on the local date `days` later, or on the next working day.

    The start is normalised first, so an acceptance after closing counts from the
    next working date like every other unit.
    """
    value = _decimal(days, "days")
    if value != value.to_integral_value():
        raise ValueError(_("Calendar days must be a whole number."))
    hours = _config()
    ordinal, _clock_unused = _normalise(*_split(start, "start"))
    due = ordinal + int(value)
    if not _is_working(due):
        due = _nth_working_day_after(due, 1)
    return _join(due, hours.intervals[-1][1])


def add_time(start: datetime, amount: Decimal | int | float, unit: str) -> datetime:
    """Due time for a processing time expressed in any `TimeUnit`."""
    if unit == TimeUnit.WORKING_DAYS:
        return add_working_days(start, amount)
    if unit == TimeUnit.WORKING_HOURS:
        return add_working_hours(start, amount)
    if unit == TimeUnit.CALENDAR_DAYS:
        return add_calendar_days(start, amount)
    raise ValueError(_("Unknown time unit: %(unit)s.") % {"unit": unit})


def working_seconds_between(a: datetime, b: datetime) -> int:
    """Working seconds from `a` to `b`; negative when `b` is before `a`."""
    first, first_clock = _split(a, "a")
    last, last_clock = _split(b, "b")
    if (last, last_clock) < (first, first_clock):
        return -working_seconds_between(b, a)
    hours = _config()
    total = _count_working_days(first, last) * hours.day_seconds
    if _is_working(first):
        total -= _elapsed(hours, first_clock)
    if _is_working(last):
        total += _elapsed(hours, last_clock)
    return total


@lru_cache(maxsize=32)
def _holiday_names(year: int, language: str) -> dict[date, str]:
    return dict(holidays.country_holidays("VN", years=year, language=language))


def year_exceptions(year: int) -> list[dict]:
    """Non-working weekdays and working weekend days of `year`, in date order.

    Holiday names follow the active language (Vietnamese by default).
    """
    entry = _year(year)
    language = "vi" if (translation.get_language() or "vi").startswith("vi") else "en_US"
    names = _holiday_names(year, language)
    result = []
    for ordinal, is_working, source, reason in entry.exceptions:
        day = date.fromordinal(ordinal)
        if source == SOURCE_HOLIDAYS:
            if is_working:
                reason = _("Working weekend day, swapped for a day off")
            else:
                reason = names.get(day) or _("Public holiday")
        result.append({"date": day, "is_working": is_working, "reason": reason, "source": source})
    return result
