"""A manager reads what users' comments are about on the support area page and logs an improvement for a topic;
the improvement log links back to the topic."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from reports.models import Improvement
from support.services import comment_topics_refresh
from tests.factories import PASSWORD
from tests.support.test_comment_topics import DELIVERY, PRAISE, REFUND, commented, topic_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_manager_turns_a_comment_topic_into_an_improvement(page, live_server, manager, screenshot):
    now = timezone.now()
    # This month so far (at most a few days back) and the month before.
    recent = min(now, max(timezone.localtime(now).replace(day=1, hour=0, minute=5), now - timedelta(days=3)))
    commented(recent, REFUND + PRAISE[:2], rating=2)
    commented(recent, DELIVERY[:2], rating=3)
    commented(now - timedelta(days=40), DELIVERY + PRAISE[2:], rating=2)
    comment_topics_refresh()
    refund = topic_of(REFUND[0])

    base = live_server.url
    page.goto(f"{base}/dashboard/areas/support/")
    page.get_by_label("E-mail address").fill(manager.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("section-comment_topics")).to_contain_text(refund.label)
    card = page.locator(f"#topic-{refund.pk}")
    expect(card).to_contain_text(REFUND[1])
    screenshot(page, "support-comment-topics")

    card.get_by_role("link", name=f"Log an improvement for “{refund.label}”").click()
    expect(page.get_by_role("heading", name=f"Log an improvement for “{refund.label}”")).to_be_visible()
    page.get_by_label("Change").fill("Refunds paid within three days")
    page.get_by_label("Description").fill("A daily refund run instead of a weekly one.")
    screenshot(page, "support-topic-improvement")
    page.get_by_role("button", name="Add to the log").click()
    expect(page.get_by_test_id("improvements")).to_contain_text("Refunds paid within three days")
    expect(page.get_by_test_id("improvements")).to_contain_text(f"Answers the comment topic {refund.label}")
    entry = Improvement.objects.get()
    assert (entry.topic_id, entry.created_by) == (refund.pk, manager)
    page.get_by_role("link", name=refund.label).click()
    expect(page.locator(f"#topic-{refund.pk}")).to_be_visible()
