"""Starting, pausing, resuming, stopping and retargeting clocks, and the sweep that warns and breaches them.

Apps call these with their object; no app computes a deadline itself. Every change locks the clock row; the
sweep claims rows with compare-and-set so that a re-run, or two workers at once, never warn or breach twice.
The clock's own event log (ClockEvent) is its trail: the app transition that starts or stops a clock records
the audit entry with the person who acted.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, models, transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from . import calendars, handlers
from .calendars import CalendarSpec, spec_for
from .models import Calendar, Clock, ClockEvent, ClockState, Policy

logger = logging.getLogger(__name__)

DEFAULT_RISK_PERCENT = 75
# The events after which a clock's state or deadline differ: what an app's change listener is told about. A warning
# or a breach changes neither.
CHANGES = frozenset(
    (
        ClockEvent.Kind.START,
        ClockEvent.Kind.PAUSE,
        ClockEvent.Kind.RESUME,
        ClockEvent.Kind.STOP,
        ClockEvent.Kind.RETARGET,
    )
)

__all__ = [
    "SweepResult",
    "clock_begin",
    "clock_build",
    "clock_event_handle",
    "clock_events_redispatch",
    "clock_open_for",
    "clock_pause",
    "clock_reopen",
    "clock_resume",
    "clock_retarget",
    "clock_start",
    "clock_stop",
    "pause_apply",
    "resume_apply",
    "sla_sweep",
    "spec_for",
    "stop_apply",
    "sweep_apply",
]


def _instant(at: datetime | None) -> datetime:
    if at is None:
        return timezone.now()
    if timezone.is_naive(at):
        raise ValueError(f"Clock times must be timezone-aware, not {at!r}.")
    return at


def _target_seconds(policy: Policy) -> float:
    return policy.target.total_seconds()


def _warn_percents(policy: Policy) -> list[int]:
    return sorted(policy.warn_percents)


def _risk_percent(policy: Policy) -> int:
    return min(policy.warn_percents) if policy.warn_percents else DEFAULT_RISK_PERCENT


def _point(spec: CalendarSpec, clock: Clock, percent: int) -> datetime:
    """The instant a running clock reaches `percent` of its target."""
    left = (1 - percent / 100) * _target_seconds(clock.policy)
    return calendars.subtract(spec, clock.due_at, left)


def _next_check(spec: CalendarSpec, clock: Clock) -> datetime | None:
    """The next warn point not yet warned, else the due point, else nothing (already breached)."""
    if clock.breached_at is not None:
        return None
    for percent in _warn_percents(clock.policy):
        if percent > clock.warned_percent:
            return _point(spec, clock, percent)
    return clock.due_at


def _schedule(spec: CalendarSpec, clock: Clock) -> None:
    clock.risk_at = _point(spec, clock, _risk_percent(clock.policy))
    clock.next_check_at = _next_check(spec, clock)


def _passed(spec: CalendarSpec, clock: Clock, now: datetime) -> tuple[int | None, bool]:
    """The highest warn point passed but not yet warned (if any), and whether the deadline passed unrecorded.

    Decided from the stored deadline alone, so a sweep that runs late catches up with one warning at the
    highest point and one breach rather than replaying every point it missed.
    """
    passed = [p for p in _warn_percents(clock.policy) if p > clock.warned_percent and now >= _point(spec, clock, p)]
    breach = clock.breached_at is None and now >= clock.due_at
    return max(passed, default=None), breach


# --- Transitions on a clock in memory: the services below save what these compute, and saypro.sla.replay applies
# them to write a clock's history in bulk, so the arithmetic exists once.


def clock_begin(spec: CalendarSpec, clock: Clock, at: datetime) -> Clock:
    """A new running clock from `at`: its deadline and first check point."""
    clock.state = ClockState.RUNNING
    clock.started_at = at
    clock.due_at = calendars.add(spec, at, _target_seconds(clock.policy))
    _schedule(spec, clock)
    return clock


def pause_apply(spec: CalendarSpec, clock: Clock, at: datetime) -> bool:
    """Pause a running clock; returns whether a deadline passed unrecorded before the pause is recorded now."""
    # The sweep never looks at a paused clock: a deadline that passed before the pause (the sweep not having
    # run since) is recorded now, or the breach would be missing from the queue, the compliance figures and
    # the escalation for as long as the clock stays paused.
    _, breach = _passed(spec, clock, at)
    if breach:
        clock.breached_at = at
    clock.state = ClockState.PAUSED
    clock.paused_at = at
    clock.remaining_seconds = calendars.working_seconds(spec, at, clock.due_at)
    clock.risk_at = None
    clock.next_check_at = None
    return breach


def resume_apply(spec: CalendarSpec, clock: Clock, at: datetime) -> None:
    assert clock.paused_at is not None
    clock.paused_seconds += max(0.0, (at - clock.paused_at).total_seconds())
    clock.due_at = calendars.add(spec, at, clock.remaining_seconds or 0.0)
    clock.state = ClockState.RUNNING
    clock.paused_at = None
    clock.remaining_seconds = None
    # Warn points passed while paused are not possible (time stood still); those not yet warned are scheduled.
    _schedule(spec, clock)


def stop_apply(clock: Clock, at: datetime) -> None:
    paused = clock.paused_seconds
    if clock.state == ClockState.PAUSED and clock.paused_at is not None:
        paused += max(0.0, (at - clock.paused_at).total_seconds())
    # A paused clock's deadline stands still: it is late only if it was already overdue when it was paused.
    decided_at = clock.paused_at if clock.state == ClockState.PAUSED and clock.paused_at is not None else at
    late = clock.breached_at is not None or decided_at > clock.due_at
    clock.state = ClockState.STOPPED
    clock.stopped_at = at
    clock.met = not late
    clock.paused_seconds = paused
    clock.paused_at = None
    clock.elapsed_seconds = max(0.0, (at - clock.started_at).total_seconds() - paused)
    clock.next_check_at = None


def sweep_apply(spec: CalendarSpec, clock: Clock, now: datetime) -> tuple[int | None, bool]:
    """What one sweep at `now` records on the clock: the warning level reached (if any), and whether it breached."""
    level, breach = _passed(spec, clock, now)
    if level is not None:
        clock.warned_percent, clock.warned_at = level, now
    if breach:
        clock.breached_at = now
    clock.next_check_at = _next_check(spec, clock)
    return level, breach


def _event(clock: Clock, kind: str, at: datetime, **data: Any) -> ClockEvent:
    handled_by_a_task = kind in (ClockEvent.Kind.WARN, ClockEvent.Kind.BREACH)
    event = ClockEvent.objects.create(
        clock=clock, kind=kind, at=at, data=data, dispatched_at=timezone.now() if handled_by_a_task else None
    )
    if kind in CHANGES:
        handlers.clocks_changed(clock.metric, [clock.target_id])
    if handled_by_a_task:
        # Robust: the clock's state is committed by now; a task that cannot be queued is logged, and the sweep's
        # backstop (clock_events_redispatch) hands the event out later.
        transaction.on_commit(lambda: _handle_after_commit([event.pk]), robust=True)
    return event


def _open_clocks(metric: str, target: models.Model) -> models.QuerySet[Clock]:
    return Clock.objects.filter(
        metric=metric,
        target_type=ContentType.objects.get_for_model(target),
        target_id=target.pk,
    ).exclude(state=ClockState.STOPPED)


def _locked(metric: str, target: models.Model) -> Clock | None:
    # `of=("self",)`: lock the clock only, not the policy and calendar rows joined in for the arithmetic.
    return _open_clocks(metric, target).select_for_update(of=("self",)).select_related("policy__calendar").first()


def _default_policy(metric: str) -> Policy:
    try:
        return Policy.objects.select_related("calendar").get(metric=metric, is_default=True)
    except Policy.DoesNotExist:
        raise ImproperlyConfigured(f"No default SLA policy for the metric {metric!r}.") from None


def clock_open_for(*, metric: str, target: models.Model) -> Clock | None:
    return _open_clocks(metric, target).select_related("policy").first()


def clock_build(
    *,
    metric: str,
    policy: Policy,
    target_type: ContentType,
    target_id: int,
    at: datetime,
    spec: CalendarSpec | None = None,
) -> Clock:
    """An unsaved running clock started at `at`, its deadline and check points set: what clock_start saves, and
    what a bulk import of open items inserts many of at once (with `spec` computed once per policy)."""
    if policy.metric != metric:
        raise ValueError(f"The policy {policy} measures {policy.metric!r}, not {metric!r}.")
    clock = Clock(metric=metric, policy=policy, target_type=target_type, target_id=target_id)
    return clock_begin(spec or spec_for(policy.calendar), clock, at)


@transaction.atomic
def clock_start(
    *, metric: str, target: models.Model, at: datetime | None = None, policy: Policy | None = None
) -> Clock:
    """Start the metric's clock on `target`; if one is already open, return it unchanged."""
    at = _instant(at)
    existing = _locked(metric, target)
    if existing is not None:
        return existing
    policy = policy or _default_policy(metric)
    clock = clock_build(
        metric=metric, policy=policy, target_type=ContentType.objects.get_for_model(target), target_id=target.pk, at=at
    )
    try:
        # A savepoint, because two requests may both find no open clock; the database admits one open clock
        # per metric and object, so the second insert fails here and returns the clock the first one opened.
        with transaction.atomic():
            clock.save()
    except IntegrityError:
        existing = _locked(metric, target)
        if existing is None:
            raise
        return existing
    _event(clock, ClockEvent.Kind.START, at, due_at=clock.due_at.isoformat(), policy=policy.pk)
    return clock


