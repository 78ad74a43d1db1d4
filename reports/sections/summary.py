"""The executive summary, the targets scorecard and the recommendations, written by rules from the other
sections' figures; and the raw-data appendices.

The summary is one page: the promises as cards (headline figure, target in force, met or missed, n, the change
on the previous period and the last five quarters), then at most three wins and three risks, each one sentence
with its figure, the risks with what to do. Where each figure comes from is a numbered footnote, never text
inside the sentence. Counts of targets met and missed count each target once, and no recommendation is made
twice about the same target.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.conf import settings

from moderation.models import Action
from moderation.models import Source as FlagSource
from saypro.figures.registry import figure_spec
from saypro.sla.promises import Promise, promises

from ..document import COUNT, PERCENT, Card, Figure, Finding, Section, Table
from ..figures import compliance_key
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
    sla_labels,
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


# At most this many wins and risks on the summary page: more would not fit, nor be read.
MOST_FINDINGS = 3


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


def _improved(figure: Figure) -> float:
    """How much the figure moved the right way (negative: the wrong way), as a share."""
    change = figure.change or 0
    direction = 1 if figure.higher_is_better else -1
    return _size(figure) * (1 if change * direction > 0 else -1)


def _gap(figure: Figure) -> float:
    """How far a figure is from its target, as a share of the target: the risks' order."""
    if figure.value is None or figure.target is None:
        return 0.0
    return abs(figure.value - figure.target) / max(abs(figure.target), 1.0)


def _headline(promise: Promise) -> str:
    return promise.figure_keys[0] if promise.figure_keys else ""


def counted_targets(sections: list[Section]) -> list[tuple[Section, Figure]]:
    """Every figure judged against a target, each target once. The compliance section's promise figures are
    counted through their headline figures (the cards) where the report has them, so that a promise is one
    target, not two."""
    shown = {f.key for _, f in _all(sections)}
    promise_of = {compliance_key(p.metric): p for p in promises()}
    seen: set[str] = set()
    out = []
    for section, figure in _all(sections):
        if figure.met is None or section.key in {"summary", "scorecard"}:
            continue
        promise = promise_of.get(figure.key)
        if promise is not None and _headline(promise) in shown:
            continue
        target = figure.target_key or figure.key
        if target in seen:
            continue
        seen.add(target)
        out.append((section, figure))
    return out


def _compared(figure: Figure, previous_name: str) -> str:
    if figure.change is None or not figure.change:
        return ""
    word = "up" if figure.change > 0 else "down"
    return f", {word} {figure.change_text.lstrip('+−±')} on {previous_name}"


def _sample(figure: Figure) -> str:
    return f" ({figure.sample_text})" if figure.sample_text else ""


def win_sentence(figure: Figure, previous_name: str) -> str:
    return (
        f"{figure.label}: {figure.text()}{_sample(figure)}, meeting the target of {figure.target_text}"
        f"{_compared(figure, previous_name)}."
    )


def risk_sentence(figure: Figure, previous_name: str) -> str:
    return (
        f"{figure.label}: {figure.text()}{_sample(figure)}, missing the target of {figure.target_text}"
        f"{_compared(figure, previous_name)}."
    )


class _Sources:
    """The summary's footnotes, one per figure cited, numbered in the order they are first cited."""

    def __init__(self) -> None:
        self.notes: list[str] = []
        self.numbers: dict[str, int] = {}

    def cite(self, section: Section, figure: Figure) -> int:
        if figure.key not in self.numbers:
            try:
                spec = figure_spec(figure.key)
                where = f"{spec.population}, placed in a period by {spec.placed_by}"
            except KeyError:
                where = figure.note or "the section's data"
            self.notes.append(f"{section.title}: {figure.label} — {where}.")
            self.numbers[figure.key] = len(self.notes)
        return self.numbers[figure.key]


