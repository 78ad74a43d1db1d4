"""One aggregate over several disjoint spans in one read, grouped by span: the rows behind a figure series (a
quarter's weeks, a trend's quarters) read once instead of once a span."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db.models import Aggregate, Case, Count, IntegerField, QuerySet, Value, When

from .registry import Span, shared_given


def aggregate_by_span(
    rows_of: Callable[[Span], QuerySet[Any]],
    placed_by: str,
    spans: Sequence[Span],
    aggregates: Mapping[str, Aggregate],
    key: str,
) -> list[dict[str, Any]]:
    """`rows_of(span).aggregate(**aggregates)` for each of `spans` (same filters and instant), placing each row in a
    span by its `placed_by` field. Each span's result is also stored as the shared read `(key, *span.key())`, so that
    a figure read later for one of these spans, inside the same shared_reads scope, reads no rows."""
    now, filters = spans[0].now, spans[0].filters
    whole = Span(start=min(s.start for s in spans), end=max(s.end for s in spans), now=now, filters=filters)
    span_of = Case(
        *(
            When(**{f"{placed_by}__gte": s.start, f"{placed_by}__lt": s.end}, then=Value(index))
            for index, s in enumerate(spans)
        ),
        output_field=IntegerField(),
    )
    found: dict[int, dict[str, Any]] = {}
    for row in rows_of(whole).annotate(span_of=span_of).values("span_of").annotate(**aggregates).order_by():
        counts = dict(row)
        # Rows between two spans (a gap in the series) have no span: left out.
        found[counts.pop("span_of")] = counts
    # A span without rows: what an aggregate over no rows gives.
    none = {name: 0 if isinstance(aggregate, Count) else None for name, aggregate in aggregates.items()}
    return [shared_given((key, *s.key()), found.get(index, none)) for index, s in enumerate(spans)]
