"""Compliance and queue figures over a small fixed set of clocks, checked against values worked out by hand."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.contenttypes.models import ContentType

from accounts.models import Registration, User
from saypro.sla import selectors
from saypro.sla.models import OPEN_STATES, Clock, ClockState
from tests.factories import RegistrationFactory, UserFactory
from tests.sla.conftest import METRIC

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
MARCH = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))


@pytest.fixture
def clock(policy):
    """Makes a clock with the given fields; the rest describe a running clock started eight hours earlier."""
    user_type = ContentType.objects.get_for_model(User)
    numbers = iter(range(1, 1000))

    def make(*, due_at: datetime, metric: str = METRIC, target_id: int | None = None, **fields) -> Clock:
        fields.setdefault("started_at", due_at - 8 * HOUR)
        fields.setdefault("state", ClockState.RUNNING)
        return Clock.objects.create(
            metric=metric,
            policy=policy,
            target_type=user_type,
            target_id=target_id or next(numbers),
            due_at=due_at,
            **fields,
        )

    return make


def stopped(met: bool, **fields) -> dict:
    return {"state": ClockState.STOPPED, "met": met, "stopped_at": fields.pop("stopped_at", NOW), **fields}


class TestCompliance:
    def test_counts_met_clocks_against_every_kind_of_breach(self, clock):
        day = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
        for _ in range(3):
            clock(due_at=day, **stopped(True))  # achieved
        clock(due_at=day, **stopped(False))  # stopped late
        clock(due_at=day, **stopped(False, breached_at=day))  # breached by the sweep, then stopped: counted once
        clock(due_at=NOW - HOUR)  # still open past its deadline, the sweep not yet run
        clock(due_at=NOW - 2 * HOUR, breached_at=NOW - 2 * HOUR, warned_percent=90)  # open, breached by the sweep
        clock(due_at=NOW + HOUR)  # open and in time: not decided yet, left out
        clock(due_at=NOW + HOUR, state=ClockState.PAUSED, paused_at=NOW - HOUR)  # waiting on the user: left out
        clock(due_at=datetime(2026, 2, 27, tzinfo=UTC), **stopped(False))  # due before the period
        clock(due_at=MARCH[1], **stopped(False))  # the end is exclusive
        clock(due_at=day, metric="test.other", **stopped(False))  # another metric

        result = selectors.compliance(metric=METRIC, start=MARCH[0], end=MARCH[1], now=NOW)
        assert (result.achieved, result.breached) == (3, 4)
        assert result.rate == pytest.approx(3 / 7)

    def test_an_open_clock_counts_as_breached_only_once_its_deadline_has_passed(self, clock):
        clock(due_at=NOW + HOUR)
        before = selectors.compliance(metric=METRIC, start=MARCH[0], end=MARCH[1], now=NOW)
        after = selectors.compliance(metric=METRIC, start=MARCH[0], end=MARCH[1], now=NOW + HOUR)
        assert (before.breached, after.breached) == (0, 1)

    def test_a_period_with_nothing_decided_has_no_rate(self, clock):
        clock(due_at=NOW + HOUR)
        result = selectors.compliance(metric=METRIC, start=MARCH[0], end=MARCH[1], now=NOW)
        assert (result.achieved, result.breached, result.rate) == (0, 0, None)
        empty = selectors.compliance(metric="test.nothing", start=MARCH[0], end=MARCH[1], now=NOW)
        assert empty.rate is None


class TestComplianceSeries:
    @pytest.fixture
    def around_midnight(self, clock):
        clock(due_at=datetime(2026, 3, 3, 21, 30, tzinfo=UTC), **stopped(True))  # 23:30 in Johannesburg
        clock(due_at=datetime(2026, 3, 3, 22, 30, tzinfo=UTC), **stopped(False))  # 00:30 the next day there
        clock(due_at=datetime(2026, 3, 4, 10, 0, tzinfo=UTC), **stopped(True))
        clock(due_at=datetime(2026, 3, 5, 21, 59, tzinfo=UTC), **stopped(True))  # 23:59 there
        clock(due_at=datetime(2026, 3, 12, 9, 0, tzinfo=UTC))  # open, in time

    def test_each_clock_lands_on_its_local_due_date(self, around_midnight):
        series = selectors.compliance_series(
            metric=METRIC, start=MARCH[0], end=MARCH[1], tz=ZoneInfo("Africa/Johannesburg"), now=NOW
        )
        assert series == [
            (date(2026, 3, 3), 1, 0, 1.0),
            (date(2026, 3, 4), 1, 1, 0.5),
            (date(2026, 3, 5), 1, 0, 1.0),
            (date(2026, 3, 12), 0, 0, None),
        ]

    def test_the_same_clocks_in_utc_fall_on_other_days(self, around_midnight):
        series = selectors.compliance_series(metric=METRIC, start=MARCH[0], end=MARCH[1], tz=UTC, now=NOW)
        assert series == [
            (date(2026, 3, 3), 1, 1, 0.5),
            (date(2026, 3, 4), 1, 0, 1.0),
            (date(2026, 3, 5), 1, 0, 1.0),
            (date(2026, 3, 12), 0, 0, None),
        ]

    def test_the_period_bounds_are_instants_not_dates(self, around_midnight):
        # From midnight in Johannesburg on 4 March (22:00 UTC on the 3rd) to the end of the 4th there.
        start = datetime(2026, 3, 4, tzinfo=ZoneInfo("Africa/Johannesburg"))
        series = selectors.compliance_series(
            metric=METRIC, start=start, end=start + timedelta(days=1), tz=ZoneInfo("Africa/Johannesburg"), now=NOW
        )
        assert series == [(date(2026, 3, 4), 1, 1, 0.5)]


def test_queue_counts_split_open_clocks_into_at_risk_and_breached(clock):
    clock(due_at=NOW + 4 * HOUR, risk_at=NOW + 2 * HOUR)  # open, in time
    clock(due_at=NOW + HOUR, risk_at=NOW - HOUR)  # at risk
    clock(due_at=NOW + HOUR, risk_at=NOW)  # at risk from this very moment
    clock(due_at=NOW - HOUR, risk_at=NOW - 3 * HOUR)  # past the deadline, the sweep not yet run
    clock(due_at=NOW - HOUR, risk_at=NOW - 3 * HOUR, breached_at=NOW - HOUR)  # breached by the sweep
    clock(due_at=NOW + HOUR, state=ClockState.PAUSED, paused_at=NOW - HOUR)  # waiting on the user
    clock(due_at=NOW - HOUR, state=ClockState.PAUSED, paused_at=NOW, breached_at=NOW - HOUR)  # breached, paused
    clock(due_at=NOW - HOUR, **stopped(False))  # closed: not in the queue
    clock(due_at=NOW - HOUR, metric="test.other")

    counts = selectors.queue_counts(metric=METRIC, now=NOW)
    assert (counts.open, counts.at_risk, counts.breached) == (7, 2, 3)


def test_the_bounded_queue_counts_count_the_same_clocks_a_breach_not_yet_swept_included(clock):
    clock(due_at=NOW + 4 * HOUR, risk_at=NOW + 2 * HOUR)  # open, in time
    clock(due_at=NOW + HOUR, risk_at=NOW - HOUR)  # at risk
    clock(due_at=NOW, risk_at=NOW - 3 * HOUR)  # due this very moment, the sweep not yet run: breached
    clock(due_at=NOW - HOUR, risk_at=NOW - 3 * HOUR)  # past the deadline, the sweep not yet run
    clock(due_at=NOW - HOUR, risk_at=NOW - 3 * HOUR, breached_at=NOW - HOUR)  # breached by the sweep
    # Breached by the sweep, then its deadline moved on (a resume, a new policy): still breached.
    clock(due_at=NOW + 2 * HOUR, risk_at=NOW + HOUR, breached_at=NOW - 2 * HOUR)
    clock(due_at=NOW - HOUR, state=ClockState.PAUSED, paused_at=NOW, breached_at=NOW - HOUR)  # breached, paused
    clock(due_at=NOW - HOUR, state=ClockState.PAUSED, paused_at=NOW)  # paused before its deadline: not breached
    clock(due_at=NOW - HOUR, **stopped(False))  # closed: not in the queue
    clock(due_at=NOW - HOUR, metric="test.other")

    exact = selectors.queue_counts(metric=METRIC, now=NOW)
    bounded = selectors.queue_counts_bounded(metric=METRIC, now=NOW)
    assert (exact.open, exact.at_risk, exact.breached) == (8, 1, 5)
    assert (bounded.open, bounded.at_risk, bounded.breached) == (8, 1, 5)
    breached = Clock.objects.filter(metric=METRIC, state__in=OPEN_STATES)
    assert breached.filter(selectors.open_breached_in_range(NOW)).count() == 5


class TestStopTimeStats:
    def test_count_average_and_nearest_rank_median_and_90th_percentile(self, clock):
        elapsed = [60.0 * n for n in range(1, 11)]  # 1 to 10 minutes
        random.Random(7).shuffle(elapsed)  # the order of the rows must not matter
        for seconds in elapsed:
            clock(due_at=NOW, **stopped(True, elapsed_seconds=seconds, stopped_at=NOW - HOUR))
        clock(due_at=NOW, **stopped(True, elapsed_seconds=9999.0, stopped_at=datetime(2026, 2, 1, tzinfo=UTC)))
        clock(due_at=NOW, metric="test.other", **stopped(True, elapsed_seconds=9999.0))
        clock(due_at=NOW)  # still running

        stats = selectors.stop_time_stats(metric=METRIC, start=MARCH[0], end=MARCH[1])
        # Nearest rank: the median of ten is the 5th value (ceil 0.5 × 10), the 90th percentile the 9th.
        assert stats == selectors.StopStats(count=10, average=330.0, median=300.0, p90=540.0)

    def test_nearest_rank_on_an_odd_count(self, clock):
        for seconds in (70.0, 10.0, 50.0, 30.0, 20.0, 60.0, 40.0):
            clock(due_at=NOW, **stopped(True, elapsed_seconds=seconds))
        stats = selectors.stop_time_stats(metric=METRIC, start=MARCH[0], end=MARCH[1])
        # ceil(3.5) = 4th and ceil(6.3) = 7th of 10, 20, … 70.
        assert (stats.count, stats.average, stats.median, stats.p90) == (7, 40.0, 40.0, 70.0)

    def test_a_single_clock_is_its_own_median_and_percentile(self, clock):
        clock(due_at=NOW, **stopped(False, elapsed_seconds=125.5))
        stats = selectors.stop_time_stats(metric=METRIC, start=MARCH[0], end=MARCH[1])
        assert stats == selectors.StopStats(count=1, average=125.5, median=125.5, p90=125.5)

    def test_no_stopped_clocks_gives_no_figures(self, clock):
        clock(due_at=NOW)
        stats = selectors.stop_time_stats(metric=METRIC, start=MARCH[0], end=MARCH[1])
        assert stats == selectors.StopStats(count=0, average=None, median=None, p90=None)


def test_open_clocks_by_target_reads_them_in_one_query(clock, django_assert_num_queries):
    users = UserFactory.create_batch(4)
    waiting = [clock(due_at=NOW, target_id=user.pk) for user in users[:2]]
    clock(due_at=NOW - HOUR, target_id=users[2].pk, **stopped(True))
    clock(due_at=NOW - HOUR, target_id=users[3].pk, **stopped(True))
    reopened = clock(due_at=NOW + HOUR, target_id=users[3].pk)  # a new clock after the first one stopped
    clock(due_at=NOW, target_id=users[0].pk, metric="test.other")
    ContentType.objects.get_for_model(User)  # content types are cached for the life of the process
    with django_assert_num_queries(1):
        found = selectors.open_clocks_by_target(metric=METRIC, model=User, ids=[user.pk for user in users])
    assert found == {users[0].pk: waiting[0], users[1].pk: waiting[1], users[3].pk: reopened}


def test_a_rows_open_clock_flags_are_judged_as_the_queue_filters_judge_them(policy):
    """OpenClockRow judges is_breached / is_at_risk in Python, at the instant the queue was read: the same rows the
    queues' SQL filters list as breached and at risk, whatever the clock's state; a row read without its clock
    annotated is neither."""
    shapes = {
        "in time": {"due_at": NOW + 4 * HOUR, "risk_at": NOW + 2 * HOUR},
        "at risk": {"due_at": NOW + HOUR, "risk_at": NOW - HOUR},
        "at risk from now": {"due_at": NOW + HOUR, "risk_at": NOW},
        "due now": {"due_at": NOW, "risk_at": NOW - 2 * HOUR},
        "overdue, not swept": {"due_at": NOW - HOUR, "risk_at": NOW - 3 * HOUR},
        "breached": {"due_at": NOW - HOUR, "risk_at": NOW - 3 * HOUR, "breached_at": NOW - HOUR},
        "paused": {"due_at": NOW - HOUR, "state": ClockState.PAUSED, "paused_at": NOW - 2 * HOUR},
        "paused, breached": {"due_at": NOW - HOUR, "state": ClockState.PAUSED, "breached_at": NOW - HOUR},
        "stopped late": {"due_at": NOW - HOUR, **stopped(False)},
    }
    registration_type = ContentType.objects.get_for_model(Registration)
    for fields in shapes.values():
        fields.setdefault("state", ClockState.RUNNING)
        Clock.objects.create(
            metric=METRIC,
            policy=policy,
            target_type=registration_type,
            target_id=RegistrationFactory().pk,
            started_at=fields["due_at"] - 8 * HOUR,
            **fields,
        )
    no_clock = RegistrationFactory()
    queue = selectors.with_open_clock(Registration.objects.all(), METRIC, NOW)
    rows = list(queue)
    assert len(rows) == len(shapes) + 1

    def pks(chosen) -> set[int]:
        return {row.pk for row in chosen}

    breached = pks(queue.filter(selectors.queue_breached_filter(NOW)))
    at_risk = pks(queue.filter(selectors.queue_at_risk_filter(NOW)))
    assert pks(r for r in rows if r.is_breached) == breached and len(breached) == 4
    assert pks(r for r in rows if r.is_at_risk) == at_risk and len(at_risk) == 2
    assert not Registration.objects.get(pk=no_clock.pk).is_breached
    assert not Registration.objects.get(pk=no_clock.pk).is_at_risk
