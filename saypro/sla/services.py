"""Starting, pausing, resuming and stopping clocks, and the sweep that warns and breaches them.

Apps call these with their object; no app computes a deadline itself. Every change locks the clock row; the
sweep claims rows with compare-and-set so that a re-run, or two workers at once, never warn or breach twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from . import calendars
from .models import BusinessHours, Calendar, Clock, ClockEvent, ClockState, Holiday, Policy

DEFAULT_RISK_PERCENT = 75


def spec_for(calendar: Calendar) -> calendars.CalendarSpec:
    """The arithmetic view of a calendar (two small queries for a business calendar, none for 24/7)."""
    if calendar.kind == Calendar.Kind.ALWAYS:
        return calendars.ALWAYS
    hours: dict[int, list[tuple[Any, Any]]] = {}
    for row in BusinessHours.objects.filter(calendar=calendar).order_by("weekday", "start"):
        hours.setdefault(row.weekday, []).append((row.start, row.end))
    holidays = frozenset(Holiday.objects.filter(calendar=calendar).values_list("date", flat=True))
    return calendars.CalendarSpec(
        kind=calendar.kind,
        tz=calendar.time_zone,
        hours={day: tuple(intervals) for day, intervals in hours.items()},
        holidays=holidays,
    )


def _target_seconds(policy: Policy) -> float:
    return policy.target.total_seconds()


def _risk_percent(policy: Policy) -> int:
    return min(policy.warn_percents) if policy.warn_percents else DEFAULT_RISK_PERCENT


def _point(spec: calendars.CalendarSpec, clock: Clock, percent: int) -> datetime:
    """The instant a running clock reaches `percent` of its target."""
    left = (1 - percent / 100) * _target_seconds(clock.policy)
    return calendars.subtract(spec, clock.due_at, left)


def _next_check(spec: calendars.CalendarSpec, clock: Clock) -> datetime | None:
    """The next warn point not yet reached, else the due point, else nothing (already breached)."""
    if clock.breached_at is not None:
        return None
    for percent in sorted(clock.policy.warn_percents):
        if percent > clock.warned_percent:
            return _point(spec, clock, percent)
    return clock.due_at


def _schedule(spec: calendars.CalendarSpec, clock: Clock) -> None:
    clock.risk_at = _point(spec, clock, _risk_percent(clock.policy))
    clock.next_check_at = _next_check(spec, clock)


def _event(clock: Clock, kind: str, at: datetime, **data: Any) -> ClockEvent:
    event = ClockEvent.objects.create(clock=clock, kind=kind, at=at, data=data)
    if kind in (ClockEvent.Kind.WARN, ClockEvent.Kind.BREACH):
        from .tasks import handle_event

        transaction.on_commit(lambda: handle_event.delay(event.pk))
    return event


def _open_clocks(metric: str, target: models.Model) -> models.QuerySet[Clock]:
    return Clock.objects.filter(
        metric=metric,
        target_type=ContentType.objects.get_for_model(target),
        target_id=target.pk,
    ).exclude(state=ClockState.STOPPED)


def _locked(metric: str, target: models.Model) -> Clock | None:
    return _open_clocks(metric, target).select_for_update(of=("self",)).select_related("policy__calendar").first()


def clock_open_for(*, metric: str, target: models.Model) -> Clock | None:
    return _open_clocks(metric, target).select_related("policy").first()


@transaction.atomic
def clock_start(
    *, metric: str, target: models.Model, at: datetime | None = None, policy: Policy | None = None
) -> Clock:
    """Start the metric's clock on `target`; if one is already open, return it unchanged."""
    existing = _locked(metric, target)
    if existing is not None:
        return existing
    at = at or timezone.now()
    policy = policy or Policy.objects.select_related("calendar").get(metric=metric, is_default=True)
    spec = spec_for(policy.calendar)
    clock = Clock(
        metric=metric,
        policy=policy,
        target_type=ContentType.objects.get_for_model(target),
        target_id=target.pk,
        state=ClockState.RUNNING,
        started_at=at,
        due_at=calendars.add(spec, at, _target_seconds(policy)),
    )
    _schedule(spec, clock)
    clock.save()
    _event(clock, ClockEvent.Kind.START, at, due_at=clock.due_at.isoformat(), policy=policy.pk)
    return clock


@transaction.atomic
def clock_pause(*, metric: str, target: models.Model, at: datetime | None = None) -> Clock | None:
    """Stop counting while the work waits on someone outside the team (the user)."""
    clock = _locked(metric, target)
    if clock is None or clock.state != ClockState.RUNNING:
        return clock
    at = at or timezone.now()
    spec = spec_for(clock.policy.calendar)
    clock.state = ClockState.PAUSED
    clock.paused_at = at
    clock.remaining_seconds = calendars.working_seconds(spec, at, clock.due_at)
    clock.risk_at = None
    clock.next_check_at = None
    clock.save(update_fields=["state", "paused_at", "remaining_seconds", "risk_at", "next_check_at"])
    _event(clock, ClockEvent.Kind.PAUSE, at, remaining_seconds=clock.remaining_seconds)
    return clock


