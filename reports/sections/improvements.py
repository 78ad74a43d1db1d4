"""Improvements made in the period, from the log administrators keep in the browser, and the effect of those that
answer a comment topic: the topic's comments (and the satisfaction of its surveys) before and after the change."""

from __future__ import annotations

from datetime import timedelta

from saypro import periods
from saypro.localtime import local_midnight
from support import selectors as support

from ..document import Section, Table
from ..figures import IMPROVEMENTS
from ..models import Improvement
from . import GENERAL, Context, section_register

# How far on each side of an improvement its effect is read: long enough to hold a few weekly counts.
EFFECT_WINDOW = timedelta(weeks=8)


def _rating(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _effect_table(ctx: Context) -> Table:
    """The improvements from topics made in this period or the one before (the next report measures an entry)."""
    entries = (
        Improvement.objects.filter(
            topic__isnull=False,
            made_on__gte=ctx.previous.start,
            made_on__lt=ctx.period.end,
            made_on__lte=ctx.now.date(),
        )
        .select_related("topic")
        .order_by("made_on", "pk")
    )
    rows = []
    for entry in entries:
        assert entry.topic is not None
        made_at = local_midnight(entry.made_on)
        before = support.topic_effect(topic_id=entry.topic.pk, start=made_at - EFFECT_WINDOW, end=made_at)
        after_end = min(made_at + EFFECT_WINDOW, ctx.end)
        after = support.topic_effect(topic_id=entry.topic.pk, start=made_at, end=max(after_end, made_at))
        rows.append(
            [
                entry.title,
                entry.topic.label,
                entry.made_on.isoformat(),
                round(before.per_week, 1),
                round(after.per_week, 1) if after_end > made_at else None,
                _rating(before.satisfaction),
                _rating(after.satisfaction) if after.rated else "—",
            ]
        )
    return Table(
        "improvement_effects",
        "Effect of improvements answering a comment topic",
        ["Change", "Topic", "Made on", "Comments a week before", "After", "Satisfaction before", "After"],
        rows,
        note="Comments on the topic a week, over up to 8 weeks before the change and from it up to the period's "
        "end (8 weeks at most); satisfaction is the average rating (1–5) of the topic's survey comments.",
    )


@section_register("improvements", area=GENERAL, order=90)
def improvements_section(ctx: Context) -> Section:
    section = Section(key="improvements", title="Improvements made this period")
    entries = list(
        # To date like the counts above: an entry dated ahead of today is not made yet.
        Improvement.objects.filter(
            made_on__gte=ctx.period.start, made_on__lt=ctx.period.end, made_on__lte=periods.today(ctx.now)
        )
        .order_by("kind", "made_on", "pk")
        .values_list("kind", "made_on", "area", "title", "description", "topic__label")
    )
    labels = dict(Improvement.Kind.choices)
    # The counts by kind are the registry's (reports.figures), read to date while the period runs.
    section.figures += ctx.registry(IMPROVEMENTS)
    section.tables.append(
        Table(
            "improvements",
            "Improvement log",
            ["Kind", "Date", "Area", "Change", "Details", "Comment topic"],
            [
                [labels[kind], made_on.isoformat(), area, title, description, topic or ""]
                for kind, made_on, area, title, description, topic in entries
            ],
        )
    )
    if not entries:
        section.paragraphs.append("No improvement was logged for this period.")
    effects = _effect_table(ctx)
    if effects.rows:
        section.tables.append(effects)
    return section
