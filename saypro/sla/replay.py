"""A clock's history written in bulk: what the services and the sweep would have recorded, without running them.

Generated history (the demo quarter, an import) would take a locked transaction per start, pause, resume, stop and
sweep through saypro.sla.services: millions for a quarter. `clock_replay` applies the same transitions
(services.clock_begin, pause_apply, resume_apply, stop_apply, sweep_apply) to a clock in memory, with the sweep
running every `sweep_every` seconds, and `clocks_insert` writes the clocks and their events with bulk inserts.
Handlers are not run: warn and breach events are recorded as handled a moment after the sweep.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType

from . import handlers
from .calendars import CalendarSpec
from .models import Clock, ClockEvent, ClockState, Policy
from .services import clock_begin, pause_apply, resume_apply, stop_apply, sweep_apply

# (kind, at, data, handled_at)
Event = tuple[str, datetime, dict[str, Any], datetime | None]


@dataclass(slots=True)
class Replayed:
    """An unsaved clock (no target yet) and the events the kernel would have logged on it."""

    clock: Clock
    events: list[Event]

    @property
    def met(self) -> bool | None:
        return self.clock.met

    @property
    def breached_at(self) -> datetime | None:
        return self.clock.breached_at


def clock_replay(
    *,
    policy: Policy,
    spec: CalendarSpec,
    started_at: datetime,
    as_of: datetime,
    rng: random.Random,
    pauses: Sequence[tuple[datetime, datetime | None]] = (),
    stopped_at: datetime | None = None,
    sweep_every: float = 60.0,
) -> Replayed:
    """Start a clock at `started_at`, pause and resume it in the given windows, stop it at `stopped_at`, with the
    sweep passing every `sweep_every` seconds; what would happen after `as_of` has not happened yet."""
    clock = clock_begin(spec, Clock(metric=policy.metric, policy=policy), started_at)
    events: list[Event] = [
        (ClockEvent.Kind.START, started_at, {"due_at": clock.due_at.isoformat(), "policy": policy.pk}, None)
    ]

    def handled(at: datetime) -> datetime:
        # The metric's handler runs in a task right after the sweep commits.
        return at + timedelta(seconds=rng.uniform(0.2, 3.0))

    actions: list[tuple[datetime, str]] = []
    for pause_at, resume_at in pauses:
        actions.append((pause_at, "pause"))
        if resume_at is not None:
            actions.append((resume_at, "resume"))
    if stopped_at is not None:
        actions.append((stopped_at, "stop"))
    actions = sorted(action for action in actions if action[0] <= as_of)
    for until, action in [*actions, (as_of, "")]:
        # The sweeps that ran before this action: each one a little after a check point was reached.
        while clock.state == ClockState.RUNNING and clock.next_check_at is not None:
            now = clock.next_check_at + timedelta(seconds=rng.uniform(0.0, sweep_every))
            if now >= until:
                break
            level, breach = sweep_apply(spec, clock, now)
            if level is not None:
                events.append((ClockEvent.Kind.WARN, now, {"percent": level}, handled(now)))
            if breach:
                events.append((ClockEvent.Kind.BREACH, now, {"due_at": clock.due_at.isoformat()}, handled(now)))
        if action == "pause" and clock.state == ClockState.RUNNING:
            if pause_apply(spec, clock, until):
                events.append((ClockEvent.Kind.BREACH, until, {"due_at": clock.due_at.isoformat()}, handled(until)))
            events.append((ClockEvent.Kind.PAUSE, until, {"remaining_seconds": clock.remaining_seconds}, None))
        elif action == "resume" and clock.state == ClockState.PAUSED and clock.paused_at is not None:
            resume_apply(spec, clock, until)
            events.append((ClockEvent.Kind.RESUME, until, {"due_at": clock.due_at.isoformat()}, None))
        elif action == "stop":
            stop_apply(clock, until)
            events.append((ClockEvent.Kind.STOP, until, {"met": clock.met}, None))
            break
    return Replayed(clock=clock, events=events)


def clocks_insert(
    replayed: Sequence[tuple[Replayed, ContentType, int]], *, batch_size: int = 1000
) -> tuple[list[Clock], int]:
    """Insert the clocks on their targets (content type, id) and their events, inside the caller's transaction.
    Returns the clocks written and the number of events."""
    for item, target_type, target_id in replayed:
        item.clock.target_type, item.clock.target_id = target_type, target_id
    clocks = Clock.objects.bulk_create([item.clock for item, _, _ in replayed], batch_size=batch_size)
    events = ClockEvent.objects.bulk_create(
        [
            ClockEvent(clock=clock, kind=kind, at=at, data=data, handled_at=handled_at)
            for (item, _, _), clock in zip(replayed, clocks, strict=True)
            for kind, at, data, handled_at in item.events
        ],
        batch_size=batch_size,
    )
    changed: dict[str, list[int]] = defaultdict(list)
    for clock in clocks:
        changed[clock.metric].append(clock.target_id)
    for metric, target_ids in changed.items():
        handlers.clocks_changed(metric, target_ids)
    return clocks, len(events)
