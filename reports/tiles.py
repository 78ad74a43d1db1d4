"""The dashboard's promise tiles, shared by everyone who may see the same promises.

A tile reads rollups, the live queue counts and the registered figures: about 35 queries for a manager, and the
same numbers for every manager. So the tiles are computed at most once per refresh interval for each set of
visible promises (what a role may see is the cache key), kept in Django's cache (Redis in production) and shown
with the time they were computed ("as of 07:28:49"), by saypro.shared: one request computes them under a lock,
the others serve the previous tiles meanwhile, or wait for the first ones when there are none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.template.loader import render_to_string
from django.urls import reverse

from saypro import periods
from saypro.figures.registry import FigureReading
from saypro.figures.targets import TargetBook
from saypro.shared import computed_once
from saypro.sla.promises import promises

from . import selectors
from .figures import as_document_figure

# Below target by at most this many points is amber; further below is red.
AMBER_POINTS = 5.0
CACHE_PREFIX = "dashboard:tiles:v1"


def compliance_grade(percent: float | None, target: float | None) -> str:
    if percent is None or target is None:
        return "neutral"
    if percent >= target:
        return "ok"
    if percent >= target - AMBER_POINTS:
        return "warn"
    return "bad"


def items_url(metric: str, **query: str) -> str:
    return f"{reverse('dashboard:promise-items', args=[metric])}?{urlencode(query)}"


def _tile_figure(reading: FigureReading) -> dict[str, Any]:
    """A registered figure on a tile: the quarter to date, with its n, what is pending and its target."""
    figure = as_document_figure(reading)
    note = " · ".join(
        part for part in (figure.sample_text, figure.target_text and f"target {figure.target_text}") if part
    )
    return {
        "key": figure.key,
        "label": figure.label,
        "value": figure.text(),
        "note": note,
        "grade": {True: "ok", False: "bad", None: "neutral"}[figure.met],
    }


def _tile(tile: selectors.PromiseTile, targets: TargetBook, now: datetime) -> dict[str, Any]:
    promise = tile.promise
    metric = promise.metric
    # The target in force this quarter; a tile without one grades nothing.
    target = targets.value(promise.target_key, periods.today(now))
    periods_ = []
    for key, label, value in (
        ("week", "This week", tile.week),
        ("month", "This month", tile.month),
        ("quarter", "This quarter", tile.quarter),
    ):
        periods_.append(
            {
                "key": key,
                "label": label,
                "value": "—" if value.percent is None else f"{value.percent:.1f} %",
                "note": f"{value.achieved:,} of {value.decided:,}" if value.decided else "no deadline yet",
                "grade": compliance_grade(value.percent, target),
                "url": items_url(metric, state=selectors.DECIDED, period=key),
            }
        )
    return {
        "key": metric.replace(".", "-"),
        "metric": metric,
        "title": promise.title,
        "target": "—" if target is None else f"{target:g} %",
        "deadline_text": promise.deadline_text,
        "periods": periods_,
        "grade": compliance_grade(tile.week.percent, target),
        "counts": [
            {
                "key": "open",
                "label": promise.open_label,
                "value": tile.open,
                "url": items_url(metric, state=selectors.OPEN),
                "grade": "neutral",
            },
            {
                "key": "at_risk",
                "label": "At risk",
                "value": tile.at_risk,
                "url": items_url(metric, state=selectors.AT_RISK),
                "grade": "warn" if tile.at_risk else "ok",
            },
            {
                "key": "breached",
                "label": "Breached",
                "value": tile.breached_open,
                "url": items_url(metric, state=selectors.BREACHED),
                "grade": "bad" if tile.breached_open else "ok",
            },
        ],
        "figures": [_tile_figure(reading) for reading in tile.figures],
        "trend": [value for _, value in tile.trend],
        "trend_label": (f"Weekly achievement from {tile.trend[0][0]} to {tile.trend[-1][0]}" if tile.trend else ""),
        "target_value": target,
    }


@dataclass(frozen=True)
class SharedTiles:
    tiles: list[dict[str, Any]]
    # When they were computed: the page says "as of" this time.
    as_of: datetime
    # The tile block as HTML, rendered once with them: it holds nothing of the person who asks.
    html: str = ""


# What is shared: the tiles and their block of HTML.
Computation = Callable[[datetime], tuple[list[dict[str, Any]], str]]


def tiles_compute(*, user: object, now: datetime) -> tuple[list[dict[str, Any]], str]:
    targets = TargetBook()
    readings = selectors.promise_tiles(user=user, now=now, with_figures=True, book=targets)
    computed = [_tile(t, targets, now) for t in readings]
    return computed, render_to_string("dashboard/_tiles.html", {"tiles": computed, "as_of": now})


def shared(key: str, compute: Computation, *, now: datetime, max_age: float) -> SharedTiles:
    """The tiles under `key`, computed at most once per `max_age` seconds for everyone (saypro.shared)."""

    def entry(at: datetime) -> SharedTiles:
        computed, html = compute(at)
        return SharedTiles(tiles=computed, as_of=at, html=html)

    return computed_once(key, entry, now=now, max_age=max_age)


def dashboard_tiles(*, user: Any, now: datetime, max_age: float) -> SharedTiles:
    """The tiles this user may see, shared with everyone who may see the same promises."""
    visible = [p.metric for p in promises() if selectors.may_see_promise(user, p)]
    if not visible:
        return SharedTiles(tiles=[], as_of=now)
    key = f"{CACHE_PREFIX}:{','.join(sorted(visible))}"
    return shared(key, lambda at: tiles_compute(user=user, now=at), now=now, max_age=max_age)
