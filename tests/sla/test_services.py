"""Starting, pausing, resuming, stopping and retargeting clocks."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, close_old_connections, connection, transaction

from saypro.sla import services
from saypro.sla.calendars import spec_for
from saypro.sla.models import Calendar, Clock, ClockEvent, ClockState
from tests.factories import UserFactory
from tests.sla.conftest import METRIC, policy_of

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday
SAST = ZoneInfo("Africa/Johannesburg")
HOUR = timedelta(hours=1)


def kinds(clock: Clock) -> list[str]:
    return list(clock.events.values_list("kind", flat=True))


def test_a_clock_on_a_round_the_clock_policy_is_due_the_target_after_it_starts(policy):
    target = UserFactory()
    clock = services.clock_start(metric=METRIC, target=target, at=T0)
    clock.refresh_from_db()
    assert clock.policy == policy and clock.state == ClockState.RUNNING
    assert clock.target == target
    assert clock.due_at == T0 + 8 * HOUR
    assert clock.risk_at == T0 + 6 * HOUR  # the first warning point is the start of "at risk"
    assert clock.next_check_at == T0 + 6 * HOUR
    start = clock.events.get()
    assert (start.kind, start.at, start.data) == (
        "start",
        T0,
        {"due_at": clock.due_at.isoformat(), "policy": policy.pk},
    )


def test_a_clock_on_business_hours_counts_only_working_time(office_calendar):
    two_hours = policy_of(office_calendar, 2, name="Two office hours")
    friday_four_pm = datetime(2026, 3, 6, 16, 0, tzinfo=SAST)
    clock = services.clock_start(metric=METRIC, target=UserFactory(), at=friday_four_pm, policy=two_hours)
    assert clock.due_at == datetime(2026, 3, 9, 9, 0, tzinfo=SAST)
    assert clock.risk_at == datetime(2026, 3, 9, 8, 30, tzinfo=SAST)


def test_a_clock_without_warning_points_is_at_risk_from_75_percent(always_calendar):
    quiet = policy_of(always_calendar, 8, name="No warnings", warn=())
    clock = services.clock_start(metric=METRIC, target=UserFactory(), at=T0, policy=quiet)
    assert clock.risk_at == T0 + 6 * HOUR
    assert clock.next_check_at == clock.due_at


def test_starting_a_clock_twice_returns_the_open_one_unchanged(policy):
    target = UserFactory()
    first = services.clock_start(metric=METRIC, target=target, at=T0)
    again = services.clock_start(metric=METRIC, target=target, at=T0 + 3 * HOUR)
    assert again.pk == first.pk and again.due_at == first.due_at
    assert Clock.objects.count() == 1
    assert kinds(first) == ["start"]


def test_pausing_and_resuming_moves_the_deadline_by_the_paused_time(policy):
    target = UserFactory()
    services.clock_start(metric=METRIC, target=target, at=T0)
    paused = services.clock_pause(metric=METRIC, target=target, at=T0 + 2 * HOUR)
    assert paused.state == ClockState.PAUSED
    assert paused.remaining_seconds == 6 * 3600
    # Nothing to sweep and nothing at risk while the clock waits on the user.
    assert paused.next_check_at is None and paused.risk_at is None
    resumed = services.clock_resume(metric=METRIC, target=target, at=T0 + 5 * HOUR)
    resumed.refresh_from_db()
    assert resumed.state == ClockState.RUNNING
    assert resumed.due_at == T0 + 11 * HOUR
    assert resumed.risk_at == resumed.next_check_at == T0 + 9 * HOUR
    assert resumed.paused_seconds == 3 * 3600
    assert resumed.paused_at is None and resumed.remaining_seconds is None
    assert kinds(resumed) == ["start", "pause", "resume"]


def test_a_pause_on_business_hours_moves_the_deadline_by_the_paused_working_time(office_calendar):
    four_hours = policy_of(office_calendar, 4, name="Four office hours")
    target = UserFactory()
    friday_three_pm = datetime(2026, 3, 6, 15, 0, tzinfo=SAST)
    clock = services.clock_start(metric=METRIC, target=target, at=friday_three_pm, policy=four_hours)
    assert clock.due_at == datetime(2026, 3, 9, 10, 0, tzinfo=SAST)
    services.clock_pause(metric=METRIC, target=target, at=friday_three_pm + HOUR)
    # Paused from Friday 16:00 to Monday 12:00: five working hours, so Monday 10:00 becomes 15:00.
    clock = services.clock_resume(metric=METRIC, target=target, at=datetime(2026, 3, 9, 12, 0, tzinfo=SAST))
    assert clock.due_at == datetime(2026, 3, 9, 15, 0, tzinfo=SAST)


def test_pause_and_resume_are_idempotent(policy):
    target = UserFactory()
    services.clock_start(metric=METRIC, target=target, at=T0)
    assert services.clock_resume(metric=METRIC, target=target, at=T0 + HOUR).state == ClockState.RUNNING
    services.clock_pause(metric=METRIC, target=target, at=T0 + HOUR)
    again = services.clock_pause(metric=METRIC, target=target, at=T0 + 2 * HOUR)
    assert again.paused_at == T0 + HOUR
    assert kinds(again) == ["start", "pause"]


def test_transitions_on_an_object_without_a_clock_do_nothing(policy):
    target = UserFactory()
    assert services.clock_pause(metric=METRIC, target=target, at=T0) is None
    assert services.clock_resume(metric=METRIC, target=target, at=T0) is None
    assert services.clock_stop(metric=METRIC, target=target, at=T0) is None
    assert services.clock_retarget(metric=METRIC, target=target, policy=policy, at=T0) is None
    assert services.clock_open_for(metric=METRIC, target=target) is None
    assert not ClockEvent.objects.exists()


def test_stopping_before_the_deadline_is_met_and_records_the_elapsed_time(policy):
    target = UserFactory()
    services.clock_start(metric=METRIC, target=target, at=T0)
    clock = services.clock_stop(metric=METRIC, target=target, at=T0 + 8 * HOUR)  # on the deadline is in time
    clock.refresh_from_db()
    assert clock.state == ClockState.STOPPED and clock.met is True
    assert clock.stopped_at == T0 + 8 * HOUR and clock.elapsed_seconds == 8 * 3600
    assert clock.next_check_at is None
    assert clock.events.last().data == {"met": True}
    assert services.clock_open_for(metric=METRIC, target=target) is None


def test_stopping_after_the_deadline_is_not_met_even_before_the_sweep_ran(policy):
    target = UserFactory()
    services.clock_start(metric=METRIC, target=target, at=T0)
    clock = services.clock_stop(metric=METRIC, target=target, at=T0 + 8 * HOUR + timedelta(seconds=1))
    assert clock.met is False and clock.breached_at is None


def test_a_breach_stands_when_the_clock_moves_to_a_longer_policy(policy, always_calendar):
    relaxed = policy_of(always_calendar, 24, name="A day")
    target = UserFactory()
    services.clock_start(metric=METRIC, target=target, at=T0)
    services.sla_sweep(now=T0 + 9 * HOUR)
    clock = services.clock_retarget(metric=METRIC, target=target, policy=relaxed, at=T0 + 9 * HOUR)
    assert clock.due_at == T0 + 24 * HOUR and clock.next_check_at is None
    assert services.clock_stop(metric=METRIC, target=target, at=T0 + 10 * HOUR).met is False


def test_elapsed_time_leaves_out_the_paused_time(policy):
    target = UserFactory()
    services.clock_start(metric=METRIC, target=target, at=T0)
    services.clock_pause(metric=METRIC, target=target, at=T0 + HOUR)
    services.clock_resume(metric=METRIC, target=target, at=T0 + 4 * HOUR)
    services.clock_pause(metric=METRIC, target=target, at=T0 + 5 * HOUR)
    services.clock_resume(metric=METRIC, target=target, at=T0 + 7 * HOUR)
    clock = services.clock_stop(metric=METRIC, target=target, at=T0 + 10 * HOUR)
    assert clock.paused_seconds == 5 * 3600
    assert clock.elapsed_seconds == 5 * 3600
    assert clock.met is True  # due at T0 + 13 h after five paused hours
    assert kinds(clock) == ["start", "pause", "resume", "pause", "resume", "stop"]


def test_stopping_a_paused_clock_counts_the_pause_up_to_the_stop(policy):
    target = UserFactory()
    services.clock_start(metric=METRIC, target=target, at=T0)
    services.clock_pause(metric=METRIC, target=target, at=T0 + 2 * HOUR)
    clock = services.clock_stop(metric=METRIC, target=target, at=T0 + 30 * HOUR)
    assert clock.met is True  # the deadline stood still while the user was away
    assert clock.paused_seconds == 28 * 3600 and clock.elapsed_seconds == 2 * 3600
    assert clock.paused_at is None


def test_a_clock_paused_after_its_deadline_and_stopped_while_paused_is_not_met(policy):
    target = UserFactory()
    services.clock_start(metric=METRIC, target=target, at=T0)
    services.clock_pause(metric=METRIC, target=target, at=T0 + 9 * HOUR)  # before any sweep marked the breach
    assert services.clock_stop(metric=METRIC, target=target, at=T0 + 10 * HOUR).met is False


def test_retargeting_to_a_shorter_policy_brings_the_deadline_forward(policy, always_calendar):
    urgent = policy_of(always_calendar, 4, name="Four hours")
    target = UserFactory()
    services.clock_start(metric=METRIC, target=target, at=T0)
    clock = services.clock_retarget(metric=METRIC, target=target, policy=urgent, at=T0 + HOUR)
    clock.refresh_from_db()
    assert clock.policy == urgent
    assert clock.due_at == T0 + 4 * HOUR
    assert clock.risk_at == clock.next_check_at == T0 + 3 * HOUR
    retarget = clock.events.last()
    assert retarget.kind == "retarget" and retarget.data == {"policy": urgent.pk, "due_at": clock.due_at.isoformat()}


def test_retargeting_to_a_longer_policy_warns_again_at_its_own_points(policy, always_calendar):
    relaxed = policy_of(always_calendar, 24, name="A day")
    target = UserFactory()
    services.clock_start(metric=METRIC, target=target, at=T0)
    services.sla_sweep(now=T0 + 6 * HOUR)  # the 75 % warning of the eight-hour policy
    clock = services.clock_retarget(metric=METRIC, target=target, policy=relaxed, at=T0 + 7 * HOUR)
    assert clock.due_at == T0 + 24 * HOUR
    # 7 of 24 hours is not 75 %: the warning given under the old target does not stand for the new one.
    assert clock.warned_percent == 0
    assert clock.next_check_at == T0 + 18 * HOUR


def test_retargeting_to_a_shorter_policy_keeps_a_warning_already_given(policy, always_calendar):
    urgent = policy_of(always_calendar, 7, name="Seven hours")
    target = UserFactory()
    services.clock_start(metric=METRIC, target=target, at=T0)
    services.sla_sweep(now=T0 + 6 * HOUR)
    clock = services.clock_retarget(metric=METRIC, target=target, policy=urgent, at=T0 + 6 * HOUR)
    assert clock.warned_percent == 75
    assert clock.next_check_at == T0 + 7 * HOUR - timedelta(minutes=42)  # the 90 % point of seven hours


def test_retargeting_leaves_paused_time_out(office_calendar):
    eight_hours = policy_of(office_calendar, 8, name="Eight office hours")
    same_length = policy_of(office_calendar, 8, name="Eight office hours, renamed")
    target = UserFactory()
    monday = datetime(2026, 3, 2, tzinfo=SAST)
    services.clock_start(metric=METRIC, target=target, at=monday.replace(hour=9), policy=eight_hours)
    services.clock_pause(metric=METRIC, target=target, at=monday.replace(hour=10))
    # Paused for ten hours of the wall clock but only seven working hours.
    resumed = services.clock_resume(metric=METRIC, target=target, at=monday.replace(hour=20))
    assert resumed.due_at == datetime(2026, 3, 3, 15, 0, tzinfo=SAST)
    clock = services.clock_retarget(
        metric=METRIC, target=target, policy=same_length, at=datetime(2026, 3, 3, 11, 0, tzinfo=SAST)
    )
    assert clock.due_at == resumed.due_at


def test_retargeting_a_paused_clock_recomputes_the_time_left(policy, always_calendar):
    relaxed = policy_of(always_calendar, 24, name="A day")
    urgent = policy_of(always_calendar, 1, name="One hour")
    target = UserFactory()
    services.clock_start(metric=METRIC, target=target, at=T0)
    services.clock_pause(metric=METRIC, target=target, at=T0 + 2 * HOUR)
    clock = services.clock_retarget(metric=METRIC, target=target, policy=relaxed, at=T0 + 3 * HOUR)
    assert clock.state == ClockState.PAUSED and clock.remaining_seconds == 22 * 3600
    clock = services.clock_resume(metric=METRIC, target=target, at=T0 + 4 * HOUR)
    assert clock.due_at == T0 + 26 * HOUR
    # Two hours used against a one-hour target: paused now, and stopped while paused, it is late.
    services.clock_pause(metric=METRIC, target=target, at=T0 + 5 * HOUR)
    clock = services.clock_retarget(metric=METRIC, target=target, policy=urgent, at=T0 + 5 * HOUR)
    assert clock.remaining_seconds == -2 * 3600
    assert services.clock_stop(metric=METRIC, target=target, at=T0 + 6 * HOUR).met is False


def test_retargeting_to_the_same_policy_changes_nothing(policy):
    target = UserFactory()
    services.clock_start(metric=METRIC, target=target, at=T0)
    clock = services.clock_retarget(metric=METRIC, target=target, policy=policy, at=T0 + HOUR)
    assert clock.due_at == T0 + 8 * HOUR
    assert kinds(clock) == ["start"]


def test_the_database_allows_one_open_clock_per_metric_and_object(policy):
    target = UserFactory()
    first = services.clock_start(metric=METRIC, target=target, at=T0)
    duplicate = Clock(
        metric=METRIC,
        policy=policy,
        target_type=ContentType.objects.get_for_model(target),
        target_id=target.pk,
        started_at=T0,
        due_at=T0 + 8 * HOUR,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()
    # Another metric on the same object, and the same metric on another object, are independent.
    other_policy = policy_of(policy.calendar, 1, name="Other metric", metric="test.other")
    services.clock_start(metric="test.other", target=target, at=T0, policy=other_policy)
    services.clock_start(metric=METRIC, target=UserFactory(), at=T0)
    # Once stopped, the object can get a new clock for the same metric.
    services.clock_stop(metric=METRIC, target=target, at=T0 + HOUR)
    second = services.clock_start(metric=METRIC, target=target, at=T0 + 2 * HOUR)
    assert second.pk != first.pk
    assert services.clock_open_for(metric=METRIC, target=target) == second
    assert Clock.objects.filter(metric=METRIC, target_id=target.pk).count() == 2


def test_every_transition_is_recorded_as_an_event(policy, always_calendar):
    urgent = policy_of(always_calendar, 4, name="Four hours")
    target = UserFactory()
    services.clock_start(metric=METRIC, target=target, at=T0)
    services.clock_pause(metric=METRIC, target=target, at=T0 + HOUR)
    services.clock_resume(metric=METRIC, target=target, at=T0 + 2 * HOUR)
    services.clock_retarget(metric=METRIC, target=target, policy=urgent, at=T0 + 2 * HOUR)
    services.sla_sweep(now=T0 + 4 * HOUR)  # 75 % of four hours after a one-hour pause
    services.sla_sweep(now=T0 + 6 * HOUR)
    clock = services.clock_stop(metric=METRIC, target=target, at=T0 + 6 * HOUR)
    events = list(clock.events.values_list("kind", "at"))
    assert events == [
        ("start", T0),
        ("pause", T0 + HOUR),
        ("resume", T0 + 2 * HOUR),
        ("retarget", T0 + 2 * HOUR),
        ("warn", T0 + 4 * HOUR),
        ("warn", T0 + 6 * HOUR),
        ("breach", T0 + 6 * HOUR),
        ("stop", T0 + 6 * HOUR),
    ]
    assert clock.events.filter(kind="warn").last().data == {"percent": 90}


def test_a_clock_paused_after_its_deadline_records_the_breach_the_sweep_never_saw(
    policy, django_capture_on_commit_callbacks
):
    target = UserFactory()
    services.clock_start(metric=METRIC, target=target, at=T0)
    with django_capture_on_commit_callbacks() as callbacks:
        clock = services.clock_pause(metric=METRIC, target=target, at=T0 + 9 * HOUR)
    # The sweep skips paused clocks, so the pause itself records the breach and hands it to the handler.
    assert clock.breached_at == T0 + 9 * HOUR
    assert kinds(clock) == ["start", "breach", "pause"]
    assert len(callbacks) == 1
    assert clock.remaining_seconds == -3600
    resumed = services.clock_resume(metric=METRIC, target=target, at=T0 + 10 * HOUR)
    assert resumed.next_check_at is None  # nothing left to warn about


def test_retargeting_a_paused_clock_past_its_new_target_records_the_breach(policy, always_calendar):
    urgent = policy_of(always_calendar, 1, name="One hour")
    target = UserFactory()
    services.clock_start(metric=METRIC, target=target, at=T0)
    services.clock_pause(metric=METRIC, target=target, at=T0 + 2 * HOUR)
    clock = services.clock_retarget(metric=METRIC, target=target, policy=urgent, at=T0 + 3 * HOUR)
    assert clock.breached_at == T0 + 3 * HOUR and clock.due_at == T0 + HOUR
    assert kinds(clock)[-2:] == ["retarget", "breach"]


def test_a_metric_without_a_default_policy_is_a_configuration_error(db):
    with pytest.raises(ImproperlyConfigured, match=r"test\.unconfigured"):
        services.clock_start(metric="test.unconfigured", target=UserFactory(), at=T0)


def test_a_policy_of_another_metric_is_refused(policy, always_calendar):
    other = policy_of(always_calendar, 1, name="Other metric", metric="test.other")
    target = UserFactory()
    with pytest.raises(ValueError, match=r"test\.other"):
        services.clock_start(metric=METRIC, target=target, at=T0, policy=other)
    services.clock_start(metric=METRIC, target=target, at=T0)
    with pytest.raises(ValueError, match=r"test\.other"):
        services.clock_retarget(metric=METRIC, target=target, policy=other, at=T0)


def test_naive_times_are_refused(policy):
    with pytest.raises(ValueError, match="timezone-aware"):
        services.clock_start(metric=METRIC, target=UserFactory(), at=datetime(2026, 3, 2, 8, 0))


def test_a_prefetched_calendar_gives_its_spec_without_a_query(office_calendar, django_assert_num_queries):
    calendar = Calendar.objects.prefetch_related("hours", "holidays").get(pk=office_calendar.pk)
    with django_assert_num_queries(0):
        spec = spec_for(calendar)
        assert spec_for(calendar) is spec
    assert spec.tz == "Africa/Johannesburg" and set(spec.hours) == {0, 1, 2, 3, 4}


@pytest.mark.django_db(transaction=True)
def test_two_requests_starting_the_same_clock_at_once_get_the_same_clock(policy):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite lets one writer in at a time; the race needs two PostgreSQL connections")
    target = UserFactory()
    barrier = threading.Barrier(2)
    started: list[int] = []

    def start() -> None:
        barrier.wait()
        try:
            started.append(services.clock_start(metric=METRIC, target=target, at=T0).pk)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Both find no open clock; the unique constraint turns the second insert into a read of the first clock.
    assert len(started) == 2 and started[0] == started[1]
    assert Clock.objects.filter(metric=METRIC).count() == 1