@transaction.atomic
def clock_pause(*, metric: str, target: models.Model, at: datetime | None = None) -> Clock | None:
    """Stop counting while the work waits on someone outside the team (the user)."""
    at = _instant(at)
    clock = _locked(metric, target)
    if clock is None or clock.state != ClockState.RUNNING:
        return clock
    breach = pause_apply(spec_for(clock.policy.calendar), clock, at)
    clock.save(update_fields=["state", "paused_at", "remaining_seconds", "risk_at", "next_check_at", "breached_at"])
    if breach:
        _event(clock, ClockEvent.Kind.BREACH, at, due_at=clock.due_at.isoformat())
    _event(clock, ClockEvent.Kind.PAUSE, at, remaining_seconds=clock.remaining_seconds)
    return clock


@transaction.atomic
def clock_resume(*, metric: str, target: models.Model, at: datetime | None = None) -> Clock | None:
    at = _instant(at)
    clock = _locked(metric, target)
    if clock is None or clock.state != ClockState.PAUSED or clock.paused_at is None:
        return clock
    resume_apply(spec_for(clock.policy.calendar), clock, at)
    clock.save(
        update_fields=[
            "paused_seconds",
            "due_at",
            "state",
            "paused_at",
            "remaining_seconds",
            "risk_at",
            "next_check_at",
        ]
    )
    _event(clock, ClockEvent.Kind.RESUME, at, due_at=clock.due_at.isoformat())
    return clock


