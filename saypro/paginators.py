"""Admin change lists that stay fast on tables of millions of rows.

Django's admin counts the rows of every list it pages. On PostgreSQL an unfiltered list reads the planner's
row estimate instead (kept fresh by autovacuum); a filtered one counts at most CAP rows, so a broad filter on a
huge table shows "CAP+" pages' worth rather than scanning everything to say how many there are. For the same
reason the big tables' admins filter by date with list_filter ranges, never date_hierarchy, whose links come
from a DISTINCT over every row's date.
"""

from __future__ import annotations

from functools import cached_property

from django.core.paginator import Paginator
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
