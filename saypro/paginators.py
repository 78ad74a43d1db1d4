"""Paginators that stay fast on tables of millions of rows: admin change lists and work queues.

Django's admin counts the rows of every list it pages. On PostgreSQL an unfiltered list reads the planner's
row estimate instead (kept fresh by autovacuum); a filtered one counts at most CAP rows, so a broad filter on a
huge table shows "CAP+" pages' worth rather than scanning everything to say how many there are. For the same
reason the big tables' admins filter by date with list_filter ranges, never date_hierarchy, whose links come
from a DISTINCT over every row's date.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import QuerySet

# Below this many estimated rows an exact count is cheap, and exact is nicer.
EXACT_BELOW = 100_000
CAP = 10_000


def estimated_rows(table: str, using: str = "default") -> int | None:
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)", [table])
        row = cursor.fetchone()
    # -1 means never analysed.
    return int(row[0]) if row and row[0] is not None and row[0] >= 0 else None


class EstimatedCountPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return super().count
        queryset = self.object_list
        if not queryset.query.where:
            estimate = estimated_rows(queryset.model._meta.db_table, queryset.db)
            if estimate is not None and estimate >= EXACT_BELOW:
                return estimate
            return super().count
        return queryset.order_by()[: CAP + 1].count()


# A work queue's counts stop here: past it the page says "1,000+". Counting is then bounded by this many index
# entries, not by the backlog, so a queue costs the same at 40,000 open items as at 400; and nobody pages through
# a thousand items of a work queue (the filters narrow it, the API walks it by keyset).
QUEUE_COUNT_CAP = 1000


class BoundedCount(int):
    """A count that is exact up to its cap and shown as "cap+" beyond it."""

    exact: bool

    def __new__(cls, value: int, *, cap: int) -> BoundedCount:
        count = super().__new__(cls, min(value, cap))
        count.exact = value <= cap
        return count

    def __str__(self) -> str:
        return f"{int(self):,}" if self.exact else f"{int(self):,}+"


def bounded_count(queryset: QuerySet[Any], *, cap: int | None = None) -> BoundedCount:
    """How many rows, up to `cap` (QUEUE_COUNT_CAP), reading at most cap + 1 of them (unordered: any will do)."""
    cap = QUEUE_COUNT_CAP if cap is None else cap
    return BoundedCount(queryset.order_by()[: cap + 1].count(), cap=cap)


class QueuePage(Page):
    def end_index(self) -> int:
        return int(super().end_index())  # a plain number: "1–50 of 1,000+", not "1–50+"


class QueuePaginator(Paginator):
    """Pages of a work queue: the count is a BoundedCount, so the last page offered is the cap's."""

    def _get_page(self, *args: Any, **kwargs: Any) -> Page:
        return QueuePage(*args, **kwargs)

    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return super().count
        return bounded_count(self.object_list)


def bounded_counts(querysets: dict[str, QuerySet[Any]], *, cap: int | None = None) -> dict[str, BoundedCount]:
    """bounded_count of each queryset, all in one query (a queue's tabs): one round trip instead of one each."""
    if not querysets:
        return {}
    cap = QUEUE_COUNT_CAP if cap is None else cap
    parts: list[str] = []
    params: list[Any] = []
    using = next(iter(querysets.values())).db
    for queryset in querysets.values():
        try:
            sql, part_params = queryset.order_by().values("pk")[: cap + 1].query.sql_with_params()
        except EmptyResultSet:  # a filter that matches nothing by construction (pk__in=[], none())
            parts.append("0")
            continue
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS bounded)")
        params.extend(part_params)
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)
        row = cursor.fetchone()
    return {name: BoundedCount(value, cap=cap) for name, value in zip(querysets, row, strict=True)}
