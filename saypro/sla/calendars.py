"""Working-time arithmetic on SLA calendars: pure functions, no database (except `spec_for`, which reads one).

A deadline is "N seconds of working time after the start". On a 24/7 calendar that is plain addition. On a
business calendar the working time is the set of instants whose local wall-clock time, in the calendar's time
zone, falls inside one of that weekday's intervals on a local date that is not a holiday. Defining it on
instants rather than on wall-clock arithmetic is what gives an interval on a daylight-saving change day its
real length (09:00–17:00 stays 8 h; 00:00–12:00 is 11 h on the spring-forward day and 13 h on the fall-back day).

Internally a business calendar is turned into UTC segments, one UTC week at a time, cached on the spec.
`add` returns the earliest instant at which the working time is reached (so a deadline can fall on a closing
time) and `subtract` the latest (so a warning can fall on an opening time); both are monotone. Zero seconds
move an instant outside working hours to the next (add) or previous (subtract) working moment.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from .models import Calendar

ALWAYS_KIND = "always"
BUSINESS_KIND = "business"

WEEK = timedelta(days=7)
DAY = timedelta(days=1)
# Weeks are counted from a Monday at 00:00 UTC so that a week's segments can be cached under one integer.
EPOCH = datetime(1970, 1, 5, tzinfo=UTC)
# UTC offsets are sampled this often to find daylight-saving transitions; no zone changes twice within 3 hours.
PROBE = timedelta(hours=3)
# Weeks in a row without working time (about three years) after which a calendar is declared to have none.
MAX_EMPTY_WEEKS = 157

Segment = tuple[datetime, datetime]
Hours = Mapping[int, Sequence[tuple[time, time]]]


class CalendarError(ValueError):
    """The calendar cannot place a deadline: it has no working time at all."""


@dataclass(frozen=True)
class CalendarSpec:
    """What a calendar says about time: its kind, time zone, weekly hours (0 = Monday) and holidays."""

    kind: str = ALWAYS_KIND
    tz: str = "UTC"
    hours: Hours = field(default_factory=dict, hash=False)
    holidays: frozenset[date] = frozenset()
    _zone: tzinfo = field(init=False, repr=False, compare=False, hash=False)
    # Working segments per UTC week, filled lazily. The spec is immutable, so the cache never goes stale.
    _weeks: dict[int, tuple[Segment, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        if self.kind not in (ALWAYS_KIND, BUSINESS_KIND):
            raise ValueError(f"Unknown calendar kind {self.kind!r}.")
        object.__setattr__(self, "_zone", ZoneInfo(self.tz))
        object.__setattr__(self, "hours", _normalised(self.hours))
        object.__setattr__(self, "holidays", frozenset(self.holidays))

    @property
    def always(self) -> bool:
        return self.kind == ALWAYS_KIND


def _normalised(hours: Hours) -> dict[int, tuple[tuple[time, time], ...]]:
    """Sort each weekday's intervals and merge overlapping ones, so segments never overlap or double-count."""
    result: dict[int, tuple[tuple[time, time], ...]] = {}
    for weekday, intervals in hours.items():
        if weekday not in range(7):
            raise ValueError(f"Weekday {weekday!r} is not 0 (Monday) to 6 (Sunday).")
        merged: list[tuple[time, time]] = []
        for start, end in sorted(intervals):
            if end <= start:
                continue
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        if merged:
            result[weekday] = tuple(merged)
    return result


ALWAYS = CalendarSpec()


def spec_for(calendar: Calendar) -> CalendarSpec:
    """The spec of a calendar row, built once per instance.

    Reads `calendar.hours` and `calendar.holidays` through `.all()`, so a queryset that prefetched them
    (`prefetch_related("calendar__hours", "calendar__holidays")`) costs no further query; otherwise a business
    calendar costs two small queries, a 24/7 one none.
    """
    spec = calendar.__dict__.get("_sla_spec")
    if spec is None:
        if calendar.kind == ALWAYS_KIND:
            spec = CalendarSpec(ALWAYS_KIND, calendar.time_zone)
        else:
            hours: dict[int, list[tuple[time, time]]] = {}
            for row in calendar.hours.all():
                hours.setdefault(row.weekday, []).append((row.start, row.end))
            holidays = frozenset(holiday.date for holiday in calendar.holidays.all())
            spec = CalendarSpec(BUSINESS_KIND, calendar.time_zone, hours, holidays)
        calendar.__dict__["_sla_spec"] = spec
    return spec


def add(spec: CalendarSpec, start: datetime, seconds: float) -> datetime:
    """The instant at which `seconds` of working time have elapsed after `start` (UTC)."""
    start = _utc(start)
    if seconds < 0:
        return subtract(spec, start, -seconds)
    remaining = timedelta(seconds=seconds)
    if spec.always:
        return start + remaining
    segments = _forward(spec, start)
    while True:
        lo, hi = next(segments)
        if remaining <= hi - lo:
            return lo + remaining
        remaining -= hi - lo


