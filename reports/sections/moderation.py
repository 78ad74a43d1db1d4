"""Moderation: decided within 12 h, time to decision, decisions, flags, recurrence, automatic-detection precision
and appeals, every figure read from the registry (moderation.figures); the tables of decisions by action and of
flags by reason and source are the parts of those figures, so that they add up to them."""

from __future__ import annotations

from moderation import metrics as moderation
from moderation.models import ACTION_DONE, Action, Reason, Source
from saypro import periods

from ..document import PERCENT, Chart, Section, Series, Table
from ..figures import as_document_figure
from ..selectors import achievements, buckets
from . import MODERATION, Context, section_register


@section_register("moderation", area=MODERATION, order=70)
def moderation_section(ctx: Context) -> Section:
    period = ctx.period
    section = Section(key="moderation", title="Moderation")
    readings = ctx.readings(MODERATION)
    section.figures += [as_document_figure(r) for r in readings]
    by_key = {r.figure.key: r for r in readings}
    decisions, flag_parts = by_key["moderation.actions"], by_key["moderation.flags"].current.parts
    before = decisions.previous.parts if decisions.previous else {}
    # Every action, in the order of the choices, zeros included.
    actions = {action: int(decisions.current.parts.get(action, 0)) for action in Action.values}
    actions_before = {action: int(before.get(action, 0)) for action in Action.values}
    labels = dict(ACTION_DONE)
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
        label: {source: int(flag_parts.get(f"{reason}/{source}", 0)) for source in Source.values}
        for reason, label in Reason.choices
    }
    names = list(reasons)
    section.charts.append(
        Chart(
            "moderation_flags",
            "Flags by reason and source",
            "bar",
            names,
            [Series(label, [float(reasons[n].get(source, 0)) for n in names]) for source, label in Source.choices],
        )
    )
    section.tables.append(
        Table(
            "moderation_flags",
            "Flags by reason and source",
            ["Reason", *[label for _, label in Source.choices]],
            [[n, *[reasons[n].get(source, 0) for source, _ in Source.choices]] for n in names],
        )
    )
    trend = buckets(period, periods.today(ctx.now))
    section.charts.append(
        Chart(
            "moderation_trend",
            "Decided within 12 h by deadline date",
            "line",
            [b.label for b in trend],
            [Series("Achievement %", [a.percent for a in achievements(ctx.reader, moderation.METRIC, trend)])],
            unit=PERCENT,
            target=ctx.target("sla.moderation.decision"),
        )
    )
    return section
