"""Support: tickets created and solved, resolution within 24 h weekly and monthly, first response (average, median,
p90) and its change on the previous quarter, CSAT by channel, NPS, the platform-issue, deflection and misroute rates.

The figures are the registry's (support.figures, and NPS from accounts.figures); the charts of tickets created and
solved and the CSAT by channel come from the daily rollups."""

from __future__ import annotations

from datetime import date
from functools import partial

from saypro import periods
from saypro.figures.registry import Reading, figure_series
from saypro.periods import MONTH, WEEK, Period, containing
from saypro.side_by_side import side_by_side
from support import metrics as support
from support.models import Channel

from ..document import PERCENT, SCORE, Chart, Section, Series, Table
from ..rollups import Reader, Values
from ..selectors import buckets
from ..sources import SUPPORT_CREATED, SUPPORT_SOLVED, SUPPORT_SURVEYS
from . import SUPPORT, Context, running_series, section_register

RESOLVED_24H = "support.resolved_24h"


def _csat(values: Values, key: object = None, label: str = "All") -> support.Csat:
    responses = int(values["responses"])
    return support.Csat(
        key=key,
        label=label,
        sent=int(values["sent"]),
        responses=responses,
        satisfied=int(values["satisfied"]),
        average=values["rating_sum"] / responses if responses else None,
    )


def _csat_by_channel(reader: Reader, first: date, end: date) -> list[support.Csat]:
    """As support.metrics.csat_by(dimension="channel"): the channels with surveys, most responses first."""
    rows = [
        _csat(values, key=channel, label=Channel(channel).label)
        for channel, values in reader.by_dimension(SUPPORT_SURVEYS, "channel", first, end).items()
    ]
    return sorted(rows, key=lambda row: (-row.responses, str(row.key)))


def _readings(ctx: Context, kind: str) -> list[Reading]:
    """The flat-24 h figure for every week or month that starts in the period (and the one containing its start),
    up to now: each held to its own kind's target."""
    chosen, chosen_periods = containing(kind, ctx.period.start), []
    while chosen.start < ctx.period.end and chosen.start_at < ctx.now:
        chosen_periods.append(chosen)
        chosen = Period(kind, chosen.end, containing(kind, chosen.end).end)
    # A quarter's thirteen weeks in one read of its tickets.
    return figure_series(RESOLVED_24H, chosen_periods, now=ctx.now, book=ctx.targets)


def _reading_row(label: str, reading: Reading) -> list[object]:
    """A week's or month's row; one still running reads "to date" and is judged only once it ends, since its
    pending inquiries can still be resolved in time."""
    return [
        f"{label} to date" if reading.to_date else label,
        int(reading.parts.get("met", 0)),
        int(reading.parts.get("missed", 0)),
        reading.pending,
        None if reading.value is None else round(reading.value, 1),
        "pending" if reading.to_date else reading.met,
    ]


@section_register("support", area=SUPPORT, order=50)
def support_section(ctx: Context) -> Section:
    period = ctx.period
    section = Section(key="support", title="Support")
    weekly_target, monthly_target = ctx.target("support.resolved_24h.weekly"), ctx.target("support.resolved_24h")
    # Every figure is the registry's: inquiries within a flat 24 h over every channel, the per-priority targets,
    # response times (average, median, p90) and resolution, satisfaction, NPS, the issue, deflection and misroute
    # rates, the tickets created and solved.
    section.figures += ctx.registry(SUPPORT)
    trend = buckets(period, periods.today(ctx.now))
    created_days = ctx.reader.daily(SUPPORT_CREATED, period.start, period.end)
    solved_days = ctx.reader.daily(SUPPORT_SOLVED, period.start, period.end)

    def per_bucket(days: dict[date, Values], key: str) -> list[float | None]:
        return [sum(v[key] for day, v in days.items() if b.first <= day < b.end) for b in trend]

    section.charts.append(
        Chart(
            "support_tickets",
            "Tickets created and solved",
            "bar",
            [b.label for b in trend],
            [
                Series("Created", per_bucket(created_days, "created")),
                Series("Solved", per_bucket(solved_days, "solved")),
            ],
        )
    )
    # Inquiries within a flat 24 h, week by week (target above 90 %) and month by month, cumulative from the 1st
    # (target 95 %): the registry's figure for each, with the target in force for it. The two reads side by side.
    weeks, months = side_by_side([partial(_readings, ctx, WEEK), partial(_readings, ctx, MONTH)])
    section.tables.append(
        Table(
            "support_weekly",
            "Inquiries resolved within 24 h by week"
            + ("" if weekly_target is None else f" (target above {weekly_target:g} %)"),
            ["Week of", "Met", "Missed", "Pending", "Resolved in 24 h %", "Met target"],
            [_reading_row(r.period.start.isoformat(), r) for r in weeks],
        )
    )
    section.charts.append(
        Chart(
            "support_weekly",
            "Inquiries resolved within 24 h by week",
            "line",
            [f"{r.period.start:%d %b}" + (" to date" if r.to_date else "") for r in weeks],
            running_series("Resolved in 24 h %", weeks),
            unit=PERCENT,
            target=weekly_target,
        )
    )
    section.tables.append(
        Table(
            "support_monthly",
            "Inquiries resolved within 24 h by month"
            + ("" if monthly_target is None else f" (target {monthly_target:g} %)"),
            ["Month", "Met", "Missed", "Pending", "Resolved in 24 h %", "Met target"],
            [_reading_row(r.period.slug, r) for r in months],
        )
    )
    channels = _csat_by_channel(ctx.reader, period.start, period.end)
    section.tables.append(
        Table(
            "support_csat_channel",
            "CSAT by channel",
            ["Channel", "Surveys", "Responses", "Response rate %", "CSAT %", "Average"],
            [
                [
                    c.label,
                    c.sent,
                    c.responses,
                    None if c.response_rate is None else round(c.response_rate * 100, 1),
                    None if c.csat is None else round(c.csat * 100, 1),
                    None if c.average is None else round(c.average, 2),
                ]
                for c in channels
            ],
        )
    )
    section.charts.append(
        Chart(
            "support_csat_channel",
            "Average rating by channel",
            "bar",
            [c.label for c in channels],
            [Series("Average rating", [c.average for c in channels])],
            unit=SCORE,
            # Every channel is held to the one satisfaction target (document 003).
            target=ctx.target("support.csat_average"),
        )
    )
    return section
