"""Reads for the dashboard, the area pages and the reports: SLA achievement from the rollups, live queues
from the SLA kernel's partial indexes, the clocks behind each number of a tile, and the buckets of a period's
trend lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet

from saypro import periods
from saypro.figures.registry import FigureReading, figures_read
from saypro.figures.targets import TargetBook
from saypro.localtime import local_midnight
from saypro.periods import Period
from saypro.sla import selectors as sla_selectors
from saypro.sla.models import Clock, ClockState
from saypro.sla.promises import Promise, promise_for, promises
from saypro.sla.selectors import ACHIEVED, breached

from .models import ReportRun, RunStatus, StaffingAlert
from .rollups import Reader
from .sources import SLA_DUE, SLA_STARTED, SLA_STOPPED

TREND_WEEKS = 12
TILE_PERIODS = (periods.WEEK, periods.MONTH, periods.QUARTER)


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


def achievements(reader: Reader, metric: str, spans: Sequence[Bucket]) -> list[Achievement]:
    """SLA achievement over the clocks due on each bucket's local days (a chart's days or weeks), from one read of
    the days they cover."""
    totals = reader.totals_each(SLA_DUE, [(b.first, b.end) for b in spans], dimension=f"metric:{metric}")
    return [Achievement(achieved=int(values["achieved"]), breached=int(values["breached"])) for values in totals]


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
    """Days for a week or a month, weeks (Monday-based, cut to the period) for anything longer; none after today.
    The bucket holding today is labelled "to date": its counts are partial, not a fall."""

    def bucket(first: date, end: date) -> Bucket:
        return Bucket(f"{first:%d %b}" + (" to date" if end > today else ""), first, end)

    if period.days <= 45:
        return [bucket(day, day + timedelta(days=1)) for day in period.day_list() if day <= today]
    out = []
    first = period.start
    while first < period.end and first <= today:
        end = min(period.end, first - timedelta(days=first.weekday()) + timedelta(days=7))
        out.append(bucket(first, end))
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
    # The promise's registered figures for the quarter to date (saypro.figures), when asked for.
    figures: list[FigureReading]


def may_see_promise(user: Any, promise: Promise) -> bool:
    """A tile, and the items behind its numbers, are for the staff who work its queue and for everyone who
    sees compliance."""
    return bool(user.has_perm("sla.view_compliance") or user.has_perm(promise.queue_permission))


def tile_start(kind: str, now: datetime) -> date:
    """The first local day of a tile's week, month or quarter figure, which covers the deadlines from that day's
    midnight up to now."""
    return periods.containing(kind, periods.today(now)).start


def queue_counts_by_metric(*, metrics: list[str], now: datetime) -> dict[str, sla_selectors.QueueCounts]:
    """sla_selectors.queue_counts of each metric, all in one aggregate grouped by metric (the dashboard's tiles)."""
    counts = dict.fromkeys(metrics, sla_selectors.QueueCounts(open=0, at_risk=0, breached=0))
    rows = (
        Clock.objects.filter(metric__in=metrics)
        .exclude(state=ClockState.STOPPED)
        .values("metric")
        .annotate(
            open=Count("pk"),
            at_risk=Count("pk", filter=sla_selectors.at_risk_filter(now)),
            breached=Count("pk", filter=sla_selectors.open_breached_filter(now)),
        )
        .order_by()
    )
    for row in rows:
        counts[row["metric"]] = sla_selectors.QueueCounts(
            open=row["open"], at_risk=row["at_risk"], breached=row["breached"]
        )
    return counts


def promise_tiles(
    *, user: object, now: datetime, with_figures: bool = False, book: TargetBook | None = None
) -> list[PromiseTile]:
    """One tile per registered promise the user may see: their own queue's, or every one with compliance.
    Each promise's registered figures are read (for the quarter to date) only with `with_figures` (the dashboard
    shows them, the compliance API not). `book`: the targets when the caller has read them already."""
    reader = Reader(now)
    quarter = periods.containing(periods.QUARTER, periods.today(now))
    book = book or TargetBook()
    # The reader's days end at `now`: a deadline later today counts once it has passed.
    tomorrow = periods.today(now) + timedelta(days=1)
    starts = {kind: tile_start(kind, now) for kind in TILE_PERIODS}
    trend_start = starts[periods.WEEK] - timedelta(weeks=TREND_WEEKS - 1)
    visible = [promise for promise in promises() if may_see_promise(user, promise)]
    # One read of the daily rows covers every tile's quarter and trend; the periods add up from it.
    first = min(starts[periods.QUARTER], trend_start)
    dimensions = {promise.metric: f"metric:{promise.metric}" for promise in visible}
    daily = reader.daily_by(SLA_DUE, first, tomorrow, dimensions=list(dimensions.values()))
    live = queue_counts_by_metric(metrics=list(dimensions), now=now)
    tiles = []
    for promise in visible:
        days = daily[dimensions[promise.metric]]

        def summed(start: date, end: date, days: dict[date, dict[str, float]] = days) -> Achievement:
            rows = [v for day, v in days.items() if start <= day < end]
            return Achievement(
                achieved=int(sum(v["achieved"] for v in rows)), breached=int(sum(v["breached"] for v in rows))
            )

        trend = []
        for offset in range(TREND_WEEKS):
            start = trend_start + timedelta(weeks=offset)
            trend.append((f"{start:%d %b}", summed(start, start + timedelta(weeks=1)).percent))
        counts = live[promise.metric]
        tiles.append(
            PromiseTile(
                promise=promise,
                week=summed(starts[periods.WEEK], tomorrow),
                month=summed(starts[periods.MONTH], tomorrow),
                quarter=summed(starts[periods.QUARTER], tomorrow),
                open=counts.open,
                at_risk=counts.at_risk,
                breached_open=counts.breached,
                trend=trend,
                figures=figures_read(promise.figure_keys, quarter, now=now, compare=False, book=book)
                if with_figures
                else [],
            )
        )
    return tiles


# --- The items behind a tile's numbers -------------------------------------------------------------------------

# Live states: the open clocks, read through the partial index on open clocks (metric, due_at).
OPEN, AT_RISK, BREACHED = "open", "at_risk", "breached"
# Period states: clocks due so far in the tile's week, month or quarter, read through the (metric, due_at) index.
# "decided" is the achievement's denominator, met + missed.
DECIDED, MET, MISSED = "decided", "met", "missed"
LIVE_STATES = (OPEN, AT_RISK, BREACHED)
PERIOD_STATES = (DECIDED, MET, MISSED)


def promise_items(*, metric: str, state: str, period: str | None, now: datetime) -> QuerySet[Clock]:
    """The clocks behind one number of a promise's tile, soonest deadline first.

    A live state (open, at risk, breached) needs no period; a period state (decided, met, missed) needs the
    tile's week, month or quarter, and covers the deadlines from its first midnight up to now, as the tile's
    achievement does. ValueError for anything else.
    """
    if state in LIVE_STATES and period is None:
        clocks = Clock.objects.filter(metric=metric).exclude(state=ClockState.STOPPED)
        # The filters queue_counts counts the tile's numbers with, so a list always holds as many as its number.
        if state == AT_RISK:
            clocks = clocks.filter(sla_selectors.at_risk_filter(now))
        elif state == BREACHED:
            clocks = clocks.filter(sla_selectors.open_breached_filter(now))
    elif state in PERIOD_STATES and period in TILE_PERIODS:
        clocks = Clock.objects.filter(
            metric=metric, due_at__gte=local_midnight(tile_start(period, now)), due_at__lt=now
        )
        clocks = clocks.filter({DECIDED: ACHIEVED | breached(now), MET: ACHIEVED, MISSED: breached(now)}[state])
    else:
        raise ValueError(f"No items for state {state!r} and period {period!r}.")
    return clocks.order_by("due_at", "pk")


def promise_item_counts(*, metric: str, period: str | None, now: datetime) -> dict[str, int]:
    """The count of every state of the same kind (live, or the period's), in one aggregate, for the page's tabs."""
    if period is None:
        counts = sla_selectors.queue_counts(metric=metric, now=now)
        return {OPEN: counts.open, AT_RISK: counts.at_risk, BREACHED: counts.breached}
    row = sla_selectors.compliance(metric=metric, start=local_midnight(tile_start(period, now)), end=now, now=now)
    return {DECIDED: row.achieved + row.breached, MET: row.achieved, MISSED: row.breached}


def clock_state(clock: Clock, now: datetime) -> str:
    """Where one clock stands, by the same definitions as the tile's numbers."""
    if clock.state == ClockState.STOPPED:
        return MET if clock.met and clock.breached_at is None else MISSED
    if clock.breached_at is not None or (clock.state == ClockState.RUNNING and clock.due_at <= now):
        return BREACHED
    if clock.state == ClockState.PAUSED:
        return "paused"
    if clock.risk_at is not None and clock.risk_at <= now:
        return AT_RISK
    return OPEN


def report_runs_queued_overdue(*, before: datetime, since: datetime) -> QuerySet[Any, int]:
    """Runs asked for before `before` that are still queued: no worker ever claimed them (report_generate moves
    a run to "running" first thing). Reads the partial index of active runs."""
    return (
        ReportRun.objects.filter(status=RunStatus.QUEUED, requested_at__lt=before)
        .order_by("requested_at")
        .values_list("pk", flat=True)
    )


def report_runs_undelivered(*, before: datetime, since: datetime) -> QuerySet[Any, int]:
    """Scheduled runs finished between `since` and `before` whose e-mails never went out: the delivery task was
    lost between the commit and its publish. Reads the partial index of undelivered runs."""
    return (
        ReportRun.objects.filter(
            status=RunStatus.DONE,
            scheduled=True,
            delivered_generation__lt=F("generations"),
            finished_at__lt=before,
            finished_at__gte=since,
        )
        .order_by("finished_at")
        .values_list("pk", flat=True)
    )


def report_runs_failure_unnotified(*, before: datetime, since: datetime) -> QuerySet[Any, int]:
    """Runs that failed between `since` and `before` whose notice to the administrators never went out: the
    notice task was lost between the commit and its publish. Reads the partial index of failed runs."""
    return (
        ReportRun.objects.filter(status=RunStatus.FAILED, finished_at__lt=before, finished_at__gte=since)
        .filter(Q(failure_notified_at__isnull=True) | Q(failure_notified_at__lt=F("finished_at")))
        .order_by("finished_at")
        .values_list("pk", flat=True)
    )


@dataclass(frozen=True)
class StaffingBanner:
    alert: StaffingAlert
    queue: str


def staffing_alerts_active(*, user: Any, now: datetime) -> list[StaffingBanner]:
    """The staffing alerts whose shift window has not ended, the latest per queue, for the queues this user works
    or (managers, administrators) oversees."""
    alerts = list(StaffingAlert.objects.filter(window_end__gt=now).order_by("metric", "-raised_at", "-pk"))
    if not alerts:
        return []
    oversees = user.has_perm("sla.view_compliance")
    shown: dict[str, StaffingBanner] = {}
    for alert in alerts:
        promise = promise_for(alert.metric)
        if alert.metric in shown or promise is None:
            continue
        if oversees or user.has_perm(promise.queue_permission):
            shown[alert.metric] = StaffingBanner(alert, promise.title)
    return list(shown.values())
