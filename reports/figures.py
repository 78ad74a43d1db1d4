"""Registry figures (saypro.figures) as the reports' figures: one conversion, so that the dashboard, the area
pages, every report format and the metrics API print the same value, n, comparison and target.

The figures this app shows of its own are declared here too: the promises' SLA achievement (compliance.<metric>,
one per registered promise, over the SLA kernel's clocks) and the improvement log's counts (document 002's
improvements made)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from accounts.metrics import local_days
from saypro import periods
from saypro.figures.registry import (
    COUNT,
    DOWN,
    PERCENT,
    UP,
    FigureReading,
    FigureSpec,
    Measure,
    Query,
    Reading,
    Span,
    figure_register,
    figure_series,
    figure_spec,
    figure_specs,
    figures_read,
    own_filters,
)
from saypro.figures.targets import TargetBook
from saypro.periods import Period
from saypro.sla import selectors as sla_selectors
from saypro.sla.promises import Promise, promises

from . import document
from .models import Improvement

# The dimensions the area pages and the metrics API narrow the registered figures to (?region=Gauteng): the
# documents' custom reports by inquiry type, ad category and region, and support's and moderation's own.
FIGURE_FILTERS = ("category", "ad_category", "region", "channel", "priority", "department", "reason", "content_type")


def not_split_by(key: str, filters: Mapping[str, str]) -> list[str]:
    """The filters a figure cannot be split by (all of them for a figure outside the registry), in
    FIGURE_FILTERS' order: its value is the whole marketplace's whatever they say."""
    try:
        dimensions: tuple[str, ...] = figure_spec(key).dimensions
    except KeyError:
        dimensions = ()
    return [name for name in FIGURE_FILTERS if filters.get(name) and name not in dimensions]


def _note(reading: Reading) -> str:
    parts = []
    if reading.band:
        parts.append(f"{reading.band} the band")
    if "previous" in reading.parts:
        parts.append(f"against {int(reading.parts['previous']):,} the quarter before")
    if "rejected" in reading.parts:
        parts.append(f"{int(reading.parts['rejected']):,} rejected beside it")
    if "missed" in reading.parts:
        parts.append(f"{int(reading.parts['met']):,} met, {int(reading.parts['missed']):,} missed")
    if "at_risk" in reading.parts:
        parts.append(
            f"{int(reading.parts['at_risk']):,} at risk, {int(reading.parts['breached']):,} breached, "
            f"{int(reading.parts['unassigned']):,} unassigned"
        )
    if "topics" in reading.parts:
        parts.append(f"in {int(reading.parts['topics']):,} topics")
    if "churned" in reading.parts:
        parts.append(f"{int(reading.parts['churned']):,} of {int(reading.parts['previous_active']):,} active before")
    if "users_affected" in reading.parts:
        parts.append(f"{int(reading.parts['users_affected']):,} accounts affected")
    if "released_by_admin" in reading.parts:
        parts.append(f"{int(reading.parts['released_by_admin']):,} released by an admin")
    if "promoters" in reading.parts:
        parts.append(f"{int(reading.parts['promoters']):,} promoters, {int(reading.parts['detractors']):,} detractors")
    if "median_hours" in reading.parts:
        parts.append(f"median {document.format_value(reading.parts['median_hours'], document.HOURS)}")
    return "; ".join(parts)


def as_document_figure(reading: FigureReading) -> document.Figure:
    spec, current, previous = reading.figure, reading.current, reading.previous
    return document.Figure(
        key=spec.key,
        label=spec.label,
        value=current.value,
        unit=spec.unit,
        previous=None if previous is None else previous.value,
        target=current.target,
        target_text=current.target_text,
        higher_is_better=spec.direction != DOWN,
        note=_note(current),
        n=current.n,
        pending=current.pending,
        to_date=current.to_date,
        verdict=current.met,
        judged=True,
        target_key=spec.target_key_for(current.period.kind),
    )


def area_readings(
    area: str,
    period: Period,
    *,
    now: datetime,
    filters: Mapping[str, str] | None = None,
    book: TargetBook | None = None,
) -> list[FigureReading]:
    """Every registered figure of one area for the period, in the registry's order."""
    keys = [spec.key for spec in figure_specs(area)]
    return figures_read(keys, period, now=now, filters=filters, book=book)


def area_figures(
    area: str,
    period: Period,
    *,
    now: datetime,
    filters: Mapping[str, str] | None = None,
    book: TargetBook | None = None,
) -> list[document.Figure]:
    return [as_document_figure(r) for r in area_readings(area, period, now=now, filters=filters, book=book)]


# The summary's cards and the trends section show a figure over this many quarters, the report's own last.
TREND_QUARTERS = 5


def quarter_trend(
    key: str,
    period: Period,
    *,
    now: datetime,
    book: TargetBook,
    count: int = TREND_QUARTERS,
    filters: Mapping[str, str] | None = None,
) -> list[tuple[Period, Reading]]:
    """The figure over the quarter containing `period` (to date while it runs) and the quarters before it, oldest
    first, each with the target in force then: the documents compare a quarter with the previous quarters. The
    filters the figure can be split by apply."""
    chain = [periods.containing(periods.QUARTER, period.start)]
    while len(chain) < count:
        chain.insert(0, chain[0].previous())
    readings = figure_series(key, chain, now=now, filters=own_filters(key, filters), book=book)
    return list(zip(chain, readings, strict=True))


