"""What happens when a conversation's clocks warn or breach, and how its place in the inbox follows its clocks.

First response: at 75 % and 90 % the assigned agent is e-mailed (the team, when nobody is assigned); at the
breach the administrators too. Resolution: an unresolved complaint or policy report escalates to the Classified
Office at its deadline (48 h); for the other categories the agent and the administrators are told.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from accounts.tasks import staff_emails
from saypro.mail import send_template
from saypro.sla.handlers import on_change, register
from saypro.sla.models import Clock, ClockEvent, ClockState

from . import services
from .models import Category, Conversation, Status, TeamMembership


def _recipients(conversation: Conversation, *, breached: bool) -> list[str]:
    if conversation.assigned_to is not None:
        emails = [conversation.assigned_to.email]
    else:
        team = TeamMembership.objects.filter(team=conversation.team, user__is_active=True)
        emails = list(team.values_list("user__email", flat=True)) or staff_emails(roles.SUPPORT_AGENT)
    if breached:
        emails += staff_emails(roles.ADMINISTRATOR)
    return sorted(set(emails))


def _notify(event: ClockEvent, conversation: Conversation, *, what: str) -> None:
    breached = event.kind == ClockEvent.Kind.BREACH
    recipients = _recipients(conversation, breached=breached)
    if not recipients:
        return
    clock = event.clock
    send_template(
        to=recipients,
        kind="conversation.sla_warning",
        template="messaging/email/sla_warning.txt",
        context={
            "conversation": conversation,
            "what": what,
            "breached": breached,
            "percent": int(event.data.get("percent", 100)),
            "started_at": timezone.localtime(clock.started_at),
            "due_at": timezone.localtime(clock.due_at),
            "url": f"{settings.SITE_URL}{reverse('messaging:thread', args=[conversation.pk])}",
        },
        once_key=f"sla-event:{event.pk}",
    )


def _conversation(event: ClockEvent) -> Conversation | None:
    if event.kind not in (ClockEvent.Kind.WARN, ClockEvent.Kind.BREACH):
        return None
    return (
        Conversation.objects.select_related("assigned_to", "user")
        .exclude(status=Status.RESOLVED)
        .filter(pk=event.clock.target_id)
        .first()
    )


@register(services.FIRST_RESPONSE)
def first_response_clock_event(event: ClockEvent) -> None:
    conversation = _conversation(event)
    if conversation is not None and conversation.awaiting_reply_since is not None:
        _notify(event, conversation, what="answer")


@register(services.RESOLUTION)
def resolution_clock_event(event: ClockEvent) -> None:
    conversation = _conversation(event)
    if conversation is None:
        return
    if (
        event.kind == ClockEvent.Kind.BREACH
        and conversation.category in services.ESCALATING_CATEGORIES
        and conversation.status != Status.ESCALATED
    ):
        hours = round(event.clock.policy.target.total_seconds() / 3600)
        services.conversation_escalate(
            conversation=conversation,
            by=None,
            reason=f"{Category(conversation.category).label} unresolved after {hours} hours.",
        )
        return
    _notify(event, conversation, what="resolution")


@on_change(services.FIRST_RESPONSE)
@on_change(services.RESOLUTION)
def conversations_next_due_sync(target_ids: list[int]) -> None:
    """Set each conversation's inbox sort key from its running clocks, in one statement."""
    running = Clock.objects.filter(
        target_type=ContentType.objects.get_for_model(Conversation), target_id=OuterRef("pk"), state=ClockState.RUNNING
    )
    Conversation.objects.filter(pk__in=target_ids).update(
        next_due_at=Coalesce(
            Subquery(running.filter(metric=services.FIRST_RESPONSE).values("due_at")[:1]),
            Subquery(running.filter(metric=services.RESOLUTION).values("due_at")[:1]),
        )
    )
