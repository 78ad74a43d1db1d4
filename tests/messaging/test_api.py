"""The messaging API: users' own conversations, the staff inbox and actions, errors and query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from messaging import services
from messaging.models import Conversation, MessageKind, Status
from tests.factories import UserFactory
from tests.keyset import walk
from tests.messaging.conftest import clock, start

pytestmark = pytest.mark.django_db


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_a_user_starts_a_conversation_with_an_attachment_and_sees_the_acknowledgement(
    user, django_capture_on_commit_callbacks
):
    photo = SimpleUploadedFile("ad.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100, content_type="image/png")
    with django_capture_on_commit_callbacks(execute=True):
        response = api(user).post(
            "/api/v1/conversations/",
            {"subject": "My ad", "body": "Why is my ad not visible?", "listing_ref": "4411", "attachments": [photo]},
            format="multipart",
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "open" and body["listing_ref"] == "4411"
    kinds = [m["kind"] for m in body["messages"]]
    assert kinds == ["user", "auto"]
    assert body["messages"][0]["attachments"][0]["content_type"] == "image/png"
    assert "category" not in body and "assigned_to" not in body
    attachment_id = body["messages"][0]["attachments"][0]["id"]
    download = api(user).get(f"/api/v1/conversations/{body['id']}/attachments/{attachment_id}/")
    assert download.status_code == 200 and download["Content-Type"] == "image/png"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"body": ""}, "body"),
        ({"body": "   "}, "body"),
        ({"body": "x" * 5001}, "body"),
        ({"body": "ok", "subject": "s" * 201}, "subject"),
    ],
)
def test_bad_input_gets_the_one_error_shape_with_field_messages(user, payload, field):
    response = api(user).post("/api/v1/conversations/", payload, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]
    assert not Conversation.objects.exists()


def test_a_forbidden_or_oversized_attachment_is_refused(user):
    script = SimpleUploadedFile("photo.jpg", b"#!/bin/sh\x00rm -rf /", content_type="image/jpeg")
    response = api(user).post(
        "/api/v1/conversations/", {"body": "see file", "attachments": [script]}, format="multipart"
    )
    assert response.status_code == 400
    assert "not accepted" in response.json()["error"]["fields"]["attachments"][0]
    huge = SimpleUploadedFile("scan.pdf", b"%PDF-1.4" + b"0" * (5 * 1024 * 1024), content_type="application/pdf")
    response = api(user).post("/api/v1/conversations/", {"body": "see file", "attachments": [huge]}, format="multipart")
    assert response.status_code == 400 and "larger than 5 MB" in response.json()["error"]["fields"]["attachments"][0]
    assert not Conversation.objects.exists()


def test_users_messages_are_rate_limited(user, settings):
    settings.MESSAGING_USER_MESSAGES_PER_HOUR = 2
    client = api(user)
    assert client.post("/api/v1/conversations/", {"body": "one"}, format="json").status_code == 201
    assert client.post("/api/v1/conversations/", {"body": "two"}, format="json").status_code == 201
    third = client.post("/api/v1/conversations/", {"body": "three"}, format="json")
    assert third.status_code == 429 and third.json()["error"]["code"] == "rate_limited"
    assert Conversation.objects.count() == 2


def test_a_user_cannot_read_or_write_another_users_conversation(user, member):
    theirs = start(member, body="My private question")
    client = api(user)
    assert client.get(f"/api/v1/conversations/{theirs.pk}/").status_code == 404
    assert client.post(f"/api/v1/conversations/{theirs.pk}/messages/", {"body": "hi"}, format="json").status_code == 404
    assert client.get("/api/v1/conversations/").json()["results"] == []
    assert api().get("/api/v1/conversations/").status_code == 401


def test_an_unknown_conversation_is_a_404_with_the_error_shape(user, agent):
    assert api(user).get("/api/v1/conversations/424242/").json()["error"]["code"] == "not_found"
    assert api(agent).get("/api/v1/staff/conversations/424242/").status_code == 404
    response = api(agent).post("/api/v1/staff/conversations/424242/messages/", {"body": "hi"}, format="json")
    assert response.status_code == 404


def test_the_user_sees_replies_but_not_notes_or_activity(user, agent):
    conversation = start(user)
    services.reply_send(conversation=conversation, by=agent, body="Here is how.", then="open")
    services.note_add(conversation=conversation, by=agent, body="Internal remark")
    body = api(user).get(f"/api/v1/conversations/{conversation.pk}/").json()
    assert [m["kind"] for m in body["messages"]] == ["user", "auto", "reply"]
    assert body["unread"] is False


def test_staff_inbox_lists_with_views_and_rejects_a_bad_filter(user, member, agent):
    first = start(user)
    start(member)
    services.conversation_claim(conversation=first, by=agent)
    client = api(agent)
    rows = client.get("/api/v1/staff/conversations/", {"view": "mine"}).json()["results"]
    assert [row["id"] for row in rows] == [first.pk]
    assert rows[0]["first_response_state"] == "running" and rows[0]["is_breached"] is False
    bad = client.get("/api/v1/staff/conversations/", {"view": "everything"})
    assert bad.status_code == 400 and "view" in bad.json()["error"]["fields"]


def test_the_staff_inbox_list_reads_no_message_of_its_rows(user, agent):
    """The page's previews (the last message, unread) are three subqueries a row; the API shows none of them."""
    start(user)
    with CaptureQueriesContext(connection) as queries:
        assert len(api(agent).get("/api/v1/staff/conversations/").json()["results"]) == 1
    assert not [q["sql"] for q in queries if "messaging_message" in q["sql"]]


