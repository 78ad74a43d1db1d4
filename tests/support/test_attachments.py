"""Ticket attachments reach the ticket's staff (and the requester, through the API) through views that check
access, with the stored type, `nosniff` and a file name; the ticket page links each one."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from support import services
from support.models import TicketAttachment

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
TEXT = b"Order 1234: the parcel never came."

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(user, ticket_for):
    return ticket_for(
        user,
        attachments=[
            SimpleUploadedFile("receipt.png", PNG, content_type="image/png"),
            SimpleUploadedFile("notes.txt", TEXT, content_type="text/plain"),
        ],
    )


def _item(ticket, name: str) -> TicketAttachment:
    return TicketAttachment.objects.get(message__ticket=ticket, name=name)


def test_an_agent_opens_an_attachment_from_the_ticket_page(as_, ticket):
    client = as_("agent")
    page = client.get(f"/dashboard/support/tickets/{ticket.pk}/").content.decode()
    item = _item(ticket, "receipt.png")
    url = f"/dashboard/support/tickets/{ticket.pk}/attachments/{item.pk}/"
    assert f'href="{url}"' in page

    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == 'inline; filename="receipt.png"'
    assert b"".join(response.streaming_content) == PNG


def test_an_attachment_is_served_only_under_its_own_ticket(as_, ticket, ticket_for, user):
    other = ticket_for(user, subject="Another question")
    item = _item(ticket, "receipt.png")
    assert as_("agent").get(f"/dashboard/support/tickets/{other.pk}/attachments/{item.pk}/").status_code == 404


def test_the_requester_downloads_their_attachment_through_the_api(ticket, user):
    item = _item(ticket, "notes.txt")
    client = APIClient()
    client.force_authenticate(user)
    detail = client.get(f"/api/v1/support/tickets/{ticket.pk}/").json()
    ids = {a["id"] for m in detail["messages"] for a in m["attachments"]}
    assert item.pk in ids

    response = client.get(f"/api/v1/support/tickets/{ticket.pk}/attachments/{item.pk}/")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == TEXT


def test_an_internal_note_s_attachment_stays_with_the_staff(ticket, user, agent):
    services.ticket_reply(
        ticket=ticket,
        by=agent,
        body="Bank statement from the finance team.",
        public=False,
        attachments=[SimpleUploadedFile("statement.png", PNG, content_type="image/png")],
    )
    item = _item(ticket, "statement.png")
    client = APIClient()
    client.force_authenticate(user)
    assert client.get(f"/api/v1/support/tickets/{ticket.pk}/attachments/{item.pk}/").status_code == 404
