"""Reads for the agent workspace, the requester's API and the help center. Metrics live in support.metrics."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import (
    Avg,
    Case,
    Count,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from accounts.selectors import user_ids_matching, user_is_on_duty, with_shifts
from saypro.audit.models import AuditEntry
from saypro.audit.selectors import audit_for_object
from saypro.paginators import BoundedCount, bounded_counts
from saypro.search import SearchHit, matching_ids, queue_search, search_terms
from saypro.sla import calendars
from saypro.sla import selectors as sla_selectors
from saypro.sla.models import OPEN_STATES, Clock
from saypro.sla.promises import ItemSummary
from saypro.sla.selectors import at_risk_filter, open_breached_in_range, queue_at_risk_filter, queue_breached_filter

from .models import (
    FIRST_RESPONSE,
    OPEN_STATUSES,
    RESOLUTION,
    Article,
    Category,
    Channel,
    CommentTopic,
    Department,
    Macro,
    PointsEntry,
    Status,
    Ticket,
    TicketMessage,
    TopicAssignment,
)

QUEUE_VIEWS = {
    "mine": "Mine",
    "team": "My team",
    "unassigned": "Unassigned",
    "triage": "Triage",
    "at_risk": "At risk",
    "breached": "Breached",
    "all": "All open",
    "solved": "Solved",
    "closed": "Closed",
}
# Views of finished tickets: newest first, and not counted on every page load (they only grow).
DONE_VIEWS = {"solved": Status.SOLVED, "closed": Status.CLOSED}


# --- Macros ---------------------------------------------------------------------------------------------------


def department_slugs() -> list[str]:
    """Every department's slug, the inactive ones' too (figures of past periods may be narrowed to them)."""
    return list(Department.objects.order_by("slug").values_list("slug", flat=True))


def macros_usable(*, surface: str = "ticket", department: Department | None = None) -> QuerySet[Macro]:
    """The active macros an agent may use here: `surface` "ticket" (then those for every department plus the
    ticket's `department`) or "conversation" (those marked for conversations, of any or the given department)."""
    if surface not in ("ticket", "conversation"):
        raise ValueError(f"Unknown macro surface {surface!r}: use 'ticket' or 'conversation'.")
    macros = Macro.objects.filter(is_active=True)
    macros = macros.filter(for_tickets=True) if surface == "ticket" else macros.filter(for_conversations=True)
    scope = Q(department__isnull=True)
    if department is not None:
        scope |= Q(department=department)
    return macros.filter(scope).select_related("department").order_by("name")


# --- The agent's queues ------------------------------------------------------------------------------------------


def _with_clocks(queryset: QuerySet[Ticket], now: datetime) -> QuerySet[Ticket]:
    """Annotate each ticket with its open resolution clock (due_at, …) and first-response clock (first_response_due_at,
    …): two joins, no query per row. At risk and breached follow the resolution clock, the metric of the promise, so a
    queue filtered with ?at_risk=on or ?breached=on lists exactly the tickets behind the dashboard's counts."""
    resolution = sla_selectors.with_open_clock(queryset, RESOLUTION, now, breached_first=True)
    return sla_selectors.with_open_clock(resolution, FIRST_RESPONSE, now, prefix="first_response_")


def _view_filter(view: str, user: User) -> Q:
    if view == "mine":
        return Q(assignee=user)
    if view == "team":
        return Q(department__members=user)
    if view == "unassigned":
        return Q(assignee__isnull=True, needs_triage=False)
    if view == "triage":
        return Q(needs_triage=True)
    return Q()


def ticket_queue(
    *,
    user: User,
    view: str = "all",
    at_risk: bool = False,
    breached: bool = False,
    q: str = "",
    department: Department | None = None,
    priority: str = "",
    channel: str = "",
    status: str = "",
    now: datetime | None = None,
) -> QuerySet[Ticket]:
    """Open tickets of one view (QUEUE_VIEWS), breached first, then the soonest resolution deadline; the solved
    and closed views list those tickets, the most recently finished first."""
    now = now or timezone.now()
    done = DONE_VIEWS.get(view)
    if done is not None:
        tickets = Ticket.objects.filter(status=done)
    elif status:
        tickets = Ticket.objects.filter(status=status)
    else:
        tickets = Ticket.objects.filter(status__in=OPEN_STATUSES)
    tickets = tickets.filter(_view_filter(view, user))
    if department is not None:
        tickets = tickets.filter(department=department)
    if priority:
        tickets = tickets.filter(priority=priority)
    if channel:
        tickets = tickets.filter(channel=channel)
    if q:
        tickets = tickets.filter(
            queue_search(Ticket, q, columns=("subject",), people=("requester", user_ids_matching), by_number=True)
        )
    tickets = _with_clocks(tickets, now)
    listing_open = done is None and (not status or status in OPEN_STATUSES)
    if listing_open:
        # Every open ticket has an open resolution clock (started with the ticket, started again when it is
        # reopened): an inner join lets the database read the queue in its order from the clock index, LIMIT
        # rows at a time, instead of joining and sorting every open ticket.
        tickets = tickets.filter(due_at__isnull=False)  # type: ignore[misc]  # an annotation
    # On the clock's own columns rather than the is_at_risk / is_breached flags, so the clock index serves them.
    if at_risk or view == "at_risk":
        tickets = tickets.filter(queue_at_risk_filter(now))
    if breached or view == "breached":
        tickets = tickets.filter(queue_breached_filter(now))
    tickets = tickets.select_related("requester", "assignee", "department")
    if done is not None:
        finished = "solved_at" if done == Status.SOLVED else "closed_at"
        return tickets.order_by(F(finished).desc(nulls_last=True), "-pk")
    # Breached first (the breaches the sweep recorded: it runs every minute, and until it comes a ticket just past
    # its deadline leads the rest), then the soonest deadline.
    return tickets.order_by("breach_unrecorded", "due_at", "created_at", "pk")  # type: ignore[misc]  # annotations


def queue_view_counts(*, user: User, now: datetime | None = None) -> dict[str, BoundedCount]:
    """How many open tickets each view holds (the solved and closed views are not counted: they hold every ticket
    ever finished), in one query. Each count reads at most QUEUE_COUNT_CAP index entries and says "1,000+" past
    it, so the tabs cost the same whatever the backlog. At risk and breached count the open resolution clocks,
    the promise the queue's flags follow (every open ticket has one)."""
    now = now or timezone.now()
    tickets = Ticket.objects.filter(status__in=OPEN_STATUSES)
    clocks = Clock.objects.filter(metric=RESOLUTION, state__in=OPEN_STATES)
    return bounded_counts(
        {
            **{view: tickets.filter(_view_filter(view, user)) for view in ("mine", "team", "unassigned", "triage")},
            "at_risk": clocks.filter(at_risk_filter(now)),
            "breached": clocks.filter(open_breached_in_range(now)),
            "all": tickets,
        }
    )


def ticket_detail(*, pk: int, now: datetime | None = None) -> Ticket:
    try:
        return (
            _with_clocks(Ticket.objects.filter(pk=pk), now or timezone.now())
            .select_related("requester", "assignee", "department", "known_issue", "merged_into", "triage_rule")
            .get()
        )
    except Ticket.DoesNotExist:
        raise Http404("No such ticket.") from None


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str  # "requester", "reply", "note" or "event"
    who: str
    text: str
    message: TicketMessage | None = None
    entry: AuditEntry | None = None


def ticket_timeline(*, ticket: Ticket) -> list[TimelineItem]:
    """The request, every message and every recorded change, oldest first."""
    items = [
        TimelineItem(at=ticket.created_at, kind="requester", who=ticket.requester.get_full_name(), text=ticket.body)
    ]
    for message in ticket.messages.select_related("author", "macro").prefetch_related("attachments"):
        items.append(
            TimelineItem(
                at=message.created_at,
                kind=message.kind,
                who=message.author.get_full_name() if message.author else "system",
                text=message.body,
                message=message,
            )
        )
    for entry in audit_for_object(ticket).exclude(action__in=["ticket.reply", "ticket.note", "ticket.requester_reply"]):
        detail = entry.reason or _event_detail(entry.data)
        items.append(
            TimelineItem(
                at=entry.at,
                kind="event",
                who=entry.actor.get_full_name() if entry.actor else "system",
                text=entry.action_label + (f": {detail}" if detail else ""),
                entry=entry,
            )
        )
    return sorted(items, key=lambda item: (item.at, item.kind != "requester"))


def _event_detail(data: dict[str, Any]) -> str:
    if "from" in data and "to" in data and isinstance(data["to"], str):
        return f"{data['from'] or '—'} → {data['to']}"
    return ""


def ticket_for_requester(*, user: User, pk: int) -> Ticket:
    """A requester's own ticket; anyone else's is a 404, so ids cannot be probed."""
    ticket = Ticket.objects.select_related("department").filter(pk=pk, requester=user).first()
    if ticket is None:
        raise Http404("No such ticket.")
    return ticket


# The source of a chat that found live chat closed or no agent on shift and became an e-mail ticket
# ("chat:closed", "chat:no_agent"): its socket and event stream still tell the user what happened.
CHAT_CONVERTED_PREFIX = "chat:"


def chat_for_requester(*, user: User, pk: int) -> Ticket | None:
    """The requester's own chat (or chat turned into a ticket); None for anyone else's, another channel's ticket
    or no such id alike, so ids cannot be probed."""
    return (
        Ticket.objects.filter(pk=pk, requester=user)
        .filter(Q(channel=Channel.CHAT) | Q(source__startswith=CHAT_CONVERTED_PREFIX))
        .first()
    )


def chat_messages_after(*, ticket: Ticket, after: int) -> list[TicketMessage]:
    """The chat's messages the user sees, after the one with id `after` (an event stream resuming)."""
    return list(
        ticket.messages.filter(pk__gt=after)
        .exclude(kind=TicketMessage.Kind.NOTE)
        .select_related("author")
        .order_by("pk")
    )


def chat_cover_from(*, at: datetime) -> datetime | None:
    """The first instant from `at` at which someone whose role answers tickets is on shift (`at` itself when
    someone is now), by accounts' rule: the shift calendar and availability, no shift set meaning always on
    duty; None when nobody is expected (everyone off for leave). Superusers without a role are not chat cover."""
    answerers = with_shifts(
        User.objects.filter(
            is_active=True,
            is_staff=True,
            # support.services.ANSWER_PERMISSION, through a role.
            groups__permissions__content_type__app_label="support",
            groups__permissions__codename="reply_ticket",
        ).distinct()
    )
    starts = []
    for user in answerers:
        if user_is_on_duty(user=user, at=at):
            return at
        profile = getattr(user, "agent_profile", None)
        if profile is None or not profile.is_available or profile.working_hours is None:
            continue
        try:
            # No working time left to wait for: the instant the next shift starts.
            starts.append(calendars.add(calendars.spec_for(profile.working_hours), at, 0))
        except calendars.CalendarError:
            continue  # a shift calendar without a single working hour
    return min(starts, default=None)


def tickets_of_requester(*, user: User) -> QuerySet[Ticket]:
    return Ticket.objects.filter(requester=user).select_related("department")


def public_messages(*, ticket: Ticket) -> QuerySet[TicketMessage]:
    """What the requester sees: their own messages and public replies, never internal notes."""
    return (
        ticket.messages.exclude(kind=TicketMessage.Kind.NOTE).select_related("author").prefetch_related("attachments")
    )


def open_load(user_ids: Any) -> dict[int, int]:
    """Open tickets per assignee: support's share of an agent's load (accounts.routing)."""
    rows = (
        Ticket.objects.filter(assignee_id__in=list(user_ids), status__in=OPEN_STATUSES)
        .values("assignee_id")
        .annotate(n=Count("pk"))
    )
    return {row["assignee_id"]: row["n"] for row in rows}


# --- Help center ---------------------------------------------------------------------------------------------

SEARCH_WORD = re.compile(r"\w{2,}")


def _terms(text: str) -> list[str]:
    return SEARCH_WORD.findall(text.lower())[:12]


def article_search(*, q: str, limit: int = 20) -> list[Article]:
    """Published articles matching `q`, best first: PostgreSQL full-text search (stemmed, ranked, title weighted
    above body) on PostgreSQL; elsewhere every word must appear, and title hits rank above body hits."""
    terms = _terms(q)
    if not terms:
        return []
    published = Article.objects.filter(is_published=True).select_related("category")
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        vector = SearchVector("title", weight="A", config="english") + SearchVector(
            "body", weight="B", config="english"
        )
        query = SearchQuery(" ".join(terms), search_type="plain", config="english")
        return list(
            published.annotate(rank=SearchRank(vector, query)).filter(rank__gt=0).order_by("-rank", "title")[:limit]
        )
    matches = published
    for term in terms:
        matches = matches.filter(Q(title__icontains=term) | Q(body__icontains=term))
    score = sum(
        (
            Case(When(title__icontains=term, then=Value(1)), default=Value(0), output_field=IntegerField())
            for term in terms
        ),
        Value(0, output_field=IntegerField()),
    )
    return list(matches.annotate(score=score).order_by("-score", "title")[:limit])


def article_matches(question: str, *, limit: int = 3) -> list[tuple[Article, float]]:
    """The published articles closest to a question, each with a confidence between 0 and 1: the cosine
    similarity of TF-IDF vectors over the articles' titles (counted twice) and bodies."""
    articles = list(Article.objects.filter(is_published=True).select_related("category"))
    if not articles or not _terms(question):
        return []
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, strip_accents="unicode", stop_words="english")
    documents = vectorizer.fit_transform([f"{a.title} {a.title} {a.body}" for a in articles])
    scores = cosine_similarity(vectorizer.transform([question]), documents)[0]
    ranked = sorted(zip(articles, scores, strict=True), key=lambda pair: (-pair[1], pair[0].title))
    return [(article, float(score)) for article, score in ranked[:limit] if score > 0]


