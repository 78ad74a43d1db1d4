"""Moderation: decided within 12 h, time to decision, actions, recurrence, automatic-detection precision,
appeals, and flags by reason and source — from moderation.metrics."""

from __future__ import annotations

from moderation import metrics as moderation

from .. import periods
from ..document import COUNT, HOURS, PERCENT, Chart, Figure, Section, Series, Table
from ..selectors import achievement, buckets
from . import MODERATION, Context, section_register
from .compliance import hours


def _pct(rate: float | None) -> float | None:
    return None if rate is None else rate * 100


@section_register("moderation", area=MODERATION, order=70)
def moderation_section(ctx: Context) -> Section:
    period, previous = ctx.period, ctx.previous
    section = Section(key="moderation", title="Moderation")
    args = {"start": period.start_at, "end": ctx.end}
    before = {"start": previous.start_at, "end": previous.end_at}
    decided = achievement(ctx.reader, moderation.METRIC, period.start, period.end)
    decided_before = achievement(ctx.reader, moderation.METRIC, previous.start, previous.end)
    stats, stats_before = moderation.time_to_decision(**args), moderation.time_to_decision(**before)
    precision, precision_before = moderation.automatic_precision(**args), moderation.automatic_precision(**before)
    recurrence, recurrence_before = moderation.recurrence_rate(**args), moderation.recurrence_rate(**before)
    appeals = moderation.appeal_stats(**args)
    actions, actions_before = moderation.actions_by_type(**args), moderation.actions_by_type(**before)
    flags = moderation.flags_by_reason_and_source(**args)
    flags_before = moderation.flags_by_reason_and_source(**before)
    section.figures += [
        Figure(
            "moderation.within_12h",
            "Flagged content decided within 12 h",
            decided.percent,
            PERCENT,
            decided_before.percent,
            target=100.0,
            target_text="100 %",
            note=f"{decided.achieved:,} of {decided.decided:,}",
        ),
        Figure(
            "moderation.median_hours",
            "Time to decision, median",
            hours(stats.median),
            HOURS,
            hours(stats_before.median),
            target=12.0,
            target_text="under 12 h",
            higher_is_better=False,
        ),
        Figure("moderation.p90_hours", "Time to decision, p90", hours(stats.p90), HOURS, hours(stats_before.p90)),
        Figure(
            "moderation.flags",
            "Flags raised",
            float(sum(r["count"] for r in flags)),
            COUNT,
            float(sum(r["count"] for r in flags_before)),
        ),
        Figure(
            "moderation.actions",
            "Decisions taken",
            float(sum(actions.values())),
            COUNT,
            float(sum(actions_before.values())),
        ),
        Figure(
            "moderation.automatic_precision",
            "Automatic-detection precision",
            _pct(precision.rate),
            PERCENT,
            _pct(precision_before.rate),
            note=f"{precision.part:,} of {precision.whole:,} automatic cases upheld",
        ),
        Figure(
            "moderation.recurrence",
            "Recurrence of removed content",
            _pct(recurrence.rate),
            PERCENT,
            _pct(recurrence_before.rate),
            target=moderation.RECURRENCE_TARGET * 100,
            target_text=f"under {moderation.RECURRENCE_TARGET * 100:g} %",
            higher_is_better=False,
            note=f"{recurrence.part:,} of {recurrence.whole:,} removals came back",
        ),
        Figure(
            "moderation.appeal_reversals",
            "Appeals reversed",
            _pct(appeals.reversal_rate),
            PERCENT,
            note=f"{appeals.filed:,} filed, {appeals.decided:,} decided, {appeals.pending:,} pending",
        ),
    ]
    labels = dict(moderation.Action.choices)
    section.charts.append(
        Chart(
            "moderation_actions",
            "Decisions by action",
            "pie",
            [labels[a] for a in actions],
            [Series("Decisions", [float(v) for v in actions.values()])],
        )
    )
    section.tables.append(
        Table(
            "moderation_actions",
            "Decisions by action",
            ["Action", "Decisions", "Previous period"],
            [[labels[a], n, actions_before.get(a, 0)] for a, n in actions.items()],
        )
    )
    reasons: dict[str, dict[str, int]] = {}
    for row in flags:
        reasons.setdefault(row["reason_label"], {})[row["source"]] = row["count"]
    names = list(reasons)
    section.charts.append(
        Chart(
            "moderation_flags",
            "Flags by reason and source",
            "bar",
            names,
            [
                Series(label, [float(reasons[n].get(source, 0)) for n in names])
                for source, label in moderation.Source.choices
            ],
        )
    )
    section.tables.append(
        Table(
            "moderation_flags",
            "Flags by reason and source",
            ["Reason", *[label for _, label in moderation.Source.choices]],
            [[n, *[reasons[n].get(source, 0) for source, _ in moderation.Source.choices]] for n in names],
        )
    )
    trend = buckets(period, periods.today(ctx.now))
    section.charts.append(
        Chart(
            "moderation_trend",
            "Decided within 12 h by deadline date",
            "line",
            [b.label for b in trend],
            [
                Series(
                    "Achievement %", [achievement(ctx.reader, moderation.METRIC, b.first, b.end).percent for b in trend]
                )
            ],
            unit=PERCENT,
            target=100.0,
        )
    )
    return section
