"""The promises the product keeps, one per SLA metric, as the dashboard and the reports show them.

Each app that owns a metric registers its promise from AppConfig.ready(): what to call it, the target key of the
share of items that must meet the deadline, who works its items and where, and the registered figures its tile
shows beside achievement and the queue (e.g. the headline the documents define). Every number on a tile links to
the dashboard's read-only list of the clocks behind it; the app's own queue (`items_url_name`, which understands
`?at_risk=on` and `?breached=on`) and item page (`item_url_name`) are linked from there for the staff who hold
`queue_permission` (the item page also for those who hold `item_permission`, e.g. managers reading an item
without working it). `describe_items` names a
page of items (name or subject, status in words) in one query, for that list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


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
    # The key of the target (saypro.figures) that says what share of items must meet the deadline, in percent.
    target_key: str
    # Who works the items (their queue and pages); managers see figures and item lists through sla.view_compliance.
    queue_permission: str
    items_url_name: str
    # The page of one item, reversed with the clock's target id; blank when items have no page of their own.
    item_url_name: str = ""
    # Who may open that page and see whose the item is; blank: those with queue_permission.
    item_permission: str = ""
    describe_items: ItemsDescriber | None = None
    # The keys of the registered figures (saypro.figures) the tile shows beside achievement and the queue, e.g.
    # the promise's headline as the business documents define it.
    figure_keys: tuple[str, ...] = ()
    # Position on the dashboard: the marketplace's four promises in the order the product states them.
    order: int = 100
    # What the open clocks are, in words (the tile's and the drill-down's label): "Awaiting a first answer" says
    # what is counted where a bare "Open" reads like another page's "open" or "backlog".
    open_label: str = "Awaiting a decision"
    # The audit actions by which staff take an item off the queue (approve, reply, remove…): the staffing forecast
    # measures decisions per person-hour from them. Empty: the promise is not staffed as a queue.
    decision_actions: tuple[str, ...] = ()
    # The staff role (group name) whose shifts work the queue.
    staff_role: str = ""


_promises: dict[str, Promise] = {}


def promise_register(promise: Promise) -> None:
    """Register or replace (by metric) one promise."""
    _promises[promise.metric] = promise


def promises() -> list[Promise]:
    return sorted(_promises.values(), key=lambda p: (p.order, p.metric))


def promise_for(metric: str) -> Promise | None:
    return _promises.get(metric)
