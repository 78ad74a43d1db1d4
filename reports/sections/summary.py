"""The executive summary and the recommendations, written by rules from the other sections' figures, each
sentence citing the figure it rests on; and the raw-data appendices."""

from __future__ import annotations

from datetime import date

from django.conf import settings

from moderation.models import Action
from moderation.models import Source as FlagSource
from saypro.sla.promises import promise_for, promises

from ..document import COUNT, PERCENT, Figure, Section, Table
from ..selectors import by_hour
from ..sources import (
    MOD_DECISIONS,
    MOD_FLAGS,
    MSG_CONVERSATIONS,
    MSG_MESSAGES,
    REG_STARTED,
    SLA_DUE,
    SLA_STARTED,
    SLA_STOPPED,
    SUPPORT_CREATED,
    SUPPORT_SOLVED,
    SUPPORT_SURVEYS,
    sla_metrics,
)
from . import Context

TICKET_FIRST_RESPONSE = "ticket.first_response"

# A change is "big" from this many percentage points, or this share of a count with at least MIN_BASE items.
BIG_POINTS = 2.0
BIG_SHARE = 0.10
MIN_BASE = 20
AUTO_APPROVAL_FLOOR = 50.0
DROP_OFF_CEILING = 25.0
CAUSE_SHARE = 40.0
PRECISION_FLOOR = 80.0
# Less extra work than this a day is not worth a staffing change: look at the breached items instead.
MIN_STAFF_HOURS = 0.1


def cite(section: Section, figure: Figure) -> str:
    return f"[{section.title}: {figure.label} = {figure.text()}]"


def _all(sections: list[Section]) -> list[tuple[Section, Figure]]:
    return [(s, f) for s in sections for f in s.figures]


def _change_is_big(figure: Figure) -> bool:
    if figure.change is None or not figure.change:
        return False
    if figure.unit == PERCENT:
        return abs(figure.change) >= BIG_POINTS
    return bool(figure.previous and abs(figure.previous) >= MIN_BASE and abs(figure.relative_change or 0) >= BIG_SHARE)


def _size(figure: Figure) -> float:
    if figure.unit == PERCENT:
        return abs(figure.change or 0) / 100
    return abs(figure.relative_change or 0)


def executive_summary(sections: list[Section], ctx: Context) -> Section:
    summary = Section(key="summary", title="Executive summary")
    figures = _all(sections)
    targeted = [(s, f) for s, f in figures if f.met is not None]
    met = [(s, f) for s, f in targeted if f.met]
    missed = [(s, f) for s, f in targeted if not f.met]
    summary.figures += [
        Figure("summary.targets_met", "Targets met", float(len(met)), COUNT),
        Figure("summary.targets_missed", "Targets missed", float(len(missed)), COUNT),
    ]
    compliance = next((s for s in sections if s.key == "compliance"), None)
    findings = []
    for figure in compliance.figures if compliance else []:
        if figure.value is None:
            findings.append(f"{figure.label}: no deadline fell in the period. {cite(compliance, figure)}")  # type: ignore[arg-type]
            continue
        verdict = "met" if figure.met else "missed"
        compared = f", {figure.change_text} on the previous period" if figure.previous is not None else ""
        findings.append(
            f"{figure.label}: {figure.text()} against the target of {figure.target_text} ({verdict}{compared}). "
            f"{cite(compliance, figure)}"  # type: ignore[arg-type]
        )
    summary.paragraphs += findings
    if missed:
        summary.paragraphs.append(
            f"Targets missed ({len(missed)} of {len(targeted)}): "
            + "; ".join(f"{f.label} at {f.text()} against {f.target_text} {cite(s, f)}" for s, f in missed)
            + "."
        )
    if met:
        summary.paragraphs.append(
            f"Targets met ({len(met)} of {len(targeted)}): "
            + "; ".join(f"{f.label} at {f.text()} {cite(s, f)}" for s, f in met)
            + "."
        )
    changes = sorted((p for p in figures if _change_is_big(p[1])), key=lambda p: -_size(p[1]))[:5]
    if changes:
        summary.paragraphs.append(
            "Biggest changes against the previous period: "
            + "; ".join(
                f"{f.label} {f.change_text} (from {f.text(f.previous)} to {f.text()}) {cite(s, f)}" for s, f in changes
            )
            + "."
        )
    summary.tables += [
        Table(
            "targets",
            "Targets met and missed",
            ["Section", "Figure", "Value", "Target", "Previous", "Change", "Met"],
            [
                [
                    s.title,
                    f.label,
                    f.text(),
                    f.target_text,
                    f.text(f.previous) if f.previous is not None else "—",
                    f.change_text,
                    "yes" if f.met else "no",
                ]
                for s, f in targeted
            ],
        ),
        Table(
            "changes",
            "Biggest changes",
            ["Section", "Figure", "Previous", "Now", "Change"],
            [[s.title, f.label, f.text(f.previous), f.text(), f.change_text] for s, f in changes],
        ),
    ]
    return summary


