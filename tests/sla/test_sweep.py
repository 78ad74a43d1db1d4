"""The sweep: warnings and breaches from stored deadlines, once each, however often or late it runs."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.exceptions import Retry
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError, close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from saypro.sla import handlers, services, tasks
from saypro.sla.models import Clock, ClockEvent
from tests.conftest import wait_for
from tests.factories import UserFactory
from tests.sla.conftest import METRIC, policy_of

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def start_clocks(count: int, at: datetime = T0) -> list[Clock]:
    return [services.clock_start(metric=METRIC, target=UserFactory(), at=at) for _ in range(count)]


def sweep_at(moment: datetime, **options) -> services.SweepResult:
    with time_machine.travel(moment, tick=False):
        return services.sla_sweep(**options)


def warnings_of(clock: Clock) -> list[int]:
    return [event.data["percent"] for event in clock.events.filter(kind="warn")]


@pytest.fixture
def handled(monkeypatch) -> list[tuple[str, int]]:
    """The test metric's handler, in a registry of its own: records (kind, event id) for each call."""
    monkeypatch.setattr(handlers, "_handlers", {})
    calls: list[tuple[str, int]] = []

    @handlers.register(METRIC)
    def record(event: ClockEvent) -> None:
        calls.append((event.kind, event.pk))

    return calls


@pytest.mark.django_db
class TestWarningsAndBreach:
    def test_warns_at_75_and_90_percent_and_breaches_at_the_deadline(self, policy):
        with time_machine.travel(T0, tick=False):
            (clock,) = start_clocks(1)
        assert sweep_at(T0 + 6 * HOUR - timedelta(seconds=1)).warned == 0

        result = sweep_at(T0 + 6 * HOUR)
        clock.refresh_from_db()
        assert (result.warned, result.breached) == (1, 0)
        assert clock.warned_percent == 75 and clock.warned_at == T0 + 6 * HOUR
        assert clock.next_check_at == T0 + 7.2 * HOUR

        assert sweep_at(T0 + 7.2 * HOUR).warned == 1
        clock.refresh_from_db()
        assert clock.warned_percent == 90 and clock.next_check_at == T0 + 8 * HOUR

        result = sweep_at(T0 + 8 * HOUR)
        clock.refresh_from_db()
        assert (result.warned, result.breached) == (0, 1)
        assert clock.breached_at == T0 + 8 * HOUR and clock.next_check_at is None
        assert warnings_of(clock) == [75, 90]
        assert clock.events.get(kind="breach").data == {"due_at": clock.due_at.isoformat()}

    def test_running_the_sweep_again_changes_nothing(self, policy):
        (clock,) = start_clocks(1)
        for moment in (T0 + 6 * HOUR, T0 + 7.5 * HOUR, T0 + 9 * HOUR):
            first = sweep_at(moment)
            again = sweep_at(moment)
            assert first.warned + first.breached == 1
            assert (again.warned, again.breached) == (0, 0)
        assert list(clock.events.values_list("kind", flat=True)) == ["start", "warn", "warn", "breach"]

    def test_after_downtime_one_warning_at_the_highest_point_and_one_breach(self, policy):
        (clock,) = start_clocks(1)
        result = sweep_at(T0 + 30 * HOUR)
        assert (result.warned, result.breached) == (1, 1)
        assert warnings_of(clock) == [90]
        assert clock.events.filter(kind="breach").count() == 1
        assert sweep_at(T0 + 31 * HOUR).warned == 0

    def test_a_late_warning_and_breach_are_dated_when_given_and_the_deadline_stays_on_record(self, policy):
        (clock,) = start_clocks(1)
        sweep_at(T0 + 30 * HOUR)
        clock.refresh_from_db()
        assert clock.breached_at == clock.warned_at == T0 + 30 * HOUR
        assert clock.due_at == T0 + 8 * HOUR
        assert clock.events.get(kind="breach").data == {"due_at": (T0 + 8 * HOUR).isoformat()}

    def test_a_calendar_emptied_of_its_hours_does_not_stop_the_sweep_for_other_clocks(
        self, policy, office_calendar, caplog
    ):
        office = policy_of(office_calendar, 2, name="Two office hours")
        stranded = services.clock_start(metric=METRIC, target=UserFactory(), at=T0, policy=office)
        office_calendar.hours.all().delete()
        (healthy,) = start_clocks(1)
        result = sweep_at(T0 + 30 * HOUR)
        assert (result.warned, result.breached) == (1, 1)
        assert not stranded.events.exclude(kind="start").exists()
        assert healthy.events.filter(kind="breach").exists()
        assert f"SLA clock {stranded.pk} cannot be swept" in caplog.text

    def test_after_a_shorter_downtime_the_missed_point_is_caught_up_without_a_breach(self, policy):
        (clock,) = start_clocks(1)
        assert sweep_at(T0 + 7.5 * HOUR).warned == 1
        clock.refresh_from_db()
        assert warnings_of(clock) == [90] and clock.breached_at is None
        assert clock.next_check_at == clock.due_at

    def test_paused_and_stopped_clocks_are_never_warned(self, policy):
        running, paused, stopped = start_clocks(3)
        services.clock_pause(metric=METRIC, target=paused.target, at=T0 + HOUR)
        services.clock_stop(metric=METRIC, target=stopped.target, at=T0 + HOUR)
        result = sweep_at(T0 + 30 * HOUR)
        assert (result.warned, result.breached) == (1, 1)
        assert set(ClockEvent.objects.filter(kind__in=["warn", "breach"]).values_list("clock", flat=True)) == {
            running.pk
        }

    def test_a_resumed_clock_is_warned_at_its_moved_points(self, policy):
        (clock,) = start_clocks(1)
        services.clock_pause(metric=METRIC, target=clock.target, at=T0 + HOUR)
        services.clock_resume(metric=METRIC, target=clock.target, at=T0 + 3 * HOUR)
        assert sweep_at(T0 + 7 * HOUR).warned == 0  # 75 % is now at T0 + 8 h
        assert sweep_at(T0 + 8 * HOUR).warned == 1

    def test_warning_points_on_business_hours_follow_working_time(self, office_calendar):
        four_hours = policy_of(office_calendar, 4, name="Four office hours")
        sast = ZoneInfo("Africa/Johannesburg")
        clock = services.clock_start(
            metric=METRIC, target=UserFactory(), at=datetime(2026, 3, 6, 15, 0, tzinfo=sast), policy=four_hours
        )
        assert clock.due_at == datetime(2026, 3, 9, 10, 0, tzinfo=sast)
        assert sweep_at(datetime(2026, 3, 8, 12, 0, tzinfo=sast)).warned == 0  # Sunday: no working time
        assert sweep_at(datetime(2026, 3, 9, 9, 0, tzinfo=sast)).warned == 1  # three of four working hours

    def test_the_beat_task_sweeps_and_reports_its_counts(self, policy):
        start_clocks(2)
        with time_machine.travel(T0 + 30 * HOUR, tick=False):
            assert tasks.sweep.delay().get() == {"warned": 2, "breached": 2, "batches": 1, "redispatched": 0}


