"""Working-time arithmetic: properties over generated calendars, daylight saving, and hand-computed cases."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from saypro.sla.calendars import ALWAYS, CalendarError, CalendarSpec, add, subtract, working_seconds

# No example database: the properties are cheap to re-run and leave nothing in the working tree. No deadline:
# the search for working time is fast but its duration depends on the machine.
PROPERTY = settings(database=None, deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])

MICROSECOND = 1e-6
WEEKDAYS_8_TO_17 = {day: ((time(8), time(17)),) for day in range(5)}
JOHANNESBURG = ZoneInfo("Africa/Johannesburg")


def local(zone: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone))


# --- strategies ---------------------------------------------------------------------------------

ZONES = st.sampled_from(["UTC", "Europe/London", "America/New_York", "Africa/Johannesburg", "Asia/Kolkata"])


QUARTER_HOURS = st.integers(min_value=0, max_value=95).map(lambda q: time(q // 4, q % 4 * 15))


@st.composite
def day_intervals(draw: st.DrawFn) -> tuple[tuple[time, time], ...]:
    """Up to two working intervals in one day on quarter hours: a split shift, or rows that touch or overlap."""
    intervals = []
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        start, end = sorted(draw(st.lists(QUARTER_HOURS, min_size=2, max_size=2, unique=True)))
        intervals.append((start, end))
    return tuple(intervals)


@st.composite
def business_calendars(draw: st.DrawFn) -> CalendarSpec:
    hours = {day: draw(day_intervals()) for day in range(7)}
    assume(any(hours.values()))
    holidays = draw(st.frozensets(st.dates(date(2024, 1, 1), date(2024, 3, 31)), max_size=12))
    return CalendarSpec(kind="business", tz=draw(ZONES), hours=hours, holidays=holidays)


CALENDARS = st.one_of(st.just(ALWAYS), business_calendars())
# Early 2024 holds the spring-forward dates of both London and New York, and the generated holidays.
MOMENTS = st.datetimes(datetime(2024, 1, 1), datetime(2024, 3, 31), timezones=st.just(UTC))
SECONDS = st.floats(min_value=0, max_value=60 * 3600, allow_nan=False, allow_infinity=False)
# Zero working seconds from a moment outside working hours is the next working moment when added and the
# previous one when subtracted, so the round trips start at one microsecond.
POSITIVE_SECONDS = st.floats(min_value=MICROSECOND, max_value=60 * 3600, allow_nan=False, allow_infinity=False)


# --- properties ---------------------------------------------------------------------------------


@PROPERTY
@given(spec=CALENDARS, start=MOMENTS, seconds=SECONDS)
def test_working_time_from_start_to_add_is_the_seconds_added(spec, start, seconds):
    end = add(spec, start, seconds)
    assert end >= start
    assert working_seconds(spec, start, end) == pytest.approx(seconds, abs=MICROSECOND)
    assert working_seconds(spec, end, start) == pytest.approx(-seconds, abs=MICROSECOND)


@PROPERTY
@given(spec=CALENDARS, start=MOMENTS, seconds=POSITIVE_SECONDS)
def test_subtract_undoes_add_back_to_the_first_working_moment(spec, start, seconds):
    # Outside working hours `start` and the next working moment are the same point in working time, so the
    # round trip lands on the latter; on a 24/7 calendar the two are the same.
    first_working_moment = add(spec, start, 0)
    assert subtract(spec, add(spec, start, seconds), seconds) == first_working_moment
    if spec.always:
        assert first_working_moment == start


@PROPERTY
@given(spec=CALENDARS, end=MOMENTS, seconds=POSITIVE_SECONDS)
def test_add_undoes_subtract_back_to_the_last_working_moment(spec, end, seconds):
    last_working_moment = subtract(spec, end, 0)
    assert add(spec, subtract(spec, end, seconds), seconds) == last_working_moment
    assert working_seconds(spec, subtract(spec, end, seconds), end) == pytest.approx(seconds, abs=MICROSECOND)


@PROPERTY
@given(spec=CALENDARS, start=MOMENTS, seconds=st.lists(SECONDS, min_size=2, max_size=2))
def test_add_is_monotonic_in_the_seconds(spec, start, seconds):
    shorter, longer = sorted(seconds)
    assert add(spec, start, shorter) <= add(spec, start, longer)
    assert subtract(spec, start, shorter) >= subtract(spec, start, longer)


@PROPERTY
@given(spec=business_calendars(), start=MOMENTS, seconds=POSITIVE_SECONDS)
def test_a_business_deadline_ends_working_time_and_never_falls_on_a_holiday(spec, start, seconds):
    end = add(spec, start, seconds)
    just_before = end - timedelta(microseconds=1)
    # The microsecond before the deadline is working time: the deadline is inside an interval or at its end.
    assert working_seconds(spec, just_before, end) == pytest.approx(MICROSECOND, abs=1e-9)
    assert just_before.astimezone(ZoneInfo(spec.tz)).date() not in spec.holidays


@PROPERTY
@given(spec=CALENDARS, a=MOMENTS, b=MOMENTS, c=MOMENTS)
def test_working_seconds_add_up_over_consecutive_stretches(spec, a, b, c):
    a, b, c = sorted([a, b, c])
    whole = working_seconds(spec, a, c)
    assert whole == pytest.approx(working_seconds(spec, a, b) + working_seconds(spec, b, c), abs=MICROSECOND)
    assert 0 <= whole <= (c - a).total_seconds()


# --- daylight saving: a working interval counts its real length ---------------------------------

NIGHT_SHIFT = (time(0, 30), time(3, 30))


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        ("Europe/London", date(2024, 3, 31), 2),  # 01:00 GMT jumps to 02:00 BST
        ("Europe/London", date(2024, 10, 27), 4),  # 02:00 BST falls back to 01:00 GMT
        ("America/New_York", date(2024, 3, 10), 2),
        ("America/New_York", date(2024, 11, 3), 4),
        ("Europe/London", date(2024, 4, 7), 3),  # an ordinary Sunday
    ],
)
def test_an_interval_across_a_daylight_saving_change_counts_its_real_length(zone, day, hours):
    spec = CalendarSpec(kind="business", tz=zone, hours={6: (NIGHT_SHIFT,)})
    day_start = datetime.combine(day, time(0), tzinfo=ZoneInfo(zone))
    day_end = day_start + timedelta(days=1)
    assert working_seconds(spec, day_start, day_end) == hours * 3600
    assert add(spec, day_start, hours * 3600) == datetime.combine(day, time(3, 30), tzinfo=ZoneInfo(zone))


def test_an_hour_and_a_half_after_the_spring_forward_shift_starts_is_three_o_clock_summer_time():
    spec = CalendarSpec(kind="business", tz="Europe/London", hours={6: (NIGHT_SHIFT,)})
    due = add(spec, local("Europe/London", 2024, 3, 31, 0, 0), 90 * 60)
    assert due == datetime(2024, 3, 31, 2, 0, tzinfo=UTC)
    assert due.astimezone(ZoneInfo("Europe/London")).strftime("%H:%M %Z") == "03:00 BST"


def test_on_the_fall_back_night_the_repeated_hour_is_worked_twice():
    spec = CalendarSpec(kind="business", tz="America/New_York", hours={6: (NIGHT_SHIFT,)})
    due = add(spec, local("America/New_York", 2024, 11, 3, 0, 30), 2 * 3600)
    # 00:30 EDT + 2 h is 01:30 EST: the second time the clocks show 01:30.
    assert due == datetime(2024, 11, 3, 6, 30, tzinfo=UTC)
    assert due.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M %Z") == "01:30 EST"


# --- hand-computed examples -------------------------------------------------------------------------


def test_friday_four_pm_plus_two_working_hours_is_monday_nine_am():
    spec = CalendarSpec(kind="business", tz="Africa/Johannesburg", hours=WEEKDAYS_8_TO_17)
    friday = datetime(2026, 3, 6, 16, 0, tzinfo=JOHANNESBURG)
    due = add(spec, friday, 2 * 3600)
    assert due == datetime(2026, 3, 9, 9, 0, tzinfo=JOHANNESBURG)
    assert due.tzinfo == UTC  # stored as UTC
    assert subtract(spec, due, 2 * 3600) == friday
    assert working_seconds(spec, friday, due) == 2 * 3600


def test_a_public_holiday_on_monday_moves_the_deadline_to_tuesday():
    spec = CalendarSpec(
        kind="business", tz="Africa/Johannesburg", hours=WEEKDAYS_8_TO_17, holidays=frozenset({date(2026, 3, 9)})
    )
    due = add(spec, datetime(2026, 3, 6, 16, 0, tzinfo=JOHANNESBURG), 2 * 3600)
    assert due == datetime(2026, 3, 10, 9, 0, tzinfo=JOHANNESBURG)


def test_a_split_shift_skips_the_lunch_break():
    shifts = (time(8), time(12)), (time(13), time(17))
    spec = CalendarSpec(kind="business", tz="UTC", hours={day: shifts for day in range(5)})
    monday = datetime(2026, 3, 2, tzinfo=UTC)
    assert add(spec, monday.replace(hour=11, minute=30), 3600) == monday.replace(hour=13, minute=30)
    assert subtract(spec, monday.replace(hour=13, minute=30), 3600) == monday.replace(hour=11, minute=30)
    assert working_seconds(spec, monday, monday + timedelta(days=1)) == 8 * 3600
    # Exactly at the end of the morning: the deadline is the end of the interval, not the start of the next.
    assert add(spec, monday.replace(hour=8), 4 * 3600) == monday.replace(hour=12)


def test_time_before_opening_and_after_closing_does_not_count():
    spec = CalendarSpec(kind="business", tz="UTC", hours=WEEKDAYS_8_TO_17)
    monday = datetime(2026, 3, 2, tzinfo=UTC)
    assert add(spec, monday.replace(hour=6), 3600) == monday.replace(hour=9)
    assert working_seconds(spec, monday.replace(hour=17), monday.replace(hour=23)) == 0
    # A week of Mon–Fri 08–17 is 45 working hours.
    assert working_seconds(spec, monday, monday + timedelta(days=7)) == 45 * 3600


def test_the_always_calendar_is_plain_arithmetic():
    start = datetime(2026, 3, 7, 23, 0, tzinfo=JOHANNESBURG)
    assert add(ALWAYS, start, 8 * 3600) == start + timedelta(hours=8)
    assert subtract(ALWAYS, start, 8 * 3600) == start - timedelta(hours=8)
    assert working_seconds(ALWAYS, start, start + timedelta(days=2)) == 48 * 3600


def test_negative_seconds_count_backwards():
    spec = CalendarSpec(kind="business", tz="UTC", hours=WEEKDAYS_8_TO_17)
    monday_nine = datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert add(spec, monday_nine, -2 * 3600) == datetime(2026, 2, 27, 16, tzinfo=UTC)
    assert subtract(spec, datetime(2026, 2, 27, 16, tzinfo=UTC), -2 * 3600) == monday_nine


def test_overlapping_rows_on_one_day_count_their_shared_time_once():
    spec = CalendarSpec(kind="business", tz="UTC", hours={0: ((time(8), time(12)), (time(11), time(13)))})
    monday = datetime(2026, 3, 2, tzinfo=UTC)
    assert working_seconds(spec, monday, monday + timedelta(days=1)) == 5 * 3600
    assert add(spec, monday, 5 * 3600) == monday.replace(hour=13)


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("hours", [{}, {0: ()}], ids=["no rows", "an empty day"])
def test_a_business_calendar_without_hours_cannot_measure_time(hours):
    spec = CalendarSpec(kind="business", tz="UTC", hours=hours)
    moment = datetime(2026, 3, 2, tzinfo=UTC)
    for call in (lambda: add(spec, moment, 60), lambda: subtract(spec, moment, 60)):
        with pytest.raises(CalendarError):
            call()
    with pytest.raises(CalendarError):
        working_seconds(spec, moment, moment + timedelta(hours=1))


def test_a_calendar_whose_every_working_day_is_a_holiday_is_reported_not_looped_on():
    first_friday = date(2026, 3, 6)
    fridays = frozenset(first_friday + timedelta(weeks=n) for n in range(4 * 53))
    spec = CalendarSpec(kind="business", tz="UTC", hours={4: ((time(9), time(10)),)}, holidays=fridays)
    with pytest.raises(CalendarError):
        add(spec, datetime(2026, 3, 2, tzinfo=UTC), 60)


@pytest.mark.parametrize("spec", [ALWAYS, CalendarSpec(kind="business", tz="UTC", hours=WEEKDAYS_8_TO_17)])
def test_naive_datetimes_are_refused(spec):
    naive = datetime(2026, 3, 2, 9, 0)
    aware = naive.replace(tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        add(spec, naive, 60)
    with pytest.raises(ValueError, match="timezone-aware"):
        subtract(spec, naive, 60)
    with pytest.raises(ValueError, match="timezone-aware"):
        working_seconds(spec, aware, naive)
