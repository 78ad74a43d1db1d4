"""The support figures and their targets (document 003: user support and help management).

Every inquiry figure places a ticket in the period it was received in (created, through whatever channel: web
form, e-mail, live chat, social media, in-app) and counts it as it stands now; tickets still inside their 24 h are
pending. A ticket merged into another is counted once, as the one it was merged into.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
)

from accounts.models import User
from saypro import periods
from saypro.figures.grouped import aggregate_by_span
from saypro.figures.registry import (
    COUNT,
    DOWN,
    HOURS,
    MINUTES,
    PERCENT,
    SCORE,
    UP,
    FigureSpec,
    Measure,
    Span,
    TargetSpec,
    figure_register,
    quarter_before,
    shared,
    target_register,
)
from saypro.percentiles import MEDIAN_AND_P90, nearest_ranks
from saypro.sla.selectors import clock_outcomes

from .models import CHAT_FIRST_RESPONSE, MISROUTABLE, RESOLUTION, Category, Channel, Guidance, Survey, Ticket
from .selectors import account_tickets

DOC = "003 Classified User Support and Help Management"
ACCOUNTS_DOC = "001 User Accounts Performance Reports"
AREA = "support"
# The report's account-issues section shows the account-related tickets beside the sign-in problems.
ACCOUNT_ISSUES = "account_issues"
DAY = timedelta(hours=24)
PLACED_BY = "the day the inquiry was received"


# A filter's field on the ticket: the department by its slug (the department the ticket is in now, after any
# transfer: the team that answered and resolved it).
TICKET_FILTERS = {"channel": "channel", "priority": "priority", "department": "department__slug"}


def _narrowed(tickets: QuerySet[Ticket], span: Span) -> QuerySet[Ticket]:
    """The tickets of the span's filters; a figure gets only the filters of the dimensions it declares."""
    for name, field in TICKET_FILTERS.items():
        if span.filters.get(name):
            tickets = tickets.filter(**{field: span.filters[name]})
    return tickets


def _received(span: Span) -> QuerySet[Ticket]:
    return _narrowed(
        Ticket.objects.filter(created_at__gte=span.start, created_at__lt=span.end, merged_into__isnull=True), span
    )


def _hours_aggregates(field: str) -> dict[str, Any]:
    """The count, average time from receipt and pending count of `field` (first_responded_at, solved_at), keyed by
    the field for _hours_measure."""
    took = ExpressionWrapper(F(field) - F("created_at"), output_field=DurationField())
    return {
        f"{field}_n": Count(field),
        f"{field}_average": Avg(took),
        f"{field}_pending": Count("pk", filter=Q(**{f"{field}__isnull": True})),
    }


def _hours_measure(row: dict[str, Any], field: str) -> Measure:
    average = row[f"{field}_average"]
    return Measure(
        value=None if average is None else average / timedelta(hours=1),
        n=row[f"{field}_n"],
        pending=row[f"{field}_pending"],
    )


def _received_aggregates(now: datetime) -> dict[str, Aggregate]:
    """Every count and average the received-ticket figures need: received, resolved within 24 h, the first response
    and resolution hours."""
    unsolved = Q(solved_at__isnull=True)
    return {
        "received": Count("pk"),
        "in_time": Count("pk", filter=Q(solved_at__isnull=False, solved_at__lte=F("created_at") + DAY)),
        "late": Count("pk", filter=Q(solved_at__isnull=False, solved_at__gt=F("created_at") + DAY)),
        "overdue": Count("pk", filter=unsolved & Q(created_at__lte=now - DAY)),
        "within_day": Count("pk", filter=unsolved & Q(created_at__gt=now - DAY)),
        **_hours_aggregates("first_responded_at"),
        **_hours_aggregates("solved_at"),
    }


def _received_counts(span: Span) -> dict[str, Any]:
    """_received_aggregates over the span's tickets, in one aggregate shared by the figures (shared_reads)."""
    return shared(
        ("support.received", *span.key()), lambda: _received(span).aggregate(**_received_aggregates(span.now))
    )


def _received_counts_many(spans: Sequence[Span]) -> list[dict[str, Any]]:
    """_received_counts for disjoint spans with the same filters and instant (a quarter's weeks), in one read
    grouped by span instead of one read a span."""
    return aggregate_by_span(_received, "created_at", spans, _received_aggregates(spans[0].now), "support.received")


