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

from django.core import signing
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet

from saypro import keyset

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
# entries, not by the backlog, so a queue costs the same at 40,000 open items as at 400; the pages themselves go
# by position (KeysetPage), as deep as the queue runs.
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

    def __reduce__(self) -> tuple[Any, tuple[int, bool]]:
        # Kept in the cache with figures shared by everyone (saypro.shared): back as the same count, exact or not.
        return (_bounded_count, (int(self), self.exact))


def _bounded_count(value: int, exact: bool) -> BoundedCount:
    return BoundedCount(value if exact else value + 1, cap=value)


def bounded_count(queryset: QuerySet[Any], *, cap: int | None = None) -> BoundedCount:
    """How many rows, up to `cap` (QUEUE_COUNT_CAP), reading at most cap + 1 of them (unordered: any will do)."""
    cap = QUEUE_COUNT_CAP if cap is None else cap
    return BoundedCount(queryset.order_by()[: cap + 1].count(), cap=cap)


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


# The query parameters that place a queue page: the keyset positions, and the page number of the OFFSET pages
# they replaced (an old link falls back to the first page). Links that change the filters or the order drop them.
POSITION_PARAMS = ("after", "before", "page")
KEYSET_SALT = "saypro.paginators.keyset"


class KeysetPage:
    """One page of a work queue read from its position in the queue's order (saypro.keyset), not by OFFSET: page
    200 costs what the first one does, and an item added or decided ahead of the page shifts nothing on it.

    Links go to the rows after the last one shown (`after`) or before the first one (`before`), signed; the
    position of the first row ("51–100") travels with them for the footer. A garbled or stale link shows the
    first page with `notice` saying so, never an error page.
    """

    keyset = True

    def __init__(self, queryset: QuerySet[Any], params: Any, size: int, *, count: BoundedCount | None = None) -> None:
        """`count`: the queue's bounded count when the page already has it (a tab's count of the same rows)."""
        queryset, self.keys = keyset.ordered(queryset)
        self.count = bounded_count(queryset) if count is None else count
        self.notice = ""
        self._base = params.copy()
        for name in POSITION_PARAMS:
            self._base.pop(name, None)
        self._size = size
        direction = "before" if params.get("before") and not params.get("after") else "after"
        token = params.get(direction)
        position = self._decode(token) if token else None
        if token and position is None:
            self.notice = "That page link no longer fits this list; showing the first page."
        rows: list[Any] = []
        if position is not None and direction == "before":
            backwards = keyset.reversed_keys(self.keys)
            after = keyset.after(backwards, position[0], keyset.never_null(queryset, backwards))
            rows = list(queryset.reverse().filter(after)[: size + 1])
            more = len(rows) > size
            # Back at the head of the queue, the first page itself (full, even if rows ahead were decided).
            position = (position[0], max(1, position[1])) if more else None
            rows = rows[:size][::-1] if more else []
            self.has_previous, self.has_next = more, True
        if position is not None and direction == "after":
            after = keyset.after(self.keys, position[0], keyset.never_null(queryset, self.keys))
            rows = list(queryset.filter(after)[: size + 1])
            self.has_previous, self.has_next = True, len(rows) > size
            rows = rows[:size]
        if position is None:
            rows = list(queryset[: size + 1])
            self.has_previous, self.has_next = False, len(rows) > size
            rows = rows[:size]
        self.object_list = rows
        self._start = position[1] if position is not None else 1

    # The interface of a Django Page that the queue templates read.
    @property
    def paginator(self) -> KeysetPage:
        return self

    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    def start_index(self) -> int:
        return self._start if self.object_list else 0

    def end_index(self) -> int:
        return self._start + len(self.object_list) - 1 if self.object_list else 0

    def _link(self, **position: str) -> str:
        query = self._base.copy()
        for name, value in position.items():
            query[name] = value
        return f"?{query.urlencode()}"

    def _token(self, row: Any, start: int) -> str:
        payload = {
            "k": keyset.signature(self.keys),
            "v": [keyset.encode_value(value) for value in keyset.values_of(row, self.keys)],
            "i": start,
        }
        return signing.dumps(payload, salt=KEYSET_SALT, compress=True)

    def _decode(self, token: str) -> tuple[list[Any], int] | None:
        try:
            payload = signing.loads(token, salt=KEYSET_SALT)
        except signing.BadSignature:
            return None
        # A link made for another order (a tab or sort of the same queue) says nothing about this one.
        if not isinstance(payload, dict) or payload.get("k") != keyset.signature(self.keys):
            return None
        return [keyset.decode_value(value) for value in payload["v"]], int(payload["i"])

    @property
    def next_url(self) -> str:
        if not self.has_next:
            return ""
        return self._link(after=self._token(self.object_list[-1], self._start + len(self.object_list)))

    @property
    def previous_url(self) -> str:
        if not self.has_previous or not self.object_list:
            return ""
        return self._link(before=self._token(self.object_list[0], self._start - self._size))

    @property
    def first_url(self) -> str:
        return self._link()