def points_balance(*, user: User) -> int:
    return int(PointsEntry.objects.filter(user=user).aggregate(total=Sum("points"))["total"] or 0)


def ticket_search(*, q: str, limit: int = 10) -> list[SearchHit]:
    """Tickets in every status whose number is `q`, or whose subject, text, requester's e-mail or name contains
    it: the exact number first, then the newest. One query, at most `limit` rows."""
    terms = search_terms(q)
    branches = []
    if terms.pk is not None:
        branches.append(Ticket.objects.filter(pk=terms.pk).values("pk"))
    if terms.searches_text:
        text = terms.text
        branches.append(Ticket.objects.filter(Q(subject__icontains=text) | Q(body__icontains=text)).values("pk"))
        branches.append(Ticket.objects.filter(requester__in=user_ids_matching(text=text)).values("pk"))
    ids = matching_ids(*branches)
    if ids is None:
        return []
    rows = (
        Ticket.objects.filter(pk__in=ids)
        .annotate(exact=Case(When(pk=terms.pk or 0, then=Value(0)), default=Value(1)))
        .order_by("exact", "-created_at", "-pk")
        .values_list("pk", "subject", "status", "created_at", "requester__full_name", "requester__email")[:limit]
    )
    return [
        SearchHit(
            pk=pk,
            title=subject,
            who=f"{name} · {email}" if name else email,
            status=Status(status).label,
            status_code=status,
            at=created_at,
        )
        for pk, subject, status, created_at, name, email in rows
    ]