def received(span: Span) -> Measure:
    n = _received_counts(span)["received"]
    return Measure(value=float(n), n=n)


def solved(span: Span) -> Measure:
    """Tickets solved in the period, whenever received; a reopened ticket is solved no more (its solved_at is
    cleared), so it counts again only when solved again."""
    tickets = Ticket.objects.filter(solved_at__gte=span.start, solved_at__lt=span.end, merged_into__isnull=True)
    n = _narrowed(tickets, span).count()
    return Measure(value=float(n), n=n)


def _share(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None


def resolved_within_24h(span: Span) -> Measure:
    """Resolved within a flat 24 h of receipt ÷ received and resolved, or past 24 h unresolved (missed)."""
    return _resolved_within_24h(_received_counts(span))


def resolved_within_24h_many(spans: Sequence[Span]) -> list[Measure]:
    return [_resolved_within_24h(row) for row in _received_counts_many(spans)]


def _resolved_within_24h(row: dict[str, Any]) -> Measure:
    missed = row["late"] + row["overdue"]
    n = row["in_time"] + missed
    return Measure(
        value=_share(row["in_time"], n),
        n=n,
        pending=row["within_day"],
        parts={"met": row["in_time"], "missed": missed},
    )


def resolved_within_priority_target(span: Span) -> Measure:
    """The resolution clocks (8 / 16 / 24 h by priority, paused while waiting on the user) of the tickets received:
    met ÷ met and missed; open clocks still inside their deadline are pending."""
    outcomes = clock_outcomes(metric=RESOLUTION, model=Ticket, ids=_received(span).values("pk"), now=span.now)
    return Measure(
        value=_share(outcomes.met, outcomes.decided),
        n=outcomes.decided,
        pending=outcomes.pending,
        parts={"met": outcomes.met, "missed": outcomes.missed},
    )


def _hours(field: str, span: Span) -> Measure:
    return _hours_measure(_received_counts(span), field)


def first_response_hours(span: Span) -> Measure:
    """Average time from receipt to the first public reply of an agent (automatic replies do not count)."""
    return _hours("first_responded_at", span)


def resolution_hours(span: Span) -> Measure:
    """Average time from receipt to resolution, wall clock."""
    return _hours("solved_at", span)


def _first_response_percentile(span: Span, fraction: float) -> Measure:
    """The nearest-rank percentile of the time from receipt to the first public reply of an agent (the median's
    and the 90th's in one read); tickets not yet answered pend."""
    # The answered and unanswered counts are the received figures' (one shared aggregate).
    row = _received_counts(span)
    n = row["first_responded_at_n"]
    took = ExpressionWrapper(F("first_responded_at") - F("created_at"), output_field=DurationField())
    ranks = shared(
        ("support.first_response_ranks", *span.key()),
        lambda: nearest_ranks(_received(span).filter(first_responded_at__isnull=False), took, MEDIAN_AND_P90, n),
    )
    value = ranks[MEDIAN_AND_P90.index(fraction)]
    return Measure(
        value=None if value is None else value / timedelta(hours=1), n=n, pending=row["first_responded_at_pending"]
    )


def first_response_median(span: Span) -> Measure:
    return _first_response_percentile(span, 0.5)


def first_response_p90(span: Span) -> Measure:
    return _first_response_percentile(span, 0.9)


def misroute_rate(span: Span) -> Measure:
    """Tickets an agent moved away from the department triage chose ÷ tickets whose department triage chose.
    `misrouted_at` is set with the transfer, so this reads the period's tickets once, with no look-up per ticket;
    the transfer turns the ticket's triage source into the agent's, hence the either-or."""
    moved = Q(misrouted_at__isnull=False)
    row = (
        _received(span)
        .filter(moved | Q(triage_source__in=MISROUTABLE))
        .aggregate(routed=Count("pk"), misrouted=Count("pk", filter=moved))
    )
    return Measure(
        value=_share(row["misrouted"], row["routed"]), n=row["routed"], parts={"misrouted": row["misrouted"]}
    )


def deflection_rate(span: Span) -> Measure:
    """Questions the help center answered with articles, whose asker read one and filed no ticket, ÷ questions
    answered with articles. A question is settled SUPPORT_DEFLECTION_HOURS after it was asked: until then it pends."""
    settled_before = span.now - timedelta(hours=settings.SUPPORT_DEFLECTION_HOURS)
    settled = Q(asked_at__lt=settled_before)
    row = (
        Guidance.objects.filter(asked_at__gte=span.start, asked_at__lt=span.end)
        .exclude(suggested=[])
        .aggregate(
            n=Count("pk", filter=settled),
            deflected=Count("pk", filter=settled & Q(read_at__isnull=False, ticket__isnull=True)),
            pending=Count("pk", filter=~settled),
        )
    )
    return Measure(
        value=_share(row["deflected"], row["n"]),
        n=row["n"],
        pending=row["pending"],
        parts={"deflected": row["deflected"]},
    )


def resolution_time_change(span: Span) -> Measure:
    """The quarter's average resolution time against the previous quarter's over the same elapsed span, in %."""
    now, then = resolution_hours(span), resolution_hours(quarter_before(span))
    value = None
    if now.value is not None and then.value:
        value = 100 * (now.value / then.value - 1)
    return Measure(
        value=value,
        n=now.n,
        pending=now.pending,
        parts={
            "average_hours": now.value or 0.0,
            "previous_average_hours": then.value or 0.0,
            "previous_n": then.n,
        },
    )


def _chats(span: Span) -> QuerySet[Ticket]:
    """The live chats opened in the period (a chat opens with the user's first message, when its ticket is made)."""
    return _received(span).filter(channel=Channel.CHAT)


def chat_first_response(span: Span) -> Measure:
    """The chats' own first-response clocks (the chat policy's minutes, from the user's first message to an
    agent's first public reply): met ÷ met and missed; open clocks still inside their minutes are pending."""
    outcomes = clock_outcomes(metric=CHAT_FIRST_RESPONSE, model=Ticket, ids=_chats(span).values("pk"), now=span.now)
    return Measure(
        value=_share(outcomes.met, outcomes.decided),
        n=outcomes.decided,
        pending=outcomes.pending,
        parts={"met": outcomes.met, "missed": outcomes.missed},
    )


def chat_first_response_minutes(span: Span) -> Measure:
    """Average minutes from a chat's opening to an agent's first public reply; chats not yet answered pend."""
    took = ExpressionWrapper(F("first_responded_at") - F("created_at"), output_field=DurationField())
    row = _chats(span).aggregate(
        n=Count("first_responded_at"),
        average=Avg(took),
        pending=Count("pk", filter=Q(first_responded_at__isnull=True)),
    )
    average = row["average"]
    return Measure(
        value=None if average is None else average / timedelta(minutes=1), n=row["n"], pending=row["pending"]
    )


def _surveys(span: Span) -> QuerySet[Survey]:
    surveys = Survey.objects.filter(sent_at__gte=span.start, sent_at__lt=span.end)
    if span.filters.get("channel"):
        surveys = surveys.filter(channel=span.filters["channel"])
    return surveys


def csat_average(span: Span) -> Measure:
    row = _surveys(span).aggregate(
        n=Count("rating"), average=Avg("rating"), pending=Count("pk", filter=Q(rating__isnull=True))
    )
    return Measure(value=row["average"], n=row["n"], pending=row["pending"])


def csat_satisfied(span: Span) -> Measure:
    row = _surveys(span).aggregate(n=Count("rating"), satisfied=Count("pk", filter=Q(rating__gte=4)))
    return Measure(value=_share(row["satisfied"], row["n"]), n=row["n"], parts={"satisfied": row["satisfied"]})


def platform_issue_rate(span: Span) -> Measure:
    """Users who reported a platform malfunction (a platform-issue ticket, whatever its channel) ÷ all users."""
    reporters = (
        Ticket.objects.filter(category=Category.PLATFORM_ISSUE, created_at__gte=span.start, created_at__lt=span.end)
        .values("requester")
        .distinct()
        .count()
    )
    users = User.objects.filter(is_staff=False, is_active=True, date_joined__lt=span.end).count()
    return Measure(value=_share(reporters, users), n=users, parts={"reporters": reporters})


def _account_tickets(span: Span) -> QuerySet[Ticket]:
    return account_tickets(start=span.start, end=span.end, region=span.filters.get("region") or None)


def account_ticket_count(span: Span) -> Measure:
    """Account-related tickets received, with the count of each type (the ticket's category) as parts."""
    by_type = dict(_account_tickets(span).values("category").annotate(n=Count("pk")).values_list("category", "n"))
    total = sum(by_type.values())
    return Measure(value=float(total), n=total, parts=by_type)


def _account_hours(field: str, span: Span) -> Measure:
    return _hours_measure(_account_tickets(span).aggregate(**_hours_aggregates(field)), field)


def account_csat(span: Span) -> Measure:
    """Ratings of the satisfaction surveys about account-related tickets, placed by the day the ticket came in
    (the survey follows its resolution), so the rating belongs with the ticket it rates."""
    surveys = Survey.objects.filter(
        target_type=ContentType.objects.get_for_model(Ticket), target_id__in=_account_tickets(span).values("pk")
    )
    row = surveys.aggregate(
        n=Count("rating"), average=Avg("rating"), pending=Count("pk", filter=Q(rating__isnull=True))
    )
    return Measure(value=row["average"], n=row["n"], pending=row["pending"])


def _account_spec(**fields: Any) -> FigureSpec:
    return FigureSpec(area=ACCOUNT_ISSUES, source=ACCOUNTS_DOC, placed_by=PLACED_BY, dimensions=("region",), **fields)


def _register_account_tickets() -> None:
    population = "account-related tickets received in the period (account category or accounts department)"
    for spec in (
        _account_spec(
            key="account_issues.tickets",
            label="Account-related tickets",
            unit=COUNT,
            definition="Support tickets about user accounts (registration problems, profile updates, sign-in and "
            "security concerns): the account category, or routed to the accounts department; by type in the table.",
            population=population,
            direction=DOWN,
            query=account_ticket_count,
            order=70,
        ),
        _account_spec(
            key="account_issues.ticket_first_response_hours",
            label="Account tickets: first response, average",
            unit=HOURS,
            definition="Average time from receipt of an account-related ticket to the first public reply of an "
            "agent, wall clock; held to the support target for every inquiry.",
            population=population + " and answered",
            direction=DOWN,
            query=lambda span: _account_hours("first_responded_at", span),
            target_key="support.first_response_hours",
            order=80,
        ),
        _account_spec(
            key="account_issues.ticket_resolution_hours",
            label="Account tickets: time to resolution, average",
            unit=HOURS,
            definition="Average time from receipt of an account-related ticket to its resolution, wall clock.",
            population=population + " and resolved",
            direction=DOWN,
            query=lambda span: _account_hours("solved_at", span),
            order=90,
        ),
        _account_spec(
            key="account_issues.ticket_csat",
            label="Account tickets: satisfaction, average rating out of 5",
            unit=SCORE,
            definition="The average rating (1–5) of the satisfaction surveys sent after account-related tickets "
            "were resolved (password recovery, profile updates and the like); held to the support target.",
            population=population + ", surveyed and rated",
            direction=UP,
            query=account_csat,
            target_key="support.csat_average",
            order=100,
        ),
    ):
        figure_register(spec)


def register() -> None:
    _register_account_tickets()
    for target in (
        TargetSpec(
            "sla.ticket.resolution", "Tickets resolved within their priority's target", PERCENT, UP, DOC, 0, 100
        ),
        TargetSpec("support.resolved_24h", "Inquiries resolved within 24 h, a month", PERCENT, UP, DOC, 0, 100),
        TargetSpec(
            "support.resolved_24h.weekly",
            "Inquiries resolved within 24 h, a week",
            PERCENT,
            UP,
            DOC,
            0,
            100,
            strict=True,
        ),
        TargetSpec("support.first_response_hours", "Average first response", HOURS, DOWN, DOC, 0, 72, strict=True),
        TargetSpec(
            "support.resolution_time_change",
            "Average resolution time against the previous quarter",
            PERCENT,
            DOWN,
            DOC,
            -100,
            100,
        ),
        TargetSpec(
            "support.platform_issue_rate", "Users reporting a platform issue", PERCENT, DOWN, DOC, 0, 100, strict=True
        ),
        TargetSpec("support.csat_average", "Average satisfaction rating", SCORE, UP, DOC, 1, 5),
        TargetSpec(
            "support.chat_first_response",
            "Live chats first answered within the chat policy's minutes",
            PERCENT,
            UP,
            f"{DOC} (live chat 8 AM – 10 PM; the time to answer is SayPro's own)",
            0,
            100,
        ),
    ):
        target_register(target)
    inquiries = "support tickets received in the period, every channel"
    for spec in (
        FigureSpec(
            key="support.created",
            label="Tickets created",
            unit=COUNT,
            definition="Inquiries received, through every channel (web form, e-mail, live chat, social media, "
            "in-app); a ticket merged into another is counted once, as the one it was merged into.",
            population=inquiries,
            placed_by=PLACED_BY,
            direction=UP,
            query=received,
            dimensions=("channel", "priority", "department"),
            order=2,
            area=AREA,
            source=DOC,
        ),
        FigureSpec(
            key="support.solved",
            label="Tickets solved",
            unit=COUNT,
            definition="Tickets solved in the period, whenever they were received; a ticket reopened after it "
            "was solved counts when it is solved again.",
            population="support tickets solved in the period",
            placed_by="the day the ticket was solved",
            direction=UP,
            query=solved,
            dimensions=("channel", "priority", "department"),
            order=4,
            area=AREA,
            source=DOC,
        ),
        FigureSpec(
            key="support.resolved_24h",
            label="Inquiries resolved within 24 h (all channels)",
            unit=PERCENT,
            definition="Inquiries resolved within 24 hours of receipt (wall clock, whatever the priority) ÷ "
            "inquiries resolved or past 24 hours unresolved. Weekly target above 90 %, monthly cumulative 95 %.",
            population=inquiries,
            placed_by=PLACED_BY,
            direction=UP,
            query=resolved_within_24h,
            query_many=resolved_within_24h_many,
            target_key="support.resolved_24h",
            kind_targets={periods.WEEK: "support.resolved_24h.weekly"},
            dimensions=("channel", "priority", "department"),
            order=10,
            area=AREA,
            source=DOC,
        ),
        FigureSpec(
            key="support.resolved_priority_target",
            label="Tickets resolved within their priority's target (8 / 16 / 24 h)",
            unit=PERCENT,
            definition="Tickets whose resolution clock (urgent 8 h, high 16 h, normal and low 24 h; paused while "
            "waiting on the user) stopped in time ÷ those stopped late or running past the deadline.",
            population=inquiries,
            placed_by=PLACED_BY,
            direction=UP,
            query=resolved_within_priority_target,
            target_key="sla.ticket.resolution",
            dimensions=("channel", "priority"),
            order=20,
            area=AREA,
            source=DOC,
        ),
        FigureSpec(
            key="support.first_response_hours",
            label="First response, average (all channels)",
            unit=HOURS,
            definition="Average time from receipt to the first public reply of an agent, wall clock.",
            population="support tickets received in the period and answered",
            placed_by=PLACED_BY,
            direction=DOWN,
            query=first_response_hours,
            target_key="support.first_response_hours",
            dimensions=("channel", "priority", "department"),
            order=30,
            area=AREA,
            source=DOC,
        ),
        FigureSpec(
            key="support.chat_first_response",
            label="Live chats first answered within the chat policy's minutes",
            unit=PERCENT,
            definition="Live chats whose first-response clock (the chat policy's minutes, 2 by default, from the "
            "user's first message to an agent's first public reply) stopped in time ÷ those stopped late or "
            "running past it. Chats that found live chat closed or nobody on shift became e-mail tickets and "
            "are not counted.",
            population="live chats opened in the period",
            placed_by="the day the chat opened",
            direction=UP,
            query=chat_first_response,
            target_key="support.chat_first_response",
            dimensions=("priority",),
            order=35,
            area=AREA,
            source=DOC,
        ),
        FigureSpec(
            key="support.chat_first_response_minutes",
            label="Live chat first answer, average minutes",
            unit=MINUTES,
            definition="Average time from a chat's opening (the user's first message) to an agent's first public "
            "reply, wall clock, in minutes.",
            population="live chats opened in the period and answered",
            placed_by="the day the chat opened",
            direction=DOWN,
            query=chat_first_response_minutes,
            dimensions=("priority",),
            order=36,
            area=AREA,
            source=DOC,
        ),
        FigureSpec(
            key="support.first_response_median",
            label="First response, median (all channels)",
            unit=HOURS,
            definition="The median time from receipt to the first public reply of an agent, wall clock: half the "
            "answered inquiries were answered sooner. Automatic replies do not count.",
            population="support tickets received in the period and answered",
            placed_by=PLACED_BY,
            direction=DOWN,
            query=first_response_median,
            dimensions=("channel", "priority", "department"),
            order=31,
            area=AREA,
            source=DOC,
        ),
        FigureSpec(
            key="support.first_response_p90",
            label="First response, 90th percentile (all channels)",
            unit=HOURS,
            definition="The time within which 90 % of the answered inquiries had the first public reply of an "
            "agent (nearest rank), wall clock: the slow tail the average hides.",
            population="support tickets received in the period and answered",
            placed_by=PLACED_BY,
            direction=DOWN,
            query=first_response_p90,
            dimensions=("channel", "priority", "department"),
            order=32,
            area=AREA,
            source=DOC,
        ),
        FigureSpec(
            key="support.resolution_hours",
            label="Resolution time, average",
            unit=HOURS,
            definition="Average time from receipt to resolution, wall clock.",
            population="support tickets received in the period and resolved",
            placed_by=PLACED_BY,
            direction=DOWN,
            query=resolution_hours,
            dimensions=("channel", "priority"),
            order=40,
            area=AREA,
            source=DOC,
        ),
        FigureSpec(
            key="support.resolution_time_change",
            label="Average resolution time against the previous quarter",
            unit=PERCENT,
            definition="The quarter's average resolution time ÷ the previous quarter's, less 1 (−25 % = a quarter "
            "faster); a quarter still running against the same span of the previous one.",
            population="support tickets received in the quarter and resolved",
            placed_by=PLACED_BY,
            direction=DOWN,
            query=resolution_time_change,
            target_key="support.resolution_time_change",
            kinds=(periods.QUARTER,),
            dimensions=("channel", "priority"),
            order=50,
            area=AREA,
            source=DOC,
        ),
        FigureSpec(
            key="support.csat_average",
            label="Satisfaction, average rating out of 5",
            unit=SCORE,
            definition="The average of the ratings (1–5) given to the satisfaction surveys sent after a resolution; "
            "each channel (live chat, e-mail, social media, in-app) is held to the same target.",
            population="surveys sent in the period and answered",
            placed_by="the day the survey was sent",
            direction=UP,
            query=csat_average,
            target_key="support.csat_average",
            dimensions=("channel",),
            order=60,
            area=AREA,
            source=DOC,
        ),
        FigureSpec(
            key="support.csat_satisfied",
            label="Satisfied (ratings of 4–5)",
            unit=PERCENT,
            definition="Ratings of 4 or 5 ÷ all ratings (1–5).",
            population="surveys sent in the period and answered",
            placed_by="the day the survey was sent",
            direction=UP,
            query=csat_satisfied,
            dimensions=("channel",),
            order=70,
            area=AREA,
            source=DOC,
        ),
        FigureSpec(
            key="support.platform_issue_rate",
            label="Users reporting a platform malfunction",
            unit=PERCENT,
            definition="Distinct users who reported a platform malfunction (a platform-issue ticket through any "
            "channel) ÷ all marketplace users who had an account by the period's end.",
            population="marketplace users (active accounts)",
            placed_by="the day the report was received",
            direction=DOWN,
            query=platform_issue_rate,
            target_key="support.platform_issue_rate",
            order=80,
            area=AREA,
            source=DOC,
        ),
        FigureSpec(
            key="support.deflection_rate",
            label="Questions answered by the help center without a ticket",
            unit=PERCENT,
            definition="Questions the help center answered with at least one suggested article (the FAQ guidance "
            "before a ticket) whose asker read a suggested article and filed no ticket ÷ questions answered with "
            f"an article. A question counts {settings.SUPPORT_DEFLECTION_HOURS} h after it was asked; until then "
            "it is pending.",
            population="questions asked in the period and answered with at least one article",
            placed_by="the day the question was asked",
            direction=UP,
            query=deflection_rate,
            order=90,
            area=AREA,
            source=DOC,
        ),
        FigureSpec(
            key="support.misroute_rate",
            label="Tickets triage sent to the wrong department",
            unit=PERCENT,
            definition="Tickets whose department a triage rule or the classifier chose and an agent then moved to "
            "another department ÷ tickets whose department a triage rule or the classifier chose; a ticket "
            "merged into another is counted once, as the one it was merged into.",
            population="support tickets received in the period and routed by triage",
            placed_by=PLACED_BY,
            direction=DOWN,
            query=misroute_rate,
            dimensions=("channel", "priority"),
            order=95,
            area=AREA,
            source=DOC,
        ),
    ):
        figure_register(spec)
