"""The promises the product keeps, one per SLA metric, as the dashboard and the reports show them.

Each app that owns a metric registers its promise from AppConfig.ready(): what to call it, the share of items
that must meet the deadline, who works its items and where, and any figures its tile shows beside achievement
and the queue (e.g. time to decision). Every number on a tile links to the dashboard's read-only list of the
clocks behind it; the app's own queue (`items_url_name`, which understands `?at_risk=on` and `?breached=on`)
and item page (`item_url_name`) are linked from there for the staff who hold `queue_permission` (the item page also
for those who hold `item_permission`, e.g. managers reading an item without working it). `describe_items` names a
page of items (name or subject, status in words) in one query, for that list.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

# The units an extra figure's value comes in, as the app's selectors return it.
SECONDS, RATE, COUNT = "seconds", "rate", "count"


class FiguresReader(Protocol):
    def __call__(self, *, now: datetime) -> Any: ...


@dataclass(frozen=True)
class Figure:
    """One extra number on a tile, picked from what the promise's `ExtraFigures.read` returned."""

    key: str
    label: str
    value: Callable[[Any], float | None]
    # SECONDS, RATE (0–1) or COUNT.
    unit: str = COUNT
    # In the figure's unit; None when the promise states no target for it.
    target: float | None = None
    higher_is_better: bool = True
    # What the number covers, e.g. "this quarter".
    note: str = ""


@dataclass(frozen=True)
class ExtraFigures:
    """Read once per tile (one selector call, so its figures share its queries), then each figure takes its value."""

    read: FiguresReader
    figures: tuple[Figure, ...]


@dataclass(frozen=True)
class ItemSummary:
    # The applicant's name, the ticket's or conversation's subject, what a case is about.
    label: str
    # The item's own status, in words ("Needs review", "Waiting on user").
    status: str


class ItemsDescriber(Protocol):
    """Summaries of the items with these ids (target ids of the promise's clocks); deleted items are left out."""

    def __call__(self, *, ids: Sequence[int]) -> dict[int, ItemSummary]: ...


@dataclass(frozen=True)
class Promise:
    metric: str
    title: str
    # e.g. "approved within 48 h": what a met clock means, for tile notes and report sentences.
    deadline_text: str
    # The share of items that must meet the deadline, 0–1.
    target_rate: float
    # Who works the items (their queue and pages); managers see figures and item lists through sla.view_compliance.
    queue_permission: str
    items_url_name: str
    # The page of one item, reversed with the clock's target id; blank when items have no page of their own.
    item_url_name: str = ""
    # Who may open that page and see whose the item is; blank: those with queue_permission.
    item_permission: str = ""
    describe_items: ItemsDescriber | None = None
    extra: ExtraFigures | None = None
    # Position on the dashboard: the marketplace's four promises in the order the product states them.
    order: int = 100
    # What the open clocks are, in words (the tile's and the drill-down's label): "Awaiting a first answer" says
    # what is counted where a bare "Open" reads like another page's "open" or "backlog".
    open_label: str = "Awaiting a decision"


_promises: dict[str, Promise] = {}


def promise_register(promise: Promise) -> None:
    """Register or replace (by metric) one promise."""
    _promises[promise.metric] = promise


def promises() -> list[Promise]:
    return sorted(_promises.values(), key=lambda p: (p.order, p.metric))


def promise_for(metric: str) -> Promise | None:
    return _promises.get(metric)