@transaction.atomic
def clock_stop(*, metric: str, target: models.Model, at: datetime | None = None) -> Clock | None:
    """The promise was kept or broken: record which, and how long it took."""
    at = _instant(at)
    clock = _locked(metric, target)
    if clock is None:
        return None
    stop_apply(clock, at)
    clock.save(
        update_fields=["state", "stopped_at", "met", "paused_seconds", "paused_at", "elapsed_seconds", "next_check_at"]
    )
    _event(clock, ClockEvent.Kind.STOP, at, met=clock.met)
    return clock


@transaction.atomic
def clock_reopen(*, metric: str, target: models.Model, at: datetime | None = None) -> Clock | None:
    """Take a stop back (a decision undone within its undo window): the newest stopped clock counts again.

    The clock carries on as if it had never stopped, against the same deadline: the time it spent stopped was
    working time on the promise. One that was paused when it stopped is paused again. Returns None when there is
    nothing to reopen (no stopped clock, or a newer clock is already open).
    """
    at = _instant(at)
    if _locked(metric, target) is not None:
        return None
    clock = (
        Clock.objects.filter(
            metric=metric,
            target_type=ContentType.objects.get_for_model(target),
            target_id=target.pk,
            state=ClockState.STOPPED,
        )
        .select_for_update(of=("self",))
        .select_related("policy__calendar")
        .order_by("-stopped_at", "-pk")
        .first()
    )
    if clock is None or clock.stopped_at is None:
        return None
    # Whether it was paused when it stopped: its last pause or resume says so (clock_stop clears paused_at).
    last = (
        clock.events.filter(kind__in=(ClockEvent.Kind.PAUSE, ClockEvent.Kind.RESUME, ClockEvent.Kind.START))
        .order_by("-at", "-pk")
        .first()
    )
    spec = spec_for(clock.policy.calendar)
    if last is not None and last.kind == ClockEvent.Kind.PAUSE:
        # clock_stop counted the pause up to the stop into paused_seconds; the pause goes on, so take that back.
        clock.paused_seconds = max(0.0, clock.paused_seconds - (clock.stopped_at - last.at).total_seconds())
        clock.state = ClockState.PAUSED
        clock.paused_at = last.at
        clock.risk_at = None
        clock.next_check_at = None
    else:
        clock.state = ClockState.RUNNING
        _schedule(spec, clock)
    clock.stopped_at = None
    clock.met = None
    clock.elapsed_seconds = None
    try:
        # A savepoint: the database admits one open clock per metric and object.
        with transaction.atomic():
            clock.save(
                update_fields=[
                    "state",
                    "paused_seconds",
                    "paused_at",
                    "risk_at",
                    "next_check_at",
                    "stopped_at",
                    "met",
                    "elapsed_seconds",
                ]
            )
    except IntegrityError:
        return None
    _event(clock, ClockEvent.Kind.RESUME, at, reopened=True, due_at=clock.due_at.isoformat())
    return clock


