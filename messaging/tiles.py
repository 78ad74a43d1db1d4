"""The inbox's header tiles, shared by every member of staff who opens the inbox.

The tiles (first-response compliance for the week, month and quarter, and the whole unresolved backlog by status)
and the counts on the views' tabs aggregate every open conversation and are the same for everyone, so they are
computed at most once per refresh interval for all (saypro.shared) and the page says "as of" when. What is per
person (the "Mine" view and its count) is read on every request, bounded like the other view counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from saypro import shared
from saypro.figures.registry import Reading
from saypro.paginators import BoundedCount

from . import selectors

CACHE_KEY = "messaging:tiles:v3"


@dataclass(frozen=True)
class InboxTiles:
    compliance: dict[str, selectors.ResponseCompliance]
    # The registry's backlog now: n conversations, and its parts (at_risk, breached, unassigned, waiting_on_user).
    backlog: Reading
    # The tabs' counts but "Mine" (selectors.view_counts), each up to QUEUE_COUNT_CAP.
    view_counts: dict[str, BoundedCount]
    # When they were computed: the page says "as of" this time.
    as_of: datetime


def _compute(now: datetime) -> InboxTiles:
    figures = selectors.message_tiles(now=now)
    return InboxTiles(
        compliance=figures["compliance"],
        backlog=figures["backlog"],
        view_counts=selectors.view_counts(now=now),
        as_of=now,
    )


def inbox_tiles(*, now: datetime) -> InboxTiles:
    """Served for the dashboard's refresh interval before one request computes them again."""
    return shared.computed_once(CACHE_KEY, _compute, now=now, max_age=shared.REFRESH_SECONDS)