@transaction.atomic
def clock_resume(*, metric: str, target: models.Model, at: datetime | None = None) -> Clock | None:
    clock = _locked(metric, target)
    if clock is None or clock.state != ClockState.PAUSED or clock.paused_at is None:
        return clock
    at = at or timezone.now()
    spec = spec_for(clock.policy.calendar)
    clock.paused_seconds += max(0.0, (at - clock.paused_at).total_seconds())
    clock.due_at = calendars.add(spec, at, clock.remaining_seconds or 0.0)
    clock.state = ClockState.RUNNING
    clock.paused_at = None
    clock.remaining_seconds = None
    _schedule(spec, clock)
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
    clock = _locked(metric, target)
    if clock is None:
        return None
    at = at or timezone.now()
    paused = clock.paused_seconds
    if clock.state == ClockState.PAUSED and clock.paused_at is not None:
        paused += max(0.0, (at - clock.paused_at).total_seconds())
    late = clock.breached_at is not None or (clock.state == ClockState.RUNNING and at > clock.due_at)
    clock.state = ClockState.STOPPED
    clock.stopped_at = at
    clock.met = not late
    clock.paused_seconds = paused
    clock.paused_at = None
    clock.elapsed_seconds = max(0.0, (at - clock.started_at).total_seconds() - paused)
    clock.next_check_at = None
    clock.save(
        update_fields=["state", "stopped_at", "met", "paused_seconds", "paused_at", "elapsed_seconds", "next_check_at"]
    )
    _event(clock, ClockEvent.Kind.STOP, at, met=clock.met)
    return clock


@transaction.atomic
def clock_retarget(*, metric: str, target: models.Model, policy: Policy, at: datetime | None = None) -> Clock | None:
    """Measure an open clock against another policy (e.g. a ticket's priority changed), from its start."""
    clock = _locked(metric, target)
    if clock is None or clock.policy_id == policy.pk:
        return clock
    at = at or timezone.now()
    spec = spec_for(policy.calendar)
    clock.policy = policy
    # Paused wall time does not count, so the new deadline is shifted by it.
    shifted_start = clock.started_at + timedelta(seconds=clock.paused_seconds)
    due = calendars.add(spec, shifted_start, _target_seconds(policy))
    if clock.state == ClockState.PAUSED and clock.paused_at is not None:
        clock.remaining_seconds = max(0.0, calendars.working_seconds(spec, clock.paused_at, due))
    clock.due_at = due
    if clock.state == ClockState.RUNNING:
        clock.warned_percent = max([p for p in policy.warn_percents if p <= clock.warned_percent], default=0)
        _schedule(spec, clock)
    clock.save(update_fields=["policy", "due_at", "remaining_seconds", "warned_percent", "risk_at", "next_check_at"])
    _event(clock, ClockEvent.Kind.RETARGET, at, policy=policy.pk, due_at=due.isoformat())
    return clock


# --- The sweep ------------------------------------------------------------------------------------


@dataclass
class SweepResult:
    warned: int = 0
    breached: int = 0
    batches: int = 0


def _sweep_one(clock: Clock, now: datetime, spec: calendars.CalendarSpec, result: SweepResult) -> None:
    breach = now >= clock.due_at and clock.breached_at is None
    passed = [p for p in clock.policy.warn_percents if p > clock.warned_percent and now >= _point(spec, clock, p)]
    # After downtime several points may have passed: one warning for the highest, not a storm.
    level = max(passed, default=clock.warned_percent)
    update: dict[str, Any] = {"warned_percent": level}
    if passed:
        update["warned_at"] = now
    if breach:
        update["breached_at"] = now
    probe = Clock(
        due_at=clock.due_at,
        policy=clock.policy,
        warned_percent=level,
        breached_at=update.get("breached_at", clock.breached_at),
    )
    update["next_check_at"] = _next_check(spec, probe)
    with transaction.atomic():
        claimed = Clock.objects.filter(pk=clock.pk, state=ClockState.RUNNING, next_check_at=clock.next_check_at).update(
            **update
        )
        if claimed != 1:
            return  # another sweep, or a stop/pause, got there first
        if passed:
            _event(clock, ClockEvent.Kind.WARN, now, percent=level)
            result.warned += 1
        if breach:
            _event(clock, ClockEvent.Kind.BREACH, now, due_at=clock.due_at.isoformat())
            result.breached += 1


def sla_sweep(
    *, now: datetime | None = None, batch_size: int | None = None, max_batches: int | None = None
) -> SweepResult:
    """Warn and breach every running clock whose next point has passed, in bounded batches."""
    now = now or timezone.now()
    batch_size = batch_size or settings.SLA_SWEEP_BATCH_SIZE
    result = SweepResult()
    specs: dict[int, calendars.CalendarSpec] = {}
    last_seen: tuple[datetime, int] | None = None
    while max_batches is None or result.batches < max_batches:
        batch = Clock.objects.filter(state=ClockState.RUNNING, next_check_at__lte=now)
        if last_seen is not None:
            # Keyset paging: rows a concurrent worker left untouched are not read again in this run.
            at, pk = last_seen
            batch = batch.filter(models.Q(next_check_at__gt=at) | models.Q(next_check_at=at, pk__gt=pk))
        rows = list(batch.select_related("policy__calendar").order_by("next_check_at", "pk")[:batch_size])
        if not rows:
            break
        result.batches += 1
        for clock in rows:
            calendar = clock.policy.calendar
            if calendar.pk not in specs:
                specs[calendar.pk] = spec_for(calendar)
            _sweep_one(clock, now, specs[calendar.pk], result)
        last_seen = (rows[-1].next_check_at, rows[-1].pk)  # type: ignore[assignment]
    return result