def executive_summary(sections: list[Section], ctx: Context, advice: list[Advice]) -> Section:
    summary = Section(key="summary", title="Executive summary")
    targeted = counted_targets(sections)
    met = [(s, f) for s, f in targeted if f.met]
    missed = [(s, f) for s, f in targeted if not f.met]
    summary.figures += [
        Figure("summary.targets_met", "Targets met", float(len(met)), COUNT, n=len(targeted)),
        Figure("summary.targets_missed", "Targets missed", float(len(missed)), COUNT, n=len(targeted)),
    ]
    sources = _Sources()
    by_key = {f.key: (s, f) for s, f in _all(sections)}
    for promise in promises():
        # A promise without a headline figure of its own is shown by its achievement.
        pair = by_key.get(_headline(promise)) or by_key.get(compliance_key(promise.metric))
        if pair is None:
            continue
        section, figure = pair
        trend = ctx.quarter_trend(figure.key)
        summary.cards.append(
            Card(
                title=promise.title,
                figure=figure,
                trend_labels=[quarter.name for quarter, _ in trend],
                trend=[reading.value for _, reading in trend],
                source=sources.cite(section, figure),
                area=figure_spec(figure.key).area,
            )
        )
    previous_name = ctx.previous.name
    promised = {card.figure.key for card in summary.cards}
    wins = sorted(met, key=lambda p: (p[1].key not in promised or p[1].change is None, -_improved(p[1]), -_gap(p[1])))
    risks = sorted(missed, key=lambda p: (p[1].key not in promised, -_gap(p[1])))
    for section, figure in wins[:MOST_FINDINGS]:
        summary.findings.append(
            Finding("win", win_sentence(figure, previous_name), figure.key, "", sources.cite(section, figure))
        )
    used: set[str] = set()
    for section, figure in risks[:MOST_FINDINGS]:
        # A recommendation is printed once, even where it answers for two of the risks; one resting on the risk's
        # own figure comes first, so that what to do names the figure the risk quotes.
        fitting = sorted((a for a in advice if a.covers(figure)), key=lambda a: a.figure.key != figure.key)
        what = next((a.text for a in fitting if a.text not in used), "")
        used.add(what)
        summary.findings.append(
            Finding("risk", risk_sentence(figure, previous_name), figure.key, what, sources.cite(section, figure))
        )
    summary.sources = sources.notes
    judged = [card for card in summary.cards if card.figure.met is not None]
    overview = f"{len(met)} of {len(targeted)} targets met and {len(missed)} missed, each target counted once; "
    unjudged = len(summary.cards) - len(judged)
    if judged:
        overview += f"{sum(1 for card in judged if card.figure.met)} of {len(judged)} promises met their target"
        overview += f" ({unjudged} with nothing to judge in the period)." if unjudged else "."
    else:
        overview += "no promise had anything to judge in the period."
    if ctx.period.contains(ctx.now):
        overview += (
            f" {ctx.period.name} is still running: its figures cover it to date and are compared with the same "
            f"span of {previous_name}."
        )
    summary.paragraphs.append(overview)
    return summary


def scorecard(sections: list[Section]) -> Section:
    """Every target once, met or missed, and the biggest changes: the detail behind the summary's counts."""
    out = Section(key="scorecard", title="Targets met and missed")
    targeted = counted_targets(sections)
    out.tables.append(
        Table(
            "targets",
            "Targets met and missed",
            ["Section", "Figure", "Value", "n", "Target", "Previous", "Change", "Met"],
            [
                [
                    s.title,
                    f.label,
                    f.text(),
                    f.n,
                    f.target_text,
                    f.text(f.previous) if f.previous is not None else "—",
                    f.change_text,
                    "yes" if f.met else "no",
                ]
                for s, f in targeted
            ],
        )
    )
    changes = sorted((p for p in _all(sections) if _change_is_big(p[1])), key=lambda p: -_size(p[1]))[:8]
    out.tables.append(
        Table(
            "changes",
            "Biggest changes",
            ["Section", "Figure", "Previous", "Now", "Change"],
            [[s.title, f.label, f.text(f.previous), f.text(), f.change_text] for s, f in changes],
        )
    )
    return out


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


@dataclass(frozen=True)
class Advice:
    """One recommendation, the figure it rests on, and the figures and targets it answers for."""

    text: str
    section: Section
    figure: Figure
    keys: frozenset[str]

    def covers(self, figure: Figure) -> bool:
        return figure.key in self.keys or bool(figure.target_key and figure.target_key in self.keys)


