"""Keyset pages: the rows after (or before) a position in a queryset's own ordering, computed annotations included.

An OFFSET page walks every row ahead of it, so a page deep in a queue of 40,000 open items reads 40,000 index
entries; a keyset page seeks to the last row it showed and reads one page. Shared by the API's cursor pages
(saypro.api.KeysetPagination) and the queue pages (saypro.paginators.keyset_page).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import reduce
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import Col, OrderBy
from django.db.models.fields.tuple_lookups import (
    Tuple,
    TupleGreaterThan,
    TupleGreaterThanOrEqual,
    TupleLessThan,
    TupleLessThanOrEqual,
)
from django.db.models.lookups import IsNull, Lookup
from django.db.models.sql.constants import INNER
from django.db.models.sql.datastructures import BaseTable
from django.db.models.sql.where import AND, WhereNode


# Which way one sort key runs, and where its NULLs fall (explicit in the ordering, or the database's own).
@dataclass(frozen=True)
class SortKey:
    name: str
    descending: bool
    nulls_first: bool


def sort_keys(queryset: QuerySet[Any]) -> list[SortKey]:
    nulls_largest = connections[queryset.db].features.nulls_order_largest
    keys = []
    for term in queryset.query.order_by:
        nulls_first: bool | None = None
        if isinstance(term, str):
            name, descending = term.lstrip("-"), term.startswith("-")
        elif isinstance(term, OrderBy) and isinstance(term.expression, F):
            name, descending = term.expression.name, term.descending  # type: ignore[attr-defined]  # F.name, not in the stubs
            nulls_first = True if term.nulls_first else False if term.nulls_last else None
        else:
            raise ImproperlyConfigured(f"Keyset pages sort by field or annotation names, not {term!r}.")
        if nulls_first is None:
            # Where the database sorts NULL as the largest value, it comes last ascending and first descending.
            nulls_first = descending == nulls_largest
        keys.append(SortKey("pk" if name == queryset.model._meta.pk.name else name, descending, nulls_first))
    return keys


def signature(keys: list[SortKey]) -> list[str]:
    return [("-" if key.descending else "") + key.name for key in keys]


def values_of(row: Any, keys: list[SortKey]) -> list[Any]:
    return [getattr(row, key.name) for key in keys]


def never_null(queryset: QuerySet[Any], keys: list[SortKey]) -> list[bool]:
    """For each key, whether no row of `queryset` can hold NULL in it: a NOT NULL column of the model's own table,
    or of a joined table when the join is inner or the queryset asks for the column to be set (`due_at__isnull=False`:
    a queue joins its open clock so). A computed annotation may be NULL."""
    query = queryset.query
    required = _required_columns(query.where)
    result = []
    for key in keys:
        expression = query.annotations.get(key.name)
        if expression is None:
            field = queryset.model._meta.pk if key.name == "pk" else queryset.model._meta.get_field(key.name)
            result.append(not field.null)
        elif isinstance(expression, Col):
            join = query.alias_map.get(expression.alias)
            joined = isinstance(join, BaseTable) or getattr(join, "join_type", None) == INNER
            result.append(not expression.target.null and (joined or (expression.alias, expression.target) in required))
        else:
            result.append(False)
    return result


def _required_columns(where: WhereNode) -> set[tuple[str, Any]]:
    """The columns that the conditions ANDed at the top of `where` require to be set (IS NOT NULL)."""
    if where.negated or where.connector != AND:
        return set()
    required = set()
    for child in where.children:
        if isinstance(child, WhereNode):
            required |= _required_columns(child)
        elif isinstance(child, IsNull) and child.rhs is False and isinstance(child.lhs, Col):
            required.add((child.lhs.alias, child.lhs.target))
    return required


def after(keys: list[SortKey], values: list[Any], not_null: list[bool] | None = None) -> Q:
    """Rows after `values` in the keys' order.

    The general form is an OR: equal on the first i keys and beyond on key i, for some i; PostgreSQL cannot start an
    index scan at it, so a page deep in a queue walks the index from its start. So the leading keys that run the
    same way and hold no NULL (`not_null`, and the cursor's value not NULL) are also compared as one row,
    `(a, b) >= (x, y)`, which the index seeks to; when that is every key the row comparison, strict, is enough."""
    not_null = not_null or [False] * len(keys)
    prefix = 0
    for key, value, held in zip(keys, values, not_null, strict=True):
        if value is None or not held or key.descending != keys[0].descending:
            break
        prefix += 1
    if prefix == len(keys):
        return Q(_row_beyond(keys, values, strictly=True))
    exact = _after_or(keys, values)
    return exact & Q(_row_beyond(keys[:prefix], values[:prefix], strictly=False)) if prefix else exact


def _row_beyond(keys: list[SortKey], values: list[Any], *, strictly: bool) -> Lookup:
    columns = Tuple(*(F(key.name) for key in keys))
    if keys[0].descending:
        return (TupleLessThan if strictly else TupleLessThanOrEqual)(columns, list(values))
    return (TupleGreaterThan if strictly else TupleGreaterThanOrEqual)(columns, list(values))


def _after_or(keys: list[SortKey], values: list[Any]) -> Q:
    alternatives = []
    equal = Q()
    for key, value in zip(keys, values, strict=True):
        beyond = _beyond(key, value)
        if beyond is not None:
            alternatives.append(equal & beyond)
        equal &= Q(**{f"{key.name}__isnull": True}) if value is None else Q(**{key.name: value})
    return reduce(operator.or_, alternatives) if alternatives else Q(pk__in=[])


def _beyond(key: SortKey, value: Any) -> Q | None:
    if value is None:
        # After a NULL come the non-NULL values if NULLs sort first; nothing if they sort last.
        return Q(**{f"{key.name}__isnull": False}) if key.nulls_first else None
    strictly = Q(**{f"{key.name}__{'lt' if key.descending else 'gt'}": value})
    return strictly if key.nulls_first else strictly | Q(**{f"{key.name}__isnull": True})


def encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    return value


def decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "datetime" in value:
            return datetime.fromisoformat(value["datetime"])
        return date.fromisoformat(value["date"])
    return value


def ordered(queryset: QuerySet[Any]) -> tuple[QuerySet[Any], list[SortKey]]:
    """The queryset and its sort keys, with the primary key last when it is not a key already: a unique last key,
    so no two rows share a position."""
    keys = sort_keys(queryset)
    if "pk" not in {key.name for key in keys}:
        queryset = queryset.order_by(*queryset.query.order_by, "pk")
        keys.append(SortKey("pk", descending=False, nulls_first=False))
    return queryset, keys


def reversed_keys(keys: list[SortKey]) -> list[SortKey]:
    """The keys of queryset.reverse(): each runs the other way, its NULLs at the other end."""
    return [replace(key, descending=not key.descending, nulls_first=not key.nulls_first) for key in keys]
