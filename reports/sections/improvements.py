"""Improvements made in the period, from the log administrators keep in the browser."""

from __future__ import annotations

from ..document import COUNT, Figure, Section, Table
from ..models import Improvement
from . import GENERAL, Context, section_register


@section_register("improvements", area=GENERAL, order=90)
def improvements_section(ctx: Context) -> Section:
    section = Section(key="improvements", title="Improvements made this period")
    entries = list(
        Improvement.objects.filter(made_on__gte=ctx.period.start, made_on__lt=ctx.period.end)
        .order_by("kind", "made_on", "pk")
        .values_list("kind", "made_on", "area", "title", "description")
    )
    labels = dict(Improvement.Kind.choices)
    for kind, label in Improvement.Kind.choices:
        section.figures.append(
            Figure(f"improvements.{kind}", label + "s", float(sum(1 for e in entries if e[0] == kind)), COUNT)
        )
    section.tables.append(
        Table(
            "improvements",
            "Improvement log",
            ["Kind", "Date", "Area", "Change", "Details"],
            [
                [labels[kind], made_on.isoformat(), area, title, description]
                for kind, made_on, area, title, description in entries
            ],
        )
    )
    if not entries:
        section.paragraphs.append("No improvement was logged for this period.")
    return section
