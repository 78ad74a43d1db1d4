"""A deep page of the moderator queue API starts its index scan at the cursor, not at the head of the queue."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from moderation.models import Case
from moderation.selectors import METRIC, case_queue, queue_page_counts
from saypro.sla.models import OPEN_STATES, Clock, Policy
from saypro.sla.selectors import open_breached_in_range
from saypro.sla.services import clock_build
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's query plans"),
]

CASES = 3000
PAGE = 100
PAGES_IN = 20


def _open_cases(count: int) -> None:
    """`count` open cases, each with its open decision clock, due a minute apart: a backlog, in bulk."""
    now = timezone.now()
    author = UserFactory()
    cases = Case.objects.bulk_create(
        Case(
            content_type=ContentType.objects.get_for_model(User),
            object_id=i + 1,
            kind="profile",
            author=author,
            source="user",
            reason="spam",
            severity=i % 100,
        )
        for i in range(count)
    )
    case_type = ContentType.objects.get_for_model(Case)
    policy = Policy.objects.select_related("calendar").get(metric=METRIC, is_default=True)
    clocks = []
    for i, case in enumerate(cases):
        clock = clock_build(metric=METRIC, policy=policy, target_type=case_type, target_id=case.pk, at=now)
        clock.due_at = now + timedelta(minutes=i)
        clocks.append(clock)
    Clock.objects.bulk_create(clocks)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sla_clock")
        cursor.execute("ANALYZE moderation_case")


def test_a_deep_cursor_page_seeks_to_the_cursor_in_the_clock_index(moderator):
    _open_cases(CASES)
    client = APIClient()
    client.force_authenticate(moderator)
    url = f"/api/v1/staff/moderation/cases/?page_size={PAGE}"
    seen: list[int] = []
    for _ in range(PAGES_IN):
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    with CaptureQueriesContext(connection) as captured:
        deep = client.get(url)
    assert deep.status_code == 200
    rows = deep.json()["results"]
    assert len(rows) == PAGE and not set(seen) & {row["id"] for row in rows}
    [sql] = [query["sql"] for query in captured.captured_queries if 'FROM "moderation_case"' in query["sql"]][:1]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT TEXT) {sql}")
        plan = "\n".join(line for (line,) in cursor.fetchall())
    # The scan of the clock index starts at the cursor's deadline (an index condition on due_at) and reads about
    # one page of entries; before, it read the 2,000 entries ahead of the cursor and filtered them out.
    scan = re.search(
        r"Index Scan using clock_open_due on sla_clock[^\n]*actual time=[\d.]+\.\.[\d.]+ rows=(\d+)[^\n]*\n"
        r"\s*Index Cond: \([^\n]*due_at >= ",
        plan,
    )
    assert scan, plan
    assert int(scan.group(1)) <= 2 * PAGE, plan


def _estimated_rows(queryset) -> int:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        [(plan,)] = cursor.fetchall()
    return int(plan[0]["Plan"]["Plan Rows"])


def test_the_planner_knows_how_many_open_clocks_a_metric_holds_among_other_metrics_clocks():
    """A metric's clocks all share one target type: estimated column by column (a tenth of the metrics times a
    tenth of the target types) the moderator queue's 1,000 open clocks would look like 90, and the queue's join
    would sort them all rather than walk its index. The extended statistics on sla_clock keep the estimate near
    the real count."""
    now = timezone.now()
    policy = Policy.objects.get(metric=METRIC, is_default=True)
    types = list(ContentType.objects.order_by("pk")[:10])
    case_type = ContentType.objects.get_for_model(Case)
    others = [t for t in types if t != case_type][:10]
    clocks = [
        Clock(metric=METRIC, policy=policy, target_type=case_type, target_id=i, started_at=now, due_at=now)
        for i in range(1000)
    ]
    clocks += [
        Clock(metric=f"other.{n}", policy=policy, target_type=target_type, target_id=i, started_at=now, due_at=now)
        for n, target_type in enumerate(others)
        for i in range(1000)
    ]
    Clock.objects.bulk_create(clocks, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sla_clock")
    open_cases = Clock.objects.filter(metric=METRIC, target_type=case_type, state__in=OPEN_STATES)
    assert open_cases.count() == 1000
    assert _estimated_rows(open_cases) >= 500


def _scan_rows(sql: str, params: Any, index: str) -> tuple[int, str]:
    """The rows the plan's scans of `index` returned (actual rows x loops), and the plan."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT TEXT) {sql}", params)
        plan = "\n".join(line for (line,) in cursor.fetchall())
    rows = sum(
        int(found.group(1)) * int(found.group(2))
        for found in re.finditer(rf"Index (?:Only )?Scan using {index} [^\n]*rows=(\d+) loops=(\d+)", plan)
    )
    return rows, plan


def test_the_breached_count_and_list_read_only_the_breached_clocks_a_breach_not_yet_swept_included(moderator):
    """A breached clock is one the sweep marked, or one still running past its deadline before the sweep came.
    Among 3,000 open cases, 3 breached (two marked, one not yet swept): the moderator queue counts and lists the 3,
    and reads them from the range of clock_open_queue that holds them, not every open clock of the metric."""
    _open_cases(CASES)
    now = timezone.now()
    clocks = Clock.objects.filter(metric=METRIC, state__in=OPEN_STATES).order_by("due_at")
    swept = list(clocks[:2].values_list("pk", flat=True))
    for hours, pk in zip((3, 2), swept, strict=True):
        Clock.objects.filter(pk=pk).update(
            due_at=now - timedelta(hours=hours), breached_at=now - timedelta(hours=hours)
        )
    unswept = clocks[2:3].get()
    Clock.objects.filter(pk=unswept.pk).update(due_at=now - timedelta(seconds=20))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sla_clock")

    counts = queue_page_counts(now=now)
    assert (int(counts.breached), counts.breached.exact) == (3, True)
    listed = case_queue(breached=True, now=now)
    assert [case.pk for case in listed] == [
        *Clock.objects.filter(pk__in=swept).order_by("due_at").values_list("target_id", flat=True),
        unswept.target_id,
    ]

    breached = Clock.objects.filter(metric=METRIC, state__in=OPEN_STATES).filter(open_breached_in_range(now))
    sql, params = breached.order_by().values("pk")[:1001].query.sql_with_params()
    rows, plan = _scan_rows(f"SELECT COUNT(*) FROM ({sql}) AS bounded", params, "clock_open_queue")
    assert "ROW((breached_at IS NULL), due_at) <= ROW(" in plan, plan
    assert rows <= 3, plan
    sql, params = case_queue(breached=True, now=now)[:51].query.sql_with_params()
    rows, plan = _scan_rows(sql, params, "clock_open_queue")
    assert "ROW((" in plan and rows <= 3, plan
