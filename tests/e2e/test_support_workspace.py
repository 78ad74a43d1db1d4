"""An agent's support day in a real browser: take an unassigned ticket, answer it with a macro and solve it in
place; the requester rates it from the e-mail without signing in; the dashboard's ticket tile changes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import TestCase
from django.utils import timezone
from playwright.sync_api import expect

from support import services
from support.models import Article, ArticleCategory, Status, Survey, Ticket
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def sign_in(page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/dashboard/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/dashboard/")


def filed(user, subject: str, body: str, *, hours_ago: float, department: str = "billing") -> Ticket:
    past = timezone.now() - timedelta(hours=hours_ago)
    with time_machine.travel(past, tick=False), TestCase.captureOnCommitCallbacks(execute=True):
        return services.ticket_create(requester=user, subject=subject, body=body, channel="web", department=department)


def test_agent_takes_answers_with_a_macro_and_solves_and_the_rating_and_tile_follow(
    page, browser, live_server, agent, screenshot, monkeypatch
):
    monkeypatch.setattr("saypro.shared.REFRESH_SECONDS", 1)
    naledi = UserFactory(email="naledi@example.com", full_name="Naledi Khumalo")
    urgent = filed(naledi, "Charged twice for my order", "My card was charged twice for order SP-1042.", hours_ago=20)
    filed(
        UserFactory(full_name="Pieter Botha"),
        "Where is my parcel?",
        "No tracking update.",
        hours_ago=2,
        department="orders",
    )
    base = live_server.url

    sign_in(page, base, agent.email)
    tile = page.get_by_test_id("promise-ticket-resolution")
    expect(tile).to_be_visible()
    expect(page.get_by_test_id("tile-ticket-resolution-open")).to_have_text("2")
    expect(page.get_by_test_id("tile-ticket-resolution-at_risk")).to_have_text("1")
    screenshot(page, "support-dashboard-before")

    page.get_by_role("navigation", name="Staff areas").get_by_role("link", name="Support").click()
    page.get_by_role("navigation", name="Queues").get_by_role("link", name=re.compile("^Unassigned")).click()
    rows = page.locator("[data-testid=queue] tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-ticket", str(urgent.pk))
    expect(rows.first).to_have_class(re.compile("is-at-risk"))
    expect(rows.first.locator(".deadline").last).to_contain_text("left")
    screenshot(page, "support-queue")
    rows.first.get_by_role("button", name="Take").click()
    expect(page.locator(".messages")).to_contain_text(f"You took ticket #{urgent.pk}.")
    expect(page.get_by_test_id("count-mine")).to_have_text("1")

    page.locator(f"[data-ticket='{urgent.pk}']").get_by_role("link", name=re.compile("Charged twice")).click()
    expect(page.get_by_test_id("status")).to_have_text("New")
    page.get_by_label("Insert a macro").select_option(label="Solved: anything else?")
    reply = page.get_by_label("Reply")
    expect(reply).to_have_value(re.compile(r"^Hello Naledi,"))
    expect(page.get_by_label("Then set status")).to_have_value("solved")
    screenshot(page, "support-ticket-reply")
    url_before = page.url
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_test_id("status")).to_have_text("Solved")
    expect(page.get_by_test_id("resolution-met")).to_have_text("met")
    expect(page.get_by_test_id("timeline")).to_contain_text("macro: Solved: anything else?")
    assert page.url == url_before, "the reply was sent without a full reload"
    screenshot(page, "support-ticket-solved")

    ticket = Ticket.objects.get(pk=urgent.pk)
    assert ticket.status == Status.SOLVED and ticket.assignee == agent and ticket.first_responded_at is not None
    survey_mail = next(m for m in mail.outbox if m.to == [naledi.email] and "How did we do" in m.subject)
    link = re.search(r"http://\S+/survey/(\S+)/4/", survey_mail.body).group(0)
    requester = browser.new_context()
    rating_page = requester.new_page()
    rating_page.goto(link.replace("http://127.0.0.1:8000", base))
    expect(rating_page.get_by_test_id("recorded")).to_contain_text("4 out of 5")
    rating_page.get_by_label("Anything to add? (optional)").fill("Sorted within minutes, thank you!")
    rating_page.get_by_label("5").check()
    rating_page.get_by_role("button", name="Save").click()
    expect(rating_page.get_by_test_id("recorded")).to_contain_text("5 out of 5")
    screenshot(rating_page, "support-survey")
    requester.close()
    survey = Survey.objects.get(target_id=urgent.pk)
    assert survey.rating == 5 and survey.comment == "Sorted within minutes, thank you!" and survey.agent == agent

    page.get_by_role("navigation", name="Staff areas").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_test_id("tile-ticket-resolution-open")).to_have_text("1")
    expect(page.get_by_test_id("tile-ticket-resolution-at_risk")).to_have_text("0")
    screenshot(page, "support-dashboard-after")


def test_help_center_and_figures_pages(page, live_server, manager, agent, screenshot):
    payments = ArticleCategory.objects.get(slug="payments")
    Article.objects.create(
        category=payments,
        title="When will I get my refund?",
        slug="refund",
        body="## Timing\n\nApproved refunds reach your account within **5–7 working days**.\n\n- Card: 5 days",
    )
    for hours in (30, 5):
        ticket = filed(UserFactory(), "Payout", "Where is my payout?", hours_ago=hours)
        with time_machine.travel(timezone.now() - timedelta(hours=hours - 1), tick=False):
            services.ticket_reply(ticket=ticket, by=agent, body="Done", status=Status.SOLVED)
    base = live_server.url
    page.goto(f"{base}/help/?q=refund")
    page.get_by_role("link", name="When will I get my refund?").click()
    expect(page.get_by_test_id("article-body").locator("strong")).to_have_text("5–7 working days")
    page.get_by_role("button", name="Yes").click()
    expect(page.get_by_test_id("vote")).to_contain_text("Thank you for your feedback")
    screenshot(page, "support-help-article")
    sign_in(page, base, manager.email)
    page.goto(f"{base}/dashboard/support/figures/")
    expect(page.get_by_test_id("figure-compliance")).to_have_text("100.0 %")
    screenshot(page, "support-figures")
    services.known_issue_save(by=agent, title="Photo upload fails on Android 14", status="identified")
    page.goto(f"{base}/dashboard/support/known-issues/")
    expect(page.get_by_test_id("found")).to_have_text("1")
    screenshot(page, "support-known-issues")
    page.goto(f"{base}/help/")
    expect(page.get_by_role("heading", name="How can we help?")).to_be_visible()
    screenshot(page, "support-help-home")
