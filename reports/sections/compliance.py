"""The four promises: achievement against target over the period, by deadline date, with time to stop."""

from __future__ import annotations

from saypro import periods
from saypro.figures.registry import figure_spec
from saypro.sla import selectors as sla_selectors
from saypro.sla.promises import Promise, promises

from ..document import PERCENT, Chart, Figure, Section, Series, Table
from ..figures import COMPLIANCE, as_document_figure, compliance_key
from ..selectors import achievements, buckets
from . import GENERAL, Context, section_register


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 3600


@section_register("compliance", area=GENERAL, order=10)
def compliance_section(ctx: Context) -> Section:
    section = Section(key="compliance", title="The four promises: SLA compliance")
    period = ctx.period
    rows = []
    trend = buckets(period, periods.today(ctx.now))
    series = []
    readings = {r.figure.key: r for r in ctx.readings(COMPLIANCE)}
    for promise in promises():
        reading = readings[compliance_key(promise.metric)]
        now, before = reading.current, reading.previous
        figure = as_document_figure(reading)
        figure.note = f"{int(now.parts.get('met', 0)):,} of {now.n:,} {promise.deadline_text}"
        section.figures.append(figure)
        stats = sla_selectors.stop_time_stats(metric=promise.metric, start=period.start_at, end=ctx.end)
        rows.append(
            [
                promise.title,
                now.target_text,
                int(now.parts.get("met", 0)),
                int(now.parts.get("missed", 0)),
                None if now.value is None else round(now.value, 1),
                None if before is None or before.value is None else round(before.value, 1),
                None if stats.average is None else round(hours(stats.average) or 0, 2),
                None if stats.median is None else round(hours(stats.median) or 0, 2),
                None if stats.p90 is None else round(hours(stats.p90) or 0, 2),
            ]
        )
        series.append(
            Series(
                promise.title,
                [a.percent for a in achievements(ctx.reader, promise.metric, trend)],
                area=promise_area(promise),
                targets=[now.target] * len(trend),
            )
        )
    section.tables.append(
        Table(
            key="compliance",
            title="Achievement by promise",
            columns=[
                "Promise",
                "Target",
                "Achieved",
                "Breached",
                "Achievement %",
                "Previous %",
                "Average h",
                "Median h",
                "p90 h",
            ],
            rows=rows,
            note="Achievement = achieved ÷ (achieved + breached) over items whose deadline falls in the period.",
        )
    )
    section.charts.append(
        Chart(
            key="compliance_trend",
            title="Achievement by deadline date",
            kind="line",
            labels=[b.label for b in trend],
            series=series,
            unit=PERCENT,
        )
    )
    if section.figures:
        section.paragraphs.append(_overview(section.figures))
    return section


def promise_area(promise: Promise) -> str:
    """The area a promise belongs to, by its headline figure: its colour in every chart."""
    try:
        return figure_spec(promise.figure_keys[0]).area if promise.figure_keys else ""
    except KeyError:
        return ""


def _overview(figures: list[Figure]) -> str:
    met = [f for f in figures if f.met]
    missed = [f for f in figures if f.met is False]
    text = f"{len(met)} of {len(figures)} promises met their target"
    if not missed:
        return text + "."
    return text + " — missed: " + "; ".join(f"{f.label} at {f.text()} (target {f.target_text})" for f in missed) + "."