def ticket_summaries(*, ids: Sequence[int]) -> dict[int, ItemSummary]:
    """Number and subject with the status, for the dashboard's item lists."""
    rows = Ticket.objects.filter(pk__in=ids).values_list("pk", "subject", "status")
    return {pk: ItemSummary(label=f"#{pk} {subject}", status=Status(status).label) for pk, subject, status in rows}


# --- Follow-ups the reconciliation sweep replays (saypro.outbox.followups) ------------------------------------


def tickets_triage_overdue(*, before: datetime, since: datetime) -> QuerySet[Ticket, int]:
    """Open tickets created in the window that triage never reached: no department, not left in the triage view."""
    return (
        Ticket.objects.filter(
            created_at__gte=since,
            created_at__lt=before,
            department__isnull=True,
            needs_triage=False,
            status__in=OPEN_STATUSES,
        )
        .order_by("created_at")
        .values_list("pk", flat=True)
    )


def tickets_unacknowledged(*, before: datetime, since: datetime) -> QuerySet[Ticket, int]:
    """Tickets created in the window whose acknowledgement e-mail was never recorded."""
    from saypro.outbox.followups import mail_recorded

    return (
        Ticket.objects.filter(created_at__gte=since, created_at__lt=before)
        .exclude(requester__email="")
        .filter(~mail_recorded("ticket-ack:"))
        .order_by("created_at")
        .values_list("pk", flat=True)
    )


