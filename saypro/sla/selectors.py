"""Compliance and queue figures, aggregated in the database over the Clock table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any, cast

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import (
    Avg,
    BooleanField,
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Q,
    QuerySet,
    Value,
)
from django.db.models.fields.tuple_lookups import Tuple, TupleLessThanOrEqual
from django.db.models.functions import TruncDate
from django.utils import timezone

from saypro.paginators import bounded_counts
from saypro.percentiles import MEDIAN_AND_P90, nearest_ranks

from .models import OPEN_STATES, Clock, ClockState


@dataclass(frozen=True)
class Compliance:
    achieved: int
    breached: int

    @property
    def rate(self) -> float | None:
        decided = self.achieved + self.breached
        return self.achieved / decided if decided else None


@dataclass(frozen=True)
class QueueCounts:
    open: int
    at_risk: int
    breached: int


@dataclass(frozen=True)
class StopStats:
    count: int
    average: float | None
    median: float | None
    p90: float | None


ACHIEVED = Q(state=ClockState.STOPPED, met=True, breached_at__isnull=True)


def breached(now: datetime) -> Q:
    """Breached: marked by the sweep, stopped late, or still running past its deadline (sweep not yet run)."""
    return (
        Q(breached_at__isnull=False)
        | Q(state=ClockState.STOPPED, met=False)
        | Q(state=ClockState.RUNNING, due_at__lte=now)
    )


@dataclass(frozen=True)
class Outcomes:
    met: int
    missed: int
    # Open and still inside the deadline: neither met nor missed yet.
    pending: int

    @property
    def decided(self) -> int:
        return self.met + self.missed


def clock_outcomes(*, metric: str, model: type[models.Model], ids: QuerySet[Any], now: datetime) -> Outcomes:
    """Met, missed and pending among the clocks of `metric` on the objects whose ids `ids` selects (e.g. the
    tickets received in a period): one aggregate, on the clocks' target index."""
    row = _targets_clocks(metric, model, ids).aggregate(**outcome_counts(now))
    return Outcomes(met=row["n_met"], missed=row["n_missed"], pending=row["n_pending"])


def _targets_clocks(metric: str, model: type[models.Model], ids: QuerySet[Any]) -> QuerySet[Clock]:
    return Clock.objects.filter(metric=metric, target_type=ContentType.objects.get_for_model(model), target_id__in=ids)


def outcome_counts(now: datetime, through: str = "") -> dict[str, Count]:
    """clock_outcomes' counts as aggregates: over clocks, or with `through` ("clocks__") over the clocks a target
    model reaches by its GenericRelation, so that a grouped aggregate over the targets (by a conversation's
    category, say) joins the clocks instead of looking each clock's target up."""
    # Not named like the clock's own `met` field, which an aggregate may not shadow.
    pk = f"{through}pk"
    return {
        "n_met": Count(pk, filter=through_clocks(ACHIEVED, through)),
        "n_missed": Count(pk, filter=through_clocks(breached(now), through)),
        "n_pending": Count(pk, filter=through_clocks(~Q(state=ClockState.STOPPED) & ~breached(now), through)),
    }


def through_clocks(condition: Q, through: str) -> Q:
    """`condition`, written over a clock's fields, over the clocks reached through `through` ("" leaves it)."""
    if not through:
        return condition
    children = [
        through_clocks(child, through) if isinstance(child, Q) else (through + child[0], child[1])
        for child in cast(list[Q | tuple[str, Any]], condition.children)
    ]
    return Q(*children, _connector=condition.connector, _negated=condition.negated)


def at_risk_filter(now: datetime) -> Q:
    """At risk, among the open clocks: running past its risk point (75 % by default), not yet due, not breached."""
    return Q(state=ClockState.RUNNING, breached_at__isnull=True, risk_at__lte=now, due_at__gt=now)


def open_breached_filter(now: datetime) -> Q:
    """Breached, among the open clocks: marked by the sweep, or running past its deadline before the sweep came."""
    return Q(breached_at__isnull=False) | Q(state=ClockState.RUNNING, due_at__lte=now)


def breach_unrecorded(prefix: str = "") -> ExpressionWrapper:
    """Whether the sweep has not recorded a breach on the clock (at `prefix`): the second key of the partial index
    clock_open_queue, spelled as the index spells it so that the planner matches it."""
    return ExpressionWrapper(Q(**{f"{prefix}breached_at__isnull": True}), output_field=BooleanField())


