"""The user-account sections: registrations (with the 48-hour promise), engagement, account issues, security.

The headline figures of engagement, account issues and security come from the figure registry; the builders
here add the tables and charts of their breakdowns (cohorts, hours, reasons, types) from the rollups and
accounts.metrics."""

from __future__ import annotations

import statistics
from typing import Any

from django.db.models import Count, Q

from accounts import metrics as account_metrics
from accounts.figures import ENGAGEMENT, ISSUES, PRIVACY
from accounts.figures.activity import account_events
from accounts.identity import country_name
from accounts.models import AgeBand, DelayCause, DeviceType
from saypro import periods
from saypro.figures.registry import Span
from saypro.retention.registry import data_kinds
from saypro.retention.selectors import purged_between
from support.models import Category as TicketCategory
from support.selectors import account_tickets

from ..activity_figures import distinct_users, retention_cohorts
from ..document import Chart, Section, Series, Table
from ..selectors import buckets, percent
from ..sources import (
    ACTIVITY_FEATURES,
    ACTIVITY_HOURS,
    ACTIVITY_RETURNS,
    ACTIVITY_SESSIONS,
    ACTIVITY_USERS,
    REG_DECIDED,
    REG_STARTED,
)
from . import ACCOUNTS, Context, section_register

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
    reader, period = ctx.reader, ctx.period
    section = Section(key="registrations", title="Registrations")
    now_started = reader.totals(REG_STARTED, period.start, period.end)
    # Every figure is the registry's (the 48 h headline, team time, volumes, conversion, decision times); the
    # tables and charts below are the breakdowns behind them.
    section.figures += ctx.registry(ACCOUNTS)

    trend = buckets(period, periods.today(ctx.now))
    # One read of the period's days, added up per bucket (a read per bucket was a query per week of the quarter).
    by_day = reader.daily(REG_STARTED, period.start, period.end)
    section.charts.append(
        Chart(
            "registrations_trend",
            "Sign-ups started",
            "line",
            [b.label for b in trend],
            [
                Series(
                    "Sign-ups",
                    [sum(v["started"] for day, v in by_day.items() if b.first <= day < b.end) for b in trend],
                )
            ],
        )
    )
    countries = _top(reader.by_dimension(REG_STARTED, "country", period.start, period.end), "started")
    countries = [(country_name(c) if c else "not given", v) for c, v in countries]
    age_rows = _by_choice(
        reader.by_dimension(REG_STARTED, "age", period.start, period.end), AgeBand.choices, "Not given"
    )
    device_rows = _by_choice(
        reader.by_dimension(REG_STARTED, "device", period.start, period.end), DeviceType.choices, "Unknown"
    )
    section.charts += [
        _signups_chart("registrations_country", "Sign-ups by country", "bar", countries),
        _signups_chart("registrations_age", "Sign-ups by age band", "pie", age_rows),
        _signups_chart("registrations_device", "Sign-ups by device", "pie", device_rows),
    ]
    funnel = [(label, now_started[key]) for key, label in FUNNEL]
    section.charts.append(_signups_chart("registrations_funnel", "Sign-up funnel", "bar", funnel))

    regions = [
        (r or "not given", v)
        for r, v in _top(reader.by_dimension(REG_STARTED, "region", period.start, period.end), "started")
    ]
    total = now_started["started"]
    section.tables += [
        _share_table("registrations_country", "New sign-ups by country", "Country", countries, total),
        _share_table("registrations_region", "New sign-ups by region (top 15)", "Region", regions, total),
        _share_table("registrations_age", "New sign-ups by age band", "Age band", age_rows, total),
        _funnel_table(funnel),
        _funnel_table(
            [(step.label, step.count) for step in account_metrics.form_funnel(start=period.start_at, end=ctx.end)],
            key="registrations_form_funnel",
            title="Sign-up form: where visitors stop",
            counted="Visitors",
            note="Visitors who started the sign-up form in the period, followed to the step they reached.",
        ),
        _peaks_table(ctx),
        _causes_table(reader.by_dimension(REG_DECIDED, "cause", period.start, period.end)),
    ]
    section.paragraphs.append(_registrations_text(section))
    return section


def _by_choice(
    breakdown: dict[str, dict[str, float]], choices: list[tuple[str, str]], blank: str
) -> list[tuple[str, float]]:
    """Sign-ups per choice of a field, in the choices' order, the blank value last."""
    return [(label, breakdown.get(code, {}).get("started", 0.0)) for code, label in [*choices, ("", blank)]]


