"""The staff search's shared pieces: what one found item looks like, and how a typed query is read.

Each app searches its own records with a selector (`ticket_search`, `conversation_search`, ...) that returns
`SearchHit`s; the search page (reports.search) asks only the apps whose records the signed-in person may read.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Q

from saypro.indexes import Step, postgresql_indexes

if TYPE_CHECKING:
    from django.db.models import Model, QuerySet

# Longer input is cut here: nothing anyone types to find a record is longer, and LIKE patterns grow with it.
MAX_QUERY = 100
# What a person is found by (accounts' user_ids_matching, and a queue's search through the join).
PERSON_COLUMNS = ("email", "full_name", "phone")
# Below this a fragment matches nearly everything and no trigram index can serve it (a trigram has 3 letters).
MIN_TEXT = 3


@dataclass(frozen=True)
class SearchHit:
    pk: int
    # The subject, the applicant's name, what a case is about.
    title: str
    # Who it concerns: a name and e-mail address.
    who: str
    # The record's status, in words, and its code (for the pill's colour).
    status: str
    status_code: str
    # The time the list is sorted by (created or last activity).
    at: datetime | None


@dataclass(frozen=True)
class SearchTerms:
    text: str
    # The record number when the query is one ("1718" or "#1718").
    pk: int | None

    @property
    def searches_text(self) -> bool:
        return len(self.text) >= MIN_TEXT


def search_terms(q: str) -> SearchTerms:
    """The query as typed, cleaned: surrounding space dropped, cut to MAX_QUERY, a leading "#" read as a number."""
    text = " ".join(q.split())[:MAX_QUERY].replace("\x00", "")
    number = text.lstrip("#")
    # Bounded so that a long run of digits is not taken for an id no column can hold.
    pk = int(number) if number.isdigit() and len(number) <= 12 else None
    return SearchTerms(text=text, pk=pk)


def matching_ids(*branches: QuerySet[Any, Any]) -> QuerySet[Any, Any] | None:
    """One id column from each branch (each a `.values(...)` of one column), as the UNION of them, for a
    `pk__in=` filter; None when there is no branch.

    Why a UNION and not one OR: PostgreSQL serves `subject LIKE … OR body LIKE …` on one table with a BitmapOr of
    their trigram indexes, but an OR that also holds `requester_id IN (subquery)` makes it scan the whole table.
    Each branch of a UNION uses its own index."""
    if not branches:
        return None
    first, *rest = branches
    return first.union(*rest) if rest else first


def person_match(text: str, prefix: str = "") -> Q:
    """A person whose e-mail, name or phone contains `text`; `prefix` reaches them through a relation ("user__")."""
    return functools.reduce(operator.or_, (Q(**{f"{prefix}{column}__icontains": text}) for column in PERSON_COLUMNS))


def queue_search(
    model: type[Model],
    q: str,
    *,
    columns: tuple[str, ...],
    people: tuple[str, Callable[..., QuerySet[Any, Any]]],
    by_number: bool = False,
) -> Q:
    """A queue's search box: the rows whose `columns` or whose person contain the query (`people`: the foreign key
    to the user, and accounts' user_ids_matching, called with `text=`), and with `by_number` the row whose number
    it is.

    A filter on the queue's own query, `pk IN (a UNION of one branch per index)` as in matching_ids: written as one
    OR across the row's columns and the joined user's, it made PostgreSQL read every open row (about 180 ms on a
    queue of 40,000). A query under MIN_TEXT characters, which no trigram serves, is matched as that OR, and one
    that is a number that short finds that record only."""
    terms = search_terms(q)
    field, user_ids = people
    in_row = [Q(**{f"{column}__icontains": terms.text}) for column in columns]
    number = Q(pk=terms.pk) if by_number and terms.pk is not None else None
    if not terms.searches_text:
        if number:
            # "#12" or "12" is a record's number: one or two digits found in every phone number are not a match.
            return number
        # Through the join: with a fragment this short, the subquery would list most users first.
        of_person = person_match(terms.text, prefix=f"{field}__")
        return functools.reduce(operator.or_, [*in_row, of_person])
    rows = model._default_manager
    branches = [rows.filter(**{f"{field}__in": user_ids(text=terms.text)}).values("pk")]
    if in_row:
        branches.append(rows.filter(functools.reduce(operator.or_, in_row)).values("pk"))
    if number:
        branches.append(rows.filter(number).values("pk"))
    return Q(pk__in=matching_ids(*branches))


def trigram_indexes(table: str, columns: tuple[str, ...]) -> tuple[Step, Step]:
    """A migration's forward and backward functions for GIN trigram indexes on UPPER(column) (PostgreSQL only).

    Django's `icontains` is `UPPER(column) LIKE UPPER('%fragment%')`, which no B-tree serves; a trigram index on
    the same expression does (as accounts' migration 0006 does for users). SQLite, the embedded database, scans."""
    return postgresql_indexes(
        {f"{table}_{column}_trgm": f"{table} USING gin (UPPER({column}) gin_trgm_ops)" for column in columns},
        extension="pg_trgm",
    )