def test_staff_endpoints_check_roles(user, moderator, reviewer):
    conversation = start(user)
    assert api(reviewer).get("/api/v1/staff/conversations/").status_code == 403
    assert api(user).get("/api/v1/staff/conversations/").status_code == 403
    # A moderator sees the thread and may leave a note, but only support agents answer the user.
    assert api(moderator).get(f"/api/v1/staff/conversations/{conversation.pk}/").status_code == 200
    reply = api(moderator).post(
        f"/api/v1/staff/conversations/{conversation.pk}/messages/", {"body": "hi"}, format="json"
    )
    assert reply.status_code == 403
    note = api(moderator).post(
        f"/api/v1/staff/conversations/{conversation.pk}/messages/",
        {"body": "seller known", "internal": True},
        format="json",
    )
    assert note.status_code == 201 and note.json()["kind"] == MessageKind.NOTE
    assert api(moderator).post(f"/api/v1/staff/conversations/{conversation.pk}/resolve/").status_code == 403


def test_an_agent_works_a_conversation_through_the_api(user, agent):
    conversation = start(user)
    client = api(agent)
    url = f"/api/v1/staff/conversations/{conversation.pk}"
    assert client.post(f"{url}/claim/").json()["assigned_to"]["id"] == agent.pk
    assert client.post(f"{url}/category/", {"category": "support"}, format="json").json()["category"] == "support"
    assert client.post(f"{url}/category/", {"category": "nonsense"}, format="json").status_code == 400
    reply = client.post(f"{url}/messages/", {"body": "Fixed it.", "then": "open"}, format="json")
    assert reply.status_code == 201
    assert clock(conversation, services.FIRST_RESPONSE).met is True
    assert client.post(f"{url}/escalate/", {"reason": ""}, format="json").status_code == 400
    resolved = client.post(f"{url}/resolve/", {"note": "done"}, format="json").json()
    assert resolved["status"] == Status.RESOLVED
    again = client.post(f"{url}/messages/", {"body": "one more"}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "resolved"
    assert client.post(f"{url}/reopen/").json()["status"] == Status.OPEN


def test_an_agent_starts_an_outbound_conversation_through_the_api(user, agent, reviewer):
    client = api(agent)
    response = client.post(
        "/api/v1/staff/conversations/",
        {"user": user.pk, "subject": "Your renewal", "body": "Your ad renews tomorrow.", "category": "renewal"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["initiated_by"] == "staff" and response.json()["status"] == Status.WAITING
    staff_target = client.post(
        "/api/v1/staff/conversations/", {"user": reviewer.pk, "subject": "x", "body": "y"}, format="json"
    )
    assert staff_target.status_code == 400 and "user" in staff_target.json()["error"]["fields"]


def test_list_endpoints_run_a_constant_number_of_queries(user, agent, django_assert_max_num_queries):
    for _ in range(2):
        start(UserFactory())
    start(user)
    client = api(agent)
    with django_assert_max_num_queries(8) as few:
        client.get("/api/v1/staff/conversations/")
    for _ in range(10):
        conversation = start(UserFactory())
        services.reply_send(conversation=conversation, by=agent, body="hi")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get("/api/v1/staff/conversations/", {"page_size": 50}).json()["results"]) == 13
    for _ in range(10):
        services.message_send(conversation=Conversation.objects.filter(user=user).first(), user=user, body="more")
    with django_assert_max_num_queries(6):
        api(user).get("/api/v1/conversations/")


def test_walking_the_agent_inbox_by_cursor_gives_the_inbox_order(agent):
    """Soonest next deadline first: the answer owed, or the resolution once answered."""
    conversations = []
    for hours_ago in (20, 20, 5, 1, 0):
        with time_machine.travel(timezone.now() - timedelta(hours=hours_ago), tick=False):
            conversations.append(start(UserFactory()))
    services.reply_send(conversation=conversations[2], by=agent, body="On it")
    client = api(agent)
    whole = [row["id"] for row in client.get("/api/v1/staff/conversations/").json()["results"]]
    assert sorted(whole) == sorted(c.pk for c in conversations)
    assert walk(client, "/api/v1/staff/conversations/") == whole
    assert walk(client, "/api/v1/staff/conversations/", page_size=1) == whole