@transaction.atomic
def clock_retarget(*, metric: str, target: models.Model, policy: Policy, at: datetime | None = None) -> Clock | None:
    """Measure an open clock against another policy (e.g. a ticket's priority changed).

    The working time already used counts against the new target, measured on the calendar it was used under;
    paused time does not count, because the remaining time stands still while paused.
    """
    at = _instant(at)
    clock = _locked(metric, target)
    if clock is None or clock.policy_id == policy.pk:
        return clock
    if policy.metric != metric:
        raise ValueError(f"The policy {policy} measures {policy.metric!r}, not {metric!r}.")
    old_spec = spec_for(clock.policy.calendar)
    spec = spec_for(policy.calendar)
    old_target = _target_seconds(clock.policy)
    clock.policy = policy
    breach = False
    if clock.state == ClockState.PAUSED and clock.paused_at is not None:
        # Negative when the new target is already used up: the clock is overdue, and is recorded so now
        # because the sweep does not look at paused clocks.
        clock.remaining_seconds = _target_seconds(policy) - (old_target - (clock.remaining_seconds or 0.0))
        due = calendars.add(spec, clock.paused_at, clock.remaining_seconds)
        breach = clock.breached_at is None and clock.remaining_seconds <= 0
        if breach:
            clock.breached_at = at
    else:
        used = old_target - calendars.working_seconds(old_spec, at, clock.due_at)
        due = calendars.add(spec, at, _target_seconds(policy) - used)
    clock.due_at = due
    if clock.state == ClockState.RUNNING:
        # Keep only warnings already given for points the new policy has also passed: a longer target
        # still warns at its own 75 %, a shorter one warns at once for a point passed but never announced.
        clock.warned_percent = max(
            (p for p in policy.warn_percents if p <= clock.warned_percent and _point(spec, clock, p) <= at),
            default=0,
        )
        _schedule(spec, clock)
    clock.save(
        update_fields=[
            "policy",
            "due_at",
            "remaining_seconds",
            "warned_percent",
            "risk_at",
            "next_check_at",
            "breached_at",
        ]
    )
    _event(clock, ClockEvent.Kind.RETARGET, at, policy=policy.pk, due_at=due.isoformat())
    if breach:
        _event(clock, ClockEvent.Kind.BREACH, at, due_at=due.isoformat())
    return clock


# --- The sweep ------------------------------------------------------------------------------------


@dataclass
class SweepResult:
    warned: int = 0
    breached: int = 0
    batches: int = 0


@dataclass(frozen=True)
class _PolicyPlan:
    """What the sweep needs of one policy, read once per sweep: its target, warn points and calendar."""

    target_seconds: float
    warn_percents: tuple[int, ...]
    spec: CalendarSpec

    def point(self, due_at: datetime, percent: int) -> datetime:
        return calendars.subtract(self.spec, due_at, (1 - percent / 100) * self.target_seconds)


# The claimed row: the columns the sweep reads, with its policy's (joined, not locked); and the ones it sets.
_CLAIMED = (
    "pk",
    "policy_id",
    "due_at",
    "warned_percent",
    "warned_at",
    "breached_at",
    "next_check_at",
    "policy__target",
    "policy__warn_percents",
    "policy__calendar_id",
    "policy__calendar__kind",
    "policy__calendar__time_zone",
)
_SWEPT = ("warned_percent", "warned_at", "breached_at", "next_check_at")

# An event handed to the handler task: (clock id, 0 for a warning or 1 for a breach, event id). The task gets a
# page's event ids in this order, a clock's warning before its breach.
_Dispatched = tuple[int, int, int]
_RANK = {ClockEvent.Kind.WARN.value: 0, ClockEvent.Kind.BREACH.value: 1}


def _policy_plan(row: tuple[Any, ...], specs: dict[int, CalendarSpec]) -> _PolicyPlan:
    """The plan of a claimed row's policy, from the policy columns read with it (a business calendar's hours and
    holidays are read once per sweep)."""
    target, warn_percents, calendar_id, kind, time_zone = row[7:]
    if calendar_id not in specs:
        specs[calendar_id] = spec_for(Calendar(pk=calendar_id, kind=kind, time_zone=time_zone))
    return _PolicyPlan(target.total_seconds(), tuple(sorted(warn_percents)), specs[calendar_id])


def _sweep_row(plan: _PolicyPlan, row: tuple[Any, ...], now: datetime) -> tuple[tuple[Any, ...], int | None, bool]:
    """The swept values of one claimed row (as _SWEPT), the warning level reached and whether it is breached now:
    the same decisions as _passed and _next_check, on plain values instead of a model instance."""
    due_at, warned_percent, warned_at, breached_at = row[2:6]
    passed = [p for p in plan.warn_percents if p > warned_percent and now >= plan.point(due_at, p)]
    level = max(passed, default=None)
    breach = breached_at is None and now >= due_at
    if level is not None:
        warned_percent, warned_at = level, now
    if breach:
        breached_at = now
    next_check = None
    if breached_at is None:
        later = [p for p in plan.warn_percents if p > warned_percent]
        next_check = plan.point(due_at, later[0]) if later else due_at
    return (warned_percent, warned_at, breached_at, next_check), level, breach