def advise(sections: list[Section], ctx: Context) -> list[Advice]:
    """The recommendations the figures ask for: the rules' specific advice first, then one line for each target
    missed that no rule answered. A promise is answered once, through its headline figure and its compliance
    figure alike."""
    out: list[Advice] = []

    def add(text: str, section: Section, figure: Figure, *also: str) -> None:
        if any(a.text == text for a in out):
            return
        keys = frozenset({figure.key, *([figure.target_key] if figure.target_key else []), *also})
        out.append(Advice(text, section, figure, keys))

    by_key = {f.key: (s, f) for s, f in _all(sections)}
    for promise in promises():
        pairs = [p for p in (by_key.get(_headline(promise)), by_key.get(compliance_key(promise.metric))) if p]
        if not pairs or not any(f.met is False for _, f in pairs):
            continue
        section, figure = pairs[0]
        # The advice names the figure it rests on (the headline, where the report has it), and answers for that
        # figure and the promise's compliance figure only: a promise's target can also judge other figures.
        also = (compliance_key(promise.metric), _headline(promise))
        staffing = _staffing(ctx, promise.metric)
        if staffing and staffing[0] >= MIN_STAFF_HOURS:
            extra, arrived, decided, peak = staffing
            add(
                f"Add about {extra:.1f} staff-hours a day to “{figure.label}” at {_hour_ranges(peak)}: at those hours "
                f"{_per_day(arrived)} items arrive a day and {_per_day(decided)} are decided, so the backlog grows "
                "until the "
                f"deadline passes (at {settings.REPORTS_ITEMS_PER_STAFF_HOUR} items per staff-hour).",
                section,
                figure,
                *also,
            )
        else:
            add(
                f"“{figure.label}” missed its target although decisions keep up with arrivals at every hour: look "
                "at the breached items for long waits before the first action (routing, paused clocks, hand-offs).",
                section,
                figure,
                *also,
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
            add(text(pair[1]), *pair)
    first_reply = by_key.get("support.first_response_hours")
    if first_reply and first_reply[1].met is False:
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
    for section, figure in counted_targets(sections):
        if figure.met is False and not any(a.covers(figure) for a in out):
            # A band ("10 % to 15 %") is entered, a bound is reached.
            into = "into" if " to " in figure.target_text else "to"
            add(f"Bring {figure.label.lower()} from {figure.text()} {into} {figure.target_text}.", section, figure)
    return out


def recommendations(advice: list[Advice]) -> Section:
    out = Section(key="recommendations", title="Recommendations")
    # Each recommendation is printed once, in the table beside the figure it rests on.
    out.paragraphs = [
        f"{len(advice)} recommendation{'s' if len(advice) != 1 else ''}, each beside the figure it rests on."
        if advice
        else "Every figure with a target met it; no rule asked for a change."
    ]
    out.tables.append(
        Table(
            "recommendations",
            "Recommendations and the figures behind them",
            ["Recommendation", "Section", "Figure", "Value", "n", "Target"],
            [
                [a.text, a.section.title, a.figure.label, a.figure.text(), a.figure.n, a.figure.target_text]
                for a in advice
            ],
        )
    )
    return out


def appendices(ctx: Context) -> list[Table]:
    """The daily rows behind the report's charts and figures."""
    period, reader = ctx.period, ctx.reader
    sla_rows = []
    for metric, label in sla_labels().items():
        due = reader.daily(SLA_DUE, period.start, period.end, dimension=f"metric:{metric}")
        started = reader.daily(SLA_STARTED, period.start, period.end, dimension=f"metric:{metric}")
        stopped = reader.daily(SLA_STOPPED, period.start, period.end, dimension=f"metric:{metric}")
        for day in period.day_list():
            if day in due or day in started or day in stopped:
                sla_rows.append(
                    [
                        day.isoformat(),
                        label,
                        int(due.get(day, {}).get("achieved", 0)),
                        int(due.get(day, {}).get("breached", 0)),
                        int(started.get(day, {}).get("started", 0)),
                        int(stopped.get(day, {}).get("stopped", 0)),
                        int(stopped.get(day, {}).get("met", 0)),
                        round(stopped.get(day, {}).get("seconds", 0.0) / 3600, 2),
                    ]
                )
    registrations = reader.daily(REG_STARTED, period.start, period.end)
    steps = {
        "started": "Started",
        "email_verified": "E-mail verified",
        "phone_verified": "Phone verified",
        "profile_completed": "Profile completed",
        "submitted": "Submitted",
        "approved": "Approved",
        "rejected": "Rejected",
    }
    return [
        Table(
            "raw_sla_daily",
            "Appendix: SLA clocks per day",
            [
                "Day",
                "Promise or clock",
                "Due and achieved",
                "Due and breached",
                "Clocks started",
                "Clocks stopped",
                "Stopped in time",
                "Hours to stop (sum)",
            ],
            sla_rows,
        ),
        Table(
            "raw_registrations_daily",
            "Appendix: sign-ups per day (by start day)",
            ["Day", *steps.values()],
            [
                [day.isoformat(), *(int(registrations[day].get(k, 0)) for k in steps)]
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