def _signups_chart(key: str, title: str, kind: str, pairs: list[tuple[str, float]]) -> Chart:
    return Chart(key, title, kind, [label for label, _ in pairs], [Series("Sign-ups", [v for _, v in pairs])])


def _share_table(key: str, title: str, label: str, pairs: list[tuple[str, float]], total: float) -> Table:
    return Table(
        key, title, [label, "Sign-ups", "Share %"], [[name, int(v), _round(percent(v, total))] for name, v in pairs]
    )


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _funnel_table(
    funnel: list[tuple[str, float]],
    key: str = "registrations_funnel",
    title: str = "Funnel conversion and drop-off by step",
    counted: str = "Sign-ups",
    note: str = "Sign-ups that started in the period, followed to the step they reached.",
) -> Table:
    rows = []
    first = funnel[0][1] if funnel else 0
    previous_value = None
    for label, value in funnel:
        drop: float | None = None if previous_value is None else _round(100 - (percent(value, previous_value) or 0))
        if previous_value == 0:
            drop = None
        rows.append([label, int(value), _round(percent(value, first)), drop])
        previous_value = value
    return Table(key, title, ["Step", counted, "Of started %", "Drop-off from previous step %"], rows, note=note)


def _peaks_table(ctx: Context) -> Table:
    reader, period = ctx.reader, ctx.period
    days = reader.daily(REG_STARTED, period.start, period.end)
    counts = {day: values["started"] for day, values in days.items()}
    rows = []
    if counts:
        median = statistics.median([counts.get(day, 0.0) for day in ctx.days()])
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
    within = section.figure("registrations.approved_48h")
    rejected = section.figure("registrations.rejected")
    auto = section.figure("registrations.auto_approval_rate")
    assert started and within and rejected and auto
    return (
        f"{started.text()} sign-ups started ({started.change_text} on the previous period); "
        f"{within.text()} of the {within.n or 0:,} registrations approved were approved within 48 h of submission "
        f"(target {within.target_text or 'none set'}), and {rejected.text()} were rejected; "
        f"{auto.text()} of approvals were automatic."
    )


# --- Engagement ------------------------------------------------------------------------------------------------

FEATURE_LABELS = {
    "sign_ins": "Sign-ins",
    "profile_updates": "Profile updates",
    "password_changes": "Password changes",
    "messages_sent": "Messages sent",
    "listings_posted": "Listings posted",
    "transactions": "Transactions",
}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
RETENTION_WEEKS = 12


