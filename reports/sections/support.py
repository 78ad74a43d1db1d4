"""Support: resolution within 24 h weekly and monthly, first response (average, median, p90) and its change on
the previous quarter, CSAT by channel, the platform-issue, deflection and misroute rates — from support.metrics."""

from __future__ import annotations

from accounts import metrics as account_metrics
from support import metrics as support

from ..document import COUNT, HOURS, NPS, PERCENT, SCORE, Chart, Figure, Section, Series, Table
from ..periods import MONTH, Period, containing
from ..selectors import achievement
from . import SUPPORT, Context, section_register
from .compliance import hours


def _pct(rate: float | None) -> float | None:
    return None if rate is None else rate * 100


@section_register("support", area=SUPPORT, order=50)
def support_section(ctx: Context) -> Section:
    period, previous = ctx.period, ctx.previous
    section = Section(key="support", title="Support")
    start, end = period.start_at, ctx.end
    before = (previous.start_at, previous.end_at)
    resolved = achievement(ctx.reader, support.RESOLUTION, period.start, period.end)
    resolved_before = achievement(ctx.reader, support.RESOLUTION, previous.start, previous.end)
    first = support.first_response_stats(start=start, end=end)
    first_before = support.first_response_stats(start=before[0], end=before[1])
    csat = support.csat(start=start, end=end)
    csat_before = support.csat(start=before[0], end=before[1])
    platform = support.platform_issue_rate(start=start, end=end)
    platform_before = support.platform_issue_rate(start=before[0], end=before[1])
    deflection = support.deflection_rate(start=start, end=end, now=ctx.now)
    deflection_before = support.deflection_rate(start=before[0], end=before[1], now=ctx.now)
    misroute = support.misroute_rate(start=start, end=end)
    nps, nps_before = account_metrics.nps(start=start, end=end), account_metrics.nps(start=before[0], end=before[1])
    change = None
    if first.average is not None and first_before.average:
        change = 100 * (first.average / first_before.average - 1)
    section.figures += [
        Figure(
            "support.resolution_24h",
            "Tickets resolved within 24 h",
            resolved.percent,
            PERCENT,
            resolved_before.percent,
            target=support.MONTHLY_TARGET * 100,
            target_text=f"{support.MONTHLY_TARGET * 100:g} % a month, above {support.WEEKLY_TARGET * 100:g} % a week",
            note=f"{resolved.achieved:,} of {resolved.decided:,}",
        ),
        Figure(
            "support.first_response_average",
            "First response, average",
            hours(first.average),
            HOURS,
            hours(first_before.average),
            target=support.FIRST_RESPONSE_TARGET_SECONDS / 3600,
            target_text="under 3 h",
            higher_is_better=False,
            note=f"{first.count:,} first replies",
        ),
        Figure(
            "support.first_response_median",
            "First response, median",
            hours(first.median),
            HOURS,
            hours(first_before.median),
        ),
        Figure("support.first_response_p90", "First response, p90", hours(first.p90), HOURS, hours(first_before.p90)),
        Figure(
            "support.first_response_change",
            "First-response average against the previous period",
            change,
            PERCENT,
            target=support.FIRST_RESPONSE_CHANGE_TARGET * 100,
            target_text="−20 % or better",
            higher_is_better=False,
        ),
        Figure(
            "support.csat",
            "CSAT (ratings of 4–5)",
            _pct(csat.csat),
            PERCENT,
            _pct(csat_before.csat),
            note=f"{csat.responses:,} responses of {csat.sent:,} surveys",
        ),
        Figure(
            "support.csat_average",
            "Average rating",
            csat.average,
            SCORE,
            csat_before.average,
            target=support.CSAT_AVERAGE_TARGET,
            target_text=f"{support.CSAT_AVERAGE_TARGET:g} or more",
        ),
        Figure(
            "support.csat_responses", "Survey responses", float(csat.responses), COUNT, float(csat_before.responses)
        ),
        Figure(
            "support.nps",
            "NPS",
            nps.score,
            NPS,
            nps_before.score,
            note=f"{nps.count:,} answers: {nps.promoters:,} promoters, {nps.detractors:,} detractors",
        ),
        Figure(
            "support.platform_issue_rate",
            "Users reporting a platform issue",
            _pct(platform.rate),
            PERCENT,
            _pct(platform_before.rate),
            target=support.PLATFORM_ISSUE_TARGET * 100,
            target_text=f"under {support.PLATFORM_ISSUE_TARGET * 100:g} %",
            higher_is_better=False,
            note=f"{platform.numerator:,} of {platform.denominator:,} active users",
        ),
        Figure(
            "support.deflection_rate",
            "Questions answered by the help center",
            _pct(deflection.rate),
            PERCENT,
            _pct(deflection_before.rate),
            note=f"{deflection.numerator:,} of {deflection.denominator:,}",
        ),
        Figure(
            "support.misroute_rate",
            "Tickets misrouted by triage",
            _pct(misroute.rate),
            PERCENT,
            higher_is_better=False,
            note=f"{misroute.numerator:,} of {misroute.denominator:,}",
        ),
    ]
    weekly = support.resolution_weekly(start=start, end=end, now=ctx.now)
    section.tables.append(
        Table(
            "support_weekly",
            "Resolution within 24 h by week (target above 90 %)",
            ["Week of", "Achieved", "Breached", "Achievement %", "Met"],
            [
                [
                    w.start.isoformat(),
                    w.achieved,
                    w.breached,
                    None if w.rate is None else round(w.rate * 100, 1),
                    None if w.rate is None else w.rate > support.WEEKLY_TARGET,
                ]
                for w in weekly
            ],
        )
    )
    section.charts.append(
        Chart(
            "support_weekly",
            "Resolution within 24 h by week",
            "line",
            [f"{w.start:%d %b}" for w in weekly],
            [Series("Achievement %", [_pct(w.rate) for w in weekly])],
            unit=PERCENT,
            target=support.WEEKLY_TARGET * 100,
        )
    )
    months = []
    month = containing(MONTH, period.start)
    while month.start < period.end:
        done = achievement(ctx.reader, support.RESOLUTION, month.start, min(month.end, period.end))
        months.append(
            [
                month.slug,
                done.achieved,
                done.breached,
                None if done.percent is None else round(done.percent, 1),
                None if done.percent is None else done.percent >= support.MONTHLY_TARGET * 100,
            ]
        )
        month = Period(MONTH, month.end, containing(MONTH, month.end).end)
    section.tables.append(
        Table(
            "support_monthly",
            "Resolution within 24 h by month (target 95 %)",
            ["Month", "Achieved", "Breached", "Achievement %", "Met"],
            months,
        )
    )
    channels = support.csat_by(dimension="channel", start=start, end=end)
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
        )
    )
    return section
