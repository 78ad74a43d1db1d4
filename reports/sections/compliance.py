"""The four promises: achievement against target over the period, by deadline date, with time to stop."""

from __future__ import annotations

from saypro import periods
from saypro.figures.registry import figure_spec
from saypro.sla import selectors as sla_selectors
from saypro.sla.promises import Promise, promises

from ..document import PERCENT, Chart, Figure, Section, Series, Table
from ..selectors import achievement, buckets
from . import GENERAL, Context, section_register


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 3600


@section_register("compliance", area=GENERAL, order=10)
def compliance_section(ctx: Context) -> Section:
    section = Section(key="compliance", title="The four promises: SLA compliance")
    period, previous = ctx.period, ctx.previous
    rows = []
    trend = buckets(period, periods.today(ctx.now))
    series = []
    for promise in promises():
        now = achievement(ctx.reader, promise.metric, period.start, period.end)
        before = achievement(ctx.reader, promise.metric, previous.start, previous.end)
        target = ctx.target(promise.target_key)
        section.figures.append(
            Figure(
                key=f"compliance.{promise.metric}",
                label=promise.title,
                value=now.percent,
                unit=PERCENT,
                previous=before.percent,
                target=target,
                target_text=ctx.target_text(promise.target_key),
                note=f"{now.achieved:,} of {now.decided:,} {promise.deadline_text}",
                n=now.decided,
                target_key=promise.target_key,
            )
        )
        stats = sla_selectors.stop_time_stats(metric=promise.metric, start=period.start_at, end=ctx.end)
        rows.append(
            [
                promise.title,
                ctx.target_text(promise.target_key),
                now.achieved,
                now.breached,
                None if now.percent is None else round(now.percent, 1),
                None if before.percent is None else round(before.percent, 1),
                None if stats.average is None else round(hours(stats.average) or 0, 2),
                None if stats.median is None else round(hours(stats.median) or 0, 2),
                None if stats.p90 is None else round(hours(stats.p90) or 0, 2),
            ]
        )
        series.append(
            Series(
                promise.title,
                [achievement(ctx.reader, promise.metric, b.first, b.end).percent for b in trend],
                area=promise_area(promise),
                targets=[target] * len(trend),
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