# --- The sweep on PostgreSQL: one statement per page claims the clocks, computes and writes their new state and
# inserts their events. The warn points of a 24/7 policy are its deadline less fixed intervals, which the statement
# takes as parameters computed here exactly as calendars.subtract computes them; a clock on a business-hours
# calendar is claimed (locked) by the same statement and swept in Python (_sweep_rows).


@dataclass(frozen=True)
class _Points:
    """The 24/7 policies, read once per sweep: one entry per warn point, and the ids of all of them (some may have
    no warn point). A policy created during the sweep is not among them, and its clocks are swept in Python."""

    policy_ids: list[int]
    point_policies: list[int]
    point_percents: list[int]
    point_offsets: list[timedelta]


def _points() -> _Points:
    policy_ids: list[int] = []
    point_policies: list[int] = []
    point_percents: list[int] = []
    point_offsets: list[timedelta] = []
    for pk, target, warn_percents in Policy.objects.filter(calendar__kind=Calendar.Kind.ALWAYS).values_list(
        "pk", "target", "warn_percents"
    ):
        policy_ids.append(pk)
        for percent in sorted(warn_percents):
            point_policies.append(pk)
            point_percents.append(percent)
            # What calendars.subtract takes off the deadline on a 24/7 calendar, to the microsecond.
            point_offsets.append(timedelta(seconds=(1 - percent / 100) * target.total_seconds()))
    return _Points(policy_ids, point_policies, point_percents, point_offsets)


# Python's datetime.isoformat() of a UTC instant, as the events' due_at has always been written.
_ISO_DUE = (
    "to_char(s.due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') "
    "|| CASE WHEN EXTRACT(MICROSECONDS FROM s.due_at AT TIME ZONE 'UTC') %% 1000000 = 0 THEN '' "
    "ELSE to_char(s.due_at AT TIME ZONE 'UTC', '.US') END || '+00:00'"
)

# The claim locks the page's rows, skipping those another sweep holds (that sweep records them), and is materialised
# once: the update, the leftover business-hours clocks and the page's keyset all read the same rows; so are the
# decisions, which the update reads three times. The update
# repeats the decisions of _sweep_row: the highest warn point passed and not yet warned, a breach once the deadline
# passed, and the next point (the first warn point above the level reached, else the deadline; none once
# breached). Its events are inserted in clock order, a warning before its clock's breach, as the ids the handler
# task gets.
_PAGE_SQL = """
WITH claimed AS MATERIALIZED (
    SELECT id, policy_id, due_at, warned_percent, breached_at, next_check_at
    FROM sla_clock
    WHERE state = %(running)s AND next_check_at <= %(now)s {after}
    ORDER BY next_check_at, id
    LIMIT %(size)s
    FOR UPDATE SKIP LOCKED
), point AS (
    SELECT * FROM unnest(%(point_policies)s::bigint[], %(point_percents)s::integer[], %(point_offsets)s::interval[])
        AS p(policy_id, percent, offset_)
), decided AS MATERIALIZED (
    SELECT c.id,
        (SELECT max(p.percent) FROM point p WHERE p.policy_id = c.policy_id AND p.percent > c.warned_percent
            AND c.due_at - p.offset_ <= %(now)s) AS level,
        c.breached_at IS NULL AND c.due_at <= %(now)s AS breach
    FROM claimed c
    WHERE c.policy_id = ANY(%(policy_ids)s::bigint[])
), swept AS (
    UPDATE sla_clock AS c SET
        warned_percent = COALESCE(d.level, c.warned_percent),
        warned_at = CASE WHEN d.level IS NULL THEN c.warned_at ELSE %(now)s END,
        breached_at = CASE WHEN d.breach THEN %(now)s ELSE c.breached_at END,
        next_check_at = CASE WHEN d.breach OR c.breached_at IS NOT NULL THEN NULL ELSE COALESCE(
            (SELECT c.due_at - p.offset_ FROM point p WHERE p.policy_id = c.policy_id
                AND p.percent > COALESCE(d.level, c.warned_percent) ORDER BY p.percent LIMIT 1),
            c.due_at) END
    FROM decided d
    WHERE c.id = d.id
    RETURNING c.id, c.due_at, d.level, d.breach
), event AS (
    INSERT INTO sla_clockevent (clock_id, kind, at, data, dispatched_at)
    SELECT s.id, e.kind, %(now)s, e.data, %(dispatched)s
    FROM swept s CROSS JOIN LATERAL (VALUES
        (0, %(warn)s, jsonb_build_object('percent', s.level)),
        (1, %(breach)s, jsonb_build_object('due_at', {iso_due}))
    ) AS e(rank, kind, data)
    WHERE CASE e.rank WHEN 0 THEN s.level IS NOT NULL ELSE s.breach END
    ORDER BY s.id, e.rank
    RETURNING id, clock_id, kind
)
SELECT last.next_check_at, last.id,
    ARRAY(SELECT id FROM claimed WHERE policy_id <> ALL(%(policy_ids)s::bigint[]) ORDER BY next_check_at, id),
    ARRAY(SELECT clock_id FROM event ORDER BY id),
    ARRAY(SELECT id FROM event ORDER BY id),
    ARRAY(SELECT kind FROM event ORDER BY id)
FROM (SELECT next_check_at, id FROM claimed ORDER BY next_check_at DESC, id DESC LIMIT 1) AS last
"""


