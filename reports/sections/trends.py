"""Trends over quarters: each promise's figures over the last five quarters, the documents' comparison of the
quarter against the previous quarters (not only the one before), with the target in force each quarter."""

from __future__ import annotations

from saypro.figures.registry import figure_spec
from saypro.sla.promises import promises

from ..document import Chart, Section, Table, dimensions_text, format_value
from ..figures import not_split_by
from . import GENERAL, Context, running_series, section_register


@section_register("trends", area=GENERAL, order=15)
def trends_section(ctx: Context) -> Section:
    section = Section(key="trends", title="Trends over quarters")
    rows = []
    labels: list[str] = []
    for promise in promises():
        for key in promise.figure_keys:
            spec = figure_spec(key)
            trend = ctx.quarter_trend(key)
            labels = [quarter.name + (" to date" if reading.to_date else "") for quarter, reading in trend]
            latest = trend[-1][1]
            unsplit = not_split_by(key, ctx.filters)
            rows.append(
                [
                    spec.label + (f" (all, not split by {dimensions_text(unsplit)})" if unsplit else ""),
                    *(format_value(reading.value, spec.unit) for _, reading in trend),
                    latest.n,
                    latest.target_text or "—",
                ]
            )
            if key != promise.figure_keys[0]:
                continue
            # The promise's headline as a line with the target it was held to (the latest quarter's).
            section.charts.append(
                Chart(
                    key=f"trend_{key.replace('.', '_')}",
                    title=f"{spec.label}, last {len(trend)} quarters",
                    kind="line",
                    labels=labels,
                    series=running_series(spec.label, [reading for _, reading in trend], area=spec.area),
                    unit=spec.unit,
                    target=latest.target,
                    area=spec.area,
                    compact=True,
                )
            )
    section.tables.append(
        Table(
            "trends",
            "The promises' figures by quarter",
            ["Figure", *labels, "n (latest)", "Target (latest)"],
            rows,
            note="Each quarter whole, the latest to date while it runs; n and the target are the latest quarter's.",
        )
    )
    if rows:
        section.paragraphs.append(
            f"Each promise's figures over the last {len(labels)} quarters, {labels[0]} to {labels[-1]}: "
            "the quarter against the previous quarters, as the quarterly report asks."
        )
    return section
