"""Celery tasks for support. Each takes ids, loads rows, calls a service or sends one e-mail, and is safe to
run twice (e-mails carry a once-key)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from saypro.mail import send_template
from saypro.sla import services as sla

from . import chat_selectors, services, triage
from .models import FIRST_RESPONSE, Channel, Survey, SurveyFollowUp, Ticket, TicketMessage


def _ticket(ticket_id: int) -> Ticket | None:
    return Ticket.objects.select_related("requester", "department", "assignee").filter(pk=ticket_id).first()


@shared_task
def triage_ticket(ticket_id: int) -> None:
    """Classify, then assign: triage may change the department, which decides who can take the ticket."""
    ticket = _ticket(ticket_id)
    if ticket is None:
        return
    ticket = services.ticket_triage(ticket=ticket)
    if settings.SUPPORT_AUTO_ASSIGN:
        services.ticket_route(ticket=ticket)


@shared_task
def route_ticket(ticket_id: int) -> None:
    ticket = _ticket(ticket_id)
    if ticket is not None and settings.SUPPORT_AUTO_ASSIGN:
        services.ticket_route(ticket=ticket)


@shared_task
def send_ticket_acknowledgement(ticket_id: int) -> None:
    ticket = _ticket(ticket_id)
    if ticket is None or not ticket.requester.email:
        return
    clock = sla.clock_open_for(metric=FIRST_RESPONSE, target=ticket)
    send_template(
        to=[ticket.requester.email],
        kind="ticket.acknowledgement",
        template="support/email/acknowledgement.txt",
        context={
            "ticket": ticket,
            "name": ticket.requester.get_short_name(),
            "first_response_due": timezone.localtime(clock.due_at) if clock else None,
            # A chat that found live chat closed or nobody on shift: the e-mail tells the user why.
            "chat": services.chat_unavailable_event(ticket),
        },
        once_key=f"ticket-ack:{ticket.pk}",
    )


@shared_task
def send_ticket_reply(message_id: int) -> None:
    message = (
        TicketMessage.objects.select_related("ticket__requester", "author")
        .filter(pk=message_id, kind=TicketMessage.Kind.REPLY)
        .first()
    )
    if message is None:
        return
    ticket = message.ticket
    # A chat's reply e-mails what the user has not read (in a live chat, minutes later: see ticket_reply); an
    # ordinary ticket's, the reply itself.
    chat = ticket.channel == Channel.CHAT
    messages = chat_selectors.chat_replies_to_email(ticket=ticket, reply=message) if chat else [message]
    if not messages:
        return
    send_template(
        to=[ticket.requester.email, *ticket.cc_emails],
        kind="ticket.reply",
        template="support/email/reply.txt",
        context={"ticket": ticket, "message": message, "messages": messages, "name": ticket.requester.get_short_name()},
        once_key=f"ticket-reply:{message.pk}",
    )


@shared_task
def send_survey(survey_id: int) -> None:
    survey = Survey.objects.select_related("requester", "agent").filter(pk=survey_id).first()
    if survey is None or survey.answered_at is not None or not survey.requester.email:
        return
    token = services.survey_token(survey)
    send_template(
        to=[survey.requester.email],
        kind="support.survey",
        template="support/email/survey.txt",
        context={
            "name": survey.requester.get_short_name(),
            "survey": survey,
            "target": str(survey.target) if survey.target is not None else "your request",
            "links": [(rating, f"{settings.SITE_URL}/survey/{token}/{rating}/") for rating in range(5, 0, -1)],
            "valid_days": settings.SUPPORT_SURVEY_LINK_DAYS,
        },
        once_key=f"survey:{survey.pk}",
    )


@shared_task
def send_follow_up_notice(follow_up_id: int) -> None:
    from accounts import roles
    from accounts.tasks import staff_emails

    follow_up = (
        SurveyFollowUp.objects.select_related("survey__requester", "survey__agent", "assigned_to")
        .filter(pk=follow_up_id, done_at__isnull=True)
        .first()
    )
    if follow_up is None:
        return
    to = [follow_up.assigned_to.email] if follow_up.assigned_to else staff_emails(roles.MANAGER)
    if not to:
        return
    send_template(
        to=to,
        kind="support.follow_up",
        template="support/email/follow_up.txt",
        context={
            "follow_up": follow_up,
            "survey": follow_up.survey,
            "url": f"{settings.SITE_URL}/dashboard/support/follow-ups/",
        },
        once_key=f"follow-up:{follow_up.pk}",
    )


@shared_task
def close_solved_tickets() -> int:
    return services.tickets_close_solved()


@shared_task
def retrain_triage_model() -> int | None:
    """Refit the triage classifier with agents' transfers once enough are new; returns the new version (active
    only if it did at least as well on the validation set)."""
    model = triage.triage_model_retrain()
    return model.version if model is not None else None


@shared_task
def refresh_comment_topics() -> int:
    """Group the year's survey and feedback comments into topics again; returns how many topics were found."""
    return services.comment_topics_refresh().topics
