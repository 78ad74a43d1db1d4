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

    def test_each_page_is_claimed_swept_and_recorded_in_one_statement_on_postgresql(self, policy):
        start_clocks(6)
        start_clocks(3, at=T0 + 20 * HOUR)  # not due yet: never read
        with CaptureQueriesContext(connection) as queries:
            result = sweep_at(T0 + 9 * HOUR, batch_size=4)
        assert (result.batches, result.breached) == (2, 6)
        statements = [query["sql"].split()[0] for query in queries.captured_queries]
        statements = [word for word in statements if word not in ("SAVEPOINT", "RELEASE")]
        if connection.vendor == "postgresql":
            # The 24/7 policies' warn points once, then one statement for each page and the empty one that ends
            # the run.
            assert statements == ["SELECT", "WITH", "WITH", "WITH"]
        else:
            # SQLite: a read, an update and an insert per page, and the empty read that ends the run.
            assert statements == ["SELECT", "UPDATE", "INSERT", "SELECT", "UPDATE", "INSERT", "SELECT"]

    def test_business_hours_clocks_of_a_page_cost_one_read_one_update_and_one_insert_more(
        self, policy, office_calendar
    ):
        office = policy_of(office_calendar, 4, name="Four office hours")
        start_clocks(2)
        for _ in range(2):
            services.clock_start(metric=METRIC, target=UserFactory(), at=T0, policy=office)
        with CaptureQueriesContext(connection) as queries:
            result = sweep_at(T0 + 60 * HOUR, batch_size=10)
        assert (result.batches, result.warned, result.breached) == (1, 4, 4)
        statements = [query["sql"].split()[0] for query in queries.captured_queries]
        statements = [word for word in statements if word not in ("SAVEPOINT", "RELEASE")]
        if connection.vendor == "postgresql":
            # The office hours and holidays are read once per sweep, when its first such clock is swept.
            assert statements == ["SELECT", "WITH", "SELECT", "SELECT", "SELECT", "UPDATE", "INSERT", "WITH"]
        else:
            assert statements == ["SELECT", "SELECT", "SELECT", "UPDATE", "INSERT", "SELECT"]

    def test_each_page_is_swept_with_no_model_instance(self, policy, office_calendar, monkeypatch):
        office = policy_of(office_calendar, 4, name="Four office hours")
        start_clocks(4)
        for _ in range(2):
            services.clock_start(metric=METRIC, target=UserFactory(), at=T0, policy=office)
        built: list[object] = []
        for model in (Clock, ClockEvent):
            original = model.__init__

            def counting(self, *args, _original=original, **kwargs):  # type: ignore[no-untyped-def]
                built.append(self)
                _original(self, *args, **kwargs)

            monkeypatch.setattr(model, "__init__", counting)
        result = sweep_at(T0 + 60 * HOUR, batch_size=4)
        assert (result.batches, result.warned, result.breached) == (2, 6, 6)
        assert built == []

    def test_a_clock_stopped_after_it_was_claimed_is_left_alone(self, policy, office_calendar, monkeypatch):
        # On PostgreSQL the page's statement claims and writes a 24/7 clock at once; a business-hours clock is
        # claimed (locked) there and read again for Python, which is where a change can come between the two.
        office = policy_of(office_calendar, 4, name="Four office hours")
        first, second = (
            services.clock_start(metric=METRIC, target=UserFactory(), at=T0, policy=office) for _ in range(2)
        )
        hook = "_claimed" if connection.vendor == "postgresql" else "_claim"
        claim = getattr(services, hook)

        def claim_then_stop(*args, **kwargs):  # type: ignore[no-untyped-def]
            rows = claim(*args, **kwargs)
            if rows:
                # What a decision taken meanwhile does (on PostgreSQL the sweep's own lock lets it through here).
                services.clock_stop(metric=METRIC, target=first.target, at=T0 + 29 * HOUR)
            return rows

        monkeypatch.setattr(services, hook, claim_then_stop)
        result = sweep_at(T0 + 60 * HOUR)
        assert (result.warned, result.breached) == (1, 1)
        assert not first.events.filter(kind__in=["warn", "breach"]).exists()
        assert list(second.events.filter(kind__in=["warn", "breach"]).values_list("kind", flat=True)) == [
            "warn",
            "breach",
        ]
        first.refresh_from_db()
        assert first.state == "stopped" and first.breached_at is None


