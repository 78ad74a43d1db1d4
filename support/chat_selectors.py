"""Reads for live chat: the agents' panel (the queue of live chats, one chat's transcript, who can take a
transfer) and which chat replies still need an e-mail.

Kept apart from support.selectors, which covers the ticket queues and is already near its size limit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    Case,
    DateTimeField,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.shortcuts import get_object_or_404

from accounts.models import User
from accounts.routing import users_with_perm
from accounts.selectors import user_is_on_duty, with_shifts
from saypro.outbox.followups import mail_recorded
from support.models import OPEN_STATUSES, Channel, Department, Ticket, TicketMessage
from support.services.base import ANSWER_PERMISSION


def _latest(kind: str) -> Subquery:
    return Subquery(
        TicketMessage.objects.filter(ticket=OuterRef("pk"), kind=kind, is_automatic=False)
        .order_by("-created_at", "-pk")
        .values("created_at")[:1],
        output_field=DateTimeField(),
    )


def live_chats() -> QuerySet[Ticket]:
    """Chats still going on: open tickets on the chat channel that no agent ended as a ticket."""
    return Ticket.objects.filter(channel=Channel.CHAT, chat_ended_at__isnull=True, status__in=OPEN_STATUSES)


@dataclass(frozen=True)
class QueueChat:
    ticket: Ticket
    # Since when the user has been waiting for the team (None: the team spoke last).
    waiting_since: datetime | None
    answered: bool
    mine: bool

    @property
    def transfer(self) -> dict[str, str] | None:
        return self.ticket.context.get("chat_transfer") if self.mine else None


def chat_queue(*, user: User, limit: int | None = None) -> list[QueueChat]:
    """The chats an agent works from, in one query: every chat still waiting for its first answer (whoever it was
    routed to), then the agent's own and the unclaimed ones; the user who has waited longest first in each.
    `limit`: at most this many (a backlog of chats is worked from its head)."""
    rows = (
        live_chats()
        .filter(Q(first_responded_at__isnull=True) | Q(assignee__isnull=True) | Q(assignee=user))
        .select_related("requester", "assignee", "department")
        .annotate(last_user_at=_latest(TicketMessage.Kind.REQUESTER), last_team_at=_latest(TicketMessage.Kind.REPLY))
        .annotate(
            unanswered=Case(When(first_responded_at__isnull=True, then=Value(0)), default=Value(1)),
            waiting_since=Case(
                When(first_responded_at__isnull=True, then=F("created_at")),
                When(last_team_at__isnull=True, then=F("last_user_at")),
                When(last_user_at__gt=F("last_team_at"), then=F("last_user_at")),
                default=None,
                output_field=DateTimeField(),
            ),
        )
        .annotate(
            team_spoke_last=Case(
                When(waiting_since__isnull=True, then=Value(1)), default=Value(0), output_field=IntegerField()
            ),
        )
        .order_by("unanswered", "team_spoke_last", "waiting_since", "created_at", "pk")
    )
    return [
        QueueChat(
            ticket=row,
            waiting_since=row.waiting_since,
            answered=row.first_responded_at is not None,
            mine=row.assignee_id == user.pk,
        )
        for row in (rows if limit is None else rows[:limit])
    ]


def chat_for_agent(*, pk: int) -> Ticket:
    """One chat ticket with what the panel shows about it (404 for another channel)."""
    return get_object_or_404(
        Ticket.objects.select_related("requester", "assignee", "department"), pk=pk, channel=Channel.CHAT
    )


def chat_transcript(*, ticket: Ticket) -> list[TicketMessage]:
    """What the user and the team said, oldest first (internal notes too: the panel marks them)."""
    return list(ticket.messages.select_related("author").order_by("created_at", "pk"))


def agents_on_shift(*, exclude: User) -> list[User]:
    """Support agents who could take a chat now, by name (a team is tens of agents: shifts are checked here)."""
    agents = with_shifts(
        users_with_perm(ANSWER_PERMISSION).filter(is_staff=True).exclude(pk=exclude.pk).order_by("full_name", "email")
    )
    return [agent for agent in agents if user_is_on_duty(user=agent)]


def departments_active() -> QuerySet[Department]:
    return Department.objects.filter(is_active=True).order_by("name")


def chat_replies_to_email(*, ticket: Ticket, reply: TicketMessage) -> list[TicketMessage]:
    """The chat replies that the e-mail for `reply` carries: those up to it that the requester has neither read
    nor been e-mailed. None when they read it, when an e-mail already carried it (a redelivered task), or when a
    later reply exists, whose own e-mail will carry this one: a burst of chat replies makes one e-mail."""
    read = ticket.chat_read_message_id or 0
    replies = ticket.messages.filter(kind=TicketMessage.Kind.REPLY)
    if reply.pk <= read or replies.filter(pk__gt=reply.pk).exists():
        return []
    emailed = replies.filter(mail_recorded("ticket-reply:")).aggregate(last=Max("pk"))["last"] or 0
    return list(replies.filter(pk__gt=max(read, emailed), pk__lte=reply.pk).select_related("author").order_by("pk"))
