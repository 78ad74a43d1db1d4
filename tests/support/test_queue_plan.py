"""The solved and closed views read their page from a partial index in their order, not by sorting every finished
ticket."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from support.models import Status, Ticket
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's query plans"),
]

FINISHED = 3000


@pytest.mark.parametrize(
    ("view", "status", "finished", "index"),
    [
        ("solved", Status.SOLVED, "solved_at", "ticket_solved_view"),
        ("closed", Status.CLOSED, "closed_at", "ticket_closed_view"),
    ],
)
def test_a_finished_view_reads_its_page_in_order_from_its_index(as_, view, status, finished, index):
    requester = UserFactory()
    now = timezone.now()
    # Half solved, half closed, a minute apart; and open tickets beside them.
    Ticket.objects.bulk_create(
        [
            Ticket(
                requester=requester,
                subject=f"Ticket {n}",
                body="Hello",
                status=[Status.SOLVED, Status.CLOSED][n % 2],
                **{"solved_at": now - timedelta(minutes=n), "closed_at": now - timedelta(minutes=n) if n % 2 else None},
            )
            for n in range(FINISHED)
        ]
        + [Ticket(requester=requester, subject="Open", body="Hello", status=Status.OPEN) for _ in range(500)],
        batch_size=1000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE support_ticket")
    client = as_("agent")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/dashboard/support/?view={view}")
    assert response.status_code == 200
    [sql] = [q["sql"] for q in captured.captured_queries if q["sql"].startswith('SELECT "support_ticket"."id"')]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(line for (line,) in cursor.fetchall())
    assert f"Index Scan using {index} on support_ticket" in plan, plan
    assert "Sort Key" not in plan.split(f"Index Scan using {index}")[0], plan
    newest = Ticket.objects.filter(status=status).order_by(f"-{finished}").first()
    assert f'data-ticket="{newest.pk}"' in response.content.decode()