@pytest.mark.django_db
class TestBatches:
    def test_the_sweep_works_in_bounded_batches_until_nothing_is_due(self, policy):
        start_clocks(5)
        result = sweep_at(T0 + 30 * HOUR, batch_size=2)
        assert (result.batches, result.warned, result.breached) == (3, 5, 5)
        assert not Clock.objects.filter(next_check_at__isnull=False).exists()

    def test_the_batch_size_defaults_to_the_setting(self, policy, settings):
        settings.SLA_SWEEP_BATCH_SIZE = 2
        start_clocks(3)
        assert sweep_at(T0 + 30 * HOUR).batches == 2

    def test_max_batches_bounds_one_run_and_the_next_run_takes_the_rest(self, policy):
        # The earliest deadlines first: they are the most overdue.
        late = start_clocks(2, at=T0 - HOUR)
        start_clocks(3)
        result = sweep_at(T0 + 30 * HOUR, batch_size=2, max_batches=1)
        assert (result.batches, result.breached) == (1, 2)
        assert set(Clock.objects.filter(breached_at__isnull=False)) == set(late)
        result = sweep_at(T0 + 30 * HOUR, batch_size=2)
        assert (result.batches, result.breached) == (2, 3)

    def test_each_page_is_read_in_one_query_whatever_its_size(self, policy):
        start_clocks(6)
        start_clocks(3, at=T0 + 20 * HOUR)  # not due yet: never read
        with CaptureQueriesContext(connection) as queries:
            result = sweep_at(T0 + 9 * HOUR, batch_size=4)
        assert (result.batches, result.breached) == (2, 6)
        reads = [query["sql"] for query in queries.captured_queries if query["sql"].startswith("SELECT")]
        assert len(reads) == 3  # two pages and the empty one that ends the run

    def test_each_page_is_written_with_one_update_and_one_insert_and_no_model_instance(self, policy, monkeypatch):
        start_clocks(6)
        built: list[object] = []
        for model in (Clock, ClockEvent):
            original = model.__init__

            def counting(self, *args, _original=original, **kwargs):  # type: ignore[no-untyped-def]
                built.append(self)
                _original(self, *args, **kwargs)

            monkeypatch.setattr(model, "__init__", counting)
        with CaptureQueriesContext(connection) as queries:
            result = sweep_at(T0 + 30 * HOUR, batch_size=4)
        assert (result.batches, result.warned, result.breached) == (2, 6, 6)
        assert built == []
        statements = [query["sql"].split()[0] for query in queries.captured_queries]
        assert statements.count("UPDATE") == 2 and statements.count("INSERT") == 2

    def test_a_clock_stopped_after_it_was_claimed_is_left_alone(self, policy, monkeypatch):
        first, second = start_clocks(2)
        claim = services._claim

        def claim_then_stop(*args, **kwargs):  # type: ignore[no-untyped-def]
            rows = claim(*args, **kwargs)
            if rows:
                # What a decision taken meanwhile does (on PostgreSQL the sweep's own lock lets it through here).
                services.clock_stop(metric=METRIC, target=first.target, at=T0 + 29 * HOUR)
            return rows

        monkeypatch.setattr(services, "_claim", claim_then_stop)
        result = sweep_at(T0 + 30 * HOUR)
        assert (result.warned, result.breached) == (1, 1)
        assert not first.events.filter(kind__in=["warn", "breach"]).exists()
        assert list(second.events.filter(kind__in=["warn", "breach"]).values_list("kind", flat=True)) == [
            "warn",
            "breach",
        ]
        first.refresh_from_db()
        assert first.state == "stopped" and first.breached_at is None


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_racing_over_the_same_clocks_warn_and_breach_once(policy):
    clocks = start_clocks(4)

    def race(moment: datetime) -> None:
        barrier = threading.Barrier(2)
        finished: list[bool] = []

        def sweep() -> None:
            barrier.wait()
            try:
                for _attempt in range(200):
                    try:
                        services.sla_sweep(now=moment)
                        finished.append(True)
                        return
                    except (OperationalError, Retry) as error:
                        # SQLite's shared in-memory test database refuses a second writer instead of waiting
                        # (in the sweep, or in the eager handler task run after its commit, which then asks
                        # for a retry); the sweep simply runs again. PostgreSQL waits on the row lock instead.
                        assert connection.vendor == "sqlite" and "locked" in str(error)
                        time.sleep(0.005)
            finally:
                close_old_connections()

        threads = [threading.Thread(target=sweep) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert finished == [True, True]

    race(T0 + 6 * HOUR)
    race(T0 + 9 * HOUR)
    for clock in clocks:
        assert warnings_of(clock) == [75, 90]
        assert clock.events.filter(kind="breach").count() == 1


@pytest.mark.django_db
class TestHandleEvent:
    def test_the_handler_runs_once_for_each_event_even_when_the_task_runs_twice(
        self, policy, handled, django_capture_on_commit_callbacks
    ):
        start_clocks(1)
        with django_capture_on_commit_callbacks(execute=True):
            sweep_at(T0 + 30 * HOUR)
        warn, breach = ClockEvent.objects.filter(kind__in=["warn", "breach"]).order_by("pk")
        assert handled == [("warn", warn.pk), ("breach", breach.pk)]
        tasks.handle_events.delay([warn.pk])
        tasks.handle_events.delay([breach.pk])
        assert len(handled) == 2
        assert not ClockEvent.objects.filter(kind__in=["warn", "breach"], handled_at__isnull=True).exists()

    def test_an_event_of_a_metric_without_a_handler_is_only_marked_handled(self, always_calendar, handled):
        other = policy_of(always_calendar, 1, name="Unhandled", metric="test.unhandled")
        services.clock_start(metric="test.unhandled", target=UserFactory(), at=T0, policy=other)
        sweep_at(T0 + 2 * HOUR)
        breach = ClockEvent.objects.get(kind="breach")
        tasks.handle_events.delay([breach.pk])
        breach.refresh_from_db()
        assert breach.handled_at is not None
        assert handled == []

    def test_a_handler_failing_with_oserror_leaves_the_event_for_the_retry(self, policy, monkeypatch):
        monkeypatch.setattr(handlers, "_handlers", {})
        calls: list[int] = []

        @handlers.register(METRIC)
        def send(event: ClockEvent) -> None:
            calls.append(event.pk)
            if len(calls) == 1:
                raise ConnectionRefusedError("mail server down")

        start_clocks(1)
        sweep_at(T0 + 30 * HOUR)
        breach = ClockEvent.objects.get(kind="breach")
        # Run eagerly, the task hands its retry back to the caller instead of queueing it.
        with pytest.raises(Retry):
            tasks.handle_events.delay([breach.pk])
        breach.refresh_from_db()
        assert breach.handled_at is None
        tasks.handle_events.delay([breach.pk])  # the retry
        breach.refresh_from_db()
        assert breach.handled_at is not None
        assert calls == [breach.pk, breach.pk]


@pytest.mark.django_db
def test_the_sweep_hands_out_again_the_events_whose_handler_never_ran(policy, handled):
    """A worker killed before acknowledging a handler task must not leave the warning unsent for an hour."""
    start_clocks(2)
    sweep_at(T0 + 30 * HOUR)  # breaches, but the handler tasks are lost (never run)
    assert handled == []
    lost = set(ClockEvent.objects.filter(kind__in=["warn", "breach"]).values_list("pk", flat=True))

    with time_machine.travel(T0 + 30 * HOUR + services.redispatch_after() - timedelta(seconds=1), tick=False):
        assert tasks.sweep()["redispatched"] == 0
    with time_machine.travel(T0 + 30 * HOUR + services.redispatch_after(), tick=False):
        assert tasks.sweep()["redispatched"] == len(lost) == 4
        assert {pk for _, pk in handled} == lost
        # Handled now: the next sweep finds nothing to hand out, and a late original task does nothing.
        assert tasks.sweep()["redispatched"] == 0
        for pk in lost:
            tasks.handle_events.delay([pk])
    assert len(handled) == 4


@pytest.mark.django_db
def test_an_event_is_handed_out_again_once_per_period_not_once_per_sweep(policy):
    start_clocks(2)
    sweep_at(T0 + 30 * HOUR)
    period = services.redispatch_after()
    first = services.clock_events_redispatch(now=T0 + 30 * HOUR + period)
    assert len(first) == 4
    # Still queued behind a slow backlog, say: the next sweeps leave them alone until another period passed.
    assert services.clock_events_redispatch(now=T0 + 30 * HOUR + period + timedelta(minutes=1)) == []
    assert sorted(services.clock_events_redispatch(now=T0 + 30 * HOUR + 2 * period)) == sorted(first)


def test_the_sweep_has_a_queue_of_its_own_that_every_worker_consumes():
    from saypro.celery import app

    assert app.amqp.router.route({}, "saypro.sla.tasks.sweep")["queue"].name == "sla"
    assert app.amqp.router.route({}, "saypro.sla.tasks.handle_events")["queue"].name == "celery"
    assert {"celery", "sla"} <= set(app.amqp.queues)


def test_two_apps_cannot_answer_the_same_metric(monkeypatch):
    monkeypatch.setattr(handlers, "_handlers", {})

    @handlers.register(METRIC)
    def first(event: ClockEvent) -> None: ...

    def second(event: ClockEvent) -> None: ...

    with pytest.raises(ImproperlyConfigured, match=re.escape(METRIC)):
        handlers.register(METRIC)(second)
    assert handlers.handler_for(METRIC) is first


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sweeps_retries_a_failed_handler_and_runs_it_once_per_event(
    policy, monkeypatch, celery_worker_live
):
    monkeypatch.setattr(handlers, "_handlers", {})
    calls: list[str] = []

    @handlers.register(METRIC)
    def send(event: ClockEvent) -> None:
        calls.append(event.kind)
        if calls.count("breach") == 1 and event.kind == "breach":
            raise ConnectionRefusedError("mail server down")

    services.clock_start(metric=METRIC, target=UserFactory(), at=timezone.now() - 30 * HOUR)
    tasks.sweep.delay()

    def both_handled() -> bool:
        try:
            return ClockEvent.objects.filter(kind__in=["warn", "breach"], handled_at__isnull=False).count() == 2
        except OperationalError:
            # SQLite's shared in-memory test database refuses a read while the worker writes: look again.
            assert connection.vendor == "sqlite"
            return False

    wait_for(both_handled)
    assert sorted(calls) == ["breach", "breach", "warn"]
