"""Nearest-rank percentiles computed in the database: the value at rank ceil(fraction × n) of the sorted values."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from django.db import connections
from django.db.models import Aggregate, Expression, F, QuerySet

# The percentiles the figures give: the median and the 90th.
MEDIAN_AND_P90 = (0.5, 0.9)


class PercentileDisc(Aggregate):
    """PostgreSQL's PERCENTILE_DISC: the first value whose cumulative share of the rows reaches `fraction`, which
    is the nearest rank. Several over the same expression share one sort."""

    function = "PERCENTILE_DISC"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression: Expression | F, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=float(fraction), **extra)


def nearest_ranks(
    queryset: QuerySet[Any], expression: Expression | F, fractions: Sequence[float], count: int
) -> list[Any]:
    """The nearest-rank percentiles of `expression` over the `count` rows of `queryset`, one per fraction (None
    without rows): on PostgreSQL in one aggregate, elsewhere by ORDER BY … OFFSET, one query a fraction."""
    if not count:
        return [None] * len(fractions)
    if connections[queryset.db].vendor == "postgresql":
        names = [f"rank_{index}" for index in range(len(fractions))]
        row = queryset.aggregate(
            **{name: PercentileDisc(expression, fraction) for name, fraction in zip(names, fractions, strict=True)}
        )
        return [row[name] for name in names]
    ordered = queryset.annotate(ranked=expression).order_by("ranked").values_list("ranked", flat=True)
    return [ordered[max(0, min(count - 1, math.ceil(fraction * count) - 1))] for fraction in fractions]
