"""Reads for the dashboard, the area pages and the reports: SLA achievement from the rollups, live queues
from the SLA kernel's partial indexes, and the buckets of a period's trend lines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from saypro.sla import selectors as sla_selectors
from saypro.sla.promises import Promise, promises

from . import periods
from .periods import Period
from .rollups import Reader
from .sources import SLA_DUE, SLA_STARTED, SLA_STOPPED

TREND_WEEKS = 12


@dataclass(frozen=True)
class Achievement:
    achieved: int
    breached: int

    @property
    def decided(self) -> int:
        return self.achieved + self.breached

    @property
    def percent(self) -> float | None:
        return 100 * self.achieved / self.decided if self.decided else None


def ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def percent(part: float, whole: float) -> float | None:
    return 100 * part / whole if whole else None


def achievement(reader: Reader, metric: str, first: date, end: date) -> Achievement:
    """SLA achievement over the clocks due on the local days [first, end)."""
    values = reader.totals(SLA_DUE, first, end, dimension=f"metric:{metric}")
    return Achievement(achieved=int(values["achieved"]), breached=int(values["breached"]))


def stopped_totals(reader: Reader, metric: str, first: date, end: date) -> dict[str, float]:
    return reader.totals(SLA_STOPPED, first, end, dimension=f"metric:{metric}")


def started_total(reader: Reader, metric: str, first: date, end: date) -> float:
    return reader.totals(SLA_STARTED, first, end, dimension=f"metric:{metric}")["started"]


def by_hour(reader: Reader, metric: str, first: date, end: date) -> dict[int, tuple[float, float]]:
    """Per local hour of day: (items that arrived, items that were decided) over [first, end)."""
    arrived = reader.by_dimension(SLA_STARTED, f"{metric}@hour", first, end)
    decided = reader.by_dimension(SLA_STOPPED, f"{metric}@hour", first, end)
    return {
        hour: (arrived.get(str(hour), {}).get("started", 0.0), decided.get(str(hour), {}).get("stopped", 0.0))
        for hour in range(24)
    }


@dataclass(frozen=True)
class Bucket:
    label: str
    first: date
    end: date


def buckets(period: Period, today: date) -> list[Bucket]:
    """Days for a week or a month, weeks (Monday-based, cut to the period) for anything longer; none after today."""
    if period.days <= 45:
        return [Bucket(f"{day:%d %b}", day, day + timedelta(days=1)) for day in period.day_list() if day <= today]
    out = []
    first = period.start
    while first < period.end and first <= today:
        end = min(period.end, first - timedelta(days=first.weekday()) + timedelta(days=7))
        out.append(Bucket(f"{first:%d %b}", first, end))
        first = end
    return out


@dataclass(frozen=True)
class PromiseTile:
    promise: Promise
    week: Achievement
    month: Achievement
    quarter: Achievement
    open: int
    at_risk: int
    breached_open: int
    # Weekly achievement (percent or None) for the last TREND_WEEKS weeks, the current one last.
    trend: list[tuple[str, float | None]]
    can_open_items: bool


def promise_tiles(*, user: object, now: datetime) -> list[PromiseTile]:
    """One tile per registered promise the user may see: their own queue's, or every one with compliance."""
    has_perm = user.has_perm  # type: ignore[attr-defined]
    sees_all = has_perm("sla.view_compliance")
    reader = Reader(now)
    today = periods.today(now)
    tomorrow = today + timedelta(days=1)
    week, month, quarter = (periods.containing(kind, today) for kind in (periods.WEEK, periods.MONTH, periods.QUARTER))
    trend_start = week.start - timedelta(weeks=TREND_WEEKS - 1)
    tiles = []
    for promise in promises():
        own = has_perm(promise.queue_permission)
        if not (own or sees_all):
            continue
        # One read of the daily rows covers the quarter and the trend; the periods add up from it.
        first = min(quarter.start, trend_start)
        days = reader.daily(SLA_DUE, first, tomorrow, dimension=f"metric:{promise.metric}")

        def summed(start: date, end: date, days: dict[date, dict[str, float]] = days) -> Achievement:
            rows = [v for day, v in days.items() if start <= day < end]
            return Achievement(
                achieved=int(sum(v["achieved"] for v in rows)), breached=int(sum(v["breached"] for v in rows))
            )

        trend = []
        for offset in range(TREND_WEEKS):
            start = trend_start + timedelta(weeks=offset)
            trend.append((f"{start:%d %b}", summed(start, start + timedelta(weeks=1)).percent))
        counts = sla_selectors.queue_counts(metric=promise.metric, now=now)
        tiles.append(
            PromiseTile(
                promise=promise,
                week=summed(week.start, tomorrow),
                month=summed(month.start, tomorrow),
                quarter=summed(quarter.start, tomorrow),
                open=counts.open,
                at_risk=counts.at_risk,
                breached_open=counts.breached,
                trend=trend,
                can_open_items=own,
            )
        )
    return tiles