# --- Comment topics ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicCounts:
    topic_id: int
    label: str
    terms: list[str]
    is_active: bool
    current: int
    previous: int
    # Comments per span of `weeks`, oldest first.
    weekly: list[int]


def topic_counts(
    *,
    current: tuple[datetime, datetime],
    previous: tuple[datetime, datetime],
    weeks: Sequence[tuple[datetime, datetime]] = (),
) -> list[TopicCounts]:
    """Every active topic (and a retired one still holding comments in the period or the one before) with its
    comments in each span: one aggregate, most comments first."""

    def within(span: tuple[datetime, datetime]) -> Count:
        start, end = span
        return Count("assignments", filter=Q(assignments__commented_at__gte=start, assignments__commented_at__lt=end))

    weekly = {f"week_{i}": within(span) for i, span in enumerate(weeks)}
    rows = (
        CommentTopic.objects.annotate(current=within(current), previous=within(previous))
        .annotate(**weekly)
        .filter(Q(current__gt=0) | Q(previous__gt=0) | Q(is_active=True))
        .order_by("-current", "-previous", "label", "pk")
        .values("pk", "label", "terms", "is_active", "current", "previous", *weekly)
    )
    return [
        TopicCounts(
            topic_id=row["pk"],
            label=row["label"],
            terms=list(row["terms"]),
            is_active=row["is_active"],
            current=row["current"],
            previous=row["previous"],
            weekly=[row[f"week_{i}"] for i in range(len(weeks))],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class TopicComment:
    topic_id: int
    text: str
    source: str
    given_at: datetime
    # The rating (1–5) or score that came with it.
    score: int | None


def topic_examples(
    *, topic_ids: Sequence[int], start: datetime, end: datetime, per_topic: int = 3
) -> list[TopicComment]:
    """The comments closest to each topic's centre, given in [start, end): personal data, for staff who may read
    them (support.read_topic_comments). One query, numbered per topic in the database."""
    ranked = (
        TopicAssignment.objects.filter(topic_id__in=topic_ids, commented_at__gte=start, commented_at__lt=end)
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("topic_id")], order_by=[F("closeness").desc(), F("commented_at").desc()]
            )
        )
        .filter(rank__lte=per_topic)
        .select_related("survey", "feedback")
        .order_by("topic_id", "rank")
    )
    out = []
    for row in ranked:
        if row.survey is not None:
            text, source, score = row.survey.comment, f"{row.survey.get_channel_display()} survey", row.survey.rating
        elif row.feedback is not None:
            text, source, score = row.feedback.comment, row.feedback.get_topic_display(), row.feedback.score
        else:
            continue
        if text:
            out.append(TopicComment(row.topic_id, text, source, row.commented_at, score))
    return out


