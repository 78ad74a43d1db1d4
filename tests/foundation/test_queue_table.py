"""Every work queue draws its table from one template: the same markup, marks and keys on every queue."""

from __future__ import annotations

import pytest
from django.test import TestCase

from messaging import services as messaging
from moderation import services as moderation
from support import services as support
from tests.accounts.test_pages import pending
from tests.factories import UserFactory
from tests.moderation.conftest import flagged

pytestmark = pytest.mark.django_db


def test_each_queue_page_renders_its_rows_through_the_shared_queue_table(client, administrator, moderator):
    person = UserFactory(email="lerato@example.com", full_name="Lerato Molefe")
    registration = pending(hours_ago=47.5)
    with TestCase.captureOnCommitCallbacks(execute=True):
        conversation = messaging.conversation_start(user=person, subject="Refund", body="Please refund me.")
        ticket = support.ticket_create(requester=person, subject="Payout missing", body="Hello", channel="web")
    listing, case = flagged(hours_ago=1)
    moderation.case_decide(case=case, by=moderator, action="remove", rule="scam", reason="Scam.")
    appeal = moderation.appeal_file(case=case, by=listing.seller, statement="It was mine.")
    client.force_login(administrator)

    pages = {
        "/dashboard/registrations/": f'data-registration="{registration.pk}"',
        "/dashboard/messages/?view=all": f'data-conversation="{conversation.pk}"',
        "/dashboard/support/?view=all": f'data-ticket="{ticket.pk}"',
        "/dashboard/moderation/?status=all": f'data-case="{case.pk}"',
        "/dashboard/moderation/appeals/": f'data-appeal="{appeal.pk}"',
    }
    for url, row in pages.items():
        if "appeals" in url:  # decided by a moderator other than the one who took the decision
            client.force_login(UserFactory(email="second@saypro.example", roles=["Moderator"]))
        response = client.get(url)
        assert response.status_code == 200, url
        assert "_queue_table.html" in [template.name for template in response.templates], url
        html = response.content.decode()
        assert html.count('<table class="data queue"') == 1, url
        assert row in html, url
    # The registration near its deadline is marked by the shared row markup.
    client.force_login(administrator)
    registrations = client.get("/dashboard/registrations/").content.decode()
    assert f'<tr class="is-at-risk" data-registration="{registration.pk}">' in registrations


def test_an_empty_queue_says_so_in_its_own_words(client, moderator):
    client.force_login(moderator)
    html = client.get("/dashboard/moderation/appeals/").content.decode()
    assert "No appeals here." in html and "<table" not in html
