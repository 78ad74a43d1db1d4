"""The moderation pages: queue, case page and decision, appeals, keywords and figures, per persona."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from marketplace.models import ListingStatus
from moderation import services
from moderation.models import Appeal, Case, CaseStatus, KeywordRule
from tests.factories import UserFactory

from .conftest import flagged

pytestmark = pytest.mark.django_db


def queue_ids(response) -> list[int]:
    return [row.pk for row in response.context["page"].object_list]


@pytest.mark.parametrize(
    "url", ["/dashboard/moderation/", "/dashboard/moderation/cases/1/", "/dashboard/moderation/figures/"]
)
def test_anonymous_visitors_are_sent_to_the_sign_in_page(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("persona", "queue", "figures", "appeals"),
    [
        ("user", 403, 403, 403),
        ("outsider", 403, 403, 403),
        ("reviewer", 403, 403, 403),
        ("agent", 403, 403, 403),
        ("moderator", 200, 403, 200),
        ("manager", 403, 200, 403),
        ("administrator", 200, 200, 403),
    ],
)
def test_who_opens_which_page(as_, persona, queue, figures, appeals):
    client = as_(persona)
    assert client.get("/dashboard/moderation/").status_code == queue
    assert client.get("/dashboard/moderation/figures/").status_code == figures
    assert client.get("/dashboard/moderation/appeals/").status_code == appeals


def test_the_queue_is_ordered_by_deadline_then_severity(as_):
    _, late = flagged(hours_ago=10)
    _, mild = flagged(hours_ago=1, reason="duplicate")
    _, severe = flagged(hours_ago=1, reason="fraud")
    Case.objects.filter(pk=severe.pk).update(opened_at=mild.opened_at)
    response = as_("moderator").get("/dashboard/moderation/")
    assert queue_ids(response)[0] == late.pk
    assert set(queue_ids(response)[1:]) == {mild.pk, severe.pk}
    by_severity = as_("moderator").get("/dashboard/moderation/?sort=severity")
    assert queue_ids(by_severity)[-1] == mild.pk
    assert response.context["counts"].open == 3 and response.context["counts"].at_risk == 1


def test_the_queue_narrows_to_at_risk_and_breached_cases(as_):
    _, fresh = flagged(hours_ago=1)
    _, risky = flagged(hours_ago=10)
    _, late = flagged(hours_ago=13)
    client = as_("moderator")
    assert queue_ids(client.get("/dashboard/moderation/?at_risk=on")) == [risky.pk]
    assert queue_ids(client.get("/dashboard/moderation/?breached=on")) == [late.pk]
    page = client.get("/dashboard/moderation/")
    assert b"overdue" in page.content and b"is-breached" in page.content
    assert queue_ids(page) == [late.pk, risky.pk, fresh.pk]


@pytest.mark.parametrize("rows", [3, 30])
def test_queue_query_count_does_not_grow_with_the_rows(as_, django_assert_max_num_queries, rows):
    for index in range(rows):
        flagged(hours_ago=index % 12)
    client = as_("moderator")
    with django_assert_max_num_queries(10):
        response = client.get("/dashboard/moderation/")
    assert len(queue_ids(response)) == rows


def test_the_case_page_shows_content_flags_signals_and_the_authors_record(as_, django_assert_max_num_queries):
    listing, case = flagged(title="iPhone 14 Pro for R2000", description="Pay a deposit by Western Union first.")
    for _ in range(4):
        services.flag_create(reporter=UserFactory(), kind="listing", object_id=listing.pk, reason="fraud")
    client = as_("moderator")
    with django_assert_max_num_queries(30):
        response = client.get(f"/dashboard/moderation/cases/{case.pk}/")
    body = response.content.decode()
    assert "iPhone 14 Pro for R2000" in body and "Western Union" in body
    assert body.count("Looks off") == 1 and "5 in all" in body
    assert f"/dashboard/marketplace/listings/{listing.pk}/" in body
    assert "Unverified" in body


def test_a_moderator_removes_a_listing_from_the_case_page(as_, moderator):
    listing, case = flagged()
    response = as_("moderator").post(
        f"/dashboard/moderation/cases/{case.pk}/decide/",
        {"action": "remove", "rule": "scam", "reason": "Asks for a deposit before viewing."},
    )
    assert response.status_code == 302 and response["Location"] == "/dashboard/moderation/"
    case.refresh_from_db()
    listing.refresh_from_db()
    assert case.status == CaseStatus.DECIDED and case.decision.by_id == moderator.pk
    assert listing.status == ListingStatus.REMOVED


def test_the_decision_form_requires_a_reason_and_the_rule(as_):
    _, case = flagged()
    response = as_("moderator").post(f"/dashboard/moderation/cases/{case.pk}/decide/", {"action": "remove"})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors == {
        "reason": ["Give the reason; the user is told."],
        "rule": ["Choose the rule that was broken."],
    }
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


def test_a_support_agent_neither_sees_nor_decides_a_case(as_):
    _, case = flagged()
    client = as_("agent")
    assert client.get(f"/dashboard/moderation/cases/{case.pk}/").status_code == 403
    response = client.post(
        f"/dashboard/moderation/cases/{case.pk}/decide/", {"action": "keep", "reason": "I think it is fine."}
    )
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


def test_an_administrator_reads_a_case_without_the_decision_form(as_):
    _, case = flagged()
    page = as_("administrator").get(f"/dashboard/moderation/cases/{case.pk}/")
    assert page.status_code == 200 and b"can see cases but not decide them" in page.content


def test_deciding_a_case_someone_else_decided_says_who(as_):
    _, case = flagged()
    other = UserFactory(full_name="Thandiwe Zulu", roles=["Moderator"])
    services.case_decide(case=case, by=other, action="keep", reason="Fine.")
    response = as_("moderator").post(
        f"/dashboard/moderation/cases/{case.pk}/decide/",
        {"action": "remove", "rule": "spam", "reason": "Spam."},
        follow=True,
    )
    assert "already decided by Thandiwe Zulu" in response.content.decode()


def test_an_appeal_is_decided_on_its_page_by_another_moderator(as_, moderator):
    listing, case = flagged()
    services.case_decide(case=case, by=moderator, action="remove", rule="scam", reason="Scam.")
    appeal = services.appeal_file(case=case, by=listing.seller, statement="It is a real phone.")
    own = as_("moderator").get(f"/dashboard/moderation/appeals/{appeal.pk}/")
    assert b"a different moderator decides the appeal" in own.content
    second = UserFactory(email="second@saypro.example", roles=["Moderator"])
    client = as_("moderator")
    client.force_login(second)
    assert appeal.pk in [row.pk for row in client.get("/dashboard/moderation/appeals/").context["page"].object_list]
    response = client.post(
        f"/dashboard/moderation/appeals/{appeal.pk}/", {"outcome": "reversed", "reason": "Receipt provided."}
    )
    assert response.status_code == 302
    appeal.refresh_from_db()
    listing.refresh_from_db()
    assert appeal.status == Appeal.Status.REVERSED and listing.status == ListingStatus.ACTIVE


def test_administrators_manage_keywords_and_moderators_only_read_them(as_):
    assert (
        as_("moderator")
        .post("/dashboard/moderation/keywords/", {"phrase": "replica", "reason": "prohibited", "weight": 50})
        .status_code
        == 403
    )
    assert not KeywordRule.objects.filter(phrase="replica").exists()
    client = as_("administrator")
    response = client.post(
        "/dashboard/moderation/keywords/", {"phrase": "Replica", "reason": "prohibited", "weight": 50}
    )
    assert response.status_code == 302
    rule = KeywordRule.objects.get(phrase="replica")
    response = client.post(
        "/dashboard/moderation/keywords/", {"phrase": "replica", "reason": "prohibited", "weight": 50}
    )
    assert response.context["form"].errors == {"phrase": ["This phrase is already a rule."]}
    client.post(f"/dashboard/moderation/keywords/{rule.pk}/toggle/")
    rule.refresh_from_db()
    assert not rule.is_active
    assert as_("moderator").post(f"/dashboard/moderation/keywords/{rule.pk}/toggle/").status_code == 403
    page = client.get("/dashboard/moderation/keywords/")
    assert b"rules alone" in page.content  # no spam model trained in this database


def test_figures_page_renders_the_summary(as_, moderator):
    _, case = flagged(hours_ago=20)
    with time_machine.travel(timezone.now() - timedelta(hours=18)):
        services.case_decide(case=case, by=moderator, action="remove_warn", rule="scam", reason="Scam.")
    response = as_("manager").get("/dashboard/moderation/figures/?days=7")
    assert response.status_code == 200
    figures = response.context["figures"]
    # The registry's readings, as the reports show them: flagged and decided 2 h later, within 12 h.
    assert figures["decided_12h"].parts["met"] == 1 and figures["actions"].value == 1
    assert figures["median_hours"].value == pytest.approx(2, abs=0.01)
    assert b'data-testid="figure-compliance">100.0 %<' in response.content


def test_figures_page_takes_a_fixed_number_of_queries(as_, moderator, django_assert_max_num_queries):
    client = as_("manager")
    client.get("/dashboard/moderation/figures/?days=30")  # the session and the content types, loaded once
    counts = []
    for extra in (1, 5):
        for index in range(extra):
            _, case = flagged(hours_ago=30 + index, reason="spam" if index % 2 else "fraud")
            with time_machine.travel(timezone.now() - timedelta(hours=20 + index)):
                services.case_decide(case=case, by=moderator, action="remove", rule="scam", reason="Scam.")
        with django_assert_max_num_queries(40) as captured:
            assert client.get("/dashboard/moderation/figures/?days=30").status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]
