"""The user-account sections: registrations (with the 48-hour promise), engagement, account issues, security."""

from __future__ import annotations

import statistics

from accounts.models import AgeBand, DelayCause, DeviceType
from saypro.sla import selectors as sla_selectors

from ..document import COUNT, HOURS, PERCENT, Chart, Figure, Section, Series, Table
from ..selectors import achievement, buckets, percent
from ..sources import REG_DECIDED, REG_STARTED
from . import ACCOUNTS, Context, section_register

REGISTRATION_METRIC = "registration.approval"
FUNNEL = (
    ("started", "Started sign-up"),
    ("email_verified", "Verified e-mail"),
    ("phone_verified", "Verified phone"),
    ("profile_completed", "Completed profile"),
    ("submitted", "Submitted"),
    ("approved", "Approved"),
)
# A day with this many times the period's median daily sign-ups is a peak worth naming.
PEAK_FACTOR = 1.5
TOP_ROWS = 15


def _top(breakdown: dict[str, dict[str, float]], key: str, limit: int = TOP_ROWS) -> list[tuple[str, float]]:
    pairs = sorted(((name, values[key]) for name, values in breakdown.items()), key=lambda p: (-p[1], p[0]))
    return pairs[:limit]


@section_register("registrations", area=ACCOUNTS, order=20)
def registrations_section(ctx: Context) -> Section:
    reader, period, previous = ctx.reader, ctx.period, ctx.previous
    section = Section(key="registrations", title="Registrations")
    now_started = reader.totals(REG_STARTED, period.start, period.end)
    before_started = reader.totals(REG_STARTED, previous.start, previous.end)
    now_decided = reader.totals(REG_DECIDED, period.start, period.end)
    before_decided = reader.totals(REG_DECIDED, previous.start, previous.end)
    within = achievement(reader, REGISTRATION_METRIC, period.start, period.end)
    within_before = achievement(reader, REGISTRATION_METRIC, previous.start, previous.end)
    stats = sla_selectors.stop_time_stats(metric=REGISTRATION_METRIC, start=period.start_at, end=ctx.end)
    stats_before = sla_selectors.stop_time_stats(
        metric=REGISTRATION_METRIC, start=previous.start_at, end=previous.end_at
    )
    section.figures += [
        Figure("registrations.started", "Sign-ups started", now_started["started"], COUNT, before_started["started"]),
        Figure(
            "registrations.submitted",
            "Sign-ups submitted",
            now_started["submitted"],
            COUNT,
            before_started["submitted"],
        ),
        Figure(
            "registrations.approved",
            "New accounts approved",
            now_decided["approved"],
            COUNT,
            before_decided["approved"],
        ),
        Figure(
            "registrations.within_48h",
            "Share approved within 48 h",
            within.percent,
            PERCENT,
            within_before.percent,
            target=100.0,
            target_text="100 %",
            note=f"{within.achieved:,} of {within.decided:,} deadlines met",
        ),
        Figure(
            "registrations.auto_approval_rate",
            "Automatic approval rate",
            percent(now_decided["auto_approved"], now_decided["approved"]),
            PERCENT,
            percent(before_decided["auto_approved"], before_decided["approved"]),
        ),
        Figure(
            "registrations.conversion",
            "Sign-up to approval conversion",
            percent(now_started["approved"], now_started["started"]),
            PERCENT,
            percent(before_started["approved"], before_started["started"]),
        ),
        Figure(
            "registrations.median_decision_hours",
            "Median time to decision",
            None if stats.median is None else stats.median / 3600,
            HOURS,
            None if stats_before.median is None else stats_before.median / 3600,
            target=48.0,
            target_text="under 48 h",
            higher_is_better=False,
        ),
    ]

    trend = buckets(period)
    section.charts.append(
        Chart(
            "registrations_trend",
            "Sign-ups started",
            "line",
            [b.label for b in trend],
            [Series("Sign-ups", [reader.totals(REG_STARTED, b.first, b.end)["started"] for b in trend])],
        )
    )
    countries = _top(reader.by_dimension(REG_STARTED, "country", period.start, period.end), "started")
    section.charts.append(
        Chart(
            "registrations_country",
            "Sign-ups by country",
            "bar",
            [c or "not given" for c, _ in countries],
            [Series("Sign-ups", [v for _, v in countries])],
        )
    )
    ages = reader.by_dimension(REG_STARTED, "age", period.start, period.end)
    age_rows = [
        (label, ages.get(code, {}).get("started", 0.0)) for code, label in [*AgeBand.choices, ("", "Not given")]
    ]
    section.charts.append(
        Chart(
            "registrations_age",
            "Sign-ups by age band",
            "pie",
            [label for label, _ in age_rows],
            [Series("Sign-ups", [v for _, v in age_rows])],
        )
    )
    devices = reader.by_dimension(REG_STARTED, "device", period.start, period.end)
    device_rows = [
        (label, devices.get(code, {}).get("started", 0.0)) for code, label in [*DeviceType.choices, ("", "Unknown")]
    ]
    section.charts.append(
        Chart(
            "registrations_device",
            "Sign-ups by device",
            "pie",
            [label for label, _ in device_rows],
            [Series("Sign-ups", [v for _, v in device_rows])],
        )
    )
    funnel = [(label, now_started[key]) for key, label in FUNNEL]
    section.charts.append(
        Chart(
            "registrations_funnel",
            "Sign-up funnel",
            "bar",
            [label for label, _ in funnel],
            [Series("Sign-ups", [v for _, v in funnel])],
        )
    )

    regions = _top(reader.by_dimension(REG_STARTED, "region", period.start, period.end), "started")
    total = now_started["started"]
    section.tables += [
        Table(
            "registrations_country",
            "New sign-ups by country",
            ["Country", "Sign-ups", "Share %"],
            [[c or "not given", int(v), _round(percent(v, total))] for c, v in countries],
        ),
        Table(
            "registrations_region",
            "New sign-ups by region (top 15)",
            ["Region", "Sign-ups", "Share %"],
            [[r or "not given", int(v), _round(percent(v, total))] for r, v in regions],
        ),
        Table(
            "registrations_age",
            "New sign-ups by age band",
            ["Age band", "Sign-ups", "Share %"],
            [[label, int(v), _round(percent(v, total))] for label, v in age_rows],
        ),
        _funnel_table(funnel),
        _peaks_table(ctx),
        _causes_table(reader.by_dimension(REG_DECIDED, "cause", period.start, period.end)),
    ]
    section.paragraphs.append(_registrations_text(section))
    return section


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _funnel_table(funnel: list[tuple[str, float]]) -> Table:
    rows = []
    first = funnel[0][1] if funnel else 0
    previous_value = None
    for label, value in funnel:
        drop: float | None = None if previous_value is None else _round(100 - (percent(value, previous_value) or 0))
        if previous_value == 0:
            drop = None
        rows.append([label, int(value), _round(percent(value, first)), drop])
        previous_value = value
    return Table(
        "registrations_funnel",
        "Funnel conversion and drop-off by step",
        ["Step", "Sign-ups", "Of started %", "Drop-off from previous step %"],
        rows,
        note="Sign-ups that started in the period, followed to the step they reached.",
    )