def _staffing(ctx: Context, metric: str) -> tuple[float, float, float, list[int]] | None:
    """(extra staff-hours a day, arrivals a day, decisions a day, the peak hours) where arrivals outrun decisions."""
    days = max(1, (min(ctx.period.end, ctx.end.date()) - ctx.period.start).days or 1)
    hours = by_hour(ctx.reader, metric, ctx.period.start, ctx.period.end)
    peak = [h for h, (arrived, decided) in hours.items() if arrived > decided]
    if not peak:
        return None
    arrived = sum(hours[h][0] for h in peak) / days
    decided = sum(hours[h][1] for h in peak) / days
    return (arrived - decided) / settings.REPORTS_ITEMS_PER_STAFF_HOUR, arrived, decided, peak


def _per_day(count: float) -> str:
    return f"{count:.1f}" if count < 10 else f"{count:,.0f}"


def _hour_ranges(hours: list[int]) -> str:
    ranges: list[list[int]] = []
    for hour in sorted(hours):
        if ranges and ranges[-1][1] == hour - 1:
            ranges[-1][1] = hour
        else:
            ranges.append([hour, hour])
    return ", ".join(f"{a:02d}:00–{b + 1:02d}:00" for a, b in ranges)


def recommendations(sections: list[Section], ctx: Context) -> Section:
    out = Section(key="recommendations", title="Recommendations")
    rows: list[list[object]] = []

    def add(text: str, section: Section, figure: Figure) -> None:
        out.paragraphs.append(f"{text} {cite(section, figure)}")
        rows.append([text, figure.label, figure.text()])

    by_key = {f.key: (s, f) for s, f in _all(sections)}
    covered: set[str] = set()
    for promise in promises():
        pair = by_key.get(f"compliance.{promise.metric}")
        if not pair or pair[1].met is not False:
            continue
        section, figure = pair
        covered.add(figure.key)
        staffing = _staffing(ctx, promise.metric)
        if staffing and staffing[0] >= MIN_STAFF_HOURS:
            extra, arrived, decided, peak = staffing
            add(
                f"Add about {extra:.1f} staff-hours a day to “{promise.title}” at {_hour_ranges(peak)}: at those hours "
                f"{_per_day(arrived)} items arrive a day and {_per_day(decided)} are decided, so the backlog grows "
                "until the "
                f"deadline passes (at {settings.REPORTS_ITEMS_PER_STAFF_HOUR} items per staff-hour).",
                section,
                figure,
            )
        else:
            add(
                f"“{promise.title}” missed its target although decisions keep up with arrivals at every hour: look "
                "at the breached items for long waits before the first action (routing, paused clocks, hand-offs).",
                section,
                figure,
            )
    rules = [
        (
            "registrations.auto_approval_rate",
            lambda f: f.value is not None and f.value < AUTO_APPROVAL_FLOOR,
            lambda f: (
                f"Only {f.text()} of approvals were automatic: review the screening weights and the "
                "verification steps that send low-risk sign-ups to reviewers."
            ),
        ),
        (
            "moderation.automatic_precision",
            lambda f: f.value is not None and f.value < PRECISION_FLOOR,
            lambda f: (
                f"Only {f.text()} of automatic moderation cases were upheld: raise the detection threshold for "
                "opening a case, or retrain the spam model on the moderators' recent decisions."
            ),
        ),
        (
            "messaging.volume",
            lambda f: f.met is False,
            lambda f: (
                f"Messages reached {f.text()} against the quarter's plan of {f.target_text}: check the in-app entry "
                "points to messaging, or revise the plan."
            ),
        ),
    ]
    for key, applies, text in rules:
        pair = by_key.get(key)
        if pair and applies(pair[1]):
            covered.add(key)
            add(text(pair[1]), *pair)
    first_reply = by_key.get("support.first_response_hours")
    if first_reply and first_reply[1].met is False:
        covered.add(first_reply[1].key)
        staffing = _staffing(ctx, TICKET_FIRST_RESPONSE)
        advice = (
            f" At {_hour_ranges(staffing[3])} {_per_day(staffing[1])} tickets arrive a day and "
            f"{_per_day(staffing[2])} get a first "
            f"reply: about {staffing[0]:.1f} more staff-hours a day there would hold the target."
            if staffing and staffing[0] >= MIN_STAFF_HOURS
            else ""
        )
        figure = first_reply[1]
        add(
            f"The first reply to tickets takes {figure.text()} on average, over the {figure.target_text} "
            f"target.{advice}",
            *first_reply,
        )
    csat = by_key.get("support.csat_average")
    if csat and csat[1].met is False:
        channels = next((t for t in csat[0].tables if t.key == "support_csat_channel"), None)
        rated = [row for row in (channels.rows if channels else []) if row[5] is not None]
        if rated:
            worst = min(rated, key=lambda row: row[5])
            covered.add(csat[1].key)
            add(
                f"Satisfaction averages {csat[1].text()} against {csat[1].target_text}; {worst[0]} rates lowest "
                f"({worst[5]:.2f}): review its recent low ratings and their follow-ups first.",
                *csat,
            )
    registrations = next((s for s in sections if s.key == "registrations"), None)
    if registrations:
        funnel = next((t for t in registrations.tables if t.key == "registrations_funnel"), None)
        drops = [row for row in (funnel.rows if funnel else []) if row[3] is not None]
        if drops:
            worst = max(drops, key=lambda row: row[3])
            if worst[3] >= DROP_OFF_CEILING:
                conversion = registrations.figure("registrations.conversion")
                if conversion:
                    add(
                        f"{worst[3]:.1f} % of sign-ups drop off at “{worst[0]}”, the largest loss in the funnel: "
                        "simplify that step or remind applicants who stop there.",
                        registrations,
                        conversion,
                    )
        causes = next((t for t in registrations.tables if t.key == "registrations_delay_causes"), None)
        if causes and causes.rows and causes.rows[0][2] is not None and causes.rows[0][2] >= CAUSE_SHARE:
            within = registrations.figure("registrations.approved_48h")
            if within:
                add(
                    f"“{causes.rows[0][0]}” caused {causes.rows[0][2]:.0f} % of late registration decisions: "
                    "tackle it first.",
                    registrations,
                    within,
                )
    for section, figure in _all(sections):
        if figure.met is False and figure.key not in covered and section.key not in {"summary"}:
            add(f"Bring {figure.label.lower()} from {figure.text()} to {figure.target_text}.", section, figure)
    if not rows:
        out.paragraphs.append("Every figure with a target met it; no rule asked for a change.")
    out.tables.append(
        Table(
            "recommendations",
            "Recommendations and the figures behind them",
            ["Recommendation", "Figure", "Value"],
            rows,
        )
    )
    return out


