"""Support: tickets created and solved, resolution within 24 h weekly and monthly, first response (average, median,
p90) and its change on the previous quarter, CSAT by channel, the platform-issue, deflection and misroute rates.

Counts, sums and deadlines met come from the daily rollups; support.metrics gives what days cannot add up: the
first response's median and p90, distinct users reporting a platform issue, deflection (settled a fixed time
after each question, counted from now) and misroutes (a correction can come any time while a ticket is open)."""

from __future__ import annotations

from datetime import date

from accounts import metrics as account_metrics
from saypro import periods
from saypro.figures.registry import Reading, figure_read
from saypro.periods import MONTH, WEEK, Period, containing
from support import metrics as support
from support.models import Channel

from ..document import HOURS, NPS, PERCENT, SCORE, Chart, Figure, Section, Series, Table
from ..rollups import Reader, Values
from ..selectors import buckets
from ..sources import SUPPORT_CREATED, SUPPORT_SOLVED, SUPPORT_SURVEYS
from . import SUPPORT, Context, section_register
from .compliance import hours

RESOLVED_24H = "support.resolved_24h"


def _pct(rate: float | None) -> float | None:
    return None if rate is None else rate * 100


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


def _target_text(monthly: float | None, weekly: float | None) -> str:
    parts = ([] if monthly is None else [f"{monthly:g} % a month"]) + (
        [] if weekly is None else [f"above {weekly:g} % a week"]
    )
    return ", ".join(parts)


def _readings(ctx: Context, kind: str) -> list[Reading]:
    """The flat-24 h figure for every week or month that starts in the period (and the one containing its start),
    up to now: each held to its own kind's target."""
    out = []
    chosen = containing(kind, ctx.period.start)
    while chosen.start < ctx.period.end and chosen.start_at < ctx.now:
        out.append(figure_read(RESOLVED_24H, chosen, now=ctx.now, compare=False, book=ctx.targets).current)
        chosen = Period(kind, chosen.end, containing(kind, chosen.end).end)
    return out


def _reading_row(label: str, reading: Reading) -> list[object]:
    return [
        label,
        int(reading.parts.get("met", 0)),
        int(reading.parts.get("missed", 0)),
        reading.pending,
        None if reading.value is None else round(reading.value, 1),
        reading.met,
    ]


@section_register("support", area=SUPPORT, order=50)
def support_section(ctx: Context) -> Section:
    period, previous = ctx.period, ctx.previous
    section = Section(key="support", title="Support")
    start, end = period.start_at, ctx.end
    # A running period is compared with the same elapsed span of the one before.
    before = (previous.start_at, ctx.previous_end)
    first = support.first_response_stats(start=start, end=end)
    first_before = support.first_response_stats(start=before[0], end=before[1])
    deflection = support.deflection_rate(start=start, end=end, now=ctx.now)
    deflection_before = support.deflection_rate(start=before[0], end=before[1], now=ctx.now)
    misroute = support.misroute_rate(start=start, end=end)
    nps, nps_before = account_metrics.nps(start=start, end=end), account_metrics.nps(start=before[0], end=before[1])
    weekly_target, monthly_target = ctx.target("support.resolved_24h.weekly"), ctx.target("support.resolved_24h")
    # The registry's figures (inquiries within a flat 24 h over every channel, the per-priority targets, response
    # and resolution times, satisfaction, the issue rate, the tickets created and solved), then the section's own rates.
    section.figures += ctx.registry(SUPPORT)
    section.figures += [
        Figure(
            "support.first_response_median",
            "First response, median",
            hours(first.median),
            HOURS,
            hours(first_before.median),
            higher_is_better=False,
            n=first.count,
        ),
        Figure(
            "support.first_response_p90",
            "First response, p90",
            hours(first.p90),
            HOURS,
            hours(first_before.p90),
            higher_is_better=False,
            n=first.count,
        ),
        Figure(
            "support.nps",
            "NPS",
            nps.score,
            NPS,
            nps_before.score,
            note=f"{nps.promoters:,} promoters, {nps.detractors:,} detractors",
            n=nps.count,
        ),
        Figure(
            "support.deflection_rate",
            "Questions answered by the help center",
            _pct(deflection.rate),
            PERCENT,
            _pct(deflection_before.rate),
            n=deflection.denominator,
        ),
        Figure(
            "support.misroute_rate",
            "Tickets misrouted by triage",
            _pct(misroute.rate),
            PERCENT,
            higher_is_better=False,
            n=misroute.denominator,
        ),
    ]
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
    # (target 95 %): the registry's figure for each, with the target in force for it.
    weeks = _readings(ctx, WEEK)
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
            [f"{r.period.start:%d %b}" for r in weeks],
            [Series("Resolved in 24 h %", [r.value for r in weeks])],
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
            [_reading_row(r.period.slug, r) for r in _readings(ctx, MONTH)],
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
