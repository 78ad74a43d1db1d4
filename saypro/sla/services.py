"""Starting, pausing, resuming, stopping and retargeting clocks, and the sweep that warns and breaches them.

Apps call these with their object; no app computes a deadline itself. Every change locks the clock row; the
sweep claims rows with compare-and-set so that a re-run, or two workers at once, never warn or breach twice.
The clock's own event log (ClockEvent) is its trail: the app transition that starts or stops a clock records
the audit entry with the person who acted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from . import calendars, handlers
from .calendars import CalendarSpec, spec_for
from .models import Clock, ClockEvent, ClockState, Policy

logger = logging.getLogger(__name__)

DEFAULT_RISK_PERCENT = 75

__all__ = [
    "SweepResult",
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
    "sla_sweep",
    "spec_for",
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


def _event(clock: Clock, kind: str, at: datetime, **data: Any) -> ClockEvent:
    handled_by_a_task = kind in (ClockEvent.Kind.WARN, ClockEvent.Kind.BREACH)
    event = ClockEvent.objects.create(
        clock=clock, kind=kind, at=at, data=data, dispatched_at=timezone.now() if handled_by_a_task else None
    )
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
    spec = spec or spec_for(policy.calendar)
    clock = Clock(
        metric=metric,
        policy=policy,
        target_type=target_type,
        target_id=target_id,
        state=ClockState.RUNNING,
        started_at=at,
        due_at=calendars.add(spec, at, _target_seconds(policy)),
    )
    _schedule(spec, clock)
    return clock


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
    spec = spec_for(clock.policy.calendar)
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
    spec = spec_for(clock.policy.calendar)
    clock.paused_seconds += max(0.0, (at - clock.paused_at).total_seconds())
    clock.due_at = calendars.add(spec, at, clock.remaining_seconds or 0.0)
    clock.state = ClockState.RUNNING
    clock.paused_at = None
    clock.remaining_seconds = None
    # Warn points passed while paused are not possible (time stood still); those not yet warned are scheduled.
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
    at = _instant(at)
    clock = _locked(metric, target)
    if clock is None:
        return None
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


SWEPT_FIELDS = ("warned_percent", "warned_at", "breached_at", "next_check_at")


def _sweep_plan(clock: Clock, now: datetime, spec: CalendarSpec) -> tuple[dict[str, Any], int | None, bool]:
    """What the sweep writes on one clock: the new field values, the warning level reached, whether breached."""
    level, breach = _passed(spec, clock, now)
    update: dict[str, Any] = {
        "warned_percent": clock.warned_percent if level is None else level,
        "warned_at": clock.warned_at if level is None else now,
        "breached_at": now if breach else clock.breached_at,
    }
    probe = Clock(
        due_at=clock.due_at,
        policy=clock.policy,
        warned_percent=update["warned_percent"],
        breached_at=update["breached_at"],
    )
    update["next_check_at"] = _next_check(spec, probe)
    return update, level, breach


def _sweep_events(clock: Clock, now: datetime, level: int | None, breach: bool) -> list[ClockEvent]:
    dispatched = timezone.now()
    events = []
    if level is not None:
        data: dict[str, Any] = {"percent": level}
        events.append(ClockEvent(clock=clock, kind=ClockEvent.Kind.WARN, at=now, data=data, dispatched_at=dispatched))
    if breach:
        data = {"due_at": clock.due_at.isoformat()}
        events.append(ClockEvent(clock=clock, kind=ClockEvent.Kind.BREACH, at=now, data=data, dispatched_at=dispatched))
    return events


def _sweep_batch(
    rows: list[Clock], now: datetime, specs: dict[int, CalendarSpec], result: SweepResult, *, locked: bool
) -> list[ClockEvent]:
    """Record the passed points of one batch; returns the events to insert.

    `locked`: the rows were read FOR UPDATE SKIP LOCKED (PostgreSQL), so nobody can have moved them and one
    bulk UPDATE writes them all. Otherwise (SQLite, one writer but no row locks) each row is written with a
    compare-and-set, so that a clock a second worker, or a pause, resume, stop or retarget, moved after it was
    read is left alone.
    """
    events: list[ClockEvent] = []
    changed: list[Clock] = []
    for clock in rows:
        calendar = clock.policy.calendar
        if calendar.pk not in specs:
            specs[calendar.pk] = spec_for(calendar)
        try:
            update, level, breach = _sweep_plan(clock, now, specs[calendar.pk])
        except calendars.CalendarError:
            # A calendar emptied of its hours after the clock started: report it, keep sweeping the others.
            logger.exception("SLA clock %s cannot be swept: its calendar %s has no working time", clock.pk, calendar)
            continue
        if locked:
            for name, value in update.items():
                setattr(clock, name, value)
            changed.append(clock)
        elif (
            Clock.objects.filter(
                pk=clock.pk, state=ClockState.RUNNING, next_check_at=clock.next_check_at, due_at=clock.due_at
            ).update(**update)
            != 1
        ):
            continue
        events.extend(_sweep_events(clock, now, level, breach))
        result.warned += level is not None
        result.breached += breach
    if changed:
        _write_swept(changed)
    return events


def _write_swept(clocks: list[Clock]) -> None:
    """One UPDATE … FROM (VALUES …) for a locked batch (PostgreSQL): Django's bulk_update builds a CASE per row
    and field, which costs more than the rows themselves."""
    table = connection.ops.quote_name(Clock._meta.db_table)
    # Plain fields without db_column: each column is named after its field.
    columns = [connection.ops.quote_name(name) for name in SWEPT_FIELDS]
    row = "(%s::bigint, %s::integer, %s::timestamptz, %s::timestamptz, %s::timestamptz)"
    assignments = ", ".join(f"{column} = v.{column}" for column in columns)
    sql = (
        f"UPDATE {table} AS c SET {assignments} FROM (VALUES {', '.join([row] * len(clocks))}) "
        f"AS v(id, {', '.join(columns)}) WHERE c.id = v.id"
    )
    params = [value for clock in clocks for value in (clock.pk, *(getattr(clock, name) for name in SWEPT_FIELDS))]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


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

    Each batch is claimed and recorded in one transaction: a crash loses at most the batch in hand, which the
    next run (state follows from the stored deadlines) does again, and a batch holds its rows' locks for well
    under a second. Committing per batch, one bulk UPDATE and one task per batch, is what lets a sweep after a
    long outage get through a hundred thousand due clocks in minutes.
    """
    now = _instant(now)
    batch_size = batch_size or settings.SLA_SWEEP_BATCH_SIZE
    result = SweepResult()
    specs: dict[int, CalendarSpec] = {}
    locked = connection.features.has_select_for_update_skip_locked
    last_seen: tuple[datetime, int] | None = None
    while max_batches is None or result.batches < max_batches:
        batch = Clock.objects.filter(state=ClockState.RUNNING, next_check_at__lte=now)
        if last_seen is not None:
            # Keyset paging: rows a concurrent worker left untouched, or that failed, are not read again.
            at, pk = last_seen
            batch = batch.filter(models.Q(next_check_at__gt=at) | models.Q(next_check_at=at, pk__gt=pk))
        batch = batch.select_related("policy__calendar").order_by("next_check_at", "pk")
        with transaction.atomic():
            if locked:
                # Another sweep's rows are skipped, not waited for: that sweep records them.
                batch = batch.select_for_update(skip_locked=True, of=("self",))
            rows = list(batch[:batch_size])
            if not rows:
                break
            # Taken before the batch is swept, which moves the rows' next_check_at.
            last_seen = (rows[-1].next_check_at, rows[-1].pk)  # type: ignore[assignment]
            result.batches += 1
            events = _sweep_batch(rows, now, specs, result, locked=locked)
            event_ids = [event.pk for event in ClockEvent.objects.bulk_create(events)]
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
