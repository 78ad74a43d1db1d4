"""Where conversations meet the other apps: moderation's spam check, support's tickets, canned responses and
satisfaction surveys, and the users' activity."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.activity import activity_flush
from accounts.models import ActivityDay
from messaging import services
from messaging.models import Conversation, Message, MessageKind, Status
from moderation.models import Case
from moderation.registry import moderatable_for_kind
from support.models import Macro, Survey, Ticket
from tests.factories import PASSWORD
from tests.messaging.conftest import clock, start

pytestmark = pytest.mark.django_db

# Moderation's own rules score this far above its "hide at once" threshold (keywords and a link shortener), so
# the test needs no trained classifier.
SPAM = "Free money, 100% guaranteed! Click here: bit.ly/claim-now before midnight."


def test_spam_from_a_user_is_hidden_and_a_case_opened_and_restoring_reopens_the_conversation(user, moderator):
    conversation = start(user, body=SPAM)
    message = conversation.messages.get(kind=MessageKind.USER)
    assert message.hidden_at is not None
    case = Case.objects.get(kind="message", object_id=message.pk)
    assert case.author == user
    conversation.refresh_from_db()
    # Nothing else from the user: nobody is asked to answer spam.
    assert conversation.status == Status.RESOLVED and conversation.resolved_by is None
    assert clock(conversation, services.FIRST_RESPONSE).state == "stopped"
    entry = moderatable_for_kind("message")
    entry.restore(obj=message, by=moderator, reason="Not spam after all")
    message.refresh_from_db()
    conversation.refresh_from_db()
    assert message.hidden_at is None
    assert conversation.status == Status.OPEN
    assert clock(conversation, services.FIRST_RESPONSE).state == "running"


def test_an_ordinary_message_is_checked_and_left_alone(user):
    conversation = start(user, body="Hello, how do I renew my ad for the red bicycle?")
    message = conversation.messages.get(kind=MessageKind.USER)
    assert message.hidden_at is None
    assert not Case.objects.filter(kind="message").exists()
    entry = moderatable_for_kind("message")
    assert entry.text(message) == message.body and entry.author(message) == user
    assert entry.url(message) == reverse("messaging:thread", args=[conversation.pk])


def test_hiding_one_of_several_messages_keeps_the_conversation_open(user, moderator):
    conversation = start(user)
    spam = services.message_send(conversation=conversation, user=user, body="buy followers cheap")
    moderatable_for_kind("message").hide(obj=spam, by=moderator, reason="spam")
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN
    assert [m.body for m in conversation.messages.filter(kind="user", hidden_at__isnull=True)] == [
        "Hello, how do I change the photos of my ad?"
    ]


def test_a_users_message_counts_as_activity(user):
    start(user)
    services.message_send(conversation=Conversation.objects.get(), user=user, body="One more thing")
    activity_flush(settle_seconds=0)
    assert ActivityDay.objects.get(user=user).messages_sent == 2


def test_converting_to_a_support_ticket_carries_the_thread_and_resolves_without_a_survey(
    user, agent, django_capture_on_commit_callbacks
):
    conversation = start(user, body="The app crashes when I upload photos")
    services.reply_send(conversation=conversation, by=agent, body="Which phone?", then="open")
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.conversation_convert_to_ticket(conversation=conversation, by=agent)
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.requester == user and ticket.channel == "conversation"
    assert ticket.source == f"conversation:{conversation.pk}"
    assert "The app crashes" in ticket.body and "Which phone?" in ticket.body
    conversation.refresh_from_db()
    assert conversation.status == Status.RESOLVED and conversation.ticket_ref == str(ticket.pk)
    assert not Survey.objects.exists()
    with pytest.raises(services.DomainError):
        services.conversation_convert_to_ticket(conversation=conversation, by=agent)


def test_a_resolution_by_an_agent_asks_the_user_for_a_1_to_5_rating_once(
    user, agent, django_capture_on_commit_callbacks
):
    conversation = start(user)
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        services.reply_send(conversation=conversation, by=agent, body="Done.", then="resolved")
    survey = Survey.objects.get()
    ct = ContentType.objects.get_for_model(Conversation)
    assert (survey.target_type, survey.target_id, survey.requester, survey.agent) == (ct, conversation.pk, user, agent)
    assert survey.channel == "conversation"
    assert any(user.email in m.to for m in mail.outbox if "Re:" not in m.subject)
    with django_capture_on_commit_callbacks(execute=True):
        services.conversation_resolve(conversation=conversation, by=agent)  # already resolved: nothing more
    assert Survey.objects.count() == 1


def test_a_reply_emails_the_user_with_a_link_to_the_conversation(user, agent, django_capture_on_commit_callbacks):
    conversation = start(user)
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        services.reply_send(conversation=conversation, by=agent, body="Tap Edit, then Photos.")
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == [user.email] and "Tap Edit, then Photos." in sent.body
    assert f"/messages/{conversation.pk}/" in sent.body


def test_canned_responses_fill_the_reply_box_with_the_conversations_placeholders(client, user, agent):
    conversation = start(user, subject="Ad photos")
    usable = Macro.objects.create(
        name="Photos", body="Hi {{ requester_name }}, see conversation #{{ conversation_id }}.", for_conversations=True
    )
    tickets_only = Macro.objects.create(name="Ticket macro", body="Ticket {{ ticket_id }}", for_conversations=False)
    client.login(email=agent.email, password=PASSWORD)
    page = client.get(reverse("messaging:thread", args=[conversation.pk]))
    offered = [m.name for m in page.context["canned_responses"]]
    assert "Photos" in offered and "Ticket macro" not in offered
    canned = client.get(reverse("messaging:canned", args=[conversation.pk, usable.pk]))
    assert canned.json() == {"text": f"Hi {user.get_short_name()}, see conversation #{conversation.pk}."}
    assert client.get(reverse("messaging:canned", args=[conversation.pk, tickets_only.pk])).status_code == 404
    reply = client.post(
        reverse("messaging:reply", args=[conversation.pk]),
        {"body": "Hi there", "then": "waiting", "canned_response_ref": str(usable.pk)},
    )
    assert reply.status_code == 302
    assert Message.objects.get(kind=MessageKind.REPLY).canned_response_ref == str(usable.pk)


# --- Flagging messages through the moderation API ---------------------------------------------------


def flag_message(reporter, message):
    client = APIClient()
    client.force_authenticate(reporter)
    return client.post(
        "/api/v1/flags/",
        {"kind": "message", "object_id": message.pk, "reason": "fraud", "comment": "Asks me to pay outside"},
        format="json",
    )


def test_a_user_flags_a_reply_in_their_own_conversation(user, agent):
    conversation = start(user)
    reply = services.reply_send(conversation=conversation, by=agent, body="Send the fee by gift card first.")
    response = flag_message(user, reply)
    assert response.status_code == 201, response.json()
    assert (response.json()["kind"], response.json()["object_id"]) == ("message", reply.pk)
    case = Case.objects.get(kind="message", object_id=reply.pk)
    assert case.author == agent and case.content_text == reply.body


def test_an_internal_note_cannot_be_flagged_and_its_text_reaches_no_case(user, agent, member):
    conversation = start(user)
    note = services.note_add(conversation=conversation, by=agent, body="Seller is a known fraudster, see case 12")
    for reporter in (user, member):
        response = flag_message(reporter, note)
        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {"object_id": ["Not found."]}
    # The activity lines of the thread are the team's as well.
    services.conversation_escalate(conversation=conversation, by=agent, reason="Threatening language")
    event = conversation.messages.filter(kind=MessageKind.EVENT).latest("pk")
    assert flag_message(member, event).status_code == 400
    assert not Case.objects.filter(kind="message").exists()


def test_a_stranger_cannot_flag_a_message_in_someone_elses_conversation(user, member):
    conversation = start(member, body="My address is 12 Long Street, please send the courier")
    theirs = conversation.messages.get(kind=MessageKind.USER)
    response = flag_message(user, theirs)
    assert response.status_code == 400
    # The same answer as for a message that does not exist: reporting tells nobody what exists.
    assert response.json() == flag_message(user, Message(pk=theirs.pk + 1000)).json()
    assert response.json()["error"]["fields"] == {"object_id": ["Not found."]}
    assert not Case.objects.filter(kind="message", object_id=theirs.pk).exists()
