"""Working-time arithmetic on calendars: pure functions, no database.

A 24/7 calendar is plain arithmetic. A business calendar counts only its working intervals, which are local
wall-clock times in the calendar's time zone (so an interval on a daylight-saving day has its real length),
possibly several a day (split shifts), and never on its holidays.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# The longest stretch searched for working time before a calendar is declared to have none.
MAX_SEARCH_DAYS = 3 * 366


class CalendarError(ValueError):
    """The calendar cannot measure time (e.g. it has no working hours at all)."""


@dataclass(frozen=True)
class CalendarSpec:
    kind: str = "always"
    tz: str = "UTC"
    hours: dict[int, tuple[tuple[time, time], ...]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()

    def __hash__(self) -> int:
        return hash((self.kind, self.tz, tuple(sorted(self.hours.items())), self.holidays))

    @property
    def always(self) -> bool:
        return self.kind == "always"


ALWAYS = CalendarSpec()


def _check_aware(*moments: datetime) -> None:
    for moment in moments:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("Calendar arithmetic needs timezone-aware datetimes.")


def _require_hours(spec: CalendarSpec) -> None:
    if not spec.always and not any(spec.hours.values()):
        raise CalendarError("A business-hours calendar needs at least one working interval.")


def _intervals_of_day(spec: CalendarSpec, day: date) -> list[tuple[datetime, datetime]]:
    """The working intervals of one local date, as UTC instants."""
    if day in spec.holidays:
        return []
    zone = ZoneInfo(spec.tz)
    out = []
    for start, end in spec.hours.get(day.weekday(), ()):
        local_start = datetime.combine(day, start, tzinfo=zone)
        local_end = datetime.combine(day, end, tzinfo=zone)
        # Round-tripping through UTC resolves wall times that a DST change skips or repeats.
        out.append((local_start.astimezone(UTC), local_end.astimezone(UTC)))
    return [(a, b) for a, b in out if b > a]


def _forward(spec: CalendarSpec, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Working intervals (clipped) from `moment` onward, in order."""
    day = moment.astimezone(ZoneInfo(spec.tz)).date() - timedelta(days=1)
    for offset in range(MAX_SEARCH_DAYS):
        for start, end in _intervals_of_day(spec, day + timedelta(days=offset)):
            if end > moment:
                yield max(start, moment), end
    raise CalendarError("The calendar has no working hours within three years.")


def _backward(spec: CalendarSpec, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Working intervals (clipped) up to `moment`, latest first."""
    day = moment.astimezone(ZoneInfo(spec.tz)).date() + timedelta(days=1)
    for offset in range(MAX_SEARCH_DAYS):
        for start, end in reversed(_intervals_of_day(spec, day - timedelta(days=offset))):
            if start < moment:
                yield start, min(end, moment)
    raise CalendarError("The calendar has no working hours within three years.")


def add(spec: CalendarSpec, start: datetime, seconds: float) -> datetime:
    """The instant at which `seconds` of working time have passed after `start`."""
    _check_aware(start)
    if seconds < 0:
        return subtract(spec, start, -seconds)
    if spec.always:
        return (start + timedelta(seconds=seconds)).astimezone(UTC)
    _require_hours(spec)
    left = timedelta(seconds=seconds)
    for begin, end in _forward(spec, start.astimezone(UTC)):
        if end - begin >= left:
            return begin + left
        left -= end - begin
    raise CalendarError("unreachable")  # _forward raises first


def subtract(spec: CalendarSpec, end: datetime, seconds: float) -> datetime:
    """The instant `seconds` of working time before `end` (the inverse of `add`)."""
    _check_aware(end)
    if seconds < 0:
        return add(spec, end, -seconds)
    if spec.always:
        return (end - timedelta(seconds=seconds)).astimezone(UTC)
    _require_hours(spec)
    left = timedelta(seconds=seconds)
    for begin, finish in _backward(spec, end.astimezone(UTC)):
        if finish - begin >= left:
            return finish - left
        left -= finish - begin
    raise CalendarError("unreachable")


def working_seconds(spec: CalendarSpec, a: datetime, b: datetime) -> float:
    """Working time between two instants (negative when b is before a)."""
    _check_aware(a, b)
    if b < a:
        return -working_seconds(spec, b, a)
    if spec.always:
        return (b - a).total_seconds()
    _require_hours(spec)
    total = timedelta()
    for begin, end in _forward(spec, a.astimezone(UTC)):
        if begin >= b:
            break
        total += min(end, b) - begin
    return total.total_seconds()
