"""The moderation API: reporting and following reports, authors' cases and appeals, the staff queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from moderation import selectors, services
from moderation.models import Case, CaseStatus
from tests.factories import ListingFactory, UserFactory
from tests.keyset import walk

from .conftest import flagged

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_user_reports_a_listing_and_follows_the_result(reporter, moderator, django_capture_on_commit_callbacks):
    listing = ListingFactory()
    response = api(reporter).post(
        "/api/v1/flags/", {"kind": "listing", "object_id": listing.pk, "reason": "fraud", "comment": "Deposit first"}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["result"] == "pending" and body["kind"] == "listing" and body["object_id"] == listing.pk
    case = Case.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.case_decide(case=case, by=moderator, action="remove", rule="scam", reason="Scam.")
    [mine] = api(reporter).get("/api/v1/flags/").json()["results"]
    assert mine["result"] == "removed" and mine["decided_at"] is not None


def test_bad_reports_get_the_one_error_shape(reporter):
    response = api(reporter).post("/api/v1/flags/", {"kind": "listing", "object_id": 0, "reason": "nasty"})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"object_id", "reason"}
    response = api(reporter).post("/api/v1/flags/", {"kind": "poster", "object_id": 5, "reason": "spam"})
    assert response.status_code == 400 and "kind" in response.json()["error"]["fields"]
    listing = ListingFactory()
    api(reporter).post("/api/v1/flags/", {"kind": "listing", "object_id": listing.pk, "reason": "spam"})
    again = api(reporter).post("/api/v1/flags/", {"kind": "listing", "object_id": listing.pk, "reason": "spam"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_reported"


def test_authors_see_only_the_cases_on_their_own_content_and_appeal_once(moderator):
    listing, case = flagged()
    _, other_case = flagged()
    services.case_decide(case=case, by=moderator, action="remove_warn", rule="scam", reason="Deposit first.")
    author = api(listing.seller)
    cases = author.get("/api/v1/moderation/cases/").json()["results"]
    assert [c["id"] for c in cases] == [case.pk]
    assert cases[0]["decision"]["action"] == "remove_warn" and cases[0]["can_appeal"] is True
    assert "flags" not in cases[0] and "reporter" not in str(cases[0])
    assert author.get(f"/api/v1/moderation/cases/{other_case.pk}/").status_code == 404
    response = author.post(f"/api/v1/moderation/cases/{case.pk}/appeal/", {"statement": "It is my own phone."})
    assert response.status_code == 201 and response.json()["appeal"]["status"] == "pending"
    assert response.json()["can_appeal"] is False
    again = author.post(f"/api/v1/moderation/cases/{case.pk}/appeal/", {"statement": "Again."})
    assert again.status_code == 409
    assert author.post(f"/api/v1/moderation/cases/{other_case.pk}/appeal/", {"statement": "x"}).status_code == 404


def test_the_staff_queue_needs_the_role_and_deciding_needs_more(agent, moderator, user):
    _, case = flagged(hours_ago=11)
    assert api(user).get("/api/v1/staff/moderation/cases/").status_code == 403
    assert api(agent).get("/api/v1/staff/moderation/cases/").status_code == 403
    rows = api(moderator).get("/api/v1/staff/moderation/cases/").json()["results"]
    assert [r["id"] for r in rows] == [case.pk] and rows[0]["is_at_risk"] is True
    assert rows[0]["author_verified"] is False
    refused = api(agent).post(f"/api/v1/staff/moderation/cases/{case.pk}/decide/", {"action": "keep", "reason": "Fine"})
    assert refused.status_code == 403
    bad = api(moderator).post(f"/api/v1/staff/moderation/cases/{case.pk}/decide/", {"action": "remove", "reason": "x"})
    assert bad.status_code == 400 and bad.json()["error"]["fields"] == {"rule": ["Choose the rule that was broken."]}
    done = api(moderator).post(
        f"/api/v1/staff/moderation/cases/{case.pk}/decide/", {"action": "remove", "rule": "scam", "reason": "Scam."}
    )
    assert done.status_code == 200 and done.json()["status"] == CaseStatus.DECIDED
    second = UserFactory(roles=["Moderator"])
    late = api(second).post(f"/api/v1/staff/moderation/cases/{case.pk}/decide/", {"action": "keep", "reason": "ok"})
    assert late.status_code == 409 and late.json()["error"]["code"] == "already_decided"


@pytest.mark.parametrize("rows", [3, 15])
def test_list_endpoints_query_count_does_not_grow_with_the_rows(
    moderator, reporter, rows, django_assert_max_num_queries
):
    for _ in range(rows):
        listing, case = flagged(reporter=reporter)
        services.case_decide(case=case, by=moderator, action="remove", rule="spam", reason="Spam.")
    with django_assert_max_num_queries(6):
        assert len(api(reporter).get("/api/v1/flags/").json()["results"]) == rows
    with django_assert_max_num_queries(6):
        assert len(api(moderator).get("/api/v1/staff/moderation/cases/?status=decided").json()["results"]) == rows
    author = listing.seller
    with django_assert_max_num_queries(6):
        assert len(api(author).get("/api/v1/moderation/cases/").json()["results"]) == 1


def test_the_staff_queue_builds_its_queryset_once_a_request(moderator, monkeypatch):
    built = []
    queue = selectors.case_queue
    monkeypatch.setattr(selectors, "case_queue", lambda **kwargs: built.append(kwargs) or queue(**kwargs))
    assert api(moderator).get("/api/v1/staff/moderation/cases/", {"reason": "spam"}).status_code == 200
    assert built == [{"reason": "spam"}]


def test_walking_the_moderator_queue_by_cursor_gives_the_queue_order_in_either_sort(moderator, reporter):
    for hours_ago, reason in [(11, "spam"), (11, "fraud"), (6, "spam"), (3, "prohibited"), (1, "fraud"), (0, "spam")]:
        flagged(reporter=reporter, hours_ago=hours_ago, reason=reason)
    client = api(moderator)
    url = "/api/v1/staff/moderation/cases/"
    for sort in ("deadline", "severity"):
        whole = [row["id"] for row in client.get(url, {"sort": sort}).json()["results"]]
        assert len(whole) == 6
        assert walk(client, url, {"sort": sort}) == whole
    by_deadline = client.get(url, {"page_size": 2}).json()["next"]
    other_order = client.get(by_deadline.replace("page_size=2", "page_size=2&sort=severity"))
    assert other_order.status_code == 400 and list(other_order.json()["error"]["fields"]) == ["cursor"]


def test_the_decided_list_shows_the_latest_decision_first_page_by_page(moderator, reporter):
    cases = [flagged(reporter=reporter, hours_ago=5)[1] for _ in range(4)]
    for hours_ago, case in zip((3, 1, 2, 1), cases, strict=True):
        with time_machine.travel(timezone.now() - timedelta(hours=hours_ago), tick=False):
            services.case_decide(case=case, by=moderator, action="keep", rule="", reason="Fine.")
    expected = [cases[3].pk, cases[1].pk, cases[2].pk, cases[0].pk]  # latest first; a tie by newest case
    assert walk(api(moderator), "/api/v1/staff/moderation/cases/", {"status": "decided"}, page_size=1) == expected
