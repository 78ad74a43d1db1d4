"""The messaging figures and their targets (document 004: direct messaging between users and admins).

Volume is counted in messages: those users write and the team's replies (user- and admin-initiated), by the
moment each was written. The response figure is per message: a user's message is answered when a reply of the
team follows it in the same conversation; it is placed in the period it was received in. Queries (conversations
users start) are placed by the day they were received. The times to a first answer are read from the
conversation's first-response clock, each placed by the moment the message that started it was received. The
backlog is a count at an instant: the period's end, or now while it runs. Every figure can be split by inquiry
type (category), ad category and region, which the metrics API, the area pages and the reports accept as filters.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any, cast

from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Avg,
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)

from saypro import periods
from saypro.figures.registry import (
    AT,
    COUNT,
    DOWN,
    HOURS,
    PERCENT,
    UP,
    FigureSpec,
    Measure,
    Span,
    TargetSpec,
    figure_register,
    quarter_before,
    shared,
    target_register,
    value_text,
)
from saypro.figures.targets import TargetBook
from saypro.localtime import local_midnight
from saypro.percentiles import MEDIAN_AND_P90, nearest_ranks
from saypro.periods import Period
from saypro.sla.models import Clock, ClockState
from saypro.sla.selectors import Outcomes, outcome_counts

from .models import UNRESOLVED_STATUSES, Conversation, Initiator, Message, MessageKind, Status
from .selectors import (
    FIRST_RESPONSE,
    MIX_GROUPS,
    RESOLUTION,
    VOLUME_KINDS,
    conversations_filtered,
    volume_target,
    with_clocks,
)

DOC = "004 Classified User Communication"
AREA = "messaging"
DIMENSIONS = ("category", "ad_category", "region")
DAY = timedelta(hours=24)
# The quarter's last weeks, over which the rise to 95 % within 24 h is checked.
CLOSING_DAYS = 28
# Resolution targets by category group (the share resolved within the category's deadline).
RESOLUTION_GROUPS = ("general", "support", "complaint_policy", "renewal")


def _conversations(span: Span) -> QuerySet[Conversation] | None:
    """The conversations the filters select; None without filters (every conversation, no join needed)."""
    if not any(span.filters.get(name) for name in DIMENSIONS):
        return None
    return conversations_filtered(
        category=span.filters.get("category"),
        ad_category=span.filters.get("ad_category"),
        region=span.filters.get("region"),
    )


def _messages(span: Span) -> QuerySet[Message]:
    messages = Message.objects.filter(created_at__gte=span.start, created_at__lt=span.end, kind__in=VOLUME_KINDS)
    conversations = _conversations(span)
    return messages if conversations is None else messages.filter(conversation__in=conversations)


def _share(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None


def _written(span: Span) -> dict[str, int]:
    """The span's messages by kind: one count for the volume, each side of it, the growth and the quarter's plan
    (shared_reads). Written messages do not change with the instant they are read at, so the key leaves it out."""
    return shared(
        ("messaging.written", span.start, span.end, tuple(sorted(span.filters.items()))),
        lambda: {row["kind"]: row["n"] for row in _messages(span).values("kind").annotate(n=Count("pk")).order_by()},
    )


def volume(span: Span) -> Measure:
    written = _written(span)
    n = sum(written.values())
    user, team = written.get(MessageKind.USER, 0), written.get(MessageKind.REPLY, 0)
    return Measure(value=float(n), n=n, parts={"from_users": user, "from_team": team})


def messages_written(span: Span, kind: str) -> Measure:
    """One side of the volume: the messages users wrote, or the replies the team wrote to them."""
    n = _written(span).get(kind, 0)
    return Measure(value=float(n), n=n)


def conversations_started(span: Span, initiator: str) -> Measure:
    """Conversations started in the period, by users (inbound) or by the team (outbound)."""
    conversations = _conversations(span)
    n = (
        (conversations if conversations is not None else Conversation.objects.all())
        .filter(initiated_by=initiator, created_at__gte=span.start, created_at__lt=span.end)
        .count()
    )
    return Measure(value=float(n), n=n)


def _first_answer_clocks(span: Span) -> QuerySet[Clock]:
    """The first-response clocks started in the period: one per user's message that found no one answering."""
    clocks = Clock.objects.filter(metric=FIRST_RESPONSE, started_at__gte=span.start, started_at__lt=span.end)
    conversations = _conversations(span)
    if conversations is None:
        return clocks
    return clocks.filter(
        target_type=ContentType.objects.get_for_model(Conversation), target_id__in=conversations.values("pk")
    )