def _breached_range(unrecorded: Any, due_at: Any, now: datetime) -> Q:
    """`(breach_unrecorded, due_at) <= (true, now)`: every breached open clock (a recorded breach sorts before
    true, a running clock past its deadline is at or before (true, now)), so ANDed with the breached condition it
    changes nothing. It gives PostgreSQL the range of clock_open_queue that holds them: the recorded breaches, then
    the few seconds of deadlines passed since the last sweep. Without it the OR has no index range, and a count or
    the last page of breached clocks reads on through every open clock of the metric."""
    return Q(TupleLessThanOrEqual(Tuple(unrecorded, due_at), [True, now]))


def open_breached_in_range(now: datetime) -> Q:
    """open_breached_filter for a count over the open clocks of one metric: the same clocks, read from the index
    range that holds them (stops early, whatever the backlog)."""
    return open_breached_filter(now) & _breached_range(breach_unrecorded(), F("due_at"), now)


def compliance(*, metric: str, start: datetime, end: datetime, now: datetime | None = None) -> Compliance:
    """Achieved ÷ (achieved + breached) over clocks due in [start, end); open ones in time are left out."""
    now = now or timezone.now()
    row = Clock.objects.filter(metric=metric, due_at__gte=start, due_at__lt=end).aggregate(
        achieved=Count("pk", filter=ACHIEVED),
        breached=Count("pk", filter=breached(now)),
    )
    return Compliance(achieved=row["achieved"], breached=row["breached"])


def compliance_series(
    *, metric: str, start: datetime, end: datetime, tz: tzinfo, now: datetime | None = None
) -> list[tuple[date, int, int, float | None]]:
    """Per local due date: (date, achieved, breached, rate), for trend lines."""
    now = now or timezone.now()
    rows = (
        Clock.objects.filter(metric=metric, due_at__gte=start, due_at__lt=end)
        .annotate(day=TruncDate("due_at", tzinfo=tz))
        .values("day")
        .annotate(
            achieved=Count("pk", filter=ACHIEVED),
            breached=Count("pk", filter=breached(now)),
        )
        .order_by("day")
    )
    return [
        (
            row["day"],
            row["achieved"],
            row["breached"],
            row["achieved"] / (row["achieved"] + row["breached"]) if row["achieved"] + row["breached"] else None,
        )
        for row in rows
    ]


def queue_counts(*, metric: str, now: datetime | None = None) -> QueueCounts:
    now = now or timezone.now()
    row = (
        Clock.objects.filter(metric=metric)
        .exclude(state=ClockState.STOPPED)
        .aggregate(
            open=Count("pk"),
            at_risk=Count("pk", filter=at_risk_filter(now)),
            breached=Count("pk", filter=open_breached_filter(now)),
        )
    )
    return QueueCounts(open=row["open"], at_risk=row["at_risk"], breached=row["breached"])


def queue_counts_bounded(*, metric: str, now: datetime | None = None) -> QueueCounts:
    """queue_counts for a work queue's page: each figure counted up to saypro.paginators.QUEUE_COUNT_CAP ("1,000+"
    past it), all three in one query that reads at most that many index entries each, whatever the backlog."""
    now = now or timezone.now()
    open_clocks = Clock.objects.filter(metric=metric, state__in=OPEN_STATES)
    counts = bounded_counts(
        {
            "open": open_clocks,
            "at_risk": open_clocks.filter(at_risk_filter(now)),
            "breached": open_clocks.filter(open_breached_in_range(now)),
        }
    )
    return QueueCounts(open=counts["open"], at_risk=counts["at_risk"], breached=counts["breached"])


@dataclass(frozen=True)
class StopTimes:
    """Time to stop among the clocks of some objects: how many stopped, the asked percentile of their time in
    seconds, and the open ones, still inside their deadline (pending) or past it."""

    count: int
    percentile: float | None
    pending: int
    open_late: int