def appendices(ctx: Context) -> list[Table]:
    """The daily rows behind the report's charts and figures."""
    period, reader = ctx.period, ctx.reader
    sla_rows = []
    for metric in sla_metrics():
        promise = promise_for(metric)
        due = reader.daily(SLA_DUE, period.start, period.end, dimension=f"metric:{metric}")
        started = reader.daily(SLA_STARTED, period.start, period.end, dimension=f"metric:{metric}")
        stopped = reader.daily(SLA_STOPPED, period.start, period.end, dimension=f"metric:{metric}")
        for day in period.day_list():
            if day in due or day in started or day in stopped:
                sla_rows.append(
                    [
                        day.isoformat(),
                        metric,
                        promise.title if promise else "",
                        int(due.get(day, {}).get("achieved", 0)),
                        int(due.get(day, {}).get("breached", 0)),
                        int(started.get(day, {}).get("started", 0)),
                        int(stopped.get(day, {}).get("stopped", 0)),
                        int(stopped.get(day, {}).get("met", 0)),
                        round(stopped.get(day, {}).get("seconds", 0.0), 1),
                    ]
                )
    registrations = reader.daily(REG_STARTED, period.start, period.end)
    keys = ["started", "email_verified", "phone_verified", "profile_completed", "submitted", "approved", "rejected"]
    return [
        Table(
            "raw_sla_daily",
            "Appendix: SLA clocks per day",
            [
                "Day",
                "Metric",
                "Promise",
                "Achieved (due)",
                "Breached (due)",
                "Started",
                "Stopped",
                "Stopped in time",
                "Seconds to stop (sum)",
            ],
            sla_rows,
        ),
        Table(
            "raw_registrations_daily",
            "Appendix: sign-ups per day (by start day)",
            ["Day", *keys],
            [
                [day.isoformat(), *(int(registrations[day].get(k, 0)) for k in keys)]
                for day in period.day_list()
                if day in registrations
            ],
        ),
        _daily_table(
            ctx,
            "raw_messaging_daily",
            "Appendix: messaging per day",
            [
                (MSG_CONVERSATIONS, "inbound", "Conversations started by users"),
                (MSG_CONVERSATIONS, "outbound", "Conversations started by the team"),
                (MSG_MESSAGES, "user_messages", "Messages in"),
                (MSG_MESSAGES, "team_replies", "Replies out"),
            ],
        ),
        _daily_table(
            ctx,
            "raw_support_daily",
            "Appendix: support per day (surveys by the day they were sent)",
            [
                (SUPPORT_CREATED, "created", "Tickets created"),
                (SUPPORT_SOLVED, "solved", "Tickets solved"),
                (SUPPORT_SURVEYS, "sent", "Surveys sent"),
                (SUPPORT_SURVEYS, "responses", "Survey responses"),
                (SUPPORT_SURVEYS, "satisfied", "Ratings of 4–5"),
                (SUPPORT_SURVEYS, "rating_sum", "Ratings (sum)"),
            ],
        ),
        _daily_table(
            ctx,
            "raw_moderation_daily",
            "Appendix: moderation per day",
            [
                (MOD_FLAGS, "flags", "Flags"),
                *((MOD_FLAGS, source, f"Flags: {label}") for source, label in FlagSource.choices),
                (MOD_DECISIONS, "decisions", "Decisions"),
            ],
            by_dimension=(MOD_DECISIONS, "action", "decisions", Action.choices),
        ),
    ]


