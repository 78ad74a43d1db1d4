"""The messaging and support sections against figures worked out by hand on small dated sets.

Messaging, the week of Monday 6 April 2026 (local time, UTC+2), read on 1 June:
  A  Mon 6 Apr 10:00  inbound; answered 12:00 (2 h), resolved 13:00.
  B  Tue 7 Apr 09:00  inbound; answered 30 h later (Wed 8 Apr 15:00).
  C  Wed 8 Apr 11:00  inbound; never answered.
  D  Tue 14 Apr 10:00 outbound (the next week).
The keyword rules categorise A as a renewal request and B as a complaint; C stays uncategorised.
First-response deadlines in the week: A met, B and C breached: 1 ÷ 3 = 33.3 %; by category renewal 1 of 1
(100 %), complaint 0 of 1, not categorised 0 of 1. First replies given in the week: A 2 h and B 30 h: average 16 h,
median 2 h, p90 30 h. Resolution deadlines (48 h): A met after 3 h; B and C open past theirs.
Category mix: 2 categorised, 1 each in "complaints and policy reports" and "renewal": 50 % each, against targets
of 10 % and 15 %; general (30 %), support (40 %) and miscellaneous (5 %) have none.

Support, the week of Monday 2 March 2026, read on 12 March: four tickets at 10:00 on Monday; A answered after 1 h
and solved after 10 h, B 2 h and 20 h, C 4 h and 30 h, D never answered. Resolution deadlines (Tue 10:00): A and
B met, C late, D open past it: 2 ÷ 4 = 50 %. First replies: 1, 2 and 4 h: average 2.33 h, median 2 h, p90 4 h.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from messaging import services as messaging_services
from reports.sections import context_for
from reports.sections.messaging import messaging_section
from reports.sections.support import support_section
from reports.sections.trends import trends_section
from saypro import periods
from tests.factories import UserFactory
from tests.messaging.conftest import start
from tests.support.test_metrics import ticket_at

pytestmark = pytest.mark.django_db


def at_local(month: int, day: int, hour: int) -> datetime:
    return datetime(2026, month, day, hour - 2, tzinfo=UTC)


def figures(section) -> dict[str, float | None]:
    return {f.key: f.value for f in section.figures}


@pytest.fixture(autouse=True)
def _rules_only_spam_detection(settings):
    settings.MODERATION_SPAM_CSV = ""


@pytest.fixture
def april_week(agent):
    with time_machine.travel(at_local(4, 6, 10), tick=False) as clock:
        a = start(UserFactory(), body="Please renew my ad, it has expired")
        clock.move_to(at_local(4, 6, 12))
        messaging_services.reply_send(conversation=a, by=agent, body="Renewed.", then="open")
        clock.move_to(at_local(4, 6, 13))
        messaging_services.conversation_resolve(conversation=a, by=agent)
        clock.move_to(at_local(4, 7, 9))
        b = start(UserFactory(), body="I want to file a complaint about a seller")
        clock.move_to(at_local(4, 8, 15))
        messaging_services.reply_send(conversation=b, by=agent, body="Looking into it.", then="open")
        clock.move_to(at_local(4, 8, 11))
        start(UserFactory(), body="Hello, a question")
        clock.move_to(at_local(4, 14, 10))
        messaging_services.conversation_start_by_staff(by=agent, user=UserFactory(), subject="Ad", body="Fix it.")


def test_messaging_section(april_week):
    now = datetime(2026, 6, 1, 10, tzinfo=UTC)
    week = periods.containing(periods.WEEK, date(2026, 4, 6))
    with time_machine.travel(now, tick=False):
        section = messaging_section(context_for(week, now))
    values = figures(section)
    assert (values["messaging.inbound"], values["messaging.outbound"]) == (3, 0)
    assert (values["messaging.user_messages"], values["messaging.team_replies"]) == (3, 2)
    # Per message: A answered after 2 h; B after 30 h and C never: one of three within 24 h.
    assert values["messaging.first_response_24h"] == pytest.approx(100 / 3)
    assert values["messaging.conversation_first_response_average"] == pytest.approx(16.0)
    assert values["messaging.first_response_median"] == pytest.approx(2.0)
    assert values["messaging.first_response_p90"] == pytest.approx(30.0)
    mix = next(t for t in section.tables if t.key == "messaging_mix")
    assert mix.rows == [
        ["General inquiries", 0, 0.0, 30.0, -30.0],
        ["Support requests", 0, 0.0, 40.0, -40.0],
        ["Complaints and policy violation reports", 1, 50.0, 10.0, 40.0],
        ["Renewal and approval requests", 1, 50.0, 15.0, 35.0],
        ["Miscellaneous (feedback, suggestions)", 0, 0.0, 5.0, -5.0],
    ]
    assert mix.note.startswith("1 conversations not categorised")


def table_rows(section, key):
    return {row[0]: row[1:] for row in next(t for t in section.tables if t.key == key).rows}


def test_messaging_first_response_and_resolution_by_category(april_week):
    now = datetime(2026, 6, 1, 10, tzinfo=UTC)
    week = periods.containing(periods.WEEK, date(2026, 4, 6))
    with time_machine.travel(now, tick=False):
        section = messaging_section(context_for(week, now))
    # [target %, stretch %, achieved, breached, achievement %, previous %, change]: no deadline the week before.
    assert table_rows(section, "messaging_first_response") == {
        "Complaint": [90.0, 95.0, 0, 1, 0.0, None, None],
        "Renewal or approval request": [90.0, 95.0, 1, 0, 100.0, None, None],
        "Not categorised": [90.0, 95.0, 0, 1, 0.0, None, None],
        "All categories": [90.0, 95.0, 1, 2, pytest.approx(33.3), None, None],
    }
    chart = next(c for c in section.charts if c.key == "messaging_first_response")
    assert chart.labels == ["Complaint", "Renewal or approval request", "Not categorised"]
    assert chart.series[0].values == [0.0, 100.0, 0.0] and chart.target == 90.0
    resolution = table_rows(section, "messaging_resolution")
    # [target h, achieved, breached, achievement %, average h, previous %, change]
    assert resolution["Renewal or approval request"] == [48.0, 1, 0, 100.0, 3.0, None, None]
    assert resolution["Complaint"] == [48.0, 0, 1, 0.0, None, None, None]
    assert resolution["Not categorised"] == [None, 0, 1, 0.0, None, None, None]
    assert resolution["Support request"] == [72.0, 0, 0, None, None, None, None]


def test_first_response_by_category_compares_with_the_previous_week(april_week, agent):
    # The week of 13 April: a renewal request and a complaint, each answered within the hour; A, B and C's
    # deadlines are the previous week's (renewal 100 %, complaint 0 %, not categorised 0 %, all 33.3 %).
    for body in ("Please renew my ad, it has expired", "I want to file a complaint about a buyer"):
        with time_machine.travel(at_local(4, 15, 9), tick=False) as clock:
            conversation = start(UserFactory(), body=body)
            clock.move_to(at_local(4, 15, 10))
            messaging_services.reply_send(conversation=conversation, by=agent, body="Done.", then="open")
    now = datetime(2026, 6, 1, 10, tzinfo=UTC)
    week = periods.containing(periods.WEEK, date(2026, 4, 13))
    with time_machine.travel(now, tick=False):
        section = messaging_section(context_for(week, now))
    assert table_rows(section, "messaging_first_response") == {
        "Complaint": [90.0, 95.0, 1, 0, 100.0, 0.0, 100.0],
        "Renewal or approval request": [90.0, 95.0, 1, 0, 100.0, 100.0, 0.0],
        "Not categorised": [90.0, 95.0, 0, 0, None, 0.0, None],
        "All categories": [90.0, 95.0, 2, 0, 100.0, pytest.approx(33.3), pytest.approx(66.7)],
    }
    first = next(f for f in section.figures if f.key == "messaging.first_response_24h")
    assert (first.value, first.previous) == (100.0, pytest.approx(100 / 3))


def test_support_section(agent):
    monday = at_local(3, 2, 10)
    for answer, solve in ((1, 10), (2, 20), (4, 30), (None, None)):
        ticket_at(monday, agent, answer_after=answer, solve_after=solve)
    now = at_local(3, 12, 10)
    week = periods.containing(periods.WEEK, date(2026, 3, 2))
    with time_machine.travel(now, tick=False):
        section = support_section(context_for(week, now))
    values = figures(section)
    # Solved after 10 h and 20 h in time; after 30 h and never, late: the flat 24 h, whatever the priority.
    assert values["support.resolved_24h"] == 50.0
    assert values["support.first_response_hours"] == pytest.approx(7 / 3)
    assert values["support.first_response_median"] == pytest.approx(2.0)
    assert values["support.first_response_p90"] == pytest.approx(4.0)
    weekly = next(t for t in section.tables if t.key == "support_weekly")
    # [week, met, missed, pending, resolved in 24 h %, met the weekly target]
    assert weekly.rows == [["2026-03-02", 2, 2, 0, 50.0, False]]


def test_a_running_week_and_month_read_to_date_and_are_not_judged_yet(agent):
    """Read on Thursday 5 March: two of the Monday's inquiries were resolved in time, one late, one is still
    open past 24 h, and a fifth, opened today, is pending. The week and the month are running: their rows say "to
    date" and "pending" rather than a verdict that could still change."""
    monday = at_local(3, 2, 10)
    for answer, solve in ((1, 10), (2, 20), (4, 30), (None, None)):
        ticket_at(monday, agent, answer_after=answer, solve_after=solve)
    ticket_at(at_local(3, 5, 8), agent, answer_after=None, solve_after=None)
    now = at_local(3, 5, 10)
    week = periods.containing(periods.WEEK, date(2026, 3, 2))
    with time_machine.travel(now, tick=False):
        section = support_section(context_for(week, now))
    weekly = next(t for t in section.tables if t.key == "support_weekly")
    monthly = next(t for t in section.tables if t.key == "support_monthly")
    assert weekly.rows == [["2026-03-02 to date", 2, 2, 1, 50.0, "pending"]]
    assert monthly.rows == [["2026-03 to date", 2, 2, 1, 50.0, "pending"]]


