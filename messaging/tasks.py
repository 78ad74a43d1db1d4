"""Celery tasks for conversations. Each takes ids, loads rows, calls a service or sends one e-mail, and is safe
to run twice (e-mails carry a once-key)."""

from __future__ import annotations

from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.db.models import Max
from django.urls import reverse

from accounts.models import User
from accounts.tasks import staff_emails
from saypro.mail import send_template
from saypro.ml.models import TextModel

from . import classification, services
from .models import CategoryLabel, Conversation, Message, MessageKind, Team, TeamMembership


def _conversation(conversation_id: int) -> Conversation | None:
    return Conversation.objects.select_related("user", "assigned_to").filter(pk=conversation_id).first()


def staff_url(conversation: Conversation) -> str:
    return f"{settings.SITE_URL}{reverse('messaging:thread', args=[conversation.pk])}"


def user_url(conversation: Conversation) -> str:
    return f"{settings.SITE_URL}{reverse('messages:conversation', args=[conversation.pk])}"


@shared_task
def triage_conversation(conversation_id: int) -> None:
    conversation = _conversation(conversation_id)
    if conversation is not None:
        services.conversation_triage(conversation=conversation)


@shared_task
def route_conversation(conversation_id: int) -> None:
    conversation = _conversation(conversation_id)
    if conversation is not None:
        services.conversation_route(conversation=conversation)


@shared_task
def send_reply_email(message_id: int) -> None:
    """Tell the user the team answered, with the reply and a link to the conversation."""
    message = Message.objects.select_related("conversation__user", "author").filter(pk=message_id).first()
    if message is None or message.kind != MessageKind.REPLY:
        return
    conversation = message.conversation
    send_template(
        to=[conversation.user.email],
        kind="conversation.reply",
        template="messaging/email/reply.txt",
        context={
            "name": conversation.user.get_short_name(),
            "conversation": conversation,
            "message": message,
            "agent": message.author.get_short_name() if message.author else "SayPro",
            "url": user_url(conversation),
        },
        once_key=f"message-reply:{message.pk}",
    )


@shared_task
def send_assignment_email(conversation_id: int, user_id: int) -> None:
    conversation = _conversation(conversation_id)
    agent = User.objects.filter(pk=user_id, is_active=True).first()
    if conversation is None or agent is None or conversation.assigned_to_id != agent.pk:
        return
    send_template(
        to=[agent.email],
        kind="conversation.assigned",
        template="messaging/email/assigned.txt",
        context={"conversation": conversation, "name": agent.get_short_name(), "url": staff_url(conversation)},
        once_key=f"conversation-assigned:{conversation.pk}:{agent.pk}:{conversation.assigned_at}",
    )


@shared_task
def send_escalation_email(conversation_id: int) -> None:
    """The Classified Office hears of every escalation (the whole office: on-duty or not, someone must act)."""
    conversation = _conversation(conversation_id)
    if conversation is None or conversation.escalated_at is None:
        return
    office = TeamMembership.objects.filter(team=Team.CLASSIFIED_OFFICE, user__is_active=True)
    recipients = sorted(set(office.values_list("user__email", flat=True)) or set(staff_emails("Administrator")))
    if not recipients:
        return
    send_template(
        to=recipients,
        kind="conversation.escalated",
        template="messaging/email/escalated.txt",
        context={"conversation": conversation, "url": staff_url(conversation)},
        once_key=f"conversation-escalated:{conversation.pk}:{conversation.escalated_at.isoformat()}",
    )


@shared_task
def send_satisfaction_survey(conversation_id: int) -> None:
    conversation = _conversation(conversation_id)
    if conversation is not None:
        services.satisfaction_survey_send(conversation=conversation)


@shared_task
def auto_resolve_conversations() -> int:
    return services.conversations_auto_resolve()


@shared_task
def retrain_category_model() -> int | None:
    """Refit the category classifier on the agents' labels (plus the bootstrap file when it is configured).

    Skipped when no agent has labelled anything since the active version, or there is too little to learn
    from; returns the new version."""
    newest_label = CategoryLabel.objects.aggregate(at=Max("created_at"))["at"]
    active = TextModel.objects.filter(name=classification.MODEL_NAME, is_active=True).first()
    if newest_label is None or (active is not None and active.created_at >= newest_label):
        return None
    bootstrap = settings.MESSAGING_CATEGORY_BOOTSTRAP_CSV
    path = Path(bootstrap) if bootstrap else None
    try:
        model = classification.retrain(
            bootstrap_csv=path if path and path.exists() else None, folds=0, only_if_not_worse=True
        )
    except services.InvalidInput:
        return None
    return model.version
