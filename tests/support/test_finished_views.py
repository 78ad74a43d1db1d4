"""The support queue's solved and closed views: a ticket stays findable once finished."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine

from support import services
from support.models import Status
from tests.factories import UserFactory
from tests.support.conftest import make_ticket

pytestmark = pytest.mark.django_db

QUEUE = "/dashboard/support/"


def queue_ids(response) -> list[int]:
    return [int(value) for value in re.findall(r'data-ticket="(\d+)"', response.content.decode())]


def test_solved_and_closed_views_list_finished_tickets_most_recently_finished_first(as_, agent):
    with time_machine.travel("2026-03-02 08:00:00Z", tick=False) as traveller:
        first_solved = make_ticket(UserFactory(), subject="Refund for the broken kettle")
        second_solved = make_ticket(UserFactory(), subject="Courier never came")
        closed = make_ticket(UserFactory(), subject="Password reset loop")
        still_open = make_ticket(UserFactory(), subject="Where is my payout")
        traveller.shift(timedelta(hours=2))
        services.ticket_set_status(ticket=first_solved, by=agent, status=Status.SOLVED)
        traveller.shift(timedelta(hours=1))
        services.ticket_set_status(ticket=second_solved, by=agent, status=Status.SOLVED)
        services.ticket_set_status(ticket=closed, by=agent, status=Status.SOLVED)
        traveller.shift(timedelta(hours=1))
        services.ticket_set_status(ticket=closed, by=agent, status=Status.CLOSED)
        client = as_("agent")
        assert queue_ids(client.get(QUEUE, {"view": "solved"})) == [second_solved.pk, first_solved.pk]
        assert queue_ids(client.get(QUEUE, {"view": "closed"})) == [closed.pk]
        assert queue_ids(client.get(QUEUE)) == [still_open.pk]
        # The queue's own search works in the finished views too.
        assert queue_ids(client.get(QUEUE, {"view": "solved", "q": "kettle"})) == [first_solved.pk]
        page = client.get(QUEUE, {"view": "solved"}).content.decode()
    assert '<a href="?view=solved" aria-current="page" class="tab">Solved</a>' in page
    assert '<a href="?view=closed" class="tab">Closed</a>' in page
    # Finished tickets show when they were finished, not a deadline.
    assert 'data-testid="finished-at">solved Mon 2 Mar, 13:00</span>' in page
    assert "The most recently solved first." in page
    # No deadline runs on a finished ticket: the deadline filters are left out.
    assert 'name="at_risk"' not in page and 'name="breached"' not in page
    assert 'name="at_risk"' in as_("agent").get(QUEUE).content.decode()


def test_an_empty_finished_view_says_so(as_):
    response = as_("agent").get(QUEUE, {"view": "closed"})
    assert response.status_code == 200
    assert b'data-testid="queue-empty">No closed ticket.</div>' in response.content


@pytest.mark.parametrize("rows", [3, 30])
def test_finished_views_query_count_does_not_grow_with_the_rows(as_, agent, rows, django_assert_max_num_queries):
    for _ in range(rows):
        ticket = make_ticket(UserFactory())
        services.ticket_set_status(ticket=ticket, by=agent, status=Status.SOLVED)
    client = as_("agent")
    with django_assert_max_num_queries(12):
        response = client.get(QUEUE, {"view": "solved"})
    assert len(queue_ids(response)) == rows
