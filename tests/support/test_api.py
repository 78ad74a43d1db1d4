"""The support API: a user's own tickets, Report an issue, live chat, guidance and deflection, points, staff queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from saypro.errors import InvalidInput
from support import services
from support.models import Article, ArticleCategory, Guidance, Status, Ticket, TicketAttachment
from tests.factories import UserFactory
from tests.keyset import walk

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"0" * 50
# The start of a Windows program (the DOS header), whatever name and type the client gives it.
PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_user_files_a_ticket_and_sees_only_their_own(user, django_capture_on_commit_callbacks):
    client = as_user(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/support/tickets/", {"subject": "Payout", "body": "Where is it?"}, format="json")
    assert response.status_code == 201 and response.json()["status"] == "new"
    mine = response.json()["id"]
    other = services.ticket_create(requester=UserFactory(), subject="Theirs", body="Private", channel="web")
    listed = client.get("/api/v1/support/tickets/").json()["results"]
    assert [row["id"] for row in listed] == [mine]
    assert client.get(f"/api/v1/support/tickets/{other.pk}/").status_code == 404
    assert client.post(f"/api/v1/support/tickets/{other.pk}/replies/", {"body": "hi"}, format="json").status_code == 404
    assert APIClient().get("/api/v1/support/tickets/").status_code == 401


def test_users_never_see_internal_notes(user, agent):
    ticket = services.ticket_create(requester=user, subject="Q", body="?", channel="web", department="general")
    services.ticket_reply(ticket=ticket, by=agent, body="Secret note", public=False)
    services.ticket_reply(ticket=ticket, by=agent, body="Public answer", status=Status.PENDING)
    detail = as_user(user).get(f"/api/v1/support/tickets/{ticket.pk}/").json()
    assert [m["body"] for m in detail["messages"]] == ["Public answer"] and detail["status"] == "pending"
    response = as_user(user).post(f"/api/v1/support/tickets/{ticket.pk}/replies/", {"body": "Thanks"}, format="json")
    assert response.status_code == 201 and response.json()["status"] == "open"


def test_bad_ticket_input_gets_the_one_error_shape(user):
    client = as_user(user)
    response = client.post("/api/v1/support/tickets/", {"body": "", "channel": "fax"}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and {"body", "channel"} <= set(error["fields"])
    too_long = client.post("/api/v1/support/tickets/", {"body": "x" * 20_001}, format="json")
    assert too_long.status_code == 400 and "body" in too_long.json()["error"]["fields"]
    bad_cc = client.post("/api/v1/support/tickets/", {"body": "hi", "cc": ["nope"]}, format="json")
    assert bad_cc.status_code == 400 and "cc" in bad_cc.json()["error"]["fields"]
    exe = SimpleUploadedFile("virus.exe", PROGRAM, content_type="application/x-msdownload")
    upload = client.post("/api/v1/support/tickets/", {"body": "see file", "attachments": [exe]}, format="multipart")
    assert upload.status_code == 400 and "attachments" in upload.json()["error"]["fields"]
    assert not Ticket.objects.exists()


def test_attachments_are_stored_with_the_ticket(user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    image = SimpleUploadedFile("screen.png", PNG, content_type="image/png")
    response = as_user(user).post(
        "/api/v1/support/tickets/", {"body": "see screenshot", "attachments": [image]}, format="multipart"
    )
    assert response.status_code == 201
    attachment = TicketAttachment.objects.get()
    assert attachment.name == "screen.png" and attachment.size == len(PNG)
    assert attachment.content_type == "image/png"


def test_a_program_declared_as_a_png_is_refused_on_a_ticket(user, agent, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    disguised = SimpleUploadedFile("screen.png", PROGRAM, content_type="image/png")
    response = as_user(user).post(
        "/api/v1/support/tickets/", {"body": "see screenshot", "attachments": [disguised]}, format="multipart"
    )
    assert response.status_code == 400
    assert "screen.png" in response.json()["error"]["fields"]["attachments"][0]
    assert not Ticket.objects.exists()
    # The same check guards the requester's answers and the agents' replies.
    ticket = services.ticket_create(requester=user, subject="Photos", body="?", channel="web", department="general")
    disguised.seek(0)
    with pytest.raises(InvalidInput):
        services.ticket_requester_reply(ticket=ticket, body="here", attachments=[disguised])
    with pytest.raises(InvalidInput):
        services.ticket_reply(ticket=ticket, by=agent, body="here", attachments=[disguised])
    # The type stored is the one read from the file, not the one the client declared.
    text = SimpleUploadedFile("notes.pdf", b"Steps: open the app, tap Photos.", content_type="application/pdf")
    services.ticket_requester_reply(ticket=ticket, body="my notes", attachments=[text])
    stored = TicketAttachment.objects.get()
    assert (stored.content_type, stored.name) == ("text/plain", "notes.pdf.txt")
    assert not TicketAttachment.objects.filter(name="screen.png").exists()


def test_live_chat_outside_the_opening_hours_is_filed_as_an_email_ticket(user, agent, settings):
    settings.SUPPORT_LIVE_CHAT_TIME_ZONE = "Africa/Johannesburg"
    client = as_user(user)
    with time_machine.travel("2026-03-02 21:30:00Z", tick=False):  # 23:30 local
        status = APIClient().get("/api/v1/support/live-chat/").json()
        response = client.post("/api/v1/support/tickets/", {"body": "hello", "channel": "chat"}, format="json")
    assert (
        status["open"] is False
        and status["hours"] == "08:00-22:00"
        and status["opens_at"].startswith("2026-03-03T08:00")
    )
    assert response.status_code == 201
    assert (response.json()["channel"], response.json()["chat"]["reason"]) == ("email", "closed")
    with time_machine.travel("2026-03-02 10:00:00Z", tick=False):
        opened = client.post("/api/v1/support/tickets/", {"body": "hello", "channel": "chat"}, format="json")
    assert opened.status_code == 201
    assert (opened.json()["channel"], opened.json()["chat"]["available"]) == ("chat", True)


def test_report_an_issue_endpoint(user):
    response = as_user(user).post(
        "/api/v1/support/report-issue/",
        {
            "description": "Photos do not upload",
            "page": "/sell",
            "app_version": "4.2",
            "device": "iPhone 15",
            "listing_id": "L-7",
            "log": "upload failed 500",
        },
        format="json",
    )
    assert response.status_code == 201 and response.json()["category"] == "platform_issue"
    ticket = Ticket.objects.get()
    assert ticket.context["listing_id"] == "L-7" and ticket.subject == "Problem on /sell"
    oversized = as_user(user).post(
        "/api/v1/support/report-issue/", {"description": "x", "log": "y" * 64_001}, format="json"
    )
    assert oversized.status_code == 400 and "log" in oversized.json()["error"]["fields"]


@pytest.fixture
def articles(db):
    payments = ArticleCategory.objects.get(slug="payments")
    account = ArticleCategory.objects.get(slug="account")
    return [
        Article.objects.create(
            category=payments,
            title="When will I get my refund?",
            slug="refund",
            body="Refunds reach your bank account within 5 to 7 working days after approval.",
        ),
        Article.objects.create(
            category=account,
            title="Reset your password",
            slug="password",
            body="Forgot your password? Use the reset link on the sign-in page.",
        ),
    ]


def test_guidance_suggests_the_best_article_and_a_read_without_ticket_is_a_deflection(user, articles):
    client = as_user(user)
    response = client.post("/api/v1/support/guidance/", {"question": "how long does a refund take?"}, format="json")
    body = response.json()
    assert response.status_code == 201 and body["articles"][0]["title"] == "When will I get my refund?"
    assert 0 < body["confidence"] <= 1 and body["articles"][0]["url"] == "/help/payments/refund/"
    read = client.post(f"/api/v1/support/guidance/{body['id']}/read/", {"article": articles[0].pk}, format="json")
    assert read.status_code == 200
    guidance = Guidance.objects.get()
    assert guidance.read_article == articles[0] and guidance.ticket is None
    assert (
        client.post(
            f"/api/v1/support/guidance/{body['id']}/read/", {"article": articles[1].pk}, format="json"
        ).status_code
        == 400
    )
    # Filing after all links the ticket: no deflection.
    client.post("/api/v1/support/tickets/", {"body": "still waiting", "guidance": body["id"]}, format="json")
    assert Guidance.objects.get().ticket is not None
    other = as_user(UserFactory())
    assert (
        other.post(
            f"/api/v1/support/guidance/{body['id']}/read/", {"article": articles[0].pk}, format="json"
        ).status_code
        == 404
    )


def test_guidance_refuses_an_empty_question_and_help_search_is_public(articles):
    assert APIClient().post("/api/v1/support/guidance/", {"question": "?"}, format="json").status_code == 400
    results = APIClient().get("/api/v1/help/articles/?q=password").json()
    assert [row["title"] for row in results] == ["Reset your password"]


def test_points_balance_after_a_survey_answer(user, agent):
    ticket = services.ticket_create(requester=user, subject="Q", body="?", channel="web", department="general")
    survey = services.survey_send(target=ticket, requester=user, agent=agent, department=None, channel="web")
    services.survey_answer(token=services.survey_token(survey), rating=5)
    body = as_user(user).get("/api/v1/support/points/").json()
    assert body["balance"] == 10 and body["entries"][0]["reason"] == "Answered a satisfaction survey"


@pytest.mark.parametrize("rows", [3, 30])
def test_staff_queue_endpoint_query_count_and_permissions(agent, user, rows, django_assert_max_num_queries):
    for _ in range(rows):
        services.ticket_create(requester=UserFactory(), subject="Q", body="?", channel="web", department="orders")
    client = as_user(agent)
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/staff/tickets/?view=all&page_size=50")
    assert response.status_code == 200 and len(response.json()["results"]) == rows
    assert client.get("/api/v1/staff/tickets/?view=nonsense").status_code == 400
    assert as_user(user).get("/api/v1/staff/tickets/").status_code == 403


def test_walking_the_staff_queue_by_cursor_gives_the_queue_order(agent):
    """Breached first, then by deadline: ties in creation time and a flag among the sort keys."""
    for hours_ago, priority in [(30, "normal"), (30, "normal"), (2, "urgent"), (2, "normal"), (1, "low"), (0, "high")]:
        with time_machine.travel(timezone.now() - timedelta(hours=hours_ago), tick=False):
            services.ticket_create(
                requester=UserFactory(), subject="Q", body="?", channel="web", department="orders", priority=priority
            )
    client = as_user(agent)
    whole = [row["id"] for row in client.get("/api/v1/staff/tickets/", {"page_size": 50}).json()["results"]]
    assert len(whole) == 6
    assert walk(client, "/api/v1/staff/tickets/") == whole
    breached = client.get("/api/v1/staff/tickets/", {"breached": "on"}).json()["results"]
    assert len(breached) >= 2
    assert walk(client, "/api/v1/staff/tickets/", {"breached": "on"}, page_size=1) == [row["id"] for row in breached]


def test_staff_reply_endpoint(agent, manager):
    ticket = services.ticket_create(requester=UserFactory(), subject="Q", body="?", channel="web", department="orders")
    response = as_user(agent).post(
        f"/api/v1/staff/tickets/{ticket.pk}/reply/", {"body": "On it", "status": "solved"}, format="json"
    )
    assert response.status_code == 201 and response.json()["status"] == "solved"
    assert (
        as_user(manager).post(f"/api/v1/staff/tickets/{ticket.pk}/reply/", {"body": "x"}, format="json").status_code
        == 403
    )
    bad = as_user(agent).post(f"/api/v1/staff/tickets/{ticket.pk}/reply/", {"body": "x", "macro": 99999}, format="json")
    assert bad.status_code == 400 and "macro" in bad.json()["error"]["fields"]


def test_inbound_email_opens_a_ticket_and_an_answer_on_its_reference_adds_to_it(user, settings):
    settings.SUPPORT_INBOUND_EMAIL_TOKEN = "gateway-secret"
    gateway = APIClient()
    mail_in = {
        "sender": user.email.upper(),
        "subject": "Invoice copy",
        "text": "Please send it.",
        "message_id": "<a@x>",
    }
    assert gateway.post("/api/v1/support/inbound-email/", mail_in, format="json").status_code == 403
    gateway.credentials(HTTP_AUTHORIZATION="Bearer gateway-secret")
    first = gateway.post("/api/v1/support/inbound-email/", mail_in, format="json")
    again = gateway.post("/api/v1/support/inbound-email/", mail_in, format="json")
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    ticket = Ticket.objects.get()
    assert ticket.channel == "email" and ticket.requester == user
    answer = {"sender": user.email, "subject": f"Re: [#{ticket.pk}] Invoice copy", "text": "Any news?"}
    gateway.post("/api/v1/support/inbound-email/", answer, format="json")
    assert Ticket.objects.count() == 1 and ticket.messages.get().body == "Any news?"
    stranger = {"sender": "nobody@example.org", "subject": "Hi", "text": "Hello"}
    response = gateway.post("/api/v1/support/inbound-email/", stranger, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "unknown_sender"
    settings.SUPPORT_INBOUND_EMAIL_TOKEN = ""
    assert gateway.post("/api/v1/support/inbound-email/", mail_in, format="json").status_code == 404


def test_own_ticket_list_query_count_does_not_grow(user, django_assert_max_num_queries):
    for _ in range(20):
        services.ticket_create(requester=user, subject="Q", body="?", channel="web", department="orders")
    with django_assert_max_num_queries(4):
        response = as_user(user).get("/api/v1/support/tickets/")
    assert len(response.json()["results"]) == 20