# A stopped clock: the message was answered, and its time is set (a reopened clock clears both).
ANSWERED = Q(state=ClockState.STOPPED, elapsed_seconds__isnull=False)


def _answer_counts(clocks: QuerySet[Clock], now: datetime) -> dict[str, Any]:
    """The answered clocks (stopped) with their average seconds, and those still running: pending inside their
    24 h, unanswered past it (neither has a time yet)."""
    stopped, running = ANSWERED, ~Q(state=ClockState.STOPPED)
    return clocks.aggregate(
        n=Count("pk", filter=stopped),
        seconds=Avg("elapsed_seconds", filter=stopped),
        pending=Count("pk", filter=running & Q(due_at__gt=now)),
        unanswered=Count("pk", filter=running & Q(due_at__lte=now)),
    )


def first_answer_average(span: Span) -> Measure:
    row = _answer_counts(_first_answer_clocks(span), span.now)
    return Measure(
        value=None if row["seconds"] is None else row["seconds"] / 3600,
        n=row["n"],
        pending=row["pending"],
        parts={"unanswered": row["unanswered"]},
    )


def first_answer_percentile(span: Span, fraction: float) -> Measure:
    """The nearest-rank percentile of the answered clocks' times; the median's and the 90th's in one read."""
    clocks = _first_answer_clocks(span)
    row = _answer_counts(clocks, span.now)
    ranks = shared(
        ("messaging.first_answer_ranks", *span.key()),
        lambda: nearest_ranks(clocks.filter(ANSWERED), F("elapsed_seconds"), MEDIAN_AND_P90, row["n"]),
    )
    seconds = ranks[MEDIAN_AND_P90.index(fraction)]
    return Measure(
        value=None if seconds is None else seconds / 3600,
        n=row["n"],
        pending=row["pending"],
        parts={"unanswered": row["unanswered"]},
    )


def backlog(span: Span) -> Measure:
    """Conversations received before the span's end and not resolved by then (a conversation resolved and reopened
    since counts by its latest resolution). At risk, breached, unassigned and waiting on the user describe the
    backlog as it stands, so they are given only for a reading up to now (the inbox's tiles read them)."""
    conversations = _conversations(span)
    unresolved = (conversations if conversations is not None else Conversation.objects.all()).filter(
        Q(status__in=UNRESOLVED_STATUSES) | Q(resolved_at__gte=span.end), created_at__lt=span.end
    )
    if span.end < span.now:
        n = unresolved.count()
        return Measure(value=float(n), n=n)
    row = with_clocks(unresolved, span.now).aggregate(
        n=Count("pk"),
        at_risk=Count("pk", filter=Q(is_at_risk=True)),
        breached=Count("pk", filter=Q(is_breached=True)),
        unassigned=Count("pk", filter=Q(assigned_to__isnull=True)),
        waiting_on_user=Count("pk", filter=Q(status=Status.WAITING)),
    )
    return Measure(
        value=float(row["n"]),
        n=row["n"],
        parts={key: row[key] for key in ("at_risk", "breached", "unassigned", "waiting_on_user")},
    )


def _quarter_volume_target(period: Period, book: TargetBook, filters: Mapping[str, str]) -> tuple[float | None, str]:
    """The quarter's volume plan (platform-wide, so none for a filtered reading or a week or month)."""
    if period.kind != periods.QUARTER or any(filters.values()):
        return None, ""
    previous = period.previous()
    before = Span(start=previous.start_at, end=previous.end_at, now=previous.end_at)
    low, high = volume_target(quarter_start=period.start, previous_messages=volume(before).n, book=book)
    if high is None:
        return float(low), f"{value_text(low, COUNT)} messages"
    return float(
        low
    ), f"{value_text(low, COUNT)}–{value_text(high, COUNT)} messages (previous quarter + the growth band)"


def growth(span: Span) -> Measure:
    """Messages of the quarter against the previous quarter's over the same elapsed span, in %."""
    now, then = volume(span).n, volume(quarter_before(span)).n
    return Measure(value=100 * (now / then - 1) if then else None, n=now, parts={"previous": then})