@section_register("engagement", area=ACCOUNTS, order=30)
def engagement_section(ctx: Context) -> Section:
    reader, period = ctx.reader, ctx.period
    section = Section(key="engagement", title="Engagement")
    # Active users, churn, retention and session length: the registry's figures (accounts.figures,
    # reports.activity_figures), the tables below their breakdowns.
    section.figures += ctx.registry(ENGAGEMENT)
    features = reader.totals(ACTIVITY_FEATURES, period.start, period.end)
    trend = reader.daily(ACTIVITY_USERS, period.start, period.end)
    days = ctx.days()
    section.charts.append(
        Chart(
            "engagement_active",
            "Active users per day",
            "line",
            [f"{d:%d %b}" for d in days],
            [
                Series(name, [trend.get(d, {}).get(key) for d in days])
                for key, name in (("dau", "DAU"), ("wau", "WAU (7 days)"), ("mau", "MAU (30 days)"))
            ],
        )
    )
    section.charts.append(
        Chart(
            "engagement_features",
            "Feature usage (actions)",
            "bar",
            list(FEATURE_LABELS.values()),
            [Series("Actions", [features.get(key, 0.0) for key in FEATURE_LABELS])],
        )
    )
    active_days = features.get("active", 0.0)
    section.tables.append(
        Table(
            "engagement_features",
            "Feature usage",
            ["Feature", "Actions", "User-days using it", "Share of active user-days %"],
            [
                [
                    label,
                    int(features.get(key, 0)),
                    int(features.get(f"users_{key}", 0)),
                    _round(percent(features.get(f"users_{key}", 0.0), active_days)),
                ]
                for key, label in FEATURE_LABELS.items()
            ],
        )
    )
    active = distinct_users(Span(start=period.start_at, end=ctx.end, now=ctx.now), ACTIVITY_RETURNS)
    adoption = account_metrics.feature_adoption(
        start=period.start_at, end=ctx.end, active=None if active is None else round(active)
    )
    section.tables.append(
        Table(
            "engagement_new_features",
            "Newly released features",
            ["Feature", "Released", "Users who used it", "Uses", "Share of active users %"],
            [
                [
                    f.name,
                    f"{f.released_on:%d %b %Y}",
                    f.users,
                    f.uses,
                    None if f.share is None else _round(100 * f.share),
                ]
                for f in adoption
            ],
            note="Features released before the period's end, as the marketplace reports each use; active users: "
            "users with any activity in the period.",
        )
    )
    hours = reader.by_dimension(ACTIVITY_HOURS, "hour", period.start, period.end)
    section.charts.append(
        Chart(
            "engagement_hours",
            "Activity by hour of day",
            "bar",
            [f"{h:02d}" for h in range(24)],
            [Series("Actions", [hours.get(str(h), {}).get("actions", 0.0) for h in range(24)])],
        )
    )
    by_day = reader.daily(ACTIVITY_FEATURES, period.start, period.end)
    weekday_totals = [0.0] * 7
    for day, values in by_day.items():
        weekday_totals[day.weekday()] += values.get("active", 0.0)
    section.charts.append(
        Chart(
            "engagement_weekdays",
            "Active users by day of the week",
            "bar",
            list(WEEKDAYS),
            [Series("User-days", weekday_totals)],
        )
    )
    # Sign-ups' devices from the registrations rollup (the registrations section reads the same), sessions' from
    # the activity rollup: the period's days, to date while it runs.
    mix = account_metrics.DeviceMix(
        _device_counts(reader.by_dimension(REG_STARTED, "device", period.start, period.end), "started"),
        _device_counts(reader.by_dimension(ACTIVITY_SESSIONS, "device", period.start, period.end), "sessions"),
    )
    section.charts.append(
        Chart(
            "engagement_devices",
            "Sessions by device",
            "pie",
            [str(k).capitalize() for k in mix.sessions],
            [Series("Sessions", [float(v) for v in mix.sessions.values()])],
        )
    )
    section.tables.append(
        Table(
            "engagement_devices",
            "Device mix",
            ["Device", "Sign-ups", "Sessions"],
            [
                [name.capitalize(), mix.signups.get(name, 0), mix.sessions.get(name, 0)]
                for name in sorted(set(mix.signups) | set(mix.sessions))
            ],
        )
    )
    cohorts = retention_cohorts(reader, start=period.start_at, end=ctx.end, weeks=RETENTION_WEEKS)
    span = max((len(c.returned) for c in cohorts), default=0)
    section.tables.append(
        Table(
            "engagement_retention",
            "Retention by sign-up week: returned in week N",
            ["Cohort", "Size", *(f"W{n}" for n in range(span))],
            [
                [c.week.isoformat(), c.size, *[_round(None if r is None else r * 100) for r in c.rates()]]
                for c in cohorts
            ],
            note="Percent of the cohort active in week N after the sign-up week.",
        )
    )
    section.tables.append(
        Table(
            "engagement_retention_later",
            "Retention by sign-up week: returned in week N or later",
            ["Cohort", "Size", *(f"W{n}+" for n in range(span))],
            [
                [c.week.isoformat(), c.size, *[_round(None if r is None else r * 100) for r in c.rates_or_later()]]
                for c in cohorts
            ],
        )
    )
    return section


def _device_counts(breakdown: dict[str, dict[str, float]], key: str) -> dict[str, int]:
    """Counts per device type, the largest first, as accounts.metrics.device_mix gives them: no blank type."""
    counts = {device: round(values.get(key, 0.0)) for device, values in breakdown.items() if device}
    return {device: n for device, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])) if n}


# --- Account issues ------------------------------------------------------------------------------------------


