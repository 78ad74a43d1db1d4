"""Reads for the agent inbox, the thread page and the API: conversations with their clocks, in one query."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Avg,
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    FilteredRelation,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import TruncMonth, TruncQuarter, TruncWeek
from django.utils import timezone

from accounts.models import User
from accounts.selectors import user_ids_matching
from saypro import periods
from saypro.figures.registry import figure_read
from saypro.figures.targets import TargetBook, target_for
from saypro.localtime import local_midnight
from saypro.paginators import BoundedCount, bounded_count, bounded_counts
from saypro.search import SearchHit, matching_ids, queue_search, search_terms
from saypro.sla import selectors as sla_selectors
from saypro.sla.models import Clock, ClockState
from saypro.sla.promises import ItemSummary

from .models import (
    PUBLIC_KINDS,
    UNRESOLVED_STATUSES,
    Attachment,
    Category,
    Conversation,
    Initiator,
    Message,
    MessageKind,
    ResolutionPolicy,
    Status,
)

FIRST_RESPONSE = "message.first_response"
RESOLUTION = "message.resolution"


class View:
    """The inbox's views. `ALL` is every unresolved conversation."""

    ALL = "all"
    MINE = "mine"
    UNASSIGNED = "unassigned"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    RESOLVED = "resolved"
    CHOICES = (
        (ALL, "All open"),
        (MINE, "Mine"),
        (UNASSIGNED, "Unassigned"),
        (AT_RISK, "At risk"),
        (BREACHED, "Breached"),
        (RESOLVED, "Resolved"),
    )