@dataclass
class _Page:
    last: tuple[datetime, int]
    # Claimed (locked) clocks the statement left to Python: those on a business-hours calendar.
    leftover: list[int]
    events: list[_Dispatched]


def _sweep_page(now: datetime, size: int, after: tuple[datetime, int] | None, points: _Points) -> _Page | None:
    """Claim and sweep one page in one statement; None when nothing is left to claim."""
    params: dict[str, Any] = {
        "running": ClockState.RUNNING,
        "now": now,
        "size": size,
        "point_policies": points.point_policies,
        "point_percents": points.point_percents,
        "point_offsets": points.point_offsets,
        "policy_ids": points.policy_ids,
        "dispatched": timezone.now(),
        "warn": ClockEvent.Kind.WARN.value,
        "breach": ClockEvent.Kind.BREACH.value,
    }
    # Keyset paging as a row comparison, answered by the index on (next_check_at, id) with one range scan.
    after_sql = ""
    if after is not None:
        after_sql = "AND (next_check_at, id) > (%(after_at)s, %(after_id)s)"
        params["after_at"], params["after_id"] = after
    with connection.cursor() as cursor:
        cursor.execute(_PAGE_SQL.format(after=after_sql, iso_due=_ISO_DUE), params)
        row = cursor.fetchone()
    if row is None:
        return None
    last_at, last_id, leftover, clock_ids, event_ids, kinds = row
    events = [(clock_id, _RANK[kind], pk) for clock_id, pk, kind in zip(clock_ids, event_ids, kinds, strict=True)]
    return _Page((last_at, last_id), leftover, events)


# --- The sweep in Python: SQLite's whole sweep (no row locks, no data-modifying WITH), and on PostgreSQL the
# business-hours clocks of a page, which the page's statement has claimed.


def _claim(now: datetime, size: int, after: tuple[datetime, int] | None) -> list[tuple[Any, ...]]:
    """The next running clocks due a check, in deadline order from the sweep index, as plain tuples (SQLite)."""
    due = Clock.objects.filter(state=ClockState.RUNNING, next_check_at__lte=now)
    if after is not None:
        # Keyset paging: rows that could not be swept are not read again. A row comparison, which the index on
        # (next_check_at, id) answers with one range scan; the equivalent OR of two conditions makes the database
        # read every row due at the page's last instant again for each page.
        at, pk = after
        table = connection.ops.quote_name(Clock._meta.db_table)
        key = RawSQL(
            f"({table}.next_check_at, {table}.id) > (%s, %s)",
            (connection.ops.adapt_datetimefield_value(at), pk),
            BooleanField(),
        )
        due = due.filter(key)
    return list(due.order_by("next_check_at", "pk").values_list(*_CLAIMED)[:size])


def _claimed(ids: list[int]) -> list[tuple[Any, ...]]:
    """The claimed clocks a page's statement left to Python, as plain tuples (PostgreSQL: already locked)."""
    return list(Clock.objects.filter(pk__in=ids).order_by("next_check_at", "pk").values_list(*_CLAIMED))


