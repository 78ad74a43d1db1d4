"""A staff form refused for its input comes back with what the person typed in it, beside the error."""

from __future__ import annotations

from html import escape

import pytest
from django.test import TestCase

from messaging import services as messaging
from moderation import services as moderation
from support import services as support
from tests.accounts.test_pages import pending
from tests.factories import UserFactory
from tests.moderation.conftest import flagged

pytestmark = pytest.mark.django_db

TYPED = "Dear Lerato, we looked at this twice & here is what we found."


def test_every_staff_form_keeps_the_text_typed_when_it_is_refused(client, administrator, moderator):
    person = UserFactory(email="lerato@example.com", full_name="Lerato Molefe")
    with TestCase.captureOnCommitCallbacks(execute=True):
        conversation = messaging.conversation_start(user=person, subject="Refund", body="Please refund me.")
        ticket = support.ticket_create(requester=person, subject="Payout missing", body="Hello", channel="web")
    late = pending(hours_ago=50)  # past its deadline: a decision also needs the cause of the delay
    _listing, case = flagged(hours_ago=1)
    decided_listing, decided_case = flagged(hours_ago=2)
    moderation.case_decide(case=decided_case, by=moderator, action="remove", rule="scam", reason="Scam.")
    appeal = moderation.appeal_file(case=decided_case, by=decided_listing.seller, statement="Mine.")

    # (who, address, what is posted): each post is refused for another field or for the text's length.
    posts = [
        (administrator, f"/dashboard/messages/{conversation.pk}/reply/", {"body": TYPED, "then": "bogus"}),
        (administrator, f"/dashboard/messages/{conversation.pk}/note/", {"body": TYPED + "x" * 5000}),
        (administrator, f"/dashboard/messages/{conversation.pk}/escalate/", {"reason": TYPED + "x" * 300}),
        (administrator, f"/dashboard/support/tickets/{ticket.pk}/reply/", {"body": TYPED, "status": "bogus"}),
        (administrator, f"/dashboard/support/tickets/{ticket.pk}/cc/", {"cc": TYPED + "x" * 2600}),
        (administrator, "/dashboard/support/known-issues/", {"title": "x" * 201, "description": TYPED}),
        (administrator, f"/dashboard/registrations/{late.pk}/reject/", {"reject-reason": TYPED}),
        (moderator, f"/dashboard/moderation/cases/{case.pk}/decide/", {"reason": TYPED}),
        (administrator, "/dashboard/moderation/keywords/", {"phrase": "bank transfer", "weight": 500}),
        (UserFactory(roles=["Moderator"]), f"/dashboard/moderation/appeals/{appeal.pk}/", {"reason": TYPED}),
    ]
    for who, url, data in posts:
        client.force_login(who)
        response = client.post(url, data)
        html = response.content.decode()
        assert response.status_code in (200, 400), (url, response.status_code)
        assert 'class="errorlist' in html or "form-errors" in html, url
        typed = next(value for value in data.values() if isinstance(value, str) and value.startswith(("Dear", "bank")))
        assert escape(typed[:60]) in html, url
