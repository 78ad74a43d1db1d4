"""Live chat's rules on the user's side: whether a chat can open now, and opening one.

A chat opens with the user's first message and is a ticket on the `chat` channel, so its first answer is held to
two clocks: the ticket's (by priority, like every ticket) and the chat's own `chat.first_response`, in minutes.
Outside the opening hours, or with nobody on shift to answer, the user is told so at once and the message becomes
an ordinary e-mail ticket (normal ticket SLA, no chat clock); its acknowledgement e-mail says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import User
from saypro.localtime import local_text
from support import selectors
from support.models import Channel, Ticket, TicketMessage
from support.services.help_center import live_chat_status
from support.services.tickets import ticket_create

CLOSED = "closed"
NO_AGENT = "no_agent"


@dataclass(frozen=True)
class ChatAvailability:
    available: bool
    # CLOSED (outside the hours) or NO_AGENT (inside them, nobody on shift); blank when available.
    reason: str = ""
    # When chat is expected to open next: the next opening, or the first agent's shift start within the hours.
    opens_at: datetime | None = None

    @property
    def detail(self) -> str:
        if self.available:
            return "Live chat is open."
        when = f" Chat opens again {local_text(self.opens_at)}." if self.opens_at else ""
        why = "Live chat is closed now." if self.reason == CLOSED else "No agent is on shift for live chat now."
        return f"{why}{when} Your message was kept as a ticket: we answer it by e-mail."

    def as_dict(self) -> dict[str, Any]:
        return {
            "available": self.available,
            "reason": self.reason,
            "opens_at": self.opens_at.isoformat() if self.opens_at else None,
            "detail": self.detail,
        }


def chat_availability(*, at: datetime | None = None) -> ChatAvailability:
    """Whether a chat opened at `at` reaches an agent: inside the hours (SUPPORT_LIVE_CHAT_HOURS) and with
    someone whose role answers tickets on shift."""
    at = at or timezone.now()
    hours = live_chat_status(at=at)
    if not hours["open"]:
        cover = selectors.chat_cover_from(at=hours["opens_at"])
        return ChatAvailability(False, CLOSED, _within_hours(cover) if cover else hours["opens_at"])
    cover = selectors.chat_cover_from(at=at)
    if cover == at:
        return ChatAvailability(True)
    return ChatAvailability(False, NO_AGENT, _within_hours(cover) if cover else None)


def _within_hours(moment: datetime) -> datetime:
    """`moment`, or the next opening of live chat after it when it falls outside the hours."""
    hours = live_chat_status(at=moment)
    return moment if hours["open"] else hours["opens_at"]


def chat_open(
    *,
    requester: User,
    body: str,
    subject: str = "",
    cc: Iterable[str] = (),
    attachments: Sequence[UploadedFile] = (),
) -> tuple[Ticket, ChatAvailability]:
    """Open a chat with the user's first message: a chat ticket (its chat clock starts) when chat is available,
    else an e-mail ticket that remembers why, so the user's socket, event stream and e-mail can say so."""
    availability = chat_availability()
    if availability.available:
        channel, source, context = Channel.CHAT, None, None
    else:
        channel = Channel.EMAIL
        source = f"{selectors.CHAT_CONVERTED_PREFIX}{availability.reason}"
        context = {"chat": availability.as_dict()}
    ticket = ticket_create(
        requester=requester,
        subject=subject,
        body=body,
        channel=channel,
        cc=cc,
        attachments=attachments,
        source=source,
        context=context,
    )
    return ticket, availability


def chat_unavailable_event(ticket: Ticket) -> dict[str, Any] | None:
    """The event a converted chat's socket and stream send first; None for a chat that reached the agents."""
    saved = ticket.context.get("chat") if isinstance(ticket.context, dict) else None
    if not ticket.source.startswith(selectors.CHAT_CONVERTED_PREFIX) or not isinstance(saved, dict):
        return None
    opens_at = parse_datetime(saved["opens_at"]) if saved.get("opens_at") else None
    availability = ChatAvailability(False, str(saved.get("reason", "")), opens_at)
    return {"type": "unavailable", "ticket": ticket.pk, **availability.as_dict()}


def chat_mark_read(*, ticket: Ticket, up_to: int | None = None) -> None:
    """The requester has read their chat up to the message `up_to` (by default, its latest message). Capped at
    the chat's own latest message and never moving back, in one update, so that a late or repeated read event
    cannot undo a newer one."""
    latest = ticket.messages.exclude(kind=TicketMessage.Kind.NOTE).aggregate(last=Max("pk"))["last"]
    read = latest if up_to is None or latest is None else min(up_to, latest)
    if not read or read < 1:
        return
    Ticket.objects.filter(pk=ticket.pk).filter(
        Q(chat_read_message_id__isnull=True) | Q(chat_read_message_id__lt=read)
    ).update(chat_read_message_id=read, chat_read_at=timezone.now())
