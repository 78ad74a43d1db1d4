"""Support: tickets created and solved, resolution within 24 h weekly and monthly, first response (average, median,
p90) and its change on the previous quarter, CSAT by channel, the platform-issue, deflection and misroute rates.

Counts, sums and deadlines met come from the daily rollups; support.metrics gives what days cannot add up: the
first response's median and p90, distinct users reporting a platform issue, deflection (settled a fixed time
after each question, counted from now) and misroutes (a correction can come any time while a ticket is open)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from accounts import metrics as account_metrics
from support import metrics as support
from support.models import Channel

from .. import periods
from ..document import COUNT, HOURS, NPS, PERCENT, SCORE, Chart, Figure, Section, Series, Table
from ..periods import MONTH, Period, containing
from ..rollups import Reader, Values
from ..selectors import achievement, buckets
from ..sources import SLA_DUE, SUPPORT_CREATED, SUPPORT_SOLVED, SUPPORT_SURVEYS
from . import SUPPORT, Context, section_register
from .compliance import hours, stop_count_and_average


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


def _resolution_weekly(reader: Reader, first: date, end: date) -> list[support.PeriodCompliance]:
    """As support.metrics.resolution_weekly: achievement per local week (Monday first) of the deadlines."""
    weeks: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for day, values in reader.daily(SLA_DUE, first, end, dimension=f"metric:{support.RESOLUTION}").items():
        week = weeks[day - timedelta(days=day.weekday())]
        week[0] += int(values["achieved"])
        week[1] += int(values["breached"])
    return [
        support.PeriodCompliance(start=week, achieved=achieved, breached=breached)
        for week, (achieved, breached) in sorted(weeks.items())
    ]


@section_register("support", area=SUPPORT, order=50)
def support_section(ctx: Context) -> Section:
    period, previous = ctx.period, ctx.previous
    section = Section(key="support", title="Support")
    start, end = period.start_at, ctx.end
    before = (previous.start_at, previous.end_at)
    resolved = achievement(ctx.reader, support.RESOLUTION, period.start, period.end)
    resolved_before = achievement(ctx.reader, support.RESOLUTION, previous.start, previous.end)
    first_count, first_average = stop_count_and_average(ctx.reader, support.FIRST_RESPONSE, period.start, period.end)
    _, first_average_before = stop_count_and_average(ctx.reader, support.FIRST_RESPONSE, previous.start, previous.end)
    first = support.first_response_stats(start=start, end=end)
    first_before = support.first_response_stats(start=before[0], end=before[1])
    csat = _csat(ctx.reader.totals(SUPPORT_SURVEYS, period.start, period.end))
    csat_before = _csat(ctx.reader.totals(SUPPORT_SURVEYS, previous.start, previous.end))
    created = ctx.reader.totals(SUPPORT_CREATED, period.start, period.end)["created"]
    created_before = ctx.reader.totals(SUPPORT_CREATED, previous.start, previous.end)["created"]
    solved = ctx.reader.totals(SUPPORT_SOLVED, period.start, period.end)["solved"]
    solved_before = ctx.reader.totals(SUPPORT_SOLVED, previous.start, previous.end)["solved"]
    platform = support.platform_issue_rate(start=start, end=end)
    platform_before = support.platform_issue_rate(start=before[0], end=before[1])
    deflection = support.deflection_rate(start=start, end=end, now=ctx.now)
    deflection_before = support.deflection_rate(start=before[0], end=before[1], now=ctx.now)
    misroute = support.misroute_rate(start=start, end=end)
    nps, nps_before = account_metrics.nps(start=start, end=end), account_metrics.nps(start=before[0], end=before[1])
    change = None
    if first_average is not None and first_average_before:
        change = 100 * (first_average / first_average_before - 1)
    section.figures += [
        Figure("support.created", "Tickets created", created, COUNT, created_before),
        Figure("support.solved", "Tickets solved", solved, COUNT, solved_before),
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
            hours(first_average),
            HOURS,
            hours(first_average_before),
            target=support.FIRST_RESPONSE_TARGET_SECONDS / 3600,
            target_text="under 3 h",
            higher_is_better=False,
            note=f"{first_count:,} first replies",
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
    weekly = _resolution_weekly(ctx.reader, period.start, period.end)
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
        )
    )
    return section
