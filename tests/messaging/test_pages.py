"""The inbox and thread pages: who may see and do what, the views, live fragments, bad input, query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from messaging import services
from messaging.models import Message, MessageKind, Status
from tests.factories import PASSWORD, UserFactory
from tests.messaging.conftest import clock, start

# The inbox page once its tiles are shared (14 when every request computed them): the session, the user, their
# permissions and groups, the view counts (one query), and the page of rows with its bounded count.
INBOX_WARM_QUERIES = 8

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    client.login(email=user.email, password=PASSWORD)
    return client


def test_anonymous_visitors_are_sent_to_sign_in_and_roles_without_messaging_get_403(client, user, reviewer):
    conversation = start(user)
    response = client.get(reverse("messaging:home"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    signed_in(client, reviewer)
    assert client.get(reverse("messaging:home")).status_code == 403
    assert client.get(reverse("messaging:thread", args=[conversation.pk])).status_code == 403
    # A marketplace user is not staff either.
    client.logout()
    signed_in(client, user)
    assert client.get(reverse("messaging:home")).status_code == 403


def test_a_moderator_sees_the_thread_but_cannot_reply(client, user, moderator):
    conversation = start(user, body="This seller is a scammer, report this ad please")
    signed_in(client, moderator)
    page = client.get(reverse("messaging:thread", args=[conversation.pk]))
    assert page.status_code == 200
    assert b'data-testid="reply-box"' not in page.content
    response = client.post(reverse("messaging:reply", args=[conversation.pk]), {"body": "Thanks", "then": "waiting"})
    assert response.status_code == 403
    assert not Message.objects.filter(kind=MessageKind.REPLY).exists()
    assert clock(conversation, services.FIRST_RESPONSE).state == "running"


def test_managers_see_the_inbox_but_cannot_reply(client, user, manager):
    conversation = start(user)
    signed_in(client, manager)
    assert client.get(reverse("messaging:home")).status_code == 200
    response = client.post(reverse("messaging:reply", args=[conversation.pk]), {"body": "Hi", "then": "waiting"})
    assert response.status_code == 403


def test_an_agent_replies_from_the_thread_page_and_the_first_response_shows_as_met(client, user, agent):
    conversation = start(user)
    signed_in(client, agent)
    response = client.post(
        reverse("messaging:reply", args=[conversation.pk]), {"body": "Tap Edit, then Photos.", "then": "waiting"}
    )
    assert response.status_code == 302
    page = client.get(reverse("messaging:thread", args=[conversation.pk]))
    assert b"Tap Edit, then Photos." in page.content
    first = page.content.decode().split('data-testid="first-response-clock"')[1].split("</dd>")[0]
    assert "met" in first
    conversation.refresh_from_db()
    assert conversation.status == Status.WAITING


def test_an_empty_reply_is_refused_with_a_form_error_and_nothing_is_sent(client, user, agent):
    conversation = start(user)
    signed_in(client, agent)
    response = client.post(reverse("messaging:reply", args=[conversation.pk]), {"body": "   ", "then": "waiting"})
    assert response.status_code == 400
    assert "The message is empty." in response.content.decode()
    assert not Message.objects.filter(kind=MessageKind.REPLY).exists()


def test_an_oversized_reply_and_a_forbidden_attachment_are_refused(client, user, agent):
    conversation = start(user)
    signed_in(client, agent)
    response = client.post(reverse("messaging:reply", args=[conversation.pk]), {"body": "x" * 5001, "then": "open"})
    assert response.status_code == 400
    program = SimpleUploadedFile("invoice.pdf.exe", b"MZ\x90\x00\x03\x00\x00\x00", content_type="application/pdf")
    response = client.post(
        reverse("messaging:reply", args=[conversation.pk]),
        {"body": "See the attachment", "then": "open", "attachments": [program]},
    )
    assert response.status_code == 400
    assert "this type of file is not accepted" in response.content.decode()
    assert not Message.objects.filter(kind=MessageKind.REPLY).exists()


def test_an_unknown_conversation_is_a_404(client, agent):
    signed_in(client, agent)
    assert client.get(reverse("messaging:thread", args=[999999])).status_code == 404
    assert client.post(reverse("messaging:reply", args=[999999]), {"body": "Hi", "then": "open"}).status_code == 404


def test_the_views_list_mine_unassigned_at_risk_and_breached(client, user, member, agent):
    now = timezone.now()
    with time_machine.travel(now - timedelta(hours=30), tick=False):
        late = start(user, body="Nobody answered me", subject="Late one")
    with time_machine.travel(now - timedelta(hours=20), tick=False):
        risky = start(member, body="Is my ad live?", subject="Risky one")
    fresh = start(member, body="Another question", subject="Fresh one")
    services.conversation_claim(conversation=fresh, by=agent)
    signed_in(client, agent)

    def listed(**query):
        page = client.get(reverse("messaging:home"), query)
        assert page.status_code == 200
        return [row.pk for row in page.context["page"].object_list]

    assert listed() == [late.pk, risky.pk, fresh.pk]  # soonest deadline first
    assert listed(view="mine") == [fresh.pk]
    assert listed(view="unassigned") == [late.pk, risky.pk]
    assert listed(view="at_risk") == [risky.pk]
    assert listed(view="breached") == [late.pk]
    # The dashboard promise links here with these flags.
    assert listed(at_risk="on") == [risky.pk]
    assert listed(breached="on") == [late.pk]
    # The live fragment lists the same rows.
    fragment = client.get(reverse("messaging:inbox-rows"), {"view": "breached"})
    assert fragment.status_code == 200 and b"Late one" in fragment.content and b"<html" not in fragment.content


def test_the_inbox_query_count_does_not_grow_with_the_rows(client, agent, django_assert_max_num_queries):
    signed_in(client, agent)
    for index in range(3):
        start(UserFactory(), body=f"Question {index}")
    # 15: the page, its tiles and the targets they are held to (one query, saypro.figures), computed by the
    # first request; the next ones within the refresh interval are served the shared tiles (messaging.tiles).
    with time_machine.travel(timezone.now(), tick=False):
        with django_assert_max_num_queries(15) as cold:
            client.get(reverse("messaging:home"))
        with django_assert_max_num_queries(INBOX_WARM_QUERIES) as few:
            client.get(reverse("messaging:home"))
        assert len(few.captured_queries) < len(cold.captured_queries)
        for index in range(12):
            start(UserFactory(), body=f"More {index}")
        with django_assert_max_num_queries(len(few.captured_queries)):
            client.get(reverse("messaging:home"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("messaging:inbox-rows"))


def test_the_thread_query_count_does_not_grow_with_the_messages(client, user, agent, django_assert_max_num_queries):
    conversation = start(user)
    signed_in(client, agent)
    with django_assert_max_num_queries(30) as few:
        client.get(reverse("messaging:thread", args=[conversation.pk]))
    for index in range(8):
        services.reply_send(conversation=conversation, by=agent, body=f"Reply {index}", then="open")
        services.message_send(conversation=conversation, user=user, body=f"Answer {index}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("messaging:thread", args=[conversation.pk]))
    with django_assert_max_num_queries(8):
        client.get(reverse("messaging:thread-messages", args=[conversation.pk]))


def test_a_user_reads_only_their_own_conversations(client, user, member):
    mine = start(user)
    theirs = start(member, body="Private question")
    signed_in(client, user)
    assert client.get(reverse("messages:conversation", args=[mine.pk])).status_code == 200
    assert client.get(reverse("messages:conversation", args=[theirs.pk])).status_code == 404
    response = client.post(reverse("messages:conversation", args=[theirs.pk]), {"body": "intrusion"})
    assert response.status_code == 404
    assert not Message.objects.filter(body="intrusion").exists()
    page = client.get(reverse("messages:list"))
    assert b"Private question" not in page.content


def test_the_user_never_sees_internal_notes(client, user, agent):
    conversation = start(user)
    services.note_add(conversation=conversation, by=agent, body="Check the seller's other ads")
    signed_in(client, user)
    page = client.get(reverse("messages:conversation", args=[conversation.pk]))
    assert b"Check the seller" not in page.content


def test_an_agent_writes_to_a_user_first(client, user, agent):
    signed_in(client, agent)
    response = client.post(
        reverse("messaging:new"),
        {"email": user.email, "subject": "Your ad was paused", "body": "Please add a price.", "category": "policy"},
    )
    assert response.status_code == 302
    conversation = user.conversations.get()
    assert conversation.initiated_by == "staff" and conversation.status == Status.WAITING
    bad = client.post(reverse("messaging:new"), {"email": "nobody@example.com", "subject": "x", "body": "y"})
    assert bad.status_code == 400 and "No marketplace user" in bad.content.decode()


def test_a_reply_refused_because_a_colleague_resolved_the_conversation_keeps_the_text(client, user, agent):
    conversation = start(user)
    services.conversation_resolve(conversation=conversation, by=None)
    signed_in(client, agent)
    typed = "Here is how to change the photos: open My ads & tap Edit."
    response = client.post(reverse("messaging:reply", args=[conversation.pk]), {"body": typed, "then": "waiting"})
    assert response.status_code == 400
    assert response.context["reply_form"]["body"].value() == typed
    assert "This conversation is resolved: reopen it to reply." in response.content.decode()
    assert not Message.objects.filter(kind=MessageKind.REPLY).exists()
