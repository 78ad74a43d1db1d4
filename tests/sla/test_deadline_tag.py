"""The `{% deadline %}` tag: one clock's countdown as every queue row, case, ticket and thread page shows it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import time_machine
from django.template import Context, Template

DUE = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # Mon 2 Mar, 14:00 in Johannesburg (UTC+2)
RISK = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
BEFORE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 3 hours before the deadline
AFTER = datetime(2026, 3, 2, 14, 5, tzinfo=UTC)  # 2 hours 5 minutes past it
NBSP = "\xa0"  # Django's timesince and timeuntil keep a number and its unit together


def render(arguments: str, **context: Any) -> str:
    return Template("{% load deadlines %}{% deadline " + arguments + " %}").render(Context(context))


def test_a_running_clock_counts_down_to_its_deadline_in_the_local_time_zone():
    assert render("due=due risk=risk state='running'", due=DUE, risk=RISK, now=BEFORE) == (
        '<span class="deadline" data-due="2026-03-02T14:00:00+02:00" data-risk="2026-03-02T12:30:00+02:00">'
        f"<span data-countdown-text>3{NBSP}hours left</span><small>due Mon 2 Mar, 14:00</small></span>"
    )


def test_a_clock_without_a_risk_point_has_no_risk_attribute():
    assert "data-risk" not in render("due=due", due=DUE, now=BEFORE)


def test_an_at_risk_clock_is_marked_at_risk():
    page = render("due=due risk=risk at_risk=True", due=DUE, risk=RISK, now=BEFORE)
    assert page.startswith('<span class="deadline at-risk" data-due=')
    assert f"3{NBSP}hours left" in page


def test_a_breached_clock_says_how_long_overdue_and_is_not_also_at_risk():
    page = render("due=due breached=True at_risk=True", due=DUE, now=AFTER)
    assert page.startswith('<span class="deadline breached" data-due="2026-03-02T14:00:00+02:00">')
    assert f"<span data-countdown-text>2{NBSP}hours, 5{NBSP}minutes overdue</span>" in page


def test_the_label_names_the_clock_and_the_note_follows_the_due_date():
    assert "<small>answer due Mon 2 Mar, 14:00</small>" in render("due=due label='answer'", due=DUE, now=BEFORE)
    assert "<small>due Mon 2 Mar, 14:00 · Standard</small>" in render("due=due note='Standard'", due=DUE, now=BEFORE)


def test_a_paused_clock_says_on_whom_it_waits_and_shows_no_countdown():
    assert render("due=due state='paused'", due=DUE, now=BEFORE) == (
        '<span class="deadline paused">Paused<small>waiting on the user</small></span>'
    )
    assert render("state='paused' label='answer'") == (
        '<span class="deadline paused">Paused<small>answer: waiting on the user</small></span>'
    )
    assert "<small>waiting on the applicant</small>" in render("state='paused' waiting_on='the applicant'")


def test_a_decided_item_without_a_deadline_says_when_it_was_decided():
    assert render("decided=decided", decided=DUE) == '<span class="deadline">Decided<small>2 Mar, 14:00</small></span>'
    # A deadline still running wins: an undone decision leaves its time behind.
    assert "left" in render("due=due decided=decided", due=DUE, decided=DUE, now=BEFORE)


def test_nothing_to_count_down_is_a_muted_dash():
    assert render("due=due state=state", due=None, state=None) == '<span class="muted">—</span>'


def test_the_label_note_and_waiting_party_are_escaped():
    hostile = '<script>alert("x")</script>'
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
    for arguments in ("due=due label=text", "due=due note=text", "state='paused' label=text"):
        page = render(arguments, due=DUE, now=BEFORE, text=hostile)
        assert hostile not in page and escaped in page
    assert escaped in render("state='paused' waiting_on=text", text=hostile)


def test_without_the_page_s_now_it_counts_from_the_current_time():
    with time_machine.travel(BEFORE, tick=False):
        assert f"3{NBSP}hours left" in render("due=due", due=DUE)
