"""Report periods: weeks (Monday to Sunday), months, quarters and custom ranges of whole days in TIME_ZONE.

A period is a half-open range of local days [start, end). Its instants are local midnights, so a week that
contains a daylight-saving change is still seven calendar days, and every boundary is where a manager reading
the report would put it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

from saypro.localtime import local_midnight, local_tz

WEEK, MONTH, QUARTER, CUSTOM = "week", "month", "quarter", "custom"
KINDS = (WEEK, MONTH, QUARTER, CUSTOM)
# A custom range longer than this is refused: beyond a year, ask for quarters.
MAX_CUSTOM_DAYS = 366


def today(now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now(), local_tz()).date()


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    # Exclusive.
    end: date

    @property
    def start_at(self) -> datetime:
        return local_midnight(self.start)

    @property
    def end_at(self) -> datetime:
        return local_midnight(self.end)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def day_list(self) -> list[date]:
        return [self.start + timedelta(days=offset) for offset in range(self.days)]

    @property
    def slug(self) -> str:
        """A stable name, e.g. 2026-W07, 2026-02, 2026-Q1, 2026-02-01..2026-02-14."""
        if self.kind == WEEK:
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == MONTH:
            return f"{self.start:%Y-%m}"
        if self.kind == QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.isoformat()}..{self.last_day.isoformat()}"

    @property
    def label(self) -> str:
        if self.kind == WEEK:
            year, week, _ = self.start.isocalendar()
            return f"Week {week} of {year} ({self.start:%d %b} – {self.last_day:%d %b %Y})"
        if self.kind == MONTH:
            return f"{self.start:%B %Y}"
        if self.kind == QUARTER:
            return (
                f"Q{(self.start.month - 1) // 3 + 1} {self.start.year} ({self.start:%d %b} – {self.last_day:%d %b %Y})"
            )
        return f"{self.start:%d %b %Y} – {self.last_day:%d %b %Y}"

    @property
    def name(self) -> str:
        """The label without its dates: "Q4 2026", "Week 7 of 2026", "February 2026"."""
        if self.kind == WEEK:
            year, week, _ = self.start.isocalendar()
            return f"Week {week} of {year}"
        if self.kind == MONTH:
            return f"{self.start:%B %Y}"
        if self.kind == QUARTER:
            return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year}"
        return self.label

    def previous(self) -> Period:
        """The period just before, of the same kind (a custom range: the same number of days)."""
        if self.kind == WEEK:
            return Period(WEEK, self.start - timedelta(days=7), self.start)
        if self.kind == MONTH:
            return Period(MONTH, _add_months(self.start, -1), self.start)
        if self.kind == QUARTER:
            return Period(QUARTER, _add_months(self.start, -3), self.start)
        return Period(CUSTOM, self.start - timedelta(days=self.days), self.start)

    def contains(self, moment: datetime) -> bool:
        return self.start_at <= moment < self.end_at


def _days(first: date, last: date) -> str:
    return f"{first.day} {first:%b} – {last.day} {last:%b}" + (f" {last.year}" if first.year != last.year else "")


def label_at(period: Period, now: datetime) -> str:
    """The period's label as of `now`: while it runs, what it covers so far, "Q4 2026 to date (1 Oct – 6 Dec)",
    so that a report generated before the end never reads as the whole period."""
    if not period.contains(now):
        return period.label
    return f"{period.name} to date ({_days(period.start, today(now))})"


def compared_label(period: Period, now: datetime) -> str:
    """What the period is compared with: the previous period, or while this one runs the same elapsed span of
    it (the figures registry reads it so), "Q3 2026, same span (1 Jul – 5 Sep)"."""
    previous = period.previous()
    if not period.contains(now):
        return previous.label
    end = min(previous.end_at, previous.start_at + (now - period.start_at))
    return f"{previous.name}, same span ({_days(previous.start, today(end - timedelta(microseconds=1)))})"


def containing(kind: str, day: date) -> Period:
    """The week, month or quarter that contains `day`."""
    if kind == WEEK:
        start = day - timedelta(days=day.weekday())
        return Period(WEEK, start, start + timedelta(days=7))
    if kind == MONTH:
        start = day.replace(day=1)
        return Period(MONTH, start, _add_months(start, 1))
    if kind == QUARTER:
        start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        return Period(QUARTER, start, _add_months(start, 3))
    raise ValueError(f"No period of kind {kind!r} contains a day; use custom() for a range.")


def custom(start: date, last_day: date) -> Period:
    if last_day < start:
        raise ValueError("The range ends before it starts.")
    if (last_day - start).days + 1 > MAX_CUSTOM_DAYS:
        raise ValueError(f"A custom range is at most {MAX_CUSTOM_DAYS} days long.")
    return Period(CUSTOM, start, last_day + timedelta(days=1))


def current(kind: str, now: datetime | None = None) -> Period:
    return containing(kind, today(now))


def last_complete(kind: str, now: datetime | None = None) -> Period:
    """The latest week, month or quarter that has ended: what a scheduled report covers."""
    return current(kind, now).previous()


def from_slug(slug: str) -> Period:
    """The inverse of Period.slug; ValueError for anything else."""
    try:
        if ".." in slug:
            first, last = slug.split("..", 1)
            return custom(date.fromisoformat(first), date.fromisoformat(last))
        if "-W" in slug:
            year, week = slug.split("-W")
            return containing(WEEK, date.fromisocalendar(int(year), int(week), 1))
        if "-Q" in slug:
            year, quarter = slug.split("-Q")
            if not 1 <= int(quarter) <= 4:
                raise ValueError(slug)
            return containing(QUARTER, date(int(year), 3 * (int(quarter) - 1) + 1, 1))
        year, month = slug.split("-")
        return containing(MONTH, date(int(year), int(month), 1))
    except (ValueError, TypeError):
        raise ValueError(
            f"{slug!r} is not a period: use 2026-W07, 2026-02, 2026-Q1 or 2026-02-01..2026-02-14."
        ) from None