def test_a_running_week_is_charted_as_a_point_of_its_own_and_todays_bucket_says_to_date(agent):
    """Read on Thursday 12 March for the month: the week of 2 March is over (two inquiries in time, two late),
    the week of 9 March is running (one in time so far). The weekly line holds the finished week only; the running
    week is a separate "to date" point, so its partial value is not read as the line rising or falling, and the
    daily tickets chart's last bar, today's, is labelled to date."""
    monday = at_local(3, 2, 10)
    for answer, solve in ((1, 10), (2, 20), (4, 30), (None, None)):
        ticket_at(monday, agent, answer_after=answer, solve_after=solve)
    ticket_at(at_local(3, 9, 9), agent, answer_after=1, solve_after=5)
    now = at_local(3, 12, 10)
    month = periods.containing(periods.MONTH, date(2026, 3, 1))
    with time_machine.travel(now, tick=False):
        section = support_section(context_for(month, now))
    weekly = next(c for c in section.charts if c.key == "support_weekly")
    # The week holding 1 March (no inquiries) comes first.
    assert weekly.labels == ["23 Feb", "02 Mar", "09 Mar to date"]
    assert [(s.name, list(s.values)) for s in weekly.series] == [
        ("Resolved in 24 h %", [None, 50.0, None]),
        ("Resolved in 24 h %, to date (not final)", [None, None, 100.0]),
    ]
    tickets = next(c for c in section.charts if c.key == "support_tickets")
    assert tickets.labels[-2:] == ["11 Mar", "12 Mar to date"]


def test_the_trend_charts_set_a_running_quarter_apart_as_to_date(db):
    """Read on 12 March, Q1 is running: each promise's five-quarter line ends with the finished Q4, and Q1 is a
    point of its own, labelled and named to date."""
    now = at_local(3, 12, 10)
    quarter = periods.containing(periods.QUARTER, date(2026, 3, 1))
    with time_machine.travel(now, tick=False):
        section = trends_section(context_for(quarter, now))
    assert len(section.charts) == 4
    for chart in section.charts:
        assert chart.labels == ["Q1 2025", "Q2 2025", "Q3 2025", "Q4 2025", "Q1 2026 to date"]
        line, running = chart.series
        assert running.name == f"{line.name}, to date (not final)"
        assert running.values[:4] == [None] * 4 and line.values[4] is None
