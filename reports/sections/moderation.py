"""Moderation: decided within 12 h, time to decision, actions, recurrence, automatic-detection precision,
appeals, and flags by reason and source.

Flags, decisions by action and deadlines met come from the daily rollups. moderation.metrics gives what days
cannot add up: the median and p90 time to decision; and the figures of a decision that change long after its day
(an appeal reverses it, removed content comes back), which a refresh of the recent days would miss."""

from __future__ import annotations

from datetime import date

from moderation import metrics as moderation
from saypro import periods

from ..document import COUNT, HOURS, PERCENT, Chart, Figure, Section, Series, Table
from ..selectors import achievement, buckets
from ..sources import MOD_DECISIONS, MOD_FLAGS
from . import MODERATION, Context, section_register
from .compliance import hours


def _pct(rate: float | None) -> float | None:
    return None if rate is None else rate * 100


def _actions(ctx: Context, first: date, end: date) -> dict[str, int]:
    """Decisions taken on the local days [first, end) per action, every action listed."""
    counts = ctx.reader.by_dimension(MOD_DECISIONS, "action", first, end)
    return {action: int(counts.get(action, {}).get("decisions", 0)) for action in moderation.Action.values}


@section_register("moderation", area=MODERATION, order=70)
def moderation_section(ctx: Context) -> Section:
    period, previous = ctx.period, ctx.previous
    section = Section(key="moderation", title="Moderation")
    args = {"start": period.start_at, "end": ctx.end}
    # A running period against the same elapsed span of the one before.
    before = {"start": previous.start_at, "end": ctx.previous_end}
    stats, stats_before = moderation.time_to_decision(**args), moderation.time_to_decision(**before)
    precision, precision_before = moderation.automatic_precision(**args), moderation.automatic_precision(**before)
    appeals = moderation.appeal_stats(**args)
    actions = _actions(ctx, period.start, period.end)
    actions_before = _actions(ctx, previous.start, previous.end)
    flags = ctx.reader.by_dimension(MOD_FLAGS, "reason", period.start, period.end)
    flags_total = ctx.reader.totals(MOD_FLAGS, period.start, period.end)["flags"]
    flags_total_before = ctx.reader.totals_until(MOD_FLAGS, previous.start, ctx.previous_end)["flags"]
    # The registry's figures (decided within 12 h of the first flag, recurrence of flagged posts), then the
    # section's own.
    section.figures += ctx.registry(MODERATION)
    section.figures += [
        Figure(
            "moderation.median_hours",
            "Time to decision, median",
            hours(stats.median),
            HOURS,
            hours(stats_before.median),
            higher_is_better=False,
            n=stats.count,
        ),
        Figure(
            "moderation.p90_hours",
            "Time to decision, p90",
            hours(stats.p90),
            HOURS,
            hours(stats_before.p90),
            higher_is_better=False,
            n=stats.count,
        ),
        Figure(
            "moderation.flags",
            "Flags raised",
            flags_total,
            COUNT,
            flags_total_before,
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
            n=precision.whole,
        ),
        Figure(
            "moderation.appeal_reversals",
            "Appeals reversed",
            _pct(appeals.reversal_rate),
            PERCENT,
            note=f"{appeals.filed:,} filed, {appeals.decided:,} decided",
            n=appeals.decided,
            pending=appeals.pending,
        ),
    ]
    labels = dict(moderation.ACTION_DONE)
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
    # Every reason, in the order of the choices, zeros included.
    reasons = {
        label: {source: int(flags.get(reason, {}).get(source, 0)) for source in moderation.Source.values}
        for reason, label in moderation.Reason.choices
    }
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
            target=ctx.target("sla.moderation.decision"),
        )
    )
    return section