def _peaks_table(ctx: Context) -> Table:
    reader, period = ctx.reader, ctx.period
    days = reader.daily(REG_STARTED, period.start, period.end)
    counts = {day: values["started"] for day, values in days.items()}
    rows = []
    if counts:
        median = statistics.median([counts.get(day, 0.0) for day in period.day_list() if day <= ctx.end.date()])
        peaks = sorted(
            (d for d, c in counts.items() if median and c >= PEAK_FACTOR * median), key=lambda d: -counts[d]
        )[:10]
        campaigns = reader.daily_by_dimension(REG_STARTED, "campaign", period.start, period.end)
        for day in sorted(peaks):
            named = {name: v["started"] for name, v in campaigns.get(day, {}).items() if name}
            top = max(named, key=lambda name: named[name]) if named else ""
            rows.append(
                [
                    day.isoformat(),
                    int(counts[day]),
                    round(counts[day] / median, 1),
                    top or "none",
                    int(named.get(top, 0)) if top else 0,
                ]
            )
    return Table(
        "registrations_peaks",
        "Campaign peaks",
        ["Day", "Sign-ups", "× median day", "Top campaign", "Campaign sign-ups"],
        rows,
        note=f"Days with at least {PEAK_FACTOR:g} × the period's median daily sign-ups.",
    )


def _causes_table(causes: dict[str, dict[str, float]]) -> Table:
    labels = dict(DelayCause.choices)
    delayed = sum(v["delayed"] for code, v in causes.items() if code)
    rows = [
        [labels.get(code, code), int(v["delayed"]), _round(percent(v["delayed"], delayed))]
        for code, v in sorted(causes.items(), key=lambda p: -p[1]["delayed"])
        if code and v["delayed"]
    ]
    return Table(
        "registrations_delay_causes",
        "Delay root causes (decisions past 48 h)",
        ["Cause", "Registrations", "Share %"],
        rows,
    )


def _registrations_text(section: Section) -> str:
    started = section.figure("registrations.started")
    within = section.figure("registrations.within_48h")
    auto = section.figure("registrations.auto_approval_rate")
    assert started and within and auto
    return (
        f"{started.text()} sign-ups started ({started.change_text} on the previous period); "
        f"{within.text()} of registration deadlines were met within 48 h (target {within.target_text}); "
        f"{auto.text()} of approvals were automatic."
    )