def first_response_within_24h(span: Span) -> Measure:
    """Users' messages a reply of the team followed within 24 h ÷ those answered or past 24 h unanswered."""
    answered_by = Message.objects.filter(
        conversation=OuterRef("conversation"), kind=MessageKind.REPLY, created_at__gt=OuterRef("created_at")
    )
    # Each message's outcome in one CASE, so that PostgreSQL looks its replies up once (and a second time only for
    # the few not answered in time): a condition naming a look-up twice runs it twice.
    outcome = Case(
        When(Exists(answered_by.filter(created_at__lte=OuterRef("created_at") + DAY)), then=Value("met")),
        When(Q(Exists(answered_by)) | Q(created_at__lte=span.now - DAY), then=Value("missed")),
        default=Value("pending"),
    )
    counts = dict(
        _messages(span)
        .filter(kind=MessageKind.USER)
        .annotate(outcome=outcome)
        .values_list("outcome")
        .annotate(n=Count("pk"))
        .order_by()
    )
    met, missed = counts.get("met", 0), counts.get("missed", 0)
    return Measure(
        value=_share(met, met + missed),
        n=met + missed,
        pending=counts.get("pending", 0),
        parts={"met": met, "missed": missed},
    )


def first_response_closing(span: Span) -> Measure:
    """As first_response_within_24h, over the quarter's last CLOSING_DAYS days only."""
    quarter = periods.containing(periods.QUARTER, periods.today(span.start))
    closing = local_midnight(quarter.end - timedelta(days=CLOSING_DAYS))
    if span.end <= closing:
        return Measure(value=None, n=0)
    return first_response_within_24h(
        Span(start=max(span.start, closing), end=span.end, now=span.now, filters=span.filters)
    )


def _resolution(span: Span, categories: tuple[str, ...] | None) -> Measure:
    """Among the queries users started in the span, those of `categories` (None: all), met, missed and pending
    against each one's resolution deadline; one grouped read by category for every group (shared_reads)."""
    by_category = shared(("messaging.resolution", *span.key()), lambda: _resolution_by_category(span))
    chosen = [o for category, o in by_category.items() if categories is None or category in categories]
    met, missed = sum(o.met for o in chosen), sum(o.missed for o in chosen)
    return Measure(
        value=_share(met, met + missed),
        n=met + missed,
        pending=sum(o.pending for o in chosen),
        parts={"met": met, "missed": missed},
    )


def _resolution_by_category(span: Span) -> dict[str, Outcomes]:
    conversations = _conversations(span)
    queries = (conversations if conversations is not None else Conversation.objects.all()).filter(
        initiated_by=Initiator.USER, created_at__gte=span.start, created_at__lt=span.end, clocks__metric=RESOLUTION
    )
    rows = queries.values("category").annotate(**outcome_counts(span.now, "clocks__")).order_by()
    return {
        row["category"]: Outcomes(met=row["n_met"], missed=row["n_missed"], pending=row["n_pending"])
        for row in cast(list[dict[str, Any]], rows)
    }


def _mix(span: Span, categories: tuple[str, ...]) -> Measure:
    # One count by category for every group of the mix (shared_reads).
    by_category = shared(
        ("messaging.by_category", span.start, span.end, tuple(sorted(span.filters.items()))),
        lambda: {
            row["conversation__category"]: row["n"]
            for row in _messages(span).values("conversation__category").annotate(n=Count("pk")).order_by()
        },
    )
    n = sum(by_category.values())
    part = sum(by_category.get(category, 0) for category in categories)
    return Measure(value=_share(part, n), n=n, parts={"messages": part})