def _clock_fields(prefix: str, now: datetime) -> dict[str, Any]:
    """Annotations for the open clock joined as `prefix`: its deadline, state, and whether it is at risk or late."""
    relation = f"{prefix}_clock"
    return {
        f"{prefix}_due": F(f"{relation}__due_at"),
        f"{prefix}_risk": F(f"{relation}__risk_at"),
        f"{prefix}_state": F(f"{relation}__state"),
        f"{prefix}_remaining": F(f"{relation}__remaining_seconds"),
        f"{prefix}_breached": Case(
            When(**{f"{relation}__breached_at__isnull": False}, then=Value(True)),
            When(**{f"{relation}__state": ClockState.RUNNING, f"{relation}__due_at__lte": now}, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        f"{prefix}_at_risk": Case(
            When(
                **{
                    f"{relation}__state": ClockState.RUNNING,
                    f"{relation}__breached_at__isnull": True,
                    f"{relation}__risk_at__lte": now,
                    f"{relation}__due_at__gt": now,
                },
                then=Value(True),
            ),
            default=Value(False),
            output_field=BooleanField(),
        ),
    }


def with_clocks(queryset: QuerySet[Conversation], now: datetime) -> QuerySet[Conversation]:
    """Each conversation with its open first-response (`fr_*`) and resolution (`res_*`) clock, joined once each."""
    open_clock = ~Q(clocks__state=ClockState.STOPPED)
    return (
        queryset.annotate(
            fr_clock=FilteredRelation("clocks", condition=Q(clocks__metric=FIRST_RESPONSE) & open_clock),
            res_clock=FilteredRelation("clocks", condition=Q(clocks__metric=RESOLUTION) & open_clock),
        )
        .annotate(**_clock_fields("fr", now), **_clock_fields("res", now))
        .annotate(
            is_breached=Case(
                When(Q(fr_breached=True) | Q(res_breached=True), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
            is_at_risk=Case(
                When(Q(fr_breached=True) | Q(res_breached=True), then=Value(False)),
                When(Q(fr_at_risk=True) | Q(res_at_risk=True), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
        )
    )


def _unread() -> Exists:
    """A user message the team has not seen yet."""
    return Exists(
        Message.objects.filter(conversation=OuterRef("pk"), kind=MessageKind.USER, hidden_at__isnull=True).filter(
            Q(created_at__gt=OuterRef("staff_read_at")) | Q(conversation__staff_read_at__isnull=True)
        )
    )


def inbox(
    *,
    user: User,
    view: str = View.ALL,
    category: str | None = None,
    status: str | None = None,
    region: str | None = None,
    ad_category: str | None = None,
    q: str | None = None,
    at_risk: bool = False,
    breached: bool = False,
    now: datetime | None = None,
) -> QuerySet[Conversation]:
    """The agent inbox: soonest deadline first, then the longest-waiting.

    `category="none"` lists the conversations nobody has categorised yet (the classifier was unsure)."""
    now = now or timezone.now()
    if view == View.RESOLVED or status == Status.RESOLVED:
        queryset = Conversation.objects.filter(status=Status.RESOLVED)
    else:
        queryset = Conversation.objects.filter(status__in=[status] if status else UNRESOLVED_STATUSES)
    if view == View.MINE:
        queryset = queryset.filter(assigned_to=user)
    elif view == View.UNASSIGNED:
        queryset = queryset.filter(assigned_to__isnull=True)
    if category == "none":
        queryset = queryset.filter(category="")
    elif category:
        queryset = queryset.filter(category=category)
    if region:
        queryset = queryset.filter(region__iexact=region)
    if ad_category:
        queryset = queryset.filter(ad_category__iexact=ad_category)
    if q:
        queryset = queryset.filter(
            queue_search(Conversation, q, columns=("subject",), people=("user", user_ids_matching))
        )
    queryset = with_clocks(queryset, now)
    if at_risk or view == View.AT_RISK:
        # At risk means not yet due: the index is read from now on, past the breached ones ahead in its order.
        queryset = queryset.filter(is_at_risk=True, next_due_at__gt=now)  # type: ignore[misc]  # an annotation
    if breached or view == View.BREACHED:
        queryset = queryset.filter(is_breached=True)  # type: ignore[misc]  # an annotation
    ordering = (
        ["-resolved_at", "-pk"]
        if view == View.RESOLVED or status == Status.RESOLVED
        # The next deadline counting down (breached ones first: theirs have passed), read in this order from the
        # partial index conversation_open_queue a page at a time.
        else [F("next_due_at").asc(nulls_last=True), "last_message_at", "pk"]
    )
    return queryset.select_related("user", "assigned_to").order_by(*ordering)


def with_previews(queryset: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """What the inbox page shows on each row besides the queue's own columns: whether the user wrote since the team
    last read it (`unread`), and the last public message (`last_body`, `last_kind`). Three subqueries a row, so the
    API's list, which shows none of them, leaves them out."""
    last = (
        Message.objects.filter(conversation=OuterRef("pk"), kind__in=PUBLIC_KINDS)
        .exclude(kind=MessageKind.AUTO)
        .order_by("-created_at", "-pk")
    )
    return queryset.annotate(
        unread=_unread(), last_body=Subquery(last.values("body")[:1]), last_kind=Subquery(last.values("kind")[:1])
    )


def view_counts(*, now: datetime | None = None) -> dict[str, BoundedCount]:
    """How many conversations each inbox view but "Mine" holds, each counted up to QUEUE_COUNT_CAP ("1,000+"), in
    one query. The same for every member of staff, and the at-risk and breached counts test both clocks of every
    conversation they read (no index yields them), so the page shows them shared, "as of" (messaging.tiles)."""
    now = now or timezone.now()
    unresolved = Conversation.objects.filter(status__in=UNRESOLVED_STATUSES)
    clocked = with_clocks(unresolved, now)
    return bounded_counts(
        {
            "all": unresolved,
            "unassigned": unresolved.filter(assigned_to__isnull=True),
            # At risk means not yet due (see inbox): only the conversations whose next deadline is ahead are read.
            "at_risk": clocked.filter(next_due_at__gt=now, is_at_risk=True),  # type: ignore[misc]  # an annotation
            "breached": clocked.filter(is_breached=True),  # type: ignore[misc]  # an annotation
            "uncategorised": unresolved.filter(category=""),
        }
    )


def mine_count(*, user: User) -> BoundedCount:
    """The "Mine" view's count, read on every request (it is per person): the person's own unresolved
    conversations, up to QUEUE_COUNT_CAP."""
    return bounded_count(Conversation.objects.filter(status__in=UNRESOLVED_STATUSES, assigned_to=user))


def conversation_get(*, pk: int, now: datetime | None = None) -> Conversation:
    """One conversation with its open clocks (raises Conversation.DoesNotExist)."""
    return (
        with_clocks(Conversation.objects.filter(pk=pk), now or timezone.now())
        .select_related("user", "assigned_to", "resolved_by", "started_by")
        .get()
    )


def conversation_for_user(*, user: User, pk: int) -> Conversation:
    """The user's own conversation; another user's is as missing as one that does not exist."""
    return Conversation.objects.select_related("user").get(pk=pk, user=user)


def thread(*, conversation: Conversation, staff: bool) -> list[Message]:
    """The messages of a conversation, oldest first, with their attachments; the user sees the public ones only."""
    messages = Message.objects.filter(conversation=conversation)
    if not staff:
        messages = messages.filter(kind__in=PUBLIC_KINDS)
    return list(
        messages.select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("pk")))
        .order_by("created_at", "pk")
    )


def conversation_clocks(*, conversation: Conversation) -> dict[str, Clock | None]:
    """The newest first-response and resolution clock of a conversation, open or stopped."""
    clocks = (
        Clock.objects.filter(
            target_type=ContentType.objects.get_for_model(Conversation),
            target_id=conversation.pk,
            metric__in=[FIRST_RESPONSE, RESOLUTION],
        )
        .select_related("policy")
        .order_by("started_at", "pk")
    )
    newest: dict[str, Clock | None] = {FIRST_RESPONSE: None, RESOLUTION: None}
    for clock in clocks:
        newest[clock.metric] = clock
    return newest


def user_conversations(*, user: User, exclude: int | None = None, limit: int = 20) -> list[Conversation]:
    rows = Conversation.objects.filter(user=user).order_by("-last_message_at", "-pk")
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    return list(rows[:limit])


def own_conversations(*, user: User) -> QuerySet[Conversation]:
    """A marketplace user's conversations, newest activity first, with whether the team wrote since they read."""
    unread = Exists(
        Message.objects.filter(conversation=OuterRef("pk"), kind__in=[MessageKind.REPLY]).filter(
            Q(created_at__gt=OuterRef("user_read_at")) | Q(conversation__user_read_at__isnull=True)
        )
    )
    return Conversation.objects.filter(user=user).annotate(unread=unread).order_by("-last_message_at", "-pk")


def open_conversations_per_agent(user_ids: Sequence[int]) -> Mapping[int, int]:
    """The load counter for routing: unresolved conversations assigned to each agent."""
    rows = (
        Conversation.objects.filter(assigned_to_id__in=list(user_ids), status__in=UNRESOLVED_STATUSES)
        .values("assigned_to_id")
        .annotate(n=Count("pk"))
    )
    return {row["assigned_to_id"]: row["n"] for row in rows}


# --- Volume tracking ------------------------------------------------------------------------------
#
# The figures managers report against, each one query (or two) aggregated in the database. Every selector takes
# the same optional filters: `category` (a Category value), `ad_category` (the ad's marketplace category) and
# `region` (the user's region when the conversation started). Periods are local (TIME_ZONE) calendar weeks
# (from Monday), months and quarters; a conversation counts in the period it started in.

MIX_GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "general": ("General inquiries", (Category.GENERAL,)),
    "support": ("Support requests", (Category.SUPPORT,)),
    "complaint_policy": ("Complaints and policy violation reports", (Category.COMPLAINT, Category.POLICY)),
    "renewal": ("Renewal and approval requests", (Category.RENEWAL,)),
    "misc": ("Miscellaneous (feedback, suggestions)", (Category.MISC,)),
}
# The messages the volume counts: those users write and those the team writes to them (document 004's
# user- and admin-initiated messages); internal notes, automatic acknowledgements and activity are not messages.
VOLUME_KINDS = (MessageKind.USER, MessageKind.REPLY)
PERIOD_TRUNCATE = {"week": TruncWeek, "month": TruncMonth, "quarter": TruncQuarter}


def conversations_filtered(
    *, category: str | None = None, ad_category: str | None = None, region: str | None = None
) -> QuerySet[Conversation]:
    queryset = Conversation.objects.all()
    if category:
        queryset = queryset.filter(category=category)
    if ad_category:
        queryset = queryset.filter(ad_category__iexact=ad_category)
    if region:
        queryset = queryset.filter(region__iexact=region)
    return queryset


def _local_day(value: datetime | date) -> date:
    return timezone.localtime(value).date() if isinstance(value, datetime) else value


@dataclass(frozen=True)
class VolumeRow:
    period_start: date
    inbound: int  # conversations users started
    outbound: int  # conversations the admin team started
    user_messages: int  # messages users wrote (in any conversation)
    team_replies: int  # public replies the team wrote

    @property
    def conversations(self) -> int:
        return self.inbound + self.outbound


def message_volume(
    *,
    start: datetime,
    end: datetime,
    period: str = "week",
    category: str | None = None,
    ad_category: str | None = None,
    region: str | None = None,
) -> list[VolumeRow]:
    """Messages in (user-initiated conversations) and out (admin-initiated) per week, month or quarter in
    [start, end), with the user messages and team replies written in each period; periods without any
    activity are left out."""
    if period not in PERIOD_TRUNCATE:
        raise ValueError(f"Unknown period {period!r}: use week, month or quarter.")
    truncate = PERIOD_TRUNCATE[period]
    tz = timezone.get_current_timezone()
    conversations = conversations_filtered(category=category, ad_category=ad_category, region=region)
    started = (
        conversations.filter(created_at__gte=start, created_at__lt=end)
        .annotate(bucket=truncate("created_at", tzinfo=tz))
        .values("bucket")
        .annotate(
            inbound=Count("pk", filter=Q(initiated_by=Initiator.USER)),
            outbound=Count("pk", filter=Q(initiated_by=Initiator.STAFF)),
        )
    )
    written = (
        Message.objects.filter(
            created_at__gte=start,
            created_at__lt=end,
            kind__in=[MessageKind.USER, MessageKind.REPLY],
            conversation__in=conversations,
        )
        .annotate(bucket=truncate("created_at", tzinfo=tz))
        .values("bucket")
        .annotate(
            user_messages=Count("pk", filter=Q(kind=MessageKind.USER)),
            team_replies=Count("pk", filter=Q(kind=MessageKind.REPLY)),
        )
    )
    rows: dict[date, dict[str, int]] = {}
    for row in started:
        rows.setdefault(_local_day(row["bucket"]), {}).update(inbound=row["inbound"], outbound=row["outbound"])
    for counted in written:
        rows.setdefault(_local_day(counted["bucket"]), {}).update(
            user_messages=counted["user_messages"], team_replies=counted["team_replies"]
        )
    return [
        VolumeRow(
            period_start=day,
            inbound=values.get("inbound", 0),
            outbound=values.get("outbound", 0),
            user_messages=values.get("user_messages", 0),
            team_replies=values.get("team_replies", 0),
        )
        for day, values in sorted(rows.items())
    ]


@dataclass(frozen=True)
class CategoryShare:
    key: str
    label: str
    count: int
    share: float | None  # of the categorised inbound conversations
    target_share: float | None

    @property
    def difference(self) -> float | None:
        """Percentage points above (+) or below (−) the target share."""
        return None if self.share is None or self.target_share is None else self.share - self.target_share


@dataclass(frozen=True)
class CategoryMix:
    groups: list[CategoryShare]
    categorised: int
    uncategorised: int


def category_mix(
    *,
    start: datetime,
    end: datetime,
    ad_category: str | None = None,
    region: str | None = None,
) -> CategoryMix:
    """Inbound conversations started in [start, end) by category group, against the target mix in force for the
    period (saypro.figures; the documents' 30 / 40 / 10 / 15 / 5 %)."""
    counts = {
        row["category"]: row["n"]
        for row in conversations_filtered(ad_category=ad_category, region=region)
        .filter(initiated_by=Initiator.USER, created_at__gte=start, created_at__lt=end)
        .values("category")
        .annotate(n=Count("pk"))
    }
    uncategorised = counts.pop("", 0)
    categorised = sum(counts.values())
    groups = []
    for key, (label, members) in MIX_GROUPS.items():
        count = sum(counts.get(member, 0) for member in members)
        groups.append(
            CategoryShare(
                key=key,
                label=label,
                count=count,
                share=count / categorised if categorised else None,
                target_share=_share_target(f"messaging.mix.{key}", start),
            )
        )
    return CategoryMix(groups=groups, categorised=categorised, uncategorised=uncategorised)


def _clocks(metric: str, conversations: QuerySet[Conversation]) -> QuerySet[Clock]:
    return Clock.objects.filter(
        metric=metric,
        target_type=ContentType.objects.get_for_model(Conversation),
        target_id__in=conversations.values("pk"),
    )


def _share_target(key: str, start: datetime, book: TargetBook | None = None) -> float | None:
    """A percent target in force on the period's first local day, as a share (0–1)."""
    day = timezone.localdate(start)
    value = book.value(key, day) if book is not None else target_for(key, day)
    return None if value is None else value / 100


@dataclass(frozen=True)
class ResponseCompliance:
    achieved: int
    breached: int
    target: float | None
    stretch_target: float | None

    @property
    def rate(self) -> float | None:
        decided = self.achieved + self.breached
        return self.achieved / decided if decided else None

    @property
    def percent(self) -> float | None:
        return None if self.rate is None else self.rate * 100

    @property
    def meets_target(self) -> bool | None:
        return None if self.rate is None or self.target is None else self.rate >= self.target

    @property
    def meets_stretch_target(self) -> bool | None:
        return None if self.rate is None or self.stretch_target is None else self.rate >= self.stretch_target


def first_response_compliance(
    *,
    start: datetime,
    end: datetime,
    category: str | None = None,
    ad_category: str | None = None,
    region: str | None = None,
    now: datetime | None = None,
    book: TargetBook | None = None,
) -> ResponseCompliance:
    """Conversations first answered within 24 h, over the first-response clocks due in [start, end) (the kernel's
    convention: a wait counts when its deadline falls in the period; waits still in time are left out), against
    the promise's target; `book` reads the targets once for several calls."""
    book = book or TargetBook()
    now = now or timezone.now()
    conversations = conversations_filtered(category=category, ad_category=ad_category, region=region)
    row = (
        _clocks(FIRST_RESPONSE, conversations)
        .filter(due_at__gte=start, due_at__lt=end)
        .aggregate(
            achieved=Count("pk", filter=sla_selectors.ACHIEVED),
            breached=Count("pk", filter=sla_selectors.breached(now)),
        )
    )
    return ResponseCompliance(
        achieved=row["achieved"],
        breached=row["breached"],
        target=_share_target("sla.message.first_response", start, book),
        stretch_target=_share_target("messaging.first_response_24h.closing", start, book),
    )


def first_response_compliance_by_category(
    *, start: datetime, end: datetime, now: datetime, book: TargetBook | None = None
) -> dict[str, ResponseCompliance]:
    """first_response_compliance for each category and "" (uncategorised, or a category no longer offered), by the
    conversation's current category, in one grouped aggregate over the first-response clocks due in [start, end)."""
    book = book or TargetBook()
    rows = (
        _with_clocks_due(Conversation.objects.all(), FIRST_RESPONSE, start, end)
        .values("category")
        .annotate(**_compliance_counts(now))
        .order_by()
    )
    target = _share_target("sla.message.first_response", start, book)
    stretch = _share_target("messaging.first_response_24h.closing", start, book)
    counts = {value: [0, 0] for value in [*Category.values, ""]}
    for row in cast(list[dict[str, Any]], rows):
        count = counts[row["category"] if row["category"] in counts else ""]
        count[0] += row["achieved"]
        count[1] += row["breached"]
    return {
        value: ResponseCompliance(achieved=achieved, breached=breached, target=target, stretch_target=stretch)
        for value, (achieved, breached) in counts.items()
    }


def _with_clocks_due(
    conversations: QuerySet[Conversation], metric: str, start: datetime, end: datetime
) -> QuerySet[Conversation]:
    """The conversations joined to their clocks of `metric` due in [start, end), one row a clock: grouped by the
    conversation's category, a join rather than a look-up of each clock's conversation (a third of the time)."""
    return conversations.filter(clocks__metric=metric, clocks__due_at__gte=start, clocks__due_at__lt=end)


def _compliance_counts(now: datetime) -> dict[str, Count]:
    """Achieved and breached among the clocks of _with_clocks_due."""
    return {
        "achieved": Count("clocks", filter=sla_selectors.through_clocks(sla_selectors.ACHIEVED, "clocks__")),
        "breached": Count("clocks", filter=sla_selectors.through_clocks(sla_selectors.breached(now), "clocks__")),
    }


@dataclass(frozen=True)
class CategoryCompliance:
    category: str
    label: str
    target_hours: float | None
    achieved: int
    breached: int
    average_hours: float | None  # resolved ones, less the time waiting on the user

    @property
    def rate(self) -> float | None:
        decided = self.achieved + self.breached
        return self.achieved / decided if decided else None


def resolution_compliance_by_category(
    *,
    start: datetime,
    end: datetime,
    ad_category: str | None = None,
    region: str | None = None,
    now: datetime | None = None,
) -> list[CategoryCompliance]:
    """Resolution within each category's target (general 48 h, support 72 h, …), over the resolution clocks due
    in [start, end), grouped by the conversation's current category; "" is the uncategorised."""
    now = now or timezone.now()
    conversations = conversations_filtered(ad_category=ad_category, region=region)
    rows: dict[str, Mapping[str, Any]] = {
        row["category"]: row
        for row in _with_clocks_due(conversations, RESOLUTION, start, end)
        .values("category")
        .annotate(
            **_compliance_counts(now),
            average=Avg("clocks__elapsed_seconds", filter=Q(clocks__state=ClockState.STOPPED)),
        )
        .order_by()
    }
    targets = {
        row.category: row.policy.target.total_seconds() / 3600
        for row in ResolutionPolicy.objects.select_related("policy")
    }
    result = []
    for value, label in [*Category.choices, ("", "Not categorised")]:
        row = rows.get(value, {})
        average = row.get("average")
        result.append(
            CategoryCompliance(
                category=value,
                label=str(label),
                target_hours=targets.get(value),
                achieved=row.get("achieved", 0),
                breached=row.get("breached", 0),
                average_hours=None if average is None else average / 3600,
            )
        )
    return result


def quarter_of(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _shift_quarter(quarter_start: date, quarters: int) -> date:
    index = quarter_start.year * 4 + (quarter_start.month - 1) // 3 + quarters
    return date(index // 4, 3 * (index % 4) + 1, 1)


def _messages(queryset: QuerySet[Conversation], start: datetime, end: datetime) -> int:
    return Message.objects.filter(
        conversation__in=queryset, kind__in=VOLUME_KINDS, created_at__gte=start, created_at__lt=end
    ).count()


def volume_target(
    *, quarter_start: date, previous_messages: int, book: TargetBook | None = None
) -> tuple[int, int | None]:
    """The quarter's planned messages as (low, high): a target an administrator set for this very quarter;
    else the previous quarter's messages plus the growth band (10–15 %); else, with no quarter before it to
    grow from, the first quarter's target (20,000)."""
    quarter = quarter_of(quarter_start)
    book = book or TargetBook()
    own = book.get("messaging.volume", quarter)
    if own is not None and own.period_start == quarter:
        return round(own.value), None
    low, high = book.value("messaging.growth.low", quarter), book.value("messaging.growth.high", quarter)
    if previous_messages and low is not None and high is not None:
        return round(previous_messages * (1 + low / 100)), round(previous_messages * (1 + high / 100))
    return (0, None) if own is None else (round(own.value), None)


@dataclass(frozen=True)
class QuarterGrowth:
    quarter_start: date
    messages: int
    previous_quarter_start: date
    previous_messages: int
    # The quarter's volume plan: (low, high) from the growth band, or (target, None) when one was set.
    target: tuple[int, int | None]
    growth_band: tuple[float | None, float | None]

    @property
    def growth(self) -> float | None:
        """Change against the previous quarter, as a fraction (0.12 = +12 %)."""
        if not self.previous_messages:
            return None
        return self.messages / self.previous_messages - 1

    @property
    def growth_verdict(self) -> str:
        """Below, within or above the growth band; blank without a previous quarter or a band."""
        low, high = self.growth_band
        if self.growth is None or low is None or high is None:
            return ""
        percent = self.growth * 100
        return "below" if percent < low else ("above" if percent > high else "within")

    @property
    def target_progress(self) -> float | None:
        return self.messages / self.target[0] if self.target[0] else None


def quarter_growth(
    *,
    quarter_start: date,
    until: datetime | None = None,
    category: str | None = None,
    ad_category: str | None = None,
    region: str | None = None,
) -> QuarterGrowth:
    """Messages of the quarter against the previous quarter (the growth band) and against the quarter's volume
    plan. With `until`, the quarter so far is compared with the same stretch of the previous quarter, so a
    quarter in progress is not measured against a whole one."""
    quarter = quarter_of(quarter_start)
    previous = _shift_quarter(quarter, -1)
    start, end = local_midnight(quarter), local_midnight(_shift_quarter(quarter, 1))
    previous_start = local_midnight(previous)
    previous_end = start
    if until is not None and until < end:
        end = max(start, until)
        previous_end = previous_start + (end - start)
    conversations = conversations_filtered(category=category, ad_category=ad_category, region=region)
    # The plan grows from the whole previous quarter, whatever part of this one has passed.
    whole_previous = _messages(conversations, previous_start, start)
    book = TargetBook()
    return QuarterGrowth(
        quarter_start=quarter,
        messages=_messages(conversations, start, end),
        previous_quarter_start=previous,
        previous_messages=_messages(conversations, previous_start, previous_end),
        target=volume_target(quarter_start=quarter, previous_messages=whole_previous, book=book),
        growth_band=(book.value("messaging.growth.low", quarter), book.value("messaging.growth.high", quarter)),
    )


def _period_starts(now: datetime) -> dict[str, datetime]:
    today = timezone.localtime(now).date()
    week = today - timedelta(days=today.weekday())
    return {
        "week": local_midnight(week),
        "month": local_midnight(today.replace(day=1)),
        "quarter": local_midnight(quarter_of(today)),
    }


def message_tiles(*, now: datetime | None = None) -> dict[str, Any]:
    """The dashboard figures of the messaging promise: first-response compliance this week, month and quarter,
    and the backlog now with its at-risk, breached, unassigned and waiting counts: the registry's figure
    (messaging.backlog), so the inbox and the reports count the same conversations."""
    now = now or timezone.now()
    book = TargetBook()
    compliance = {
        name: first_response_compliance(start=start, end=now, now=now, book=book)
        for name, start in _period_starts(now).items()
    }
    week = periods.containing(periods.WEEK, periods.today(now))
    backlog = figure_read("messaging.backlog", week, now=now, compare=False, book=book).current
    return {"compliance": compliance, "backlog": backlog}


def conversation_search(*, q: str, limit: int = 10) -> list[SearchHit]:
    """Conversations in every status whose number is `q`, or whose subject, any message, or user's e-mail or
    name contains it: the exact number first, then the latest activity. One query, at most `limit` rows."""
    terms = search_terms(q)
    branches: list[QuerySet[Any, Any]] = []
    if terms.pk is not None:
        branches.append(Conversation.objects.filter(pk=terms.pk).values("pk"))
    if terms.searches_text:
        text = terms.text
        branches.append(Conversation.objects.filter(subject__icontains=text).values("pk"))
        branches.append(Conversation.objects.filter(user__in=user_ids_matching(text=text)).values("pk"))
        branches.append(Message.objects.filter(body__icontains=text).values("conversation_id"))
    ids = matching_ids(*branches)
    if ids is None:
        return []
    rows = (
        Conversation.objects.filter(pk__in=ids)
        .annotate(exact=Case(When(pk=terms.pk or 0, then=Value(0)), default=Value(1)))
        .order_by("exact", "-last_message_at", "-pk")
        .values_list("pk", "subject", "status", "last_message_at", "user__full_name", "user__email")[:limit]
    )
    return [
        SearchHit(
            pk=pk,
            title=subject or "(no subject)",
            who=f"{name} · {email}" if name else email,
            status=Status(status).label,
            status_code=status,
            at=last_message_at,
        )
        for pk, subject, status, last_message_at, name, email in rows
    ]


def conversation_summaries(*, ids: Sequence[int]) -> dict[int, ItemSummary]:
    """Subject and the user's name with the status, for the dashboard's item lists."""
    rows = Conversation.objects.filter(pk__in=ids).values_list("pk", "subject", "user__full_name", "status")
    return {
        pk: ItemSummary(
            label=f"{subject or '(no subject)'} · {name}" if name else subject or "(no subject)",
            status=Status(status).label,
        )
        for pk, subject, name, status in rows
    }


def conversations_triage_overdue(*, before: datetime, since: datetime) -> QuerySet[Conversation, int]:
    """Triage asked for before `before` and never run (its task was lost): the reconciliation sweep's query,
    on the partial index of pending triage. Not bounded by `since`: an uncategorised, unrouted conversation
    would otherwise wait for an agent to notice it."""
    return (
        Conversation.objects.filter(triage_pending_since__lt=before)
        .order_by("triage_pending_since")
        .values_list("pk", flat=True)
    )
