"""What users' comments are about: the topics of the survey and feedback comments (support.topics, refreshed
weekly), each with its comments in the period, in the period before (same elapsed span) and week by week.

Document 003 asks to "analyze recurring feedback and prepare monthly improvement proposals": a manager turns a
topic into an improvement-log entry from the support area page, and the improvements section measures it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from saypro.periods import WEEK, containing
from support import selectors as support
from support.selectors import TopicCounts

from ..document import Chart, Section, Series, Table
from . import SUPPORT, Context, section_register

# The registry's area of the section's figure (support.topic_figures).
TOPICS = "comment_topics"

WEEKS = 8
# Topics drawn in the charts (the table lists them all).
CHART_TOPICS = 6


def weekly_spans(end: datetime) -> list[tuple[datetime, datetime]]:
    """The WEEKS weeks up to the one containing `end` (exclusive), oldest first."""
    last = containing(WEEK, (end - timedelta(microseconds=1)).date())
    spans = []
    for back in range(WEEKS - 1, -1, -1):
        week = containing(WEEK, last.start - timedelta(days=7 * back))
        spans.append((week.start_at, week.end_at))
    return spans


def topic_rows(ctx: Context) -> tuple[list[TopicCounts], list[tuple[datetime, datetime]]]:
    weeks = weekly_spans(ctx.end)
    rows = support.topic_counts(
        current=(ctx.period.start_at, ctx.end), previous=(ctx.previous.start_at, ctx.previous_end), weeks=weeks
    )
    return rows, weeks


def change_text(current: int, previous: int) -> str:
    if current == previous:
        return "no change"
    return f"{'up' if current > previous else 'down'} {abs(current - previous):,}"


@section_register("comment_topics", area=SUPPORT, order=55)
def comment_topics_section(ctx: Context) -> Section:
    section = Section(key="comment_topics", title="What users' comments are about")
    rows, weeks = topic_rows(ctx)
    section.figures += ctx.registry(TOPICS)
    if not rows:
        section.paragraphs.append(
            "No topics yet: they are found weekly once there are enough survey and feedback comments."
        )
        return section
    section.paragraphs.append(
        "Comments left on satisfaction surveys and on registration, account and recommendation feedback, grouped "
        "by what they talk about (refreshed weekly from the last year's comments). A topic is named by its "
        "heaviest terms."
    )
    week_labels = [f"{timezone.localtime(start):%d %b}" for start, _ in weeks]
    section.tables.append(
        Table(
            "comment_topics",
            "Topics of the comments",
            ["Topic", "Top terms", "Comments", "Previous period", "Trend", f"Weekly, last {WEEKS} weeks"],
            [
                [
                    r.label if r.is_active else f"{r.label} (no longer found)",
                    ", ".join(r.terms),
                    r.current,
                    r.previous,
                    change_text(r.current, r.previous),
                    " · ".join(str(n) for n in r.weekly),
                ]
                for r in rows
            ],
            note=f"Weeks from {week_labels[0]} to {week_labels[-1]}; the previous period covers the same elapsed span.",
        )
    )
    charted = rows[:CHART_TOPICS]
    section.charts.append(
        Chart(
            "comment_topics",
            "Comments by topic",
            "bar",
            [r.label for r in charted],
            [
                Series("This period", [r.current for r in charted]),
                Series("Previous period", [r.previous for r in charted]),
            ],
        )
    )
    section.charts.append(
        Chart(
            "comment_topics_weekly",
            "Comments by topic and week",
            "line",
            week_labels,
            [Series(r.label, list(r.weekly)) for r in charted],
        )
    )
    return section
