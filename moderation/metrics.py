"""Moderation reads for the dashboard tile and the figures page; every figure of a period is the registry's
(moderation.figures), read here for the page.

- decided_within_target(start, end)        clocks due in the period: decided within 12 h ÷ all due (target 100 %)
- moderation_tile(now)                     the dashboard tile: quarter-to-date compliance, open, at risk, breached
- moderation_figures(period, now)          the registry's moderation figures for the figures page
- decisions_by_day(start, end)             per deadline day: within 12 h, late
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone

from saypro.figures.registry import Reading, figures_read
from saypro.ml.models import TextModel
from saypro.periods import Period
from saypro.sla import selectors as sla_selectors

from .spam import MODEL_NAME

METRIC = "moderation.decision"


@dataclass(frozen=True)
class Tile:
    compliance: sla_selectors.Compliance
    open: int
    at_risk: int
    breached: int


def decided_within_target(*, start: datetime, end: datetime, now: datetime | None = None) -> sla_selectors.Compliance:
    """Decision clocks due in [start, end): achieved (decided within 12 h) and breached; `.rate` is compliance."""
    return sla_selectors.compliance(metric=METRIC, start=start, end=end, now=now)


def quarter_start(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return local.replace(month=3 * ((local.month - 1) // 3) + 1, day=1, hour=0, minute=0, second=0, microsecond=0)


def moderation_tile(*, now: datetime | None = None) -> Tile:
    """The dashboard tile: compliance of clocks due this quarter so far, and the live queue."""
    now = now or timezone.now()
    counts = sla_selectors.queue_counts(metric=METRIC, now=now)
    return Tile(
        compliance=decided_within_target(start=quarter_start(now), end=now, now=now),
        open=counts.open,
        at_risk=counts.at_risk,
        breached=counts.breached,
    )


# The figures page's tiles and bars, in its order.
FIGURE_KEYS = (
    "moderation.decided_12h",
    "moderation.median_hours",
    "moderation.p90_hours",
    "moderation.automatic_precision",
    "moderation.recurrence_rate",
    "moderation.appeal_reversals",
    "moderation.flags",
    "moderation.actions",
)


def moderation_figures(*, period: Period, now: datetime) -> dict[str, Reading]:
    """The registry's moderation figures for `period` (to date while it runs), by key."""
    return {r.figure.key: r.current for r in figures_read(FIGURE_KEYS, period, now=now, compare=False)}


def decisions_by_day(*, start: datetime, end: datetime) -> list[tuple[date, int, int, float | None]]:
    """Per local day of the deadline: (day, within 12 h, late, rate), for the trend chart."""
    return sla_selectors.compliance_series(metric=METRIC, start=start, end=end, tz=timezone.get_current_timezone())


def spam_model_summary() -> TextModel | None:
    """The active spam classifier (its version, size and cross-validated quality), or None: rules only."""
    return TextModel.objects.filter(name=MODEL_NAME, is_active=True).defer("blob").first()
