"""The working-time calendar: office hours, weekends, holidays, swaps and overrides.

Expected times are worked out by hand from docs/legal-rules.md: "Due time" (07:00-11:30,
13:30-17:00,
8 h a day) and the official 2025-2026 holiday schedules.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import translation

from procedures.calendar import working_time as calendar
from procedures.core.constants import TimeUnit
from procedures.models import CalendarOverride

pytestmark = pytest.mark.django_db

VN = calendar.LOCAL_TZ
HOUR = 3600
DAY = 8 * HOUR


def at(*args) -> datetime:
    return datetime(*args, tzinfo=VN)


def assert_same(actual: datetime, expected: datetime) -> None:
    assert actual == expected
    assert actual.tzinfo == VN, "results are given in Asia/Ho_Chi_Minh"
    assert actual.utcoffset() == timedelta(hours=7)


# --- Normalising the start (Decree 61/2018 art. 15: the clock runs in office hours) ---


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (at(2025, 6, 2, 6, 15), at(2025, 6, 2, 7, 0)),  # before opening
        (at(2025, 6, 2, 7, 0), at(2025, 6, 2, 7, 0)),  # at opening
        (at(2025, 6, 2, 9, 41, 7), at(2025, 6, 2, 9, 41, 7)),  # in office hours
        (at(2025, 6, 2, 11, 30), at(2025, 6, 2, 13, 30)),  # lunch starts
        (at(2025, 6, 2, 12, 0), at(2025, 6, 2, 13, 30)),  # lunch break
        (at(2025, 6, 2, 17, 0), at(2025, 6, 3, 7, 0)),  # exactly at closing
        (at(2025, 6, 2, 21, 0), at(2025, 6, 3, 7, 0)),  # evening
        (at(2025, 6, 6, 17, 30), at(2025, 6, 9, 7, 0)),  # Friday evening -> Monday
        (at(2025, 6, 7, 10, 0), at(2025, 6, 9, 7, 0)),  # Saturday
        (at(2026, 2, 16, 9, 0), at(2026, 2, 23, 7, 0)),  # during Tết 2026
    ],
)
def test_next_working_moment(moment, expected):
    assert_same(calendar.next_working_moment(moment), expected)


def test_next_working_moment_accepts_any_offset_and_answers_in_local_time():
    # 03:00 UTC is 10:00 in Hanoi.
    utc = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)
    assert_same(calendar.next_working_moment(utc), at(2025, 6, 2, 10, 0))


# --- Working days and hours ---


def test_domain_example_monday_ten_plus_one_day_is_tuesday_ten():
    assert_same(calendar.add_working_days(at(2025, 6, 2, 10, 0), 1), at(2025, 6, 3, 10, 0))


def test_accepted_before_opening_counts_from_opening_and_due_stays_at_closing():
    # 06:30 -> 07:00; 8 h later is exactly 17:00 the same day, not 07:00 next morning.
    assert_same(calendar.add_working_days(at(2025, 6, 2, 6, 30), 1), at(2025, 6, 2, 17, 0))


def test_accepted_in_lunch_break_counts_from_1330_and_due_stays_at_1130():
    # 13:30-17:00 (3.5 h) + 07:00-11:30 (4.5 h) = 8 h: due at 11:30, not 13:30.
    assert_same(calendar.add_working_days(at(2025, 6, 2, 12, 10), 1), at(2025, 6, 3, 11, 30))


def test_morning_used_up_exactly_stays_at_1130():
    assert_same(
        calendar.add_working_hours(at(2025, 6, 2, 7, 0), Decimal("4.5")), at(2025, 6, 2, 11, 30)
    )
    assert_same(calendar.add_working_hours(at(2025, 6, 2, 7, 0), 5), at(2025, 6, 2, 14, 0))


def test_accepted_exactly_at_closing_counts_from_next_opening():
    assert_same(calendar.add_working_days(at(2025, 6, 2, 17, 0), 1), at(2025, 6, 3, 17, 0))
    assert_same(calendar.add_working_hours(at(2025, 6, 2, 17, 0), 1), at(2025, 6, 3, 8, 0))


def test_friday_afternoon_rolls_over_the_weekend():
    assert_same(calendar.add_working_days(at(2025, 6, 6, 15, 0), 1), at(2025, 6, 9, 15, 0))
    # 2 h left on Friday, 2 h on Monday from 07:00.
    assert_same(calendar.add_working_hours(at(2025, 6, 6, 15, 0), 4), at(2025, 6, 9, 9, 0))
    # 3 working days from Friday 15:00 -> Wednesday 15:00.
    assert_same(calendar.add_working_days(at(2025, 6, 6, 15, 0), 3), at(2025, 6, 11, 15, 0))


def test_many_days_jump_weeks_and_years():
    # 10 working days from Monday 2 June 2025 10:00: two plain weeks.
    assert_same(calendar.add_working_days(at(2025, 6, 2, 10, 0), 10), at(2025, 6, 16, 10, 0))
    # New Year's Day 2026 (Thursday) is off: Wed 31 Dec + 1 day -> Fri 2 Jan.
    assert_same(calendar.add_working_days(at(2025, 12, 31, 10, 0), 1), at(2026, 1, 2, 10, 0))


def test_zero_amount_is_the_normalised_start():
    assert_same(calendar.add_working_days(at(2025, 6, 2, 12, 0), 0), at(2025, 6, 2, 13, 30))
    assert_same(calendar.add_working_hours(at(2025, 6, 7, 9, 0), 0), at(2025, 6, 9, 7, 0))


# --- Holidays (Labour Code 2019 art. 112) and swapped days ---


def test_tet_2026_is_off_from_14_to_22_february():
    assert calendar.is_working_day(date(2026, 2, 13))
    for day in range(14, 23):
        assert not calendar.is_working_day(date(2026, 2, day)), day
    assert calendar.is_working_day(date(2026, 2, 23))


def test_accepted_friday_13_february_2026_is_due_after_tet():
    start = at(2026, 2, 13, 10, 0)
    assert_same(calendar.add_working_days(start, 1), at(2026, 2, 23, 10, 0))
    assert_same(calendar.add_working_days(start, 3), at(2026, 2, 25, 10, 0))
    # Friday 15:00 + 1 day: 2 h on Friday, 6 h on Monday 23 Feb (4.5 h + 1.5 h).
    assert_same(calendar.add_working_days(at(2026, 2, 13, 15, 0), 1), at(2026, 2, 23, 15, 0))
    assert_same(calendar.add_working_hours(at(2026, 2, 13, 15, 0), 6.5), at(2026, 2, 23, 11, 30))


def test_national_day_2025():
    # Monday 1 and Tuesday 2 September 2025 are off.
    assert not calendar.is_working_day(date(2025, 9, 1))
    assert not calendar.is_working_day(date(2025, 9, 2))
    assert_same(calendar.add_working_days(at(2025, 8, 29, 10, 0), 1), at(2025, 9, 3, 10, 0))


def test_national_day_2026_with_swapped_saturday():
    # 2026: Saturday 22 August is worked in exchange for Monday 31 August; 1-2 Sep off.
    assert calendar.is_working_day(date(2026, 8, 22))
    for day in (date(2026, 8, 31), date(2026, 9, 1), date(2026, 9, 2)):
        assert not calendar.is_working_day(day), day
    assert_same(calendar.add_working_days(at(2026, 8, 21, 10, 0), 1), at(2026, 8, 22, 10, 0))
    assert_same(calendar.add_working_days(at(2026, 8, 28, 10, 0), 1), at(2026, 9, 3, 10, 0))


def test_worked_saturday_26_april_2025():
    assert calendar.is_working_day(date(2025, 4, 26))
    assert not calendar.is_working_day(date(2025, 5, 2))  # the day it was swapped for
    assert_same(calendar.add_working_days(at(2025, 4, 25, 15, 0), 1), at(2025, 4, 26, 15, 0))
    # 30 Apr, 1 May, 2 May off, then the weekend: Tuesday 29 Apr -> Monday 5 May.
    assert_same(calendar.add_working_days(at(2025, 4, 29, 10, 0), 1), at(2025, 5, 5, 10, 0))
    assert_same(calendar.next_working_moment(at(2025, 4, 26, 6, 0)), at(2025, 4, 26, 7, 0))


def test_plain_weekends_are_off():
    assert not calendar.is_working_day(date(2025, 6, 7))
    assert not calendar.is_working_day(date(2025, 6, 8))
    assert calendar.is_working_day(date(2025, 6, 9))


# --- Admin overrides win over the package ---


def test_override_closes_a_weekday_and_opens_a_saturday():
    start = at(2025, 6, 3, 10, 0)  # Tuesday
    assert_same(calendar.add_working_days(start, 1), at(2025, 6, 4, 10, 0))  # warms the cache

    CalendarOverride.objects.create(date=date(2025, 6, 4), is_working=False, reason="Storm")
    assert not calendar.is_working_day(date(2025, 6, 4))
    assert_same(calendar.add_working_days(start, 1), at(2025, 6, 5, 10, 0))

    assert_same(calendar.add_working_days(at(2025, 6, 6, 10, 0), 1), at(2025, 6, 9, 10, 0))
    saturday = CalendarOverride.objects.create(
        date=date(2025, 6, 7), is_working=True, reason="Catch-up day"
    )
    assert calendar.is_working_day(date(2025, 6, 7))
    assert_same(calendar.add_working_days(at(2025, 6, 6, 10, 0), 1), at(2025, 6, 7, 10, 0))

    saturday.delete()
    assert not calendar.is_working_day(date(2025, 6, 7))


def test_override_edit_is_seen_at_once():
    row = CalendarOverride.objects.create(date=date(2025, 6, 4), is_working=False, reason="x")
    assert not calendar.is_working_day(date(2025, 6, 4))
    row.is_working = True
    row.save()
    assert calendar.is_working_day(date(2025, 6, 4))


def test_override_can_reopen_a_public_holiday():
    assert not calendar.is_working_day(date(2026, 11, 24))
    CalendarOverride.objects.create(
        date=date(2026, 11, 24), is_working=True, reason="Not a day off for this department"
    )
    assert calendar.is_working_day(date(2026, 11, 24))
    assert date(2026, 11, 24) not in {row["date"] for row in calendar.year_exceptions(2026)}


def test_override_invalidates_again_on_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        CalendarOverride.objects.create(date=date(2025, 6, 4), is_working=False, reason="x")
    assert calendar.invalidate in callbacks


# --- Calendar-day procedures ---


def test_calendar_days_due_at_closing_time():
    assert_same(calendar.add_calendar_days(at(2025, 6, 2, 10, 0), 3), at(2025, 6, 5, 17, 0))
    assert_same(calendar.add_calendar_days(at(2025, 6, 2, 10, 0), 0), at(2025, 6, 2, 17, 0))


def test_calendar_days_landing_on_a_holiday_move_to_next_working_day():
    # 18 Aug 2025 + 15 days = Tuesday 2 September (National Day) -> Wednesday 3rd.
    assert_same(calendar.add_calendar_days(at(2025, 8, 18, 9, 0), 15), at(2025, 9, 3, 17, 0))
    # 6 Feb 2026 + 10 days = 16 Feb, inside Tết -> Monday 23 February.
    assert_same(calendar.add_calendar_days(at(2026, 2, 6, 9, 0), 10), at(2026, 2, 23, 17, 0))
    # Landing on a plain Sunday -> Monday.
    assert_same(calendar.add_calendar_days(at(2025, 6, 2, 9, 0), 6), at(2025, 6, 9, 17, 0))


def test_calendar_days_landing_on_a_worked_saturday_stay_there():
    assert_same(calendar.add_calendar_days(at(2026, 8, 12, 9, 0), 10), at(2026, 8, 22, 17, 0))


def test_calendar_days_count_from_the_next_working_date_after_closing():
    assert_same(calendar.add_calendar_days(at(2025, 6, 2, 18, 0), 1), at(2025, 6, 4, 17, 0))


def test_calendar_days_must_be_whole():
    with pytest.raises(ValueError):
        calendar.add_calendar_days(at(2025, 6, 2, 10, 0), Decimal("1.5"))


# --- Halves and exactness ---


@pytest.mark.parametrize("half", [Decimal("0.5"), 0.5, "0.5"])
def test_half_a_day_is_four_hours(half):
    assert_same(calendar.add_working_days(at(2025, 6, 2, 7, 0), half), at(2025, 6, 2, 11, 0))
    # 10:00 + 4 h: 1.5 h to 11:30, 2.5 h from 13:30 -> 16:00.
    assert_same(calendar.add_working_days(at(2025, 6, 2, 10, 0), half), at(2025, 6, 2, 16, 0))


def test_one_and_a_half_days():
    assert_same(
        calendar.add_working_days(at(2025, 6, 2, 10, 0), Decimal("1.5")), at(2025, 6, 3, 16, 0)
    )
    # Friday 13:30 + 12 h: 3.5 h on Friday, 8 h on Monday, 0.5 h on Tuesday.
    assert_same(calendar.add_working_days(at(2025, 6, 6, 13, 30), 1.5), at(2025, 6, 10, 7, 30))


def test_float_amounts_do_not_drift():
    # 0.1 day = 2 880 s exactly; a binary float would be a hair short of it.
    assert_same(calendar.add_working_days(at(2025, 6, 2, 7, 0), 0.1), at(2025, 6, 2, 7, 48))
    assert (
        calendar.working_seconds_between(
            at(2025, 6, 2, 7, 0), calendar.add_working_days(at(2025, 6, 2, 7, 0), 0.3)
        )
        == 8640
    )


def test_seconds_passed_as_hour_fractions_round_trip_exactly():
    # Services pass working seconds as Decimal(seconds) / 3600, a non-terminating decimal.
    start = at(2025, 6, 2, 7, 0)
    for seconds in (1, 7, 1000, 14_401, 28_799, 28_801, 123_457):
        due = calendar.add_working_hours(start, Decimal(seconds) / 3600)
        assert calendar.working_seconds_between(start, due) == seconds


def test_working_day_seconds_default_and_setting():
    assert calendar.working_day_seconds() == DAY
    with override_settings(OFFICE_HOURS=[["07:30", "11:30"], ["13:00", "16:30"]]):
        assert calendar.working_day_seconds() == 7 * HOUR + 30 * 60
        # 7.5 h from 07:30 ends exactly at 16:30.
        assert_same(calendar.add_working_days(at(2025, 6, 2, 7, 0), 1), at(2025, 6, 2, 16, 30))
    assert calendar.working_day_seconds() == DAY


# --- Working time between two instants ---


@pytest.mark.parametrize(
    ("a", "b", "seconds"),
    [
        (at(2025, 6, 2, 10, 0), at(2025, 6, 2, 10, 0), 0),
        (at(2025, 6, 2, 11, 0), at(2025, 6, 2, 14, 0), HOUR),  # across lunch
        (at(2025, 6, 2, 12, 0), at(2025, 6, 2, 13, 0), 0),  # inside lunch
        (at(2025, 6, 2, 5, 0), at(2025, 6, 2, 23, 0), DAY),  # whole day
        (at(2025, 6, 6, 16, 0), at(2025, 6, 9, 8, 0), 2 * HOUR),  # across the weekend
        (at(2025, 6, 7, 9, 0), at(2025, 6, 8, 9, 0), 0),  # inside the weekend
        (at(2026, 2, 13, 16, 0), at(2026, 2, 23, 8, 0), 2 * HOUR),  # across Tết 2026
        (at(2025, 8, 29, 7, 0), at(2025, 9, 3, 7, 0), DAY),  # across 1-2 Sep 2025
        (at(2026, 8, 21, 7, 0), at(2026, 8, 24, 7, 0), 2 * DAY),  # worked Saturday counts
        (at(2025, 12, 31, 10, 0), at(2026, 1, 2, 10, 0), DAY),  # across the new year
        (at(2025, 6, 2, 10, 0), at(2025, 6, 16, 10, 0), 10 * DAY),
    ],
)
def test_working_seconds_between(a, b, seconds):
    assert calendar.working_seconds_between(a, b) == seconds
    assert calendar.working_seconds_between(b, a) == -seconds


def test_working_seconds_between_inverts_adding():
    starts = [
        at(2025, 4, 25, 16, 45),
        at(2025, 8, 29, 12, 0),
        at(2025, 12, 30, 9, 15),
        at(2026, 2, 12, 10, 5),
        at(2026, 8, 20, 17, 30),
    ]
    for start in starts:
        for hours in (0.5, 1, 4.5, 8, 13, 40, 200):
            due = calendar.add_working_hours(start, hours)
            origin = calendar.next_working_moment(start)
            assert calendar.working_seconds_between(origin, due) == int(hours * HOUR)


# --- Dispatch and errors ---


def test_add_time_dispatches_on_unit():
    start = at(2025, 6, 2, 10, 0)
    assert_same(calendar.add_time(start, 1, TimeUnit.WORKING_DAYS), at(2025, 6, 3, 10, 0))
    assert_same(calendar.add_time(start, 2, "working_hours"), at(2025, 6, 2, 14, 0))
    assert_same(calendar.add_time(start, 3, TimeUnit.CALENDAR_DAYS), at(2025, 6, 5, 17, 0))
    with pytest.raises(ValueError):
        calendar.add_time(start, 1, "fortnights")


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        calendar.add_working_days(datetime(2025, 6, 2, 10, 0), 1)  # noqa: DTZ001
    with pytest.raises(ValueError):
        calendar.working_seconds_between(datetime(2025, 6, 2, 10, 0), at(2025, 6, 2, 11, 0))  # noqa: DTZ001


@pytest.mark.parametrize("amount", [-1, Decimal("NaN"), float("inf"), "abc", True])
def test_bad_amounts_are_refused(amount):
    with pytest.raises((ValueError, TypeError)):
        calendar.add_working_days(at(2025, 6, 2, 10, 0), amount)


def test_years_without_holiday_data_are_refused():
    with pytest.raises(calendar.CalendarRangeError):
        calendar.is_working_day(date(2101, 1, 3))


# --- The exceptions list ---


def test_year_exceptions_2026():
    rows = {row["date"]: row for row in calendar.year_exceptions(2026)}
    for day in range(16, 21):
        assert rows[date(2026, 2, day)]["is_working"] is False
    assert date(2026, 2, 14) not in rows, "weekends are not exceptions"
    assert rows[date(2026, 8, 22)]["is_working"] is True
    assert rows[date(2026, 8, 22)]["source"] == "holidays"
    for day in (date(2026, 8, 31), date(2026, 9, 1), date(2026, 9, 2)):
        assert rows[day]["is_working"] is False
    assert all(row["reason"] for row in rows.values())
    assert list(rows) == sorted(rows)


def test_year_exceptions_name_holidays_in_the_active_language():
    with translation.override("en"):
        english = {row["date"]: row["reason"] for row in calendar.year_exceptions(2026)}
    with translation.override("vi"):
        vietnamese = {row["date"]: row["reason"] for row in calendar.year_exceptions(2026)}
    assert english[date(2026, 2, 17)] == "Lunar New Year"
    assert vietnamese[date(2026, 2, 17)] == "Tết Nguyên Đán"
    assert english[date(2026, 9, 2)] == "National Day"


def test_year_exceptions_show_overrides_with_their_reason():
    CalendarOverride.objects.create(date=date(2025, 6, 4), is_working=False, reason="Storm")
    CalendarOverride.objects.create(date=date(2025, 6, 7), is_working=True, reason="Catch-up")
    # An override that changes nothing is not an exception.
    CalendarOverride.objects.create(date=date(2025, 6, 5), is_working=True, reason="Normal")
    rows = {row["date"]: row for row in calendar.year_exceptions(2025)}
    assert rows[date(2025, 6, 4)] == {
        "date": date(2025, 6, 4),
        "is_working": False,
        "reason": "Storm",
        "source": "override",
    }
    assert rows[date(2025, 6, 7)]["source"] == "override"
    assert rows[date(2025, 4, 26)]["is_working"] is True
    assert date(2025, 6, 5) not in rows


# --- Performance: no query per call ---


def test_one_query_per_year_then_none(django_assert_num_queries):
    with django_assert_num_queries(2):
        calendar.add_working_days(at(2025, 12, 30, 10, 0), 5)  # reads 2025 and 2026
    with django_assert_num_queries(0):
        for i in range(2000):
            start = at(2025, 1, 2, 8, 0) + timedelta(hours=7 * i)
            calendar.add_working_days(start, Decimal(i % 30 + 1) / 2)
            calendar.add_calendar_days(start, i % 20)
            calendar.working_seconds_between(start, start + timedelta(days=i % 45))
            calendar.is_working_day(start.date())


def test_year_is_reread_after_cache_seconds(django_assert_num_queries, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(calendar, "monotonic", lambda: clock[0])
    with django_assert_num_queries(1):
        calendar.is_working_day(date(2025, 6, 4))
        clock[0] += 59
        calendar.is_working_day(date(2025, 6, 4))
    clock[0] += 2
    with django_assert_num_queries(1):
        calendar.is_working_day(date(2025, 6, 4))
        calendar.is_working_day(date(2025, 6, 5))


def test_invalidate_forces_a_reread(django_assert_num_queries):
    calendar.is_working_day(date(2025, 6, 4))
    calendar.invalidate()
    with django_assert_num_queries(1):
        calendar.is_working_day(date(2025, 6, 4))