def _write_swept(rows: list[tuple[Any, ...]]) -> set[int]:
    """Write the swept values in one UPDATE … FROM … RETURNING, a compare-and-set on each row's claimed
    next_check_at and due_at: returns the ids written. On PostgreSQL the rows are locked already, so every one is
    written; on SQLite (no row locks) a clock that a pause, stop or retarget moved since it was read is left alone.

    rows: (id, old next_check_at, old due_at, *_SWEPT values).
    """
    ops = connection.ops
    table = ops.quote_name(Clock._meta.db_table)
    columns = [ops.quote_name(name) for name in _SWEPT]
    names = ["id", "old_check", "old_due", *columns]
    adapt = ops.adapt_datetimefield_value
    if connection.vendor == "postgresql":
        # One array per column: seven parameters whatever the batch size, which PostgreSQL parses and plans far
        # faster than a VALUES list of thousands.
        types = ["bigint", "timestamptz", "timestamptz", "integer", "timestamptz", "timestamptz", "timestamptz"]
        arrays = ", ".join(f"%s::{kind}[]" for kind in types)
        source = f"unnest({arrays}) AS v({', '.join(names)})"
        ref = {name: f"v.{name}" for name in names}
        params: list[Any] = [list(column) for column in zip(*rows, strict=True)]
    else:
        # SQLite names the columns of a VALUES list column1, column2, …
        row = "(" + ", ".join(["%s"] * len(names)) + ")"
        source = f"(VALUES {', '.join([row] * len(rows))}) AS v"
        ref = {name: f"v.column{index}" for index, name in enumerate(names, start=1)}
        params = [value if isinstance(value, int | None) else adapt(value) for row_ in rows for value in row_]
    assignments = ", ".join(f"{column} = {ref[column]}" for column in columns)
    sql = (
        f"UPDATE {table} SET {assignments} FROM {source} WHERE {table}.id = {ref['id']} AND {table}.state = %s "
        f"AND {table}.next_check_at = {ref['old_check']} AND {table}.due_at = {ref['old_due']} RETURNING {table}.id"
    )
    params.append(ClockState.RUNNING)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {pk for (pk,) in cursor.fetchall()}