def register() -> None:
    specs = [
        TargetSpec("sla.message.first_response", "Conversations answered within 24 h", PERCENT, UP, DOC, 0, 100),
        TargetSpec("messaging.first_response_24h", "Messages responded to within 24 h", PERCENT, UP, DOC, 0, 100),
        TargetSpec(
            "messaging.first_response_24h.closing",
            "Messages responded to within 24 h, the quarter's last four weeks",
            PERCENT,
            UP,
            DOC,
            0,
            100,
        ),
        TargetSpec("messaging.resolution", "Queries resolved within their deadline", PERCENT, UP, DOC, 0, 100),
        TargetSpec(
            "messaging.volume",
            "Messages in a quarter with none before it (else the previous quarter's plus the growth band)",
            COUNT,
            UP,
            DOC,
            0,
            10_000_000,
        ),
        TargetSpec("messaging.growth.low", "Quarterly growth, low end of the band", PERCENT, UP, DOC, -100, 1000),
        TargetSpec("messaging.growth.high", "Quarterly growth, high end of the band", PERCENT, UP, DOC, -100, 1000),
    ]
    specs += [
        TargetSpec(f"messaging.resolution.{g}", f"{MIX_GROUPS[g][0]} resolved in time", PERCENT, UP, DOC, 0, 100)
        for g in RESOLUTION_GROUPS
    ]
    specs += [
        TargetSpec(f"messaging.mix.{g}", f"{label}, share of messages", PERCENT, AT, DOC, 0, 100)
        for g, (label, _) in MIX_GROUPS.items()
    ]
    for target in specs:
        target_register(target)
    by_message = "the moment the message was written"
    by_clock = "the moment the user's message that started the clock was received"
    first_answer = (
        "the team's first answer (a reply, or the conversation resolved by a person) to a user's message that "
        "found no one already answering it, timed on the conversation's first-response clock (every hour of the "
        "day counts) from the message to the answer. Messages still unanswered have no time yet: those inside "
        "their 24 hours are pending, those past them are left out (the 24 h figures count them as missed)."
    )
    answer_population = "users' messages received in the period that started a first-response clock"
    figures = [
        FigureSpec(
            key="messaging.volume",
            label="Messages (users' and the team's)",
            unit=COUNT,
            definition="Messages users wrote and replies the team wrote to them (user- and admin-initiated); "
            "internal notes, automatic acknowledgements and activity are not counted. The quarter's target: the "
            "one an administrator set, else the previous quarter's messages plus the 10–15 % growth band, else "
            "(no quarter before) 20,000.",
            population="messages between users and the team",
            placed_by=by_message,
            direction=UP,
            query=volume,
            target_rule=_quarter_volume_target,
            dimensions=DIMENSIONS,
            order=10,
            area=AREA,
            source=DOC,
        ),
        FigureSpec(
            key="messaging.user_messages",
            label="Messages in (from users)",
            unit=COUNT,
            definition="Messages users wrote to the team (user-initiated messages: inquiries, complaints, "
            "renewal requests and the like), in conversations whoever started them.",
            population="messages users wrote",
            placed_by=by_message,
            direction=UP,
            query=partial(messages_written, kind=MessageKind.USER),
            dimensions=DIMENSIONS,
            order=11,
            area=AREA,
            source=DOC,
        ),
        FigureSpec(
            key="messaging.team_replies",
            label="Replies out (from the team)",
            unit=COUNT,
            definition="Replies the team wrote to users (admin-initiated messages: answers, notices about an ad, "
            "policy enforcement); internal notes and automatic acknowledgements are not replies.",
            population="replies the team wrote to users",
            placed_by=by_message,
            direction=UP,
            query=partial(messages_written, kind=MessageKind.REPLY),
            dimensions=DIMENSIONS,
            order=12,
            area=AREA,
            source=DOC,
        ),
        FigureSpec(
            key="messaging.inbound",
            label="Conversations started by users",
            unit=COUNT,
            definition="Conversations a user started by writing to the team (incoming), however many messages "
            "each holds.",
            population="conversations started in the period",
            placed_by="the moment the conversation's first message was received",
            direction=UP,
            query=partial(conversations_started, initiator=Initiator.USER),
            dimensions=DIMENSIONS,
            order=13,
            area=AREA,
            source=DOC,
        ),
        FigureSpec(
            key="messaging.outbound",
            label="Conversations started by the team",
            unit=COUNT,
            definition="Conversations the team started by writing to a user (outgoing), however many messages "
            "each holds.",
            population="conversations started in the period",
            placed_by="the moment the conversation's first message was written",
            direction=UP,
            query=partial(conversations_started, initiator=Initiator.STAFF),
            dimensions=DIMENSIONS,
            order=14,
            area=AREA,
            source=DOC,
        ),
        FigureSpec(
            key="messaging.growth",
            label="Message growth on the previous quarter",
            unit=PERCENT,
            definition="Messages of the quarter ÷ messages of the previous quarter, less 1; a quarter still running "
            "against the same span of the previous one. Judged against the band: below, within or above.",
            population="messages between users and the team",
            placed_by=by_message,
            direction=UP,
            query=growth,
            kinds=(periods.QUARTER,),
            band=("messaging.growth.low", "messaging.growth.high"),
            dimensions=DIMENSIONS,
            order=20,
            area=AREA,
            source=DOC,
        ),
        FigureSpec(
            key="messaging.first_response_24h",
            label="Messages responded to within 24 h",
            unit=PERCENT,
            definition="Users' messages that a reply of the team followed within 24 hours (in the same "
            "conversation) ÷ users' messages answered, or past 24 hours unanswered; each message counts.",
            population="messages users wrote in the period",
            placed_by="the day the message was received",
            direction=UP,
            query=first_response_within_24h,
            target_key="messaging.first_response_24h",
            dimensions=DIMENSIONS,
            order=30,
            area=AREA,
            source=DOC,
        ),
        FigureSpec(
            key="messaging.first_response_24h.closing",
            label=f"Messages responded to within 24 h, the quarter's last {CLOSING_DAYS // 7} weeks",
            unit=PERCENT,
            definition="As messages responded to within 24 hours, over the messages received in the quarter's last "
            f"{CLOSING_DAYS} days: where the rise to 95 % by the end of the quarter is checked.",
            population="messages users wrote in the quarter's last weeks",
            placed_by="the day the message was received",
            direction=UP,
            query=first_response_closing,
            target_key="messaging.first_response_24h.closing",
            kinds=(periods.QUARTER,),
            dimensions=DIMENSIONS,
            order=40,
            area=AREA,
            source=DOC,
        ),
        FigureSpec(
            key="messaging.conversation_first_response_average",
            label="Hours to the team's first answer, average",
            unit=HOURS,
            definition=f"The average hours to {first_answer}",
            population=answer_population,
            placed_by=by_clock,
            direction=DOWN,
            query=first_answer_average,
            dimensions=DIMENSIONS,
            order=42,
            area=AREA,
            source=DOC,
        ),
        FigureSpec(
            key="messaging.first_response_median",
            label="Hours to the team's first answer, median",
            unit=HOURS,
            definition=f"The median (nearest rank: half answered as fast or faster) of the hours to {first_answer}",
            population=answer_population,
            placed_by=by_clock,
            direction=DOWN,
            query=partial(first_answer_percentile, fraction=0.5),
            dimensions=DIMENSIONS,
            order=43,
            area=AREA,
            source=DOC,
        ),
        FigureSpec(
            key="messaging.first_response_p90",
            label="Hours to the team's first answer, 90th percentile",
            unit=HOURS,
            definition="The 90th percentile (nearest rank: nine in ten answered as fast or faster) of the hours "
            f"to {first_answer}",
            population=answer_population,
            placed_by=by_clock,
            direction=DOWN,
            query=partial(first_answer_percentile, fraction=0.9),
            dimensions=DIMENSIONS,
            order=44,
            area=AREA,
            source=DOC,
        ),
        FigureSpec(
            key="messaging.backlog",
            label="Unresolved conversations at the period's end",
            unit=COUNT,
            definition="Conversations received before the period's end (now, while it runs) and not resolved by "
            "then: open, waiting on the user or escalated (document 004's unresolved issues). A count at an "
            "instant, compared with the same point of the period before; at risk, breached and unassigned are "
            "given for the backlog now.",
            population="conversations between users and the team",
            placed_by="the period's end (now, while it runs): those received before it and unresolved at it",
            direction=DOWN,
            query=backlog,
            dimensions=DIMENSIONS,
            order=45,
            area=AREA,
            source=DOC,
        ),
        FigureSpec(
            key="messaging.resolution",
            label="Queries resolved within 48–72 h",
            unit=PERCENT,
            definition="Queries (conversations users started) resolved within their category's deadline (48 h, "
            "72 h for support requests and miscellaneous; paused while waiting on the user) ÷ those resolved late "
            "or still open past it.",
            population="conversations users started in the period",
            placed_by="the day the query was received",
            direction=UP,
            query=partial(_resolution, categories=None),
            target_key="messaging.resolution",
            dimensions=DIMENSIONS,
            order=50,
            area=AREA,
            source=DOC,
        ),
    ]
    for order, group in enumerate(RESOLUTION_GROUPS):
        label, members = MIX_GROUPS[group]
        figures.append(
            FigureSpec(
                key=f"messaging.resolution.{group}",
                label=f"{label} resolved in time",
                unit=PERCENT,
                definition=f"{label} resolved (complaints and policy reports: addressed) within the category's "
                "deadline ÷ those resolved late or still open past it; met when at or above its target.",
                population=f"{label.lower()} users started in the period",
                placed_by="the day the query was received",
                direction=UP,
                query=partial(_resolution, categories=tuple(members)),
                target_key=f"messaging.resolution.{group}",
                dimensions=("ad_category", "region"),
                order=60 + order,
                area=AREA,
                source=DOC,
            )
        )
    for order, (group, (label, members)) in enumerate(MIX_GROUPS.items()):
        figures.append(
            FigureSpec(
                key=f"messaging.mix.{group}",
                label=f"{label}, share of messages",
                unit=PERCENT,
                definition=f"Messages in conversations of {label.lower()} ÷ all messages, against the target mix.",
                population="messages between users and the team",
                placed_by=by_message,
                direction=AT,
                query=partial(_mix, categories=tuple(members)),
                target_key=f"messaging.mix.{group}",
                dimensions=("ad_category", "region"),
                order=80 + order,
                area=AREA,
                source=DOC,
            )
        )
    for spec in figures:
        figure_register(spec)