@section_register("account_issues", area=ACCOUNTS, order=35)
def account_issues_section(ctx: Context) -> Section:
    period = ctx.period
    section = Section(key="account_issues", title="Account issues")
    # Sign-in problems, lockouts, recovery and the account tickets' times and ratings: the registry's figures.
    section.figures += ctx.registry(ISSUES)
    args: dict[str, Any] = {"start": period.start_at, "end": ctx.end}
    # The span the figures read unfiltered: the tables share their read of the account events.
    events = account_events(Span(start=period.start_at, end=ctx.end, now=ctx.now))
    logins = events.login_issues
    section.tables.append(
        Table(
            "account_issues_reasons",
            "Failed sign-ins by reason",
            ["Reason", "Failures"],
            [[reason or "unknown", count] for reason, count in logins.by_reason.items()],
        )
    )
    updates = events.by_kind(account_metrics.UPDATE_KINDS)
    section.tables.append(
        Table(
            "account_issues_updates",
            "Account changes by type",
            ["Change", "Count"],
            [[kind.replace("_", " "), count] for kind, count in updates.items()],
        )
    )
    tickets = account_tickets(**args)
    by_type = tickets.values("category").annotate(n=Count("pk"), reopened=Count("pk", filter=Q(reopened_count__gt=0)))
    labels = dict(TicketCategory.choices)
    section.tables.append(
        Table(
            "account_issues_tickets",
            "Account-related tickets by type",
            ["Type", "Tickets", "Reopened"],
            [[labels.get(r["category"], r["category"]), r["n"], r["reopened"]] for r in by_type.order_by("-n")],
        )
    )
    recurring = (
        tickets.exclude(known_issue=None)
        .values("known_issue__title")
        .annotate(n=Count("pk"), users=Count("requester", distinct=True))
        .order_by("-n")[:10]
    )
    section.tables.append(
        Table(
            "account_issues_recurring",
            "Root causes of recurring issues (known issues behind account tickets)",
            ["Known issue", "Tickets", "Users"],
            [[r["known_issue__title"], r["n"], r["users"]] for r in recurring],
        )
    )
    section.charts.append(
        Chart(
            "account_issues_reasons",
            "Failed sign-ins by reason",
            "bar",
            [reason or "unknown" for reason in logins.by_reason],
            [Series("Failures", [float(v) for v in logins.by_reason.values()])],
        )
    )
    return section


# --- Security and privacy --------------------------------------------------------------------------------------


@section_register("security", area=ACCOUNTS, order=40)
def security_section(ctx: Context) -> Section:
    period, previous = ctx.period, ctx.previous
    section = Section(key="security", title="Security and privacy")
    # Suspicious activity and privacy, consent and preference changes: the registry's figures; by reason below.
    section.figures += ctx.registry(PRIVACY)
    args: dict[str, Any] = {"start": period.start_at, "end": ctx.end}
    before: dict[str, Any] = {"start": previous.start_at, "end": previous.end_at}
    # The figures' reads of the account events where the spans are theirs (the period before, when it is whole).
    events = account_events(Span(start=period.start_at, end=ctx.end, now=ctx.now))
    events_before = account_events(Span(start=previous.start_at, end=previous.end_at, now=ctx.now))
    suspicious, suspicious_before = (
        events.by_reason(account_metrics.Kind.SUSPICIOUS),
        events_before.by_reason(account_metrics.Kind.SUSPICIOUS),
    )
    privacy, privacy_before = (
        events.by_reason(account_metrics.Kind.PRIVACY_CHANGED),
        events_before.by_reason(account_metrics.Kind.PRIVACY_CHANGED),
    )
    section.tables += [
        Table(
            "security_suspicious",
            "Suspicious activity by reason",
            ["Reason", "Events", "Previous period"],
            [
                [reason.replace("_", " "), count, suspicious_before.get(reason, 0)]
                for reason, count in suspicious.items()
            ],
        ),
        Table(
            "security_privacy",
            "Privacy-preference changes",
            ["Change", "Count", "Previous period"],
            [[reason.replace("_", " "), count, privacy_before.get(reason, 0)] for reason, count in privacy.items()],
        ),
        _purged_table(args, before),
    ]
    section.charts.append(
        Chart(
            "security_suspicious",
            "Suspicious activity by reason",
            "pie",
            [r.replace("_", " ") for r in suspicious],
            [Series("Events", [float(v) for v in suspicious.values()])],
        )
    )
    return section


def _purged_table(args: dict, before: dict) -> Table:
    """What the nightly retention runs deleted or anonymised, by kind of personal data (counts, never contents)."""
    purged = {row.kind: row for row in purged_between(**args)}
    purged_before = {row.kind: row.count for row in purged_between(**before)}
    labels = {row.kind: row.label for row in purged.values()}
    labels.update({kind.key: kind.label for kind in data_kinds() if kind.key in purged_before})
    return Table(
        "security_retention",
        "Personal data purged after its retention period",
        ["Kind of data", "Items purged", "Previous period"],
        [
            [label, purged[kind].count if kind in purged else 0, purged_before.get(kind, 0)]
            for kind, label in sorted(labels.items(), key=lambda item: item[1])
        ],
    )