def _insert_events(events: list[tuple[int, str, datetime, dict[str, Any]]], dispatched: datetime) -> list[int]:
    """Insert warn and breach events in one INSERT … RETURNING id: no model instance per event."""
    if not events:
        return []
    table = connection.ops.quote_name(ClockEvent._meta.db_table)
    columns = "(clock_id, kind, at, data, dispatched_at)"
    adapt = connection.ops.adapt_datetimefield_value
    if connection.vendor == "postgresql":
        # One array per column, as in _write_swept; the JSON goes as text and is cast on the server.
        clock_ids, kinds, instants, payloads = zip(*events, strict=True)
        sql = (
            f"INSERT INTO {table} {columns} SELECT clock_id, kind, at, data::jsonb, %s FROM "
            "unnest(%s::bigint[], %s::varchar[], %s::timestamptz[], %s::text[]) AS e(clock_id, kind, at, data) "
            "RETURNING id"
        )
        params: list[Any] = [dispatched, list(clock_ids), [str(kind) for kind in kinds], list(instants)]
        params.append([json.dumps(payload) for payload in payloads])
    else:
        sql = f"INSERT INTO {table} {columns} VALUES {', '.join(['(%s, %s, %s, %s, %s)'] * len(events))} RETURNING id"
        params = []
        for clock_id, kind, at, payload in events:
            params += [clock_id, str(kind), adapt(at), json.dumps(payload), adapt(dispatched)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [pk for (pk,) in cursor.fetchall()]


def _sweep_rows(
    rows: list[tuple[Any, ...]], now: datetime, plans: dict[int, _PolicyPlan], specs: dict[int, CalendarSpec]
) -> list[_Dispatched]:
    """Sweep claimed rows in Python: decide each, write them back with one compare-and-set UPDATE and insert
    their events with one INSERT."""
    swept: list[tuple[Any, ...]] = []
    outcomes: dict[int, tuple[int | None, bool, datetime]] = {}
    for row in rows:
        pk, policy_id, due_at = row[0], row[1], row[2]
        if policy_id not in plans:
            plans[policy_id] = _policy_plan(row, specs)
        try:
            values, level, breach = _sweep_row(plans[policy_id], row, now)
        except calendars.CalendarError:
            # A calendar emptied of its hours after the clock started: report it, sweep the others.
            logger.exception("SLA clock %s cannot be swept: its policy %s has no working time", pk, policy_id)
            continue
        swept.append((pk, row[6], due_at, *values))
        outcomes[pk] = (level, breach, due_at)
    written = _write_swept(swept) if swept else set()
    events: list[tuple[int, str, datetime, dict[str, Any]]] = []
    for pk in sorted(written):
        level, breach, due_at = outcomes[pk]
        if level is not None:
            events.append((pk, ClockEvent.Kind.WARN, now, {"percent": level}))
        if breach:
            events.append((pk, ClockEvent.Kind.BREACH, now, {"due_at": due_at.isoformat()}))
    event_ids = _insert_events(events, timezone.now())
    return [(clock_id, _RANK[str(kind)], pk) for (clock_id, kind, _, _), pk in zip(events, event_ids, strict=True)]


def _handle_after_commit(event_ids: list[int]) -> None:
    if not event_ids:
        return
    # Imported here: the tasks module imports this one for the sweep.
    from .tasks import handle_events

    handle_events.delay(event_ids)


def sla_sweep(
    *, now: datetime | None = None, batch_size: int | None = None, max_batches: int | None = None
) -> SweepResult:
    """Warn and breach every running clock whose next point has passed, in bounded batches.

    Each batch is claimed and recorded in one transaction, set-based, in deadline order from the sweep index. On
    PostgreSQL one statement claims the page with FOR UPDATE SKIP LOCKED (another sweep's rows are skipped, not
    waited for), writes the new state of its 24/7 clocks and inserts their warn and breach events; the page's
    business-hours clocks, locked by that claim, are decided in Python and written with one UPDATE and one INSERT.
    On SQLite (no row locks) the whole page takes that second way, its UPDATE a compare-and-set per row that leaves
    alone a clock moved since it was read. A crash loses at most the batch in hand, which the next run (state
    follows from the stored deadlines) does again; one handler task per batch is handed out after commit.
    """
    now = _instant(now)
    batch_size = batch_size or settings.SLA_SWEEP_BATCH_SIZE
    result = SweepResult()
    plans: dict[int, _PolicyPlan] = {}
    specs: dict[int, CalendarSpec] = {}
    points = _points() if connection.vendor == "postgresql" else None
    last_seen: tuple[datetime, int] | None = None
    while max_batches is None or result.batches < max_batches:
        with transaction.atomic():
            if points is not None:
                page = _sweep_page(now, batch_size, last_seen, points)
                if page is None:
                    break
                last_seen = page.last
                events = page.events
                rows = _claimed(page.leftover) if page.leftover else []
            else:
                rows = _claim(now, batch_size, last_seen)
                if not rows:
                    break
                # Taken before the batch is swept, which moves the rows' next_check_at.
                last_seen = (rows[-1][6], rows[-1][0])
                events = []
            result.batches += 1
            if rows:
                events += _sweep_rows(rows, now, plans, specs)
            events.sort()
            result.warned += sum(1 for _, rank, _ in events if rank == 0)
            result.breached += sum(1 for _, rank, _ in events if rank == 1)
            event_ids = [pk for _, _, pk in events]
            # Robust: the clocks' state is committed by now, so a failure to hand out the handler tasks is logged
            # and the sweep goes on; the backstop (clock_events_redispatch) hands them out later.
            transaction.on_commit(lambda ids=event_ids: _handle_after_commit(ids), robust=True)  # type: ignore[misc]
    return result


# --- Handlers -------------------------------------------------------------------------------------


REDISPATCH_LIMIT = 1000


def redispatch_after() -> timedelta:
    """An event whose handler has not run this long after it happened is taken to have lost its task (a worker
    killed before acknowledging it, a message dropped with a broker) and is handed to a worker again."""
    return timedelta(minutes=settings.SLA_REDISPATCH_MINUTES)


def clock_events_redispatch(*, now: datetime | None = None, limit: int = REDISPATCH_LIMIT) -> list[int]:
    """Claim the warn and breach events still unhandled `redispatch_after()` after they were last handed out,
    oldest first, marking them handed out now; returns their ids for the caller to queue.

    Safe against a task that was only late: `clock_event_handle` claims each event once, so whichever copy
    arrives second does nothing. Marking them means a merely slow queue gets one copy per period, not one per
    sweep.
    """
    now = _instant(now)
    stale = ClockEvent.objects.filter(
        kind__in=(ClockEvent.Kind.WARN, ClockEvent.Kind.BREACH),
        handled_at__isnull=True,
        dispatched_at__lte=now - redispatch_after(),
    )
    with transaction.atomic():
        ids = list(stale.order_by("dispatched_at", "pk").values_list("pk", flat=True)[:limit])
        # Locked, on the same condition: two sweeps at once hand each event out once (SQLite has one writer).
        locked = stale.filter(pk__in=ids)
        if connection.features.has_select_for_update_skip_locked:
            locked = locked.select_for_update(skip_locked=True)
        claimed = list(locked.values_list("pk", flat=True))
        ClockEvent.objects.filter(pk__in=claimed).update(dispatched_at=now)
    return claimed


def clock_event_handle(*, event_id: int) -> bool:
    """Run the metric's handler for one event, once even if asked twice; True if it ran now.

    The claim and the handler share a transaction: a second delivery waits on the claimed row and then finds
    it handled, while a handler that fails (mail server down) rolls the claim back for the retry.
    """
    with transaction.atomic():
        claimed = ClockEvent.objects.filter(pk=event_id, handled_at__isnull=True).update(handled_at=timezone.now())
        if claimed != 1:
            return False
        event = ClockEvent.objects.select_related("clock__policy").get(pk=event_id)
        handler = handlers.handler_for(event.clock.metric)
        if handler is not None:
            handler(event)
    return True