def subtract(spec: CalendarSpec, end: datetime, seconds: float) -> datetime:
    """The latest instant from which `seconds` of working time elapse until `end` (UTC)."""
    end = _utc(end)
    if seconds < 0:
        return add(spec, end, -seconds)
    remaining = timedelta(seconds=seconds)
    if spec.always:
        return end - remaining
    segments = _backward(spec, end)
    while True:
        lo, hi = next(segments)
        if remaining <= hi - lo:
            return hi - remaining
        remaining -= hi - lo


def working_seconds(spec: CalendarSpec, a: datetime, b: datetime) -> float:
    """Working seconds between two instants; negative when `b` is before `a`."""
    a, b = _utc(a), _utc(b)
    if b < a:
        return -working_seconds(spec, b, a)
    if spec.always:
        return (b - a).total_seconds()
    total = timedelta(0)
    for lo, hi in _forward(spec, a):
        if lo >= b:
            break
        total += min(hi, b) - lo
    return total.total_seconds()


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"Calendar arithmetic needs timezone-aware datetimes, not {value!r}.")
    return value.astimezone(UTC)


def _forward(spec: CalendarSpec, start: datetime) -> Iterator[Segment]:
    """Working segments from `start` on, clipped to it, in time order."""
    _require_working_time(spec)
    week = (start - EPOCH) // WEEK
    empty = 0
    while True:
        found = False
        for lo, hi in _week_segments(spec, week):
            if hi > start:
                found = True
                yield max(lo, start), hi
        empty = 0 if found else empty + 1
        _check_progress(empty)
        week += 1


def _backward(spec: CalendarSpec, end: datetime) -> Iterator[Segment]:
    """Working segments before `end`, clipped to it, latest first."""
    _require_working_time(spec)
    week = (end - EPOCH) // WEEK
    empty = 0
    while True:
        found = False
        for lo, hi in reversed(_week_segments(spec, week)):
            if lo < end:
                found = True
                yield lo, min(hi, end)
        empty = 0 if found else empty + 1
        _check_progress(empty)
        week -= 1


def _require_working_time(spec: CalendarSpec) -> None:
    if not any(spec.hours.values()):
        raise CalendarError("A business-hours calendar needs at least one working interval.")


def _check_progress(empty_weeks: int) -> None:
    # Holidays are finite, so the walk would end eventually; but a calendar with no working time for years
    # (every working day a holiday) is misconfigured, and a deadline years away helps nobody.
    if empty_weeks > MAX_EMPTY_WEEKS:
        raise CalendarError("The calendar has no working time within three years.")


def _week_segments(spec: CalendarSpec, week: int) -> tuple[Segment, ...]:
    cached = spec._weeks.get(week)
    if cached is not None:
        return cached
    segments: list[Segment] = []
    for piece_start, piece_end, offset in _offset_pieces(spec._zone, week):
        # Within a piece the offset is constant, so wall-clock time and UTC move together.
        wall_lo = (piece_start + offset).replace(tzinfo=None)
        wall_hi = (piece_end + offset).replace(tzinfo=None)
        day = wall_lo.date()
        last_day = (wall_hi - timedelta(microseconds=1)).date()
        while day <= last_day:
            if day not in spec.holidays:
                for start, end in spec.hours.get(day.weekday(), ()):
                    lo = max(datetime.combine(day, start), wall_lo)
                    hi = min(datetime.combine(day, end), wall_hi)
                    if lo < hi:
                        seg_lo, seg_hi = (lo - offset).replace(tzinfo=UTC), (hi - offset).replace(tzinfo=UTC)
                        if segments and segments[-1][1] == seg_lo:
                            segments[-1] = (segments[-1][0], seg_hi)
                        else:
                            segments.append((seg_lo, seg_hi))
            day += DAY
    result = tuple(segments)
    spec._weeks[week] = result
    return result


@lru_cache(maxsize=4096)
def _offset_pieces(tz: tzinfo, week: int) -> tuple[tuple[datetime, datetime, timedelta], ...]:
    """Split one UTC week into pieces of constant UTC offset (zoneinfo does not expose its transitions)."""
    start = EPOCH + week * WEEK
    end = start + WEEK
    pieces = []
    piece_start, piece_offset = start, _offset(tz, start)
    lo = start
    while lo < end:
        hi = min(lo + PROBE, end)
        if _offset(tz, hi) != piece_offset:
            change = _transition(tz, lo, hi, piece_offset)
            if change < end:
                pieces.append((piece_start, change, piece_offset))
                piece_start, piece_offset = change, _offset(tz, change)
        lo = hi
    pieces.append((piece_start, end, piece_offset))
    return tuple(pieces)


def _transition(tz: tzinfo, lo: datetime, hi: datetime, offset: timedelta) -> datetime:
    """The first whole second in (lo, hi] whose offset differs from `offset` (transitions are whole seconds)."""
    low, high = 0, int((hi - lo).total_seconds())
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(tz, lo + timedelta(seconds=middle)) == offset:
            low = middle
        else:
            high = middle
    return lo + timedelta(seconds=high)


def _offset(tz: tzinfo, instant: datetime) -> timedelta:
    return instant.astimezone(tz).utcoffset() or timedelta(0)
