"""The agent's actions on a live chat from the chat panel: hand it to a colleague or a department, or end it as
an ordinary ticket that goes on by e-mail.

Both lock the ticket and guard its current state, so two agents acting on one chat at once end with one decision:
the first to commit wins and the other is told what happened."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.selectors import user_is_on_duty
from saypro.audit.services import audit_record
from saypro.dispatch import after_commit
from saypro.errors import DomainError, InvalidInput
from support.chat_events import chat_announce, queue_changed
from support.models import Channel, Department, Ticket, TicketMessage
from support.services.base import ANSWER_PERMISSION, _department, _lock
from support.services.tickets import ticket_set_department

NOTE_MAX = 1_000


class ChatRefused(DomainError):
    """The acting user may not act on live chats."""

    code = "permission_denied"
    status_code = 403


class ChatEnded(DomainError):
    code = "chat_ended"


def _check_agent(user: User) -> None:
    if not (user.is_active and user.is_staff and user.has_perm(ANSWER_PERMISSION)):
        raise ChatRefused("Only support agents act on live chats.")


def _check_live(ticket: Ticket) -> None:
    if ticket.channel != Channel.CHAT:
        raise DomainError(f"Ticket #{ticket.pk} is not a live chat.", code="not_a_chat")
    if ticket.chat_ended_at is not None or not ticket.is_open:
        raise ChatEnded(f"The chat #{ticket.pk} has ended: it goes on as a ticket.")


def _clean_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise InvalidInput("The note is too long.", fields={"note": [f"Use at most {NOTE_MAX:,} characters."]})
    return note


def chat_transfer(
    *,
    ticket: Ticket,
    by: User,
    to_agent: User | None = None,
    to_department: Department | str | None = None,
    note: str = "",
) -> Ticket:
    """Hand a live chat to another agent on shift (it lands in their queue) or back to a department's queue.

    Only the agent holding the chat may hand it on, or anyone while nobody holds it: a second transfer of the same
    chat (a double click, two agents at once) finds it held by someone else and is refused. The note is kept on the
    ticket as an internal note and in its history, and shown to the receiver in their queue."""
    _check_agent(by)
    note = _clean_note(note)
    department = _department(to_department)
    if (to_agent is None) == (department is None):
        raise InvalidInput("Choose an agent or a department.", fields={"to": ["Choose one agent or one department."]})
    if to_agent is not None:
        if to_agent.pk == by.pk:
            raise InvalidInput("Choose someone else.", fields={"to": ["The chat is already yours to answer."]})
        if not (to_agent.is_staff and to_agent.has_perm(ANSWER_PERMISSION) and user_is_on_duty(user=to_agent)):
            raise InvalidInput("This person cannot take chats now.", fields={"to": ["Not a support agent on shift."]})
    with transaction.atomic():
        ticket = _lock(ticket)
        _check_live(ticket)
        if ticket.assignee_id not in (None, by.pk):
            holder = User.objects.get(pk=ticket.assignee_id)
            raise DomainError(f"The chat #{ticket.pk} is with {holder.get_full_name()} now.", code="already_taken")
        now = timezone.now()
        if to_agent is not None:
            target = to_agent.get_full_name()
            ticket.assignee = to_agent
        else:
            assert department is not None
            target = department.name
            ticket.assignee = None
        # The receiver reads who sent it and why in their queue, without a query per chat.
        ticket.context = {
            **ticket.context,
            "chat_transfer": {"by": by.get_full_name(), "note": note, "at": now.isoformat()},
        }
        ticket.updated_at = now
        ticket.save(update_fields=["assignee", "context", "updated_at"])
        if department is not None:
            # As any move to another department: a training label for triage, that department's targets, and
            # routing to one of its agents after commit.
            ticket = ticket_set_department(ticket=ticket, by=by, department=department)
            after_commit("support.tasks.route_ticket", ticket.pk)
        TicketMessage.objects.create(
            ticket=ticket,
            author=by,
            kind=TicketMessage.Kind.NOTE,
            body=f"Chat transferred to {target}." + (f"\n\n{note}" if note else ""),
            created_at=now,
        )
        audit_record(
            actor=by,
            action="chat.transfer",
            target=ticket,
            reason=note,
            data={
                "to_agent": to_agent.pk if to_agent else None,
                "to_department": department.slug if department else None,
            },
        )
        queue_changed()
        chat_announce(ticket.pk, {"type": "transferred", "to": to_agent.get_short_name() if to_agent else target})
    return ticket


def chat_convert_to_ticket(*, ticket: Ticket, by: User, note: str = "") -> Ticket:
    """End a live chat as an ordinary ticket: the transcript stays on it, it leaves the chat panel, and the user is
    told in the chat and by e-mail that it goes on by e-mail. Converting again returns the ticket unchanged."""
    _check_agent(by)
    note = _clean_note(note)
    with transaction.atomic():
        ticket = _lock(ticket)
        if ticket.channel == Channel.CHAT and ticket.chat_ended_at is not None:
            return ticket
        _check_live(ticket)
        now = timezone.now()
        body = (
            f"We are continuing this conversation by e-mail, as ticket #{ticket.pk}: reply to the e-mail to add "
            "anything. The chat so far is kept on the ticket."
        )
        # Automatic: telling the user where it goes on is not an answer, so it stops no first-response clock.
        message = TicketMessage.objects.create(
            ticket=ticket,
            author=by,
            kind=TicketMessage.Kind.REPLY,
            body=body + (f"\n\n{note}" if note else ""),
            created_at=now,
            is_automatic=True,
        )
        ticket.chat_ended_at = now
        if ticket.assignee_id is None:
            ticket.assignee = by
        ticket.updated_at = now
        ticket.save(update_fields=["chat_ended_at", "assignee", "updated_at"])
        audit_record(actor=by, action="chat.convert", target=ticket, reason=note)
        after_commit("support.tasks.send_ticket_reply", message.pk)
        queue_changed()
        chat_announce(ticket.pk, {"type": "ended", "ticket": ticket.pk, "detail": message.body})
    return ticket
