"""The agent workspace pages, the help center and the survey page, per persona."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from accounts import roles
from saypro import paginators
from saypro.sla.services import sla_sweep
from support import services
from support.models import (
    Article,
    ArticleCategory,
    ArticleVote,
    KnownIssue,
    Macro,
    PointsEntry,
    Status,
    Survey,
    Ticket,
    TicketMessage,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PERSONAS = ["user", "outsider", "moderator", "reviewer", "agent", "manager", "administrator"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_opens_the_queue_and_who_may_answer(as_, persona, user, ticket_for):
    ticket = ticket_for(UserFactory(), department="general")
    client = as_(persona)
    queue = client.get("/dashboard/support/")
    page = client.get(f"/dashboard/support/tickets/{ticket.pk}/")
    reply = client.post(f"/dashboard/support/tickets/{ticket.pk}/reply/", {"body": "Hello"})
    allowed_to_see = persona in {"agent", "manager", "administrator"}
    allowed_to_answer = persona in {"agent", "administrator"}
    assert queue.status_code == (200 if allowed_to_see else 403)
    assert page.status_code == (200 if allowed_to_see else 403)
    assert reply.status_code == (302 if allowed_to_answer else 403)
    assert TicketMessage.objects.filter(kind="reply").exists() == allowed_to_answer


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/dashboard/support/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_support_grants_no_moderation_rights_and_managers_see_figures(as_, agent, manager):
    from django.apps import apps

    granted = [code for codes in apps.get_app_config("support").role_permissions.values() for code in codes]
    assert not [code for code in granted if not code.startswith(("support.", "sla."))]
    assert agent.has_perm("support.reply_ticket") and not agent.has_perm("moderation.decide_case")
    assert not agent.has_perm("support.view_support_figures") and manager.has_perm("support.view_support_figures")
    assert not manager.has_perm("support.reply_ticket")
    assert as_("agent").get("/dashboard/support/figures/").status_code == 403
    assert as_("manager").get("/dashboard/support/figures/").status_code == 200


def queue_ids(response) -> list[int]:
    return [int(value) for value in re.findall(r'data-ticket="(\d+)"', response.content.decode())]


def test_queue_views_and_the_promise_filters(as_, agent, ticket_for, billing):
    with time_machine.travel("2026-03-02 08:00:00Z", tick=False) as traveller:
        late = ticket_for(UserFactory(), department="billing")
        traveller.shift(timedelta(hours=6))
        risky = ticket_for(UserFactory(), department="billing")
        traveller.shift(timedelta(hours=14))
        mine = ticket_for(UserFactory(), department="orders")
        services.ticket_take(ticket=mine, by=agent)
        triage = ticket_for(UserFactory(), subject="Hmm", body="unclear thing")
        traveller.shift(timedelta(hours=5))
        sla_sweep()
        billing.members.add(agent)
        client = as_("agent")
        assert queue_ids(client.get("/dashboard/support/?view=mine")) == [mine.pk]
        assert queue_ids(client.get("/dashboard/support/?view=team")) == [late.pk, risky.pk]
        assert queue_ids(client.get("/dashboard/support/?view=triage")) == [triage.pk]
        assert queue_ids(client.get("/dashboard/support/?view=breached")) == [late.pk]
        assert queue_ids(client.get("/dashboard/support/?breached=on")) == [late.pk]
        assert queue_ids(client.get("/dashboard/support/?at_risk=on")) == [risky.pk]
        everything = client.get("/dashboard/support/")
        assert queue_ids(everything)[0] == late.pk and set(queue_ids(everything)) == {
            late.pk,
            risky.pk,
            mine.pk,
            triage.pk,
        }
        body = everything.content.decode()
        assert 'data-testid="count-breached">1<' in body and 'data-testid="count-at_risk">1<' in body
        assert "overdue" in body
        fragment = client.get("/dashboard/support/?view=mine", HTTP_X_REQUESTED_WITH="fetch")
        assert b"<html" not in fragment.content and queue_ids(fragment) == [mine.pk]


def test_queue_rows_count_down_both_deadlines_and_mark_the_row_at_risk(as_, ticket_for):
    """Each open ticket's row shows its first answer's and its resolution's deadline; the row is marked at risk
    from three quarters of the resolution time."""
    with time_machine.travel("2026-03-02 08:00:00Z", tick=False) as traveller:
        older = ticket_for(UserFactory())
        traveller.shift(timedelta(hours=20))
        fresh = ticket_for(UserFactory())
        page = as_("agent").get("/dashboard/support/").content.decode()
    rows = {
        int(pk): (css, cells)
        for css, pk, cells in re.findall(r'<tr class="([^"]*)" data-ticket="(\d+)">(.*?)</tr>', page, re.S)
    }
    assert rows[older.pk][0] == "is-at-risk" and rows[fresh.pk][0] == ""
    for pk in (older.pk, fresh.pk):
        first_answer, resolution = re.findall(
            r'<td[^>]*data-label="(?:First answer|Resolution)">(.*?)</td>', rows[pk][1], re.S
        )
        assert 'class="deadline' in first_answer and "data-due=" in first_answer, first_answer
        assert 'class="deadline' in resolution and "data-due=" in resolution, resolution
    assert "overdue" in rows[older.pk][1] and "overdue" not in rows[fresh.pk][1]


@pytest.mark.parametrize("rows", [4, 40])
def test_queue_query_count_does_not_grow_with_the_rows(as_, ticket_for, rows, django_assert_max_num_queries, agent):
    for index in range(rows):
        ticket = ticket_for(UserFactory(), department="billing" if index % 2 else "orders")
        if index % 3 == 0:
            services.ticket_take(ticket=ticket, by=agent)
    client = as_("agent")
    with django_assert_max_num_queries(12):
        response = client.get("/dashboard/support/")
    assert len(queue_ids(response)) == rows


def test_queue_counts_stop_at_the_cap_and_say_so(as_, ticket_for, monkeypatch):
    monkeypatch.setattr(paginators, "QUEUE_COUNT_CAP", 2)
    for _ in range(3):
        ticket_for(UserFactory(), department="orders")
    body = as_("agent").get("/dashboard/support/?view=unassigned").content.decode()
    assert 'data-testid="count-all">2+<' in body and 'data-testid="count-unassigned">2+<' in body
    assert 'data-testid="count-mine">0<' in body
    # The count stops at the cap; the pages go on by position past it.
    assert "Showing 1–3 of 2+" in body


def test_an_unfiltered_view_shows_its_tabs_count_without_counting_again(as_, ticket_for, agent, billing):
    billing.members.add(agent)
    for index in range(5):
        ticket_for(UserFactory(), department="billing", priority="urgent" if index < 2 else "normal")
    client = as_("agent")
    client.get("/dashboard/support/?view=team")  # the session and the cached figures, read once

    def page(url: str) -> tuple[str, int]:
        """The page, and how many times it counted the view's rows for its footer (the tabs' counts, one query
        for all of them, start with `SELECT (SELECT COUNT(*)`; other figures on the page may be read or not
        depending on the cache, so only these are compared)."""
        with CaptureQueriesContext(connection) as captured:
            body = client.get(url).content.decode()
        footer_counts = [
            q for q in captured if q["sql"].startswith("SELECT COUNT(*) FROM (SELECT") and "support_ticket" in q["sql"]
        ]
        return body, len(footer_counts)

    filtered, filtered_counts = page("/dashboard/support/?view=team&priority=urgent")
    unfiltered, unfiltered_counts = page("/dashboard/support/?view=team")
    assert "Showing 1–2 of 2" in filtered and filtered_counts == 1  # a filter narrows the view below its tab
    assert 'data-testid="count-team">5<' in unfiltered and "Showing 1–5 of 5" in unfiltered
    assert unfiltered_counts == 0


def test_ticket_page_shows_timeline_deadlines_and_macros(as_, agent, ticket_for):
    ticket = ticket_for(UserFactory(full_name="Naledi Khumalo"), department="billing")
    services.ticket_reply(ticket=ticket, by=agent, body="Checking the payout log", public=False)
    page = as_("agent").get(f"/dashboard/support/tickets/{ticket.pk}/").content.decode()
    assert "Checking the payout log" in page and "internal note" in page
    assert "Refund timeline" in page and "Ask for the order number" not in page
    assert "first response within 3 h" in page and "left" in page
    assert "Given when the ticket was created." in page


def test_macro_preview_fills_the_placeholders(as_, ticket_for):
    ticket = ticket_for(UserFactory(full_name="Naledi Khumalo"), department="billing")
    macro = Macro.objects.get(name="Refund timeline")
    response = as_("agent").get(f"/dashboard/support/tickets/{ticket.pk}/macros/{macro.pk}/")
    assert response.json()["text"].startswith("Hello Naledi,") and response.json()["unknown"] == []
    other = Macro.objects.get(name="Ask for the order number")
    assert as_("agent").get(f"/dashboard/support/tickets/{ticket.pk}/macros/{other.pk}/").status_code == 404


def test_reply_with_a_macro_and_solve_in_place(as_, agent, ticket_for, django_capture_on_commit_callbacks):
    ticket = ticket_for(UserFactory(), department="billing")
    macro = Macro.objects.get(name="Solved: anything else?")
    client = as_("agent")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/dashboard/support/tickets/{ticket.pk}/reply/",
            {"body": "All sorted.", "macro": macro.pk},
            HTTP_X_REQUESTED_WITH="fetch",
        )
    assert response.status_code == 200 and b"<html" not in response.content
    assert b"Reply sent." in response.content and b'data-testid="status">Solved<' in response.content
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED and ticket.assignee == agent
    assert Macro.objects.get(pk=macro.pk).usage_count == 1
    assert Survey.objects.filter(target_id=ticket.pk).exists()
    assert any("How did we do" in m.subject for m in mail.outbox)


def test_bad_reply_and_property_input_is_a_form_error(as_, ticket_for):
    ticket = ticket_for(UserFactory(), department="billing")
    client = as_("agent")
    response = client.post(f"/dashboard/support/tickets/{ticket.pk}/reply/", {"body": ""})
    assert response.status_code == 400 and b"errorlist" in response.content
    response = client.post(
        f"/dashboard/support/tickets/{ticket.pk}/properties/", {"status": "archived", "priority": "normal"}
    )
    assert response.status_code == 400
    response = client.post(
        f"/dashboard/support/tickets/{ticket.pk}/properties/", {"status": "closed", "priority": "normal"}
    )
    assert response.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).status == Status.NEW
    assert client.get("/dashboard/support/tickets/999999/").status_code == 404
    response = client.post(f"/dashboard/support/tickets/{ticket.pk}/merge/", {"into": 999999})
    assert response.status_code == 400


def test_properties_change_priority_department_and_status(as_, ticket_for):
    ticket = ticket_for(UserFactory(), department="billing")
    client = as_("agent")
    response = client.post(
        f"/dashboard/support/tickets/{ticket.pk}/properties/",
        {"status": "on_hold", "priority": "urgent", "department": "orders"},
        HTTP_X_REQUESTED_WITH="fetch",
    )
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.department.slug) == ("on_hold", "urgent", "orders")


def test_take_and_merge_from_the_pages(as_, agent, ticket_for):
    first = ticket_for(UserFactory(), department="general")
    second = ticket_for(UserFactory(), department="general")
    client = as_("agent")
    response = client.post(f"/dashboard/support/tickets/{first.pk}/assign/", {"next": "queue"})
    assert response.status_code == 302 and Ticket.objects.get(pk=first.pk).assignee == agent
    response = client.post(f"/dashboard/support/tickets/{second.pk}/merge/", {"into": first.pk})
    assert response["Location"] == f"/dashboard/support/tickets/{first.pk}/"
    assert Ticket.objects.get(pk=second.pk).merged_into_id == first.pk


def test_figures_page_query_count_and_content(as_, agent, ticket_for, django_assert_max_num_queries):
    with time_machine.travel("2026-03-10 08:00:00Z", tick=False) as traveller:
        for _ in range(3):
            ticket = ticket_for(UserFactory(), department="billing")
            services.ticket_reply(ticket=ticket, by=agent, body="Done", status=Status.SOLVED)
        traveller.shift(timedelta(days=2))
        client = as_("manager")
        with django_assert_max_num_queries(30):
            response = client.get("/dashboard/support/figures/?period=month")
    body = response.content.decode()
    assert 'data-testid="figure-compliance">100.0 %<' in body
    assert "csat-agent" in body


def test_follow_ups_page_lists_low_ratings_and_records_what_was_done(as_, manager, agent, ticket_for):
    ticket = ticket_for(UserFactory(), department="billing")
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.ticket_reply(ticket=ticket, by=agent, body="Done", status=Status.SOLVED)
    token = services.survey_token(Survey.objects.get())
    services.survey_answer(token=token, rating=1, comment="Rude")
    client = as_("manager")
    page = client.get("/dashboard/support/follow-ups/")
    assert b"Rude" in page.content
    follow_up = Survey.objects.get().follow_up
    client.post("/dashboard/support/follow-ups/", {"follow_up": follow_up.pk, "note": "Called, apologised"})
    follow_up.refresh_from_db()
    assert follow_up.done_at is not None and follow_up.assigned_to == manager
    assert as_("agent").get("/dashboard/support/follow-ups/").status_code == 403


# --- Known issues and the transparency summary ---------------------------------------------------------------


def test_known_issues_link_reports_and_the_summary_counts_found_and_fixed(as_, agent, ticket_for, client):
    staff = as_("agent")
    response = staff.post("/dashboard/support/known-issues/", {"title": "Checkout freezes", "status": "fixed"})
    assert response.status_code == 400 and b"Say what fixed it" in response.content
    staff.post("/dashboard/support/known-issues/", {"title": "Checkout freezes", "status": "investigating"})
    issue = KnownIssue.objects.get()
    ticket = services.platform_issue_report(requester=UserFactory(), description="Checkout hangs")
    staff.post(f"/dashboard/support/tickets/{ticket.pk}/known-issue/", {"known_issue": issue.pk})
    assert Ticket.objects.get(pk=ticket.pk).known_issue == issue
    staff.post(
        f"/dashboard/support/known-issues/{issue.pk}/",
        {"title": "Checkout freezes", "status": "fixed", "fix": "Payment SDK upgraded"},
    )
    client.logout()
    public = client.get("/help/transparency/").content.decode()
    assert 'data-testid="found">1<' in public and 'data-testid="fixed">1<' in public
    assert "Payment SDK upgraded" in public
    export = client.get("/help/transparency.csv")
    # The bugs' table ends at the blank line before the monthly figures.
    rows = export.content.decode().split("\r\n\r\n")[0].splitlines()
    assert rows[0] == "event,date,title,status,reports,fix" and len(rows) == 3 and ",1," in rows[1]


# --- Help center -----------------------------------------------------------------------------------------------


@pytest.fixture
def article(db):
    category = ArticleCategory.objects.get(slug="payments")
    return Article.objects.create(
        category=category,
        title="When will I get my refund?",
        slug="refund-timing",
        body="\n\n".join(
            [
                "## Refund timing",
                "Refunds take **5–7 days**.",
                "<script>alert(1)</script>",
                "[evil](javascript:alert(1))",
            ]
        ),
    )


def test_articles_render_markdown_safely_and_count_views(client, article):
    page = client.get("/help/payments/refund-timing/").content.decode()
    assert "<h2>Refund timing</h2>" in page and "<strong>5–7 days</strong>" in page
    assert "<script>alert" not in page and "javascript:" not in page
    assert Article.objects.get(pk=article.pk).views == 1
    assert client.get("/help/account/refund-timing/").status_code == 404


def test_helpfulness_votes_count_once_per_visitor_and_can_change(client, article):
    client.post("/help/payments/refund-timing/", {"helpful": "yes"})
    client.post("/help/payments/refund-timing/", {"helpful": "yes"})
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (1, 0)
    client.post("/help/payments/refund-timing/", {"helpful": "no"})
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (0, 1) and ArticleVote.objects.count() == 1
    assert client.post("/help/payments/refund-timing/", {"helpful": "maybe"}).status_code == 400


def test_help_center_search(client, article):
    Article.objects.create(
        category=article.category, title="Paying with a card", slug="card", body="We accept Visa and Mastercard."
    )
    page = client.get("/help/?q=refund").content.decode()
    assert "When will I get my refund?" in page and "Paying with a card" not in page
    assert "No article matches" in client.get("/help/?q=zebra").content.decode()
    assert "Payments and refunds" in client.get("/help/").content.decode()


# --- The survey page -------------------------------------------------------------------------------------------


def survey_link(user, agent, ticket_for):
    ticket = ticket_for(user, department="billing")
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.ticket_reply(ticket=ticket, by=agent, body="Done", status=Status.SOLVED)
    return re.findall(r"/survey/[^/\s]+/4/", mail.outbox[-1].body)[0]


def test_one_click_records_the_rating_without_sign_in_and_a_comment_can_follow(client, user, agent, ticket_for):
    link = survey_link(user, agent, ticket_for)
    response = client.get(link, follow=True)
    assert response.status_code == 200 and b"4 out of 5" in response.content
    token = link.split("/")[2]
    client.post(f"/survey/{token}/", {"rating": 5, "comment": "Thanks!"})
    survey = Survey.objects.get()
    assert survey.rating == 5 and survey.comment == "Thanks!"
    assert PointsEntry.objects.filter(user=user).count() == 1


def test_a_forged_or_expired_survey_link_shows_an_error_page(client, user, agent, ticket_for):
    assert client.get("/survey/not-a-token/5/").status_code == 400
    link = survey_link(user, agent, ticket_for)
    with time_machine.travel(timedelta(days=15)):
        response = client.get(link)
    assert response.status_code == 400 and b"expired" in response.content
    assert Survey.objects.get().rating is None
    assert roles.SUPPORT_AGENT


def test_cc_list_is_edited_in_place_and_bad_addresses_are_form_errors(as_, ticket_for):
    ticket = ticket_for(UserFactory(), department="billing")
    client = as_("agent")
    response = client.post(
        f"/dashboard/support/tickets/{ticket.pk}/cc/",
        {"cc": "a@example.com, b@example.com"},
        HTTP_X_REQUESTED_WITH="fetch",
    )
    assert response.status_code == 200 and Ticket.objects.get(pk=ticket.pk).cc_emails == [
        "a@example.com",
        "b@example.com",
    ]
    response = client.post(f"/dashboard/support/tickets/{ticket.pk}/cc/", {"cc": "not an address"})
    assert response.status_code == 400 and b"is not an e-mail address" in response.content


@pytest.mark.parametrize("messages", [2, 20])
def test_ticket_page_query_count_does_not_grow_with_the_messages(
    as_, agent, ticket_for, messages, django_assert_max_num_queries
):
    ticket = ticket_for(UserFactory(), department="billing")
    for index in range(messages):
        services.ticket_reply(ticket=ticket, by=agent, body=f"Note {index}", public=index % 2 == 0)
    client = as_("agent")
    with django_assert_max_num_queries(16):
        response = client.get(f"/dashboard/support/tickets/{ticket.pk}/")
    assert response.content.decode().count("Note ") == messages


def test_a_reply_refused_because_the_ticket_was_closed_meanwhile_keeps_the_text(as_, user, agent, ticket_for):
    ticket = ticket_for(user)
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.CLOSED)  # closed by the daily close-out meanwhile
    typed = "Your payout left our bank today; allow two working days."
    response = as_("agent").post(f"/dashboard/support/tickets/{ticket.pk}/reply/", {"body": typed})
    assert response.status_code == 400
    assert response.context["reply_form"]["body"].value() == typed
    assert not ticket.messages.filter(body=typed).exists()
