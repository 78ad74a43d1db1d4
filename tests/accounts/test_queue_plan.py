"""The review queue's pages read the open clock index in deadline order, the first page and a deep one alike."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Registration, RegistrationStatus, User
from accounts.selectors import METRIC
from saypro.sla.models import Clock, Policy
from saypro.sla.services import clock_build

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's query plans"),
]

PENDING = 3000
PAGES_IN = 20


def _pending_registrations(count: int) -> None:
    """`count` pending registrations with their open approval clocks, due a minute apart: a backlog, in bulk."""
    now = timezone.now()
    password = make_password(None)
    users = User.objects.bulk_create(
        User(email=f"applicant{i}@plan.example", full_name=f"Applicant {i}", password=password) for i in range(count)
    )
    registrations = Registration.objects.bulk_create(
        Registration(
            user=user,
            status=RegistrationStatus.NEEDS_REVIEW,
            submitted_at=now - timedelta(hours=1),
            canonical_email=user.email,
            risk_score=i % 100,
        )
        for i, user in enumerate(users)
    )
    target_type = ContentType.objects.get_for_model(Registration)
    policy = Policy.objects.select_related("calendar").get(metric=METRIC, is_default=True)
    clocks = []
    for i, registration in enumerate(registrations):
        clock = clock_build(metric=METRIC, policy=policy, target_type=target_type, target_id=registration.pk, at=now)
        clock.due_at = now + timedelta(minutes=i)
        clocks.append(clock)
    Clock.objects.bulk_create(clocks)
    with connection.cursor() as cursor:
        for table in ("sla_clock", "accounts_registration", "accounts_user"):
            cursor.execute(f"ANALYZE {table}")


def _queue_statement(client, url: str) -> tuple[str, object]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    [sql] = [
        query["sql"]
        for query in captured.captured_queries
        if 'FROM "accounts_registration"' in query["sql"] and "LIMIT 51" in query["sql"]
    ]
    return sql, response


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT TEXT) {sql}")
        return "\n".join(line for (line,) in cursor.fetchall())


def _index_rows(plan: str) -> int:
    """The entries the scan of the open clock index read; the rows come in its order, never from a full sort of the
    backlog (an incremental sort of the ties on the deadline reads no further than the page)."""
    assert not re.search(r"(^|->)\s*Sort\s+\(", plan, re.MULTILINE), plan
    scan = re.search(r"Index Scan using clock_open_due on sla_clock[^\n]*actual time=[\d.]+\.\.[\d.]+ rows=(\d+)", plan)
    assert scan, plan
    return int(scan.group(1))


def test_the_first_and_a_deep_page_of_the_review_queue_read_one_page_of_the_clock_index(as_):
    _pending_registrations(PENDING)
    client = as_("reviewer")
    sql, response = _queue_statement(client, "/dashboard/registrations/")
    assert _index_rows(_plan(sql)) <= 2 * 51
    for _ in range(PAGES_IN - 1):
        response = client.get("/dashboard/registrations/" + response.context["page"].next_url)
    deep_sql, deep = _queue_statement(client, "/dashboard/registrations/" + response.context["page"].next_url)
    assert deep.context["page"].start_index() == PAGES_IN * 50 + 1
    deep_plan = _plan(deep_sql)
    # The scan starts at the cursor's deadline (an index condition on due_at): no walk past the 1,000 rows ahead.
    assert re.search(r"Index Cond: \([^\n]*due_at >= ", deep_plan), deep_plan
    assert _index_rows(deep_plan) <= 2 * 51
