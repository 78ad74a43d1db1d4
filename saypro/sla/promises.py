"""The promises the product keeps, one per SLA metric, as the dashboard and the reports show them.

Each app that owns a metric registers its promise from AppConfig.ready(): what to call it, the share of items
that must meet the deadline, who may see the items behind the figure and where they are listed. The items page
(`items_url_name`) understands `?at_risk=on` and `?breached=on`, so a tile can link to exactly its rows.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Promise:
    metric: str
    title: str
    # e.g. "approved within 48 h": what a met clock means, for tile notes and report sentences.
    deadline_text: str
    # The share of items that must meet the deadline, 0–1.
    target_rate: float
    # Who sees the items behind the figure (the queue); managers see figures through sla.view_compliance.
    queue_permission: str
    items_url_name: str
    # Position on the dashboard: the marketplace's four promises in the order the product states them.
    order: int = 100


_promises: dict[str, Promise] = {}


def promise_register(promise: Promise) -> None:
    """Register or replace (by metric) one promise."""
    _promises[promise.metric] = promise


def promises() -> list[Promise]:
    return sorted(_promises.values(), key=lambda p: (p.order, p.metric))


def promise_for(metric: str) -> Promise | None:
    return _promises.get(metric)