def clock_stop_times(
    *, metric: str, model: type[models.Model], ids: QuerySet[Any], now: datetime, fraction: float
) -> StopTimes:
    """StopTimes over the clocks of `metric` on the objects whose ids `ids` selects (e.g. the cases first flagged
    in a period): the `fraction` percentile (0.5: the median) by nearest rank, read in the database like
    stop_time_stats'."""
    target_type = ContentType.objects.get_for_model(model)
    clocks = Clock.objects.filter(metric=metric, target_type=target_type, target_id__in=ids)
    stopped = Q(state=ClockState.STOPPED, elapsed_seconds__isnull=False)
    late = Q(breached_at__isnull=False) | Q(state=ClockState.RUNNING, due_at__lte=now)
    row = clocks.aggregate(
        stopped=Count("pk", filter=stopped),
        pending=Count("pk", filter=~Q(state=ClockState.STOPPED) & ~late),
        open_late=Count("pk", filter=~Q(state=ClockState.STOPPED) & late),
    )
    [percentile] = nearest_ranks(clocks.filter(stopped), F("elapsed_seconds"), [fraction], row["stopped"])
    return StopTimes(
        count=row["stopped"],
        percentile=percentile,
        pending=row["pending"],
        open_late=row["open_late"],
    )


def stop_time_stats(*, metric: str, start: datetime, end: datetime) -> StopStats:
    stopped = Clock.objects.filter(
        metric=metric,
        state=ClockState.STOPPED,
        stopped_at__gte=start,
        stopped_at__lt=end,
        elapsed_seconds__isnull=False,
    )
    row = stopped.aggregate(count=Count("pk"), average=Avg("elapsed_seconds"))
    median, p90 = nearest_ranks(stopped, F("elapsed_seconds"), MEDIAN_AND_P90, row["count"])
    return StopStats(count=row["count"], average=row["average"], median=median, p90=p90)


def open_clocks_by_target(*, metric: str, model: type[models.Model], ids: list[int]) -> dict[int, Clock]:
    clocks = Clock.objects.filter(
        metric=metric, target_type=ContentType.objects.get_for_model(model), target_id__in=ids
    ).exclude(state=ClockState.STOPPED)
    return {clock.target_id: clock for clock in clocks}


def with_open_clock(
    queryset: QuerySet[Any], metric: str, now: datetime, *, prefix: str = "", breached_first: bool = False
) -> QuerySet[Any]:
    """Annotate each row with its open clock of `metric`, through the model's `clocks` relation: one join, no query
    per row. The clock's `{prefix}due_at`, `{prefix}risk_at`, `{prefix}clock_state` and `{prefix}breached_at` (None
    without an open clock), which the `{% deadline %}` tag, the queue filters below and `OpenClockRow` read, and
    `clock_now`, the instant the row's flags are judged at. A second clock of the same rows takes a prefix. With
    `breached_first`, also `breach_unrecorded`, the key that sorts the queue "breached first" from the clock index."""
    relation = f"{prefix}open_clock"
    condition = Q(clocks__metric=metric, clocks__state__in=OPEN_STATES)
    columns: dict[str, Any] = {
        f"{prefix}due_at": F(f"{relation}__due_at"),
        f"{prefix}risk_at": F(f"{relation}__risk_at"),
        f"{prefix}clock_state": F(f"{relation}__state"),
        f"{prefix}breached_at": F(f"{relation}__breached_at"),
    }
    if not prefix:
        columns["clock_now"] = Value(now, output_field=DateTimeField())
    if breached_first:
        columns["breach_unrecorded"] = breach_unrecorded(f"{relation}__")
    return queryset.annotate(**{relation: FilteredRelation("clocks", condition=condition)}).annotate(**columns)


def queue_at_risk_filter(now: datetime) -> Q:
    """at_risk_filter over a queue annotated with its open clock's `due_at`, `risk_at`, `clock_state` and
    `breached_at`: conditions on the clock's columns (which its indexes serve) rather than on a computed flag."""
    return Q(clock_state=ClockState.RUNNING, breached_at__isnull=True, risk_at__lte=now, due_at__gt=now)


def queue_breached_filter(now: datetime) -> Q:
    """open_breached_filter over a queue annotated as for queue_at_risk_filter."""
    return Q(breached_at__isnull=False) | Q(clock_state=ClockState.RUNNING, due_at__lte=now)


def queue_breached_in_range(now: datetime) -> Q:
    """queue_breached_filter over a queue also annotated with `breach_unrecorded` (breach_unrecorded() of its open
    clock), read from the range of clock_open_queue that holds the breached clocks: a queue sorted by
    ("breach_unrecorded", "due_at") stops after its page however many there are. Where most open items are breached the
    planner may hash the whole range instead (the review and support queues' breached lists on the full backlog,
    measured so: they read 33,000 and 65,000 rows where the plain condition read 4,000 and 23,000), so each queue
    uses the form measured faster on it."""
    return queue_breached_filter(now) & _breached_range(F("breach_unrecorded"), F("due_at"), now)