def _daily_table(
    ctx: Context,
    key: str,
    title: str,
    columns: list[tuple[str, str, str]],
    by_dimension: tuple[str, str, str, list[tuple[str, str]]] | None = None,
) -> Table:
    """One row per day with any of the columns' rollups: (metric, value name, heading) per column, and with
    `by_dimension` (metric, dimension, value name, choices) a column per choice of that dimension."""
    period, reader = ctx.period, ctx.reader
    daily = {metric: reader.daily(metric, period.start, period.end) for metric in {m for m, _, _ in columns}}
    split: dict[date, dict[str, dict[str, float]]] = {}
    headings = [heading for _, _, heading in columns]
    if by_dimension:
        metric, prefix, _, choices = by_dimension
        split = reader.daily_by_dimension(metric, prefix, period.start, period.end)
        headings += [str(label) for _, label in choices]
    rows = []
    for day in period.day_list():
        if not any(day in days for days in daily.values()) and day not in split:
            continue
        row: list[object] = [day.isoformat()]
        row += [int(daily[metric].get(day, {}).get(name, 0)) for metric, name, _ in columns]
        if by_dimension:
            _, _, name, choices = by_dimension
            row += [int(split.get(day, {}).get(value, {}).get(name, 0)) for value, _ in choices]
        rows.append(row)
    return Table(key, title, ["Day", *headings], rows)
