"""saypro.sla.replay: a clock's history computed in memory is exactly what the services and the sweep record."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from saypro.sla import services as sla
from saypro.sla.models import BusinessHours, Calendar, Clock, ClockEvent, ClockState, Policy
from saypro.sla.replay import clock_replay, clocks_insert
from tests.factories import RegistrationFactory

FIELDS = (
    "state",
    "started_at",
    "due_at",
    "risk_at",
    "next_check_at",
    "paused_at",
    "remaining_seconds",
    "paused_seconds",
    "warned_percent",
    "warned_at",
    "breached_at",
    "stopped_at",
    "met",
    "elapsed_seconds",
)


def _business_policy() -> Policy:
    """Office hours with a lunch break: deadlines that stretch over nights, lunches and weekends."""
    calendar, created = Calendar.objects.get_or_create(
        name="Office hours", defaults={"kind": Calendar.Kind.BUSINESS, "time_zone": "Africa/Lagos"}
    )
    if created:
        for weekday in range(5):
            BusinessHours.objects.create(calendar=calendar, weekday=weekday, start=time(8), end=time(12))
            BusinessHours.objects.create(calendar=calendar, weekday=weekday, start=time(13), end=time(17))
    policy, _ = Policy.objects.get_or_create(
        metric="demo.office",
        defaults={"name": "Office", "target": timedelta(hours=24), "warn_percents": [50, 90], "calendar": calendar},
    )
    return policy


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    business=st.booleans(),
    start_minutes=st.integers(0, 7 * 24 * 60),
    pauses=st.lists(st.tuples(st.integers(1, 60 * 60), st.one_of(st.none(), st.integers(1, 60 * 60))), max_size=2),
    stop_after=st.one_of(st.none(), st.integers(1, 150 * 60)),
    as_of_after=st.integers(1, 200 * 60),
    lag_seed=st.integers(0, 1000),
    # An hourly sweep leaves room for a pause or a stop between a deadline and its breach being recorded.
    sweep_every=st.sampled_from([60.0, 3600.0]),
)
# Paused five minutes after the deadline, before the hourly sweep recorded the breach, then closed: missed.
@example(
    business=False,
    start_minutes=0,
    pauses=[(48 * 60 + 5, None)],
    stop_after=60,
    as_of_after=200 * 60,
    lag_seed=0,
    sweep_every=3600.0,
)
def test_a_replayed_clock_is_what_the_services_and_the_sweep_record(
    business, start_minutes, pauses, stop_after, as_of_after, lag_seed, sweep_every
):
    policy = (
        _business_policy()
        if business
        else Policy.objects.select_related("calendar").get(metric="registration.approval", is_default=True)
    )
    started = datetime(2025, 5, 5, tzinfo=UTC) + timedelta(minutes=start_minutes)
    moment, windows = started, []
    for pause_in, resume_in in pauses:
        moment += timedelta(minutes=pause_in)
        resume = moment + timedelta(minutes=resume_in) if resume_in is not None else None
        windows.append((moment, resume))
        if resume is None:
            break
        moment = resume
    stopped = moment + timedelta(minutes=stop_after) if stop_after is not None else None
    as_of = started + timedelta(minutes=as_of_after)
    replayed = clock_replay(
        policy=policy,
        spec=sla.spec_for(policy.calendar),
        started_at=started,
        as_of=as_of,
        rng=random.Random(lag_seed),
        pauses=windows,
        stopped_at=stopped,
        sweep_every=sweep_every,
    )

    # Run the same history through the services: start, sweeps when the replay swept, pauses, the stop.
    target = RegistrationFactory()
    sla.clock_start(metric=policy.metric, target=target, at=started, policy=policy)
    for kind, at, _, _ in replayed.events[1:]:
        if kind in (ClockEvent.Kind.WARN, ClockEvent.Kind.BREACH):
            sla.sla_sweep(now=at)
        elif kind == ClockEvent.Kind.PAUSE:
            sla.clock_pause(metric=policy.metric, target=target, at=at)
        elif kind == ClockEvent.Kind.RESUME:
            sla.clock_resume(metric=policy.metric, target=target, at=at)
        elif kind == ClockEvent.Kind.STOP:
            sla.clock_stop(metric=policy.metric, target=target, at=at)
    clock = Clock.objects.get(target_id=target.pk, metric=policy.metric)

    for name in FIELDS:
        assert getattr(clock, name) == getattr(replayed.clock, name), name
    recorded = [(e.kind, e.at, e.data) for e in clock.events.order_by("at", "id")]
    assert recorded == [(kind, at, data) for kind, at, data, _ in replayed.events]


@pytest.mark.django_db
def test_replayed_clocks_are_inserted_on_their_targets_with_their_events():
    policy = Policy.objects.select_related("calendar").get(metric="registration.approval", is_default=True)
    spec = sla.spec_for(policy.calendar)
    started = datetime(2025, 5, 5, 9, tzinfo=UTC)
    targets = [RegistrationFactory(), RegistrationFactory()]
    replayed = [
        clock_replay(
            policy=policy, spec=spec, started_at=started, as_of=started + timedelta(days=3), rng=random.Random(1)
        ),
        clock_replay(
            policy=policy,
            spec=spec,
            started_at=started,
            as_of=started + timedelta(days=3),
            rng=random.Random(1),
            stopped_at=started + timedelta(hours=2),
        ),
    ]
    registration_type = ContentType.objects.get_for_model(targets[0])

    clocks, events = clocks_insert([(r, registration_type, t.pk) for r, t in zip(replayed, targets, strict=True)])

    assert events == sum(len(r.events) for r in replayed) == ClockEvent.objects.count()
    breached, met = (Clock.objects.get(pk=c.pk) for c in clocks)
    assert breached.target_id == targets[0].pk and breached.state == ClockState.RUNNING
    assert breached.breached_at is not None and breached.events.filter(kind=ClockEvent.Kind.BREACH).count() == 1
    assert met.target_id == targets[1].pk and met.state == ClockState.STOPPED and met.met is True
    # The open clock is the one the services find and continue.
    assert sla.clock_open_for(metric=policy.metric, target=targets[0]) == breached