@pytest.mark.django_db
class TestTheSweepDecidesAsTheKernel:
    """The sweep's set-based decisions against the kernel's in-memory ones (services.sweep_apply), clock by clock."""

    def test_a_page_mixing_calendars_and_policies(self, policy, always_calendar, office_calendar):
        odd = policy_of(always_calendar, 7.218694, name="Odd target, unsorted points", warn=(90, 50, 75))
        silent = policy_of(always_calendar, 3, name="No warn points", warn=())
        office = policy_of(office_calendar, 6, name="Six office hours", warn=(60, 85))
        clocks = []
        for index, chosen in enumerate([policy, odd, silent, office] * 3):
            # Starts with and without a fraction of a second: the breach's due_at is written as isoformat() is.
            at = T0 + index * timedelta(minutes=17, microseconds=123457 * (index % 2))
            clocks.append(services.clock_start(metric=METRIC, target=UserFactory(), at=at, policy=chosen))
        moments = [T0 + hours * HOUR for hours in (1, 2.5, 4, 5.5, 6.1, 6.9, 7.3, 8.2, 9, 30, 80)]
        for moment in moments:
            expected: dict[int, tuple[tuple[object, ...], list[tuple[str, dict[str, object]]]]] = {}
            for clock in Clock.objects.filter(pk__in=[c.pk for c in clocks]).select_related("policy__calendar"):
                if clock.next_check_at is None or clock.next_check_at > moment:
                    expected[clock.pk] = (_swept_fields(clock), [])
                    continue
                level, breach = services.sweep_apply(services.spec_for(clock.policy.calendar), clock, moment)
                events = [("warn", {"percent": level})] if level is not None else []
                if breach:
                    events.append(("breach", {"due_at": clock.due_at.isoformat()}))
                expected[clock.pk] = (_swept_fields(clock), events)
            before = set(ClockEvent.objects.values_list("pk", flat=True))
            result = sweep_at(moment, batch_size=5)
            found = {clock.pk: (_swept_fields(clock), []) for clock in Clock.objects.filter(pk__in=expected)}
            for event in ClockEvent.objects.exclude(pk__in=before).order_by("pk"):
                found[event.clock_id][1].append((event.kind, event.data))
                assert event.at == moment and event.dispatched_at is not None and event.handled_at is None
            assert found == expected, moment
            assert result.warned == sum(kind == "warn" for _, events in found.values() for kind, _ in events)
            assert result.breached == sum(kind == "breach" for _, events in found.values() for kind, _ in events)
        assert all(clock.breached_at is not None for clock in Clock.objects.filter(pk__in=expected))

    def test_a_clock_whose_next_check_passed_without_a_point_is_rescheduled_without_an_event(self, policy):
        # A next check left behind by a policy whose points were changed since: nothing to record, a new check.
        (clock,) = start_clocks(1)
        Clock.objects.filter(pk=clock.pk).update(next_check_at=T0 + HOUR)
        result = sweep_at(T0 + 2 * HOUR)
        assert (result.batches, result.warned, result.breached) == (1, 0, 0)
        clock.refresh_from_db()
        assert clock.next_check_at == T0 + 6 * HOUR and clock.warned_percent == 0
        assert not clock.events.exclude(kind="start").exists()


def _swept_fields(clock: Clock) -> tuple[object, ...]:
    return (clock.warned_percent, clock.warned_at, clock.breached_at, clock.next_check_at, clock.state)


@pytest.mark.django_db
def test_each_page_hands_its_events_to_one_handler_task_after_commit_in_clock_order(
    policy, office_calendar, monkeypatch, django_capture_on_commit_callbacks
):
    office = policy_of(office_calendar, 4, name="Four office hours")
    clocks = start_clocks(3)
    # A page of 24/7 and business-hours clocks: one task for both, clock by clock, each warning before its breach.
    clocks += [services.clock_start(metric=METRIC, target=UserFactory(), at=T0, policy=office) for _ in range(2)]
    clocks += start_clocks(1)
    published: list[list[int]] = []
    monkeypatch.setattr(tasks.handle_events, "delay", published.append)
    with django_capture_on_commit_callbacks() as callbacks:
        result = sweep_at(T0 + 60 * HOUR, batch_size=4)
    assert (result.batches, result.warned, result.breached) == (2, 6, 6)
    assert published == []  # nothing before the commit
    for callback in callbacks:
        callback()
    events = ClockEvent.objects.filter(kind__in=["warn", "breach"])
    by_clock = {(event.clock_id, event.kind): event.pk for event in events}
    pages = [sorted(clocks, key=lambda clock: (clock.next_check_at, clock.pk))[:4], []]
    pages[1] = [clock for clock in clocks if clock not in pages[0]]
    assert published == [
        [by_clock[clock.pk, kind] for clock in sorted(page, key=lambda clock: clock.pk) for kind in ("warn", "breach")]
        for page in pages
    ]
    # Each warning and breach once; a second run records and hands out nothing.
    assert events.count() == 12
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_at(T0 + 61 * HOUR).batches == 0
    assert len(published) == 2


def race(moment: datetime, **options) -> None:
    """Two sweeps at `moment` started at once, each on its own connection."""
    barrier = threading.Barrier(2)
    finished: list[bool] = []

    def sweep() -> None:
        barrier.wait()
        try:
            for _attempt in range(200):
                try:
                    services.sla_sweep(now=moment, **options)
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


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_racing_over_the_same_clocks_warn_and_breach_once(policy):
    clocks = start_clocks(4)
    race(T0 + 6 * HOUR)
    race(T0 + 9 * HOUR)
    for clock in clocks:
        assert warnings_of(clock) == [75, 90]
        assert clock.events.filter(kind="breach").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_racing_page_by_page_over_24_7_and_business_hours_clocks_record_each_event_once(
    policy, office_calendar
):
    # Four office hours from Monday 10:00 in Johannesburg: 75 % at 13:00, 90 % at 13:36, due at 14:00 (T0 + 4 h).
    office = policy_of(office_calendar, 4, name="Four office hours")
    around = start_clocks(5)
    business = [services.clock_start(metric=METRIC, target=UserFactory(), at=T0, policy=office) for _ in range(5)]
    for moment in (T0 + 3 * HOUR, T0 + 6 * HOUR, T0 + 9 * HOUR):
        race(moment, batch_size=2)
    for clock in around:
        assert warnings_of(clock) == [75, 90]
        assert clock.events.filter(kind="breach").count() == 1
    for clock in business:
        assert warnings_of(clock) == [75, 90]
        assert clock.events.filter(kind="breach").count() == 1
    assert ClockEvent.objects.filter(kind__in=["warn", "breach"]).count() == 30


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