@dataclass(frozen=True)
class TopicEffect:
    comments: int
    per_week: float
    # Average rating (1–5) of the topic's survey comments, and how many there were.
    satisfaction: float | None
    rated: int


def topic_effect(*, topic_id: int, start: datetime, end: datetime) -> TopicEffect:
    """A topic's comments in [start, end) and the satisfaction of its surveys: one half of a before/after."""
    row = TopicAssignment.objects.filter(topic_id=topic_id, commented_at__gte=start, commented_at__lt=end).aggregate(
        comments=Count("pk"), rated=Count("survey__rating"), satisfaction=Avg("survey__rating")
    )
    weeks = max((end - start).total_seconds() / (7 * 86400), 1 / 7)
    return TopicEffect(
        comments=row["comments"],
        per_week=row["comments"] / weeks,
        satisfaction=row["satisfaction"],
        rated=row["rated"],
    )


# The department whose tickets are account issues (triage's label for it).
ACCOUNT_DEPARTMENT = "accounts"


def account_tickets(*, start: datetime, end: datetime, region: str | None = None) -> QuerySet[Ticket]:
    """Tickets about user accounts received in [start, end): the account category, or routed to the accounts
    department (a sign-in problem filed as a question); a ticket merged into another counts as that one."""
    tickets = Ticket.objects.filter(created_at__gte=start, created_at__lt=end, merged_into__isnull=True).filter(
        Q(category=Category.ACCOUNT) | Q(department__slug=ACCOUNT_DEPARTMENT)
    )
    return tickets.filter(requester__region__iexact=region) if region else tickets