def reading_dict(reading: Reading | None) -> dict[str, Any] | None:
    if reading is None:
        return None
    return {
        "period": reading.period.slug,
        "start": reading.start,
        "end": reading.end,
        "to_date": reading.to_date,
        "value": reading.value,
        "n": reading.n,
        "pending": reading.pending,
        "parts": dict(reading.parts),
        "target": reading.target,
        "target_text": reading.target_text,
        "met": reading.met,
        "band": reading.band,
    }


def figure_dict(reading: FigureReading) -> dict[str, Any]:
    spec = reading.figure
    return {
        "key": spec.key,
        "label": spec.label,
        "unit": spec.unit,
        "area": spec.area,
        "definition": spec.definition,
        "population": spec.population,
        "placed_by": spec.placed_by,
        "direction": spec.direction,
        "dimensions": list(spec.dimensions),
        "source": spec.source,
        "current": reading_dict(reading.current),
        "previous": reading_dict(reading.previous),
        "change": reading.change,
        "quarters": [reading_dict(q) for q in reading.quarters],
    }


# --- The figures this app declares ---------------------------------------------------------------------------

COMPLIANCE = "compliance"
IMPROVEMENTS = "improvements"
IMPROVEMENTS_DOC = "002 Quarterly User Accounts Report"


def compliance_key(metric: str) -> str:
    """The key of a promise's achievement figure."""
    return f"{COMPLIANCE}.{metric}"


def _achievement(metric: str) -> Query:
    """The kernel's one aggregate over the clocks due in the span (their deadline index): the same count as the
    daily rollups the trend charts add up, in one query whatever the span."""

    def query(span: Span) -> Measure:
        counts = sla_selectors.compliance(metric=metric, start=span.start, end=span.end, now=span.now)
        met, missed = counts.achieved, counts.breached
        decided = met + missed
        return Measure(value=100 * met / decided if decided else None, n=decided, parts={"met": met, "missed": missed})

    return query


def _compliance_spec(promise: Promise) -> FigureSpec:
    headline = promise.figure_keys[0] if promise.figure_keys else ""
    try:
        source = figure_spec(headline).source
    except KeyError:
        source = ""
    return FigureSpec(
        key=compliance_key(promise.metric),
        # Placed by the deadline's day, unlike the headline figures placed by the item's arrival: said in the label.
        label=f"{promise.title}, by deadline date",
        unit=PERCENT,
        area=COMPLIANCE,
        definition=f"SLA achievement = achieved ÷ (achieved + breached), per deadline date: achieved = "
        f"{promise.deadline_text}; breached = stopped late, or still open past the deadline; an item still open "
        "inside its deadline is left out until it passes. The deadline follows the promise's policy and calendar.",
        population=f"the items of the promise “{promise.title}” whose deadline fell in the period",
        placed_by="the local day the deadline fell",
        direction=UP,
        query=_achievement(promise.metric),
        source=source,
        target_key=promise.target_key,
        order=promise.order,
    )


def _improvements(kind: str) -> Query:
    def query(span: Span) -> Measure:
        first, end = local_days(span.start, span.end)
        entries = Improvement.objects.filter(kind=kind, made_on__gte=first, made_on__lt=end)
        if span.filters.get("area"):
            entries = entries.filter(area=span.filters["area"])
        n = entries.count()
        return Measure(value=float(n), n=n)

    return query


# Label and definition per kind of entry (document 002: feature updates, system optimisation, user feedback).
IMPROVEMENT_KINDS = {
    Improvement.Kind.FEATURE: "Feature updates made",
    Improvement.Kind.OPTIMISATION: "System optimisations made",
    Improvement.Kind.FEEDBACK: "Changes made from user feedback",
}
IMPROVEMENT_DEFINITIONS = {
    Improvement.Kind.FEATURE: "New features or improvements to account creation, sign-in, profile management or "
    "security (e.g. better password recovery, multi-factor authentication, mobile optimisation).",
    Improvement.Kind.OPTIMISATION: "Technical improvements to the account system: performance, bug fixes, new "
    "integrations that streamline account management.",
    Improvement.Kind.FEEDBACK: "Changes made in response to users' feedback or commonly reported issues (e.g. a "
    "simpler registration, more self-service).",
}


def register() -> None:
    """The compliance figures are made from the promises, which the apps register before this one is ready."""
    for promise in promises():
        figure_register(_compliance_spec(promise))
    for order, (kind, label) in enumerate(IMPROVEMENT_KINDS.items()):
        figure_register(
            FigureSpec(
                key=f"{IMPROVEMENTS}.{kind}",
                label=label,
                unit=COUNT,
                area=IMPROVEMENTS,
                definition=IMPROVEMENT_DEFINITIONS[kind] + " Counted from the improvement log "
                "administrators keep, one per entry.",
                population=f"the improvement log's entries of the kind “{kind.label}”",
                placed_by="the day the change was made",
                direction=UP,
                query=_improvements(kind),
                source=IMPROVEMENTS_DOC,
                dimensions=("area",),
                order=order,
            )
        )
