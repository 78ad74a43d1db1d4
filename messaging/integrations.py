"""Where conversations meet the other apps, through the contracts those apps publish.

- moderation: users' messages are moderatable content of kind "message"; every stored user message is
  submitted to automatic spam and fraud detection, which may hide it (messaging.services.message_hide).
  Internal notes and activity lines are not content anyone can flag, and only the conversation's user may flag
  what is in it (a conversation is private to that user and the team).
- support: canned responses for the reply box, conversion into a ticket, the 1–5 satisfaction survey.
- accounts: a user's message counts as activity; the thread shows the user's account status.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from accounts.activity import MESSAGE_SENT, activity_record
from accounts.models import AccountStatus, User
from accounts.selectors import user_status

if TYPE_CHECKING:
    from .models import Conversation, Message

KIND = "message"


# --- Moderation -----------------------------------------------------------------------------------


def moderation_register() -> None:
    from moderation.registry import moderatable_register

    from . import services
    from .models import PUBLIC_KINDS, Message

    def public_message(pk: int) -> Message | None:
        # Internal notes and activity lines are the team's own words, not users' content: nobody may flag them,
        # and their text must never be copied onto a case.
        return Message.objects.select_related("conversation").filter(pk=pk, kind__in=PUBLIC_KINDS).first()

    def in_own_conversation(message: Message, reporter: User) -> bool:
        # A conversation is private to its user and the team; anyone else's report would copy its words onto a
        # case. The team does not report messages: it reads them on its own pages, and detection opens cases.
        return message.conversation.user_id == reporter.pk

    def hide(*, obj: Message, by: User | None = None, reason: str = "") -> Message:
        return services.message_hide(message=obj, by=by, reason=reason)

    def restore(*, obj: Message, by: User | None = None, reason: str = "") -> Message:
        return services.message_restore(message=obj, by=by)

    moderatable_register(
        Message,
        kind=KIND,
        text=lambda message: message.body,
        author=lambda message: message.author,
        hide=hide,
        restore=restore,
        describe=lambda message: f"Message in conversation #{message.conversation_id}",
        url=lambda message: reverse("messaging:thread", args=[message.conversation_id]),
        lookup=public_message,
        visible_to=in_own_conversation,
        # Users give the team their phone numbers as a matter of course.
        skip_signals=("phone",),
    )


def user_message_submitted(message: Message) -> None:
    """Inside the transaction that stored a user's message: the moderation check, and the user's activity."""
    from moderation.services import content_submitted

    content_submitted(obj=message)
    activity_record(user_id=message.conversation.user_id, feature=MESSAGE_SENT, at=message.created_at)


# --- Support --------------------------------------------------------------------------------------


def canned_responses_for(*, user: User) -> list[Any]:
    """The canned responses (support macros) offered in the conversation reply box."""
    if not user.has_perm("messaging.reply_conversation"):
        return []
    from support.selectors import macros_usable

    return list(macros_usable(surface="conversation"))


def macro_context(*, conversation: Conversation, agent: User) -> dict[str, Any]:
    """The placeholders a conversation offers to canned responses."""
    requester = conversation.user
    return {
        "requester_name": requester.get_short_name(),
        "requester_full_name": requester.get_full_name(),
        "requester_email": requester.email,
        "agent_name": agent.get_short_name(),
        "agent_full_name": agent.get_full_name(),
        "conversation_id": conversation.pk,
        "conversation_subject": conversation.display_subject,
        "category": conversation.get_category_display() if conversation.category else "",
        "site_url": settings.SITE_URL,
    }


def canned_response_render(*, macro_id: int, conversation: Conversation, agent: User) -> str | None:
    """The canned response's text with the conversation's placeholders filled, or None if it is not offered."""
    from support.services import macro_render

    macro = next((m for m in canned_responses_for(user=agent) if m.pk == macro_id), None)
    if macro is None:
        return None
    return macro_render(macro=macro, context=macro_context(conversation=conversation, agent=agent))


def ticket_create(*, conversation: Conversation, by: User, body: str) -> Any:
    """Open a support ticket from a conversation (channel "conversation"), with the thread as its text."""
    from support.services import ticket_create as create

    return create(
        requester=conversation.user,
        subject=conversation.display_subject[:200],
        body=body,
        channel="conversation",
        by=by,
        context={"conversation_id": conversation.pk, "category": conversation.category},
        source=f"conversation:{conversation.pk}",
    )


def ticket_url(ticket: Any) -> str:
    try:
        return reverse("support:ticket", args=[ticket.pk])
    except NoReverseMatch:
        return ""


def survey_send(*, conversation: Conversation) -> None:
    """Ask the user to rate the resolution 1–5 (one survey per resolution; a repeat sends nothing)."""
    from support.services import survey_send as send

    send(
        target=conversation,
        requester=conversation.user,
        agent=conversation.resolved_by or conversation.assigned_to,
        department=None,
        channel="conversation",
        resolved_at=conversation.resolved_at,
    )


# --- Accounts -------------------------------------------------------------------------------------


def account_summary(*, user: User) -> dict[str, Any]:
    """What an agent should know about the user at a glance: account and registration status."""
    registration = getattr(user, "registration", None)
    # The effective status: a suspension that has run out is over even before the expiry task reinstates it.
    status = user_status(user)
    return {
        "is_active": status.status == AccountStatus.ACTIVE,
        "status": status.status,
        # Told to the user when the account was suspended, banned or deactivated; the agent may be asked why.
        "status_reason": status.reason if status.status != AccountStatus.ACTIVE else "",
        "suspended_until": status.until if status.status == AccountStatus.SUSPENDED else None,
        "joined": user.date_joined,
        "registration_status": registration.get_status_display() if registration else "",
        "registration_status_code": registration.status if registration else "",
        "email_verified": user.email_verified_at is not None,
        "phone_verified": user.phone_verified_at is not None,
    }
