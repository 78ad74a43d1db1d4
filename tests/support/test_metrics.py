"""Every support metric against figures computed by hand on a small fixed set of tickets."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from support import metrics, services
from support.models import Status
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 10:00 in Johannesburg
NOW = datetime(2026, 3, 12, 8, 0, tzinfo=UTC)


def ticket_at(at, agent, *, answer_after=None, solve_after=None, channel="web", department="billing"):
    """A ticket created at `at`, answered and solved after the given hours (None: never)."""
    with time_machine.travel(at, tick=False) as traveller:
        ticket = services.ticket_create(
            requester=UserFactory(), subject="Q", body="?", channel=channel, department=department
        )
        if answer_after is not None:
            traveller.move_to(at + timedelta(hours=answer_after))
            services.ticket_reply(ticket=ticket, by=agent, body="Answer")
        if solve_after is not None:
            traveller.move_to(at + timedelta(hours=solve_after))
            services.ticket_set_status(ticket=ticket, by=agent, status=Status.SOLVED)
    return ticket


@pytest.fixture
def quarter(agent):
    """A: met both; B: met both; C: answered after 4 h, solved after 30 h; D: never answered; E: the next week."""
    a = ticket_at(MONDAY, agent, answer_after=1, solve_after=10)
    b = ticket_at(MONDAY, agent, answer_after=2, solve_after=20, channel="chat")
    c = ticket_at(MONDAY, agent, answer_after=4, solve_after=30)
    d = ticket_at(MONDAY, agent)
    e = ticket_at(MONDAY + timedelta(days=7), agent, answer_after=0.5, solve_after=5)
    return a, b, c, d, e


def test_resolution_within_24_h_per_week_and_month_to_date(quarter):
    weeks = metrics.resolution_weekly(start=MONDAY - timedelta(days=1), end=NOW, now=NOW)
    assert [(w.start, w.achieved, w.breached, w.rate) for w in weeks] == [
        (date(2026, 3, 2), 2, 2, 0.5),
        (date(2026, 3, 9), 1, 0, 1.0),
    ]
    month = metrics.resolution_month_to_date(month=date(2026, 3, 1), now=NOW)
    assert [(d.start, d.achieved, d.breached) for d in month] == [(date(2026, 3, 3), 2, 2), (date(2026, 3, 10), 3, 2)]
    assert month[-1].rate == pytest.approx(0.6)
    tile = metrics.support_tile(now=NOW)
    assert (tile.month.achieved, tile.month.breached) == (3, 2)
    assert (tile.queue.open, tile.queue.breached, tile.queue.at_risk) == (1, 1, 0)


def test_first_response_average_median_p90_and_change_against_the_previous_quarter(agent, quarter):
    ticket_at(datetime(2025, 12, 1, 8, 0, tzinfo=UTC), agent, answer_after=2.5, solve_after=3)
    stats = metrics.first_response_stats(start=MONDAY - timedelta(days=1), end=NOW)
    assert stats.count == 4 and stats.average == pytest.approx((3600 + 7200 + 14400 + 1800) / 4)
    assert (stats.median, stats.p90) == (3600, 14400)
    change = metrics.first_response_quarter_change(quarter=date(2026, 3, 12), now=NOW)
    assert change.previous.average == 9000 and change.change == pytest.approx(6750 / 9000 - 1)
    resolution = metrics.resolution_time_stats(start=MONDAY - timedelta(days=1), end=NOW)
    assert resolution.count == 4 and resolution.average == pytest.approx((10 + 20 + 30 + 5) * 3600 / 4)


def test_csat_per_channel_department_and_agent(agent, quarter):
    a, b, c, _, e = quarter
    other = UserFactory(full_name="Zanele Agent")
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        surveys = [
            services.survey_send(target=t, requester=t.requester, agent=who, department=t.department, channel=t.channel)
            for t, who in ((a, agent), (b, other), (c, agent), (e, other))
        ]
        for survey, rating in zip(surveys, (5, 4, 2), strict=False):
            services.survey_answer(token=services.survey_token(survey), rating=rating)
    start, end = NOW - timedelta(days=7), NOW
    total = metrics.csat(start=start, end=end)
    assert (total.sent, total.responses, total.satisfied) == (4, 3, 2)
    assert total.average == pytest.approx(11 / 3) and total.csat == pytest.approx(2 / 3) and total.response_rate == 0.75
    by_channel = {row.key: row for row in metrics.csat_by(dimension="channel", start=start, end=end)}
    assert (by_channel["web"].sent, by_channel["web"].responses, by_channel["web"].average) == (3, 2, 3.5)
    assert by_channel["chat"].csat == 1.0 and by_channel["chat"].label == "Live chat"
    by_agent = {row.key: row for row in metrics.csat_by(dimension="agent", start=start, end=end)}
    assert by_agent[agent.pk].csat == 0.5 and by_agent[other.pk].response_rate == 0.5
    assert by_agent[other.pk].label == "Zanele Agent"
    (billing,) = metrics.csat_by(dimension="department", start=start, end=end)
    assert billing.label == "Billing" and billing.sent == 4
    assert metrics.csat(start=start, end=end, channel="chat").responses == 1
    with pytest.raises(ValueError):
        metrics.csat_by(dimension="planet", start=start, end=end)


def test_platform_issue_rate():
    with time_machine.travel(MONDAY, tick=False):
        reporter, other = UserFactory(), UserFactory()
        for person in (reporter, reporter, other):
            services.platform_issue_report(requester=person, description="Broken")
        services.ticket_create(requester=UserFactory(), subject="Q", body="?", channel="web")
    rate = metrics.platform_issue_rate(start=MONDAY, end=NOW, active_users=100)
    assert (rate.numerator, rate.rate) == (2, 0.02)
    assert metrics.platform_issue_rate(start=MONDAY, end=NOW).denominator == 3
