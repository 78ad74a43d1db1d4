"""Tickets created and solved, read through the figure registry and checked on hand-built tickets against counts
worked out here in plain Python: a ticket received on the quarter's last evening is the quarter's creation and
the next quarter's solution; a ticket merged into another is counted once, as the one it was merged into."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.sections import context_for
from reports.sections.support import support_section
from saypro import periods
from saypro.figures.registry import figure_read
from support.models import Channel, Ticket

from .test_figure_definitions import AFTER_Q1, Q1, in_span, local, read, ticket

pytestmark = pytest.mark.django_db

Q2 = periods.from_slug("2026-Q2")


@pytest.fixture
def rows() -> list[Ticket]:
    made = [
        ticket(local(2026, 1, 14, 9), solved_after=10, channel=Channel.CHAT),
        ticket(local(2026, 2, 3, 9), solved_after=30, channel=Channel.EMAIL),
        ticket(local(2026, 3, 2, 9), channel=Channel.SOCIAL),
        # Received on the quarter's last evening, solved five hours later, in Q2.
        ticket(local(2026, 3, 31, 22), solved_after=5, channel=Channel.CHAT),
        # Received in Q4, solved in Q1.
        ticket(local(2025, 12, 31, 20), solved_after=20, channel=Channel.EMAIL),
    ]
    duplicate = ticket(local(2026, 1, 14, 10), solved_after=1, channel=Channel.CHAT)
    Ticket.objects.filter(pk=duplicate.pk).update(merged_into=made[0])
    return [*made, duplicate]


def expected(tickets: list[Ticket], period, channel: str | None = None) -> tuple[int, int]:
    counted = [t for t in Ticket.objects.filter(pk__in=[t.pk for t in tickets]) if t.merged_into_id is None]
    counted = [t for t in counted if channel is None or t.channel == channel]
    created = [t for t in counted if in_span(t.created_at, period.start_at, period.end_at)]
    solved = [t for t in counted if in_span(t.solved_at, period.start_at, period.end_at)]
    return len(created), len(solved)


@pytest.mark.parametrize("channel", [None, Channel.CHAT, Channel.EMAIL])
def test_created_and_solved_follow_their_definitions(rows, channel):
    filters = {"channel": channel} if channel else {}
    for period in (Q1, Q2):
        created, solved = expected(rows, period, channel)
        assert read("support.created", period, **filters).current.value == created, (period, channel)
        assert read("support.solved", period, **filters).current.value == solved, (period, channel)
    # By hand: Q1 received four (the last evening's among them, the merged duplicate not) and solved three.
    if channel is None:
        assert expected(rows, Q1) == (4, 3) and expected(rows, Q2) == (0, 1)


def test_the_section_shows_the_registry_counts_and_its_queries_do_not_grow(rows):
    with CaptureQueriesContext(connection) as few:
        section = support_section(context_for(Q1, AFTER_Q1))
    shown = {f.key: f for f in section.figures}
    for key in ("support.created", "support.solved"):
        reading = figure_read(key, Q1, now=AFTER_Q1)
        assert (shown[key].value, shown[key].n) == (reading.current.value, reading.current.n)
    for _ in range(5):
        ticket(local(2026, 2, 3, 9), solved_after=30, channel=Channel.EMAIL)
    with CaptureQueriesContext(connection) as many:
        support_section(context_for(Q1, AFTER_Q1))
    assert len(many.captured_queries) == len(few.captured_queries)
