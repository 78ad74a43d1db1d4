"""Crafted input gets a 400 (the error shape on the API, a form error or the 400 page on a page), never a 500:
garbled cursors, page sizes the schema does not allow, deeply nested JSON, NUL characters, and dates at the edges
of the calendar. Most of these failed only on PostgreSQL; the suite runs them on both databases."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from accounts.models import Registration
from messaging import services as messaging
from reports.models import ReportRun
from saypro.localtime import EARLIEST_DAY, latest_day
from saypro.parsers import MAX_DEPTH
from tests.accounts.helpers import signup
from tests.foundation.test_api import assert_error_shape

pytestmark = pytest.mark.django_db


def api(person=None) -> APIClient:
    client = APIClient()
    if person is not None:
        client.force_authenticate(person)
    return client


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# --- Cursors and page sizes -------------------------------------------------------------------------------------

# Lists paged by DRF's cursor (by id) and the persona each one serves.
CURSOR_LISTS = [
    ("/api/v1/listings/", "user"),
    ("/api/v1/flags/", "user"),
    ("/api/v1/support/tickets/", "user"),
    ("/api/v1/transactions/", "user"),
    ("/api/v1/moderation/cases/", "user"),
    ("/api/v1/metrics/reports/", "manager"),
]
# A list paged by the project's keyset pagination (a queue's own ordering).
KEYSET_LIST = ("/api/v1/staff/registrations/", "reviewer")

BAD_CURSORS = [
    "cD1hYmM=",  # p=abc
    b64("p=%00"),
    b64("p=" + "9" * 40),  # more than any id column holds
    b64("o=0&r=0&p=1.5"),
    "9" * 5000,  # very long
]


@pytest.mark.parametrize(("url", "persona"), CURSOR_LISTS)
def test_a_cursor_list_refuses_a_cursor_whose_position_is_not_an_id(url, persona, request):
    client = api(request.getfixturevalue(persona))
    assert client.get(url).status_code == 200
    assert client.get(url, {"cursor": b64("p=5")}).status_code == 200  # a position of the right type
    for cursor in BAD_CURSORS:
        response = client.get(url, {"cursor": cursor})
        assert response.status_code == 400, (cursor[:20], response.status_code)
        assert list(assert_error_shape(response.json(), "invalid")["fields"]) == ["cursor"]


BAD_PAGE_SIZES = ["-1", "0", "abc", "1.5", "201", "9" * 40, " "]


@pytest.mark.parametrize(("url", "persona"), [CURSOR_LISTS[0], KEYSET_LIST])
def test_a_page_size_the_schema_does_not_allow_is_refused_not_ignored(url, persona, request):
    client = api(request.getfixturevalue(persona))
    assert client.get(url, {"page_size": "1"}).status_code == 200
    assert client.get(url, {"page_size": "200"}).status_code == 200
    for size in BAD_PAGE_SIZES:
        response = client.get(url, {"page_size": size})
        assert response.status_code == 400, size
        assert list(assert_error_shape(response.json(), "invalid")["fields"]) == ["page_size"]


def test_the_schema_documents_the_page_size_bounds(db):
    schema = api().get("/api/schema/", {"format": "json"}).json()
    for path in ("/api/v1/listings/", "/api/v1/staff/registrations/", "/api/v1/metrics/reports/"):
        parameter = next(p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == "page_size")
        assert (parameter["schema"]["minimum"], parameter["schema"]["maximum"]) == (1, 200), path


# --- Deeply nested JSON -----------------------------------------------------------------------------------------


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def test_deeply_nested_json_is_a_parse_error_on_anonymous_endpoints(db):
    body = deep(50_000)  # 100 KB
    for url in ("/api/v1/support/guidance/", "/api/v1/registrations/"):
        response = api().post(url, body, content_type="application/json")
        assert response.status_code == 400, url
        assert_error_shape(response.json(), "parse_error")


def test_deeply_nested_json_is_a_parse_error_on_messages(user):
    conversation = messaging.conversation_start(user=user, body="Where is my refund?")
    url = f"/api/v1/conversations/{conversation.pk}/messages/"
    nested = '{"body": ' + '{"a": ' * 50_000 + "1" + "}" * 50_000 + "}"
    response = api(user).post(url, nested, content_type="application/json")
    assert response.status_code == 400
    assert "nested deeper" in assert_error_shape(response.json(), "parse_error")["message"]
    # Nesting within the bound, and brackets inside strings, are read as before.
    fine = json.dumps({"body": "[[[[ " * 100 + "brackets in text are not nesting"})
    assert api(user).post(url, fine, content_type="application/json").status_code == 201
    within = json.dumps({"body": "Hello", "extra": json.loads(deep(MAX_DEPTH - 1))})
    assert api(user).post(url, within, content_type="application/json").status_code == 201


def test_a_nul_character_in_json_is_a_parse_error(user):
    conversation = messaging.conversation_start(user=user, body="Where is my refund?")
    url = f"/api/v1/conversations/{conversation.pk}/messages/"
    response = api(user).post(url, '{"body": "a\\u0000b"}', content_type="application/json")
    assert response.status_code == 400
    assert_error_shape(response.json(), "parse_error")


# --- NUL characters in query strings and forms ------------------------------------------------------------------


def test_a_nul_in_the_staff_ticket_search_is_refused_with_the_error_shape(agent):
    client = api(agent)
    assert client.get("/api/v1/staff/tickets/", {"q": "refund"}).status_code == 200
    for name in ("q", "department"):
        response = client.get("/api/v1/staff/tickets/", {name: "ref\x00und"})
        assert response.status_code == 400
        assert list(assert_error_shape(response.json(), "invalid")["fields"]) == [name]


def test_a_nul_in_any_query_parameter_or_form_field_is_refused_at_the_door(client, agent):
    response = client.get("/register/", {"campaign": "spring\x00"})
    assert response.status_code == 400
    assert not Registration.objects.exists()
    client.force_login(agent)
    assert client.get("/dashboard/support/", {"q": "a\x00b"}).status_code == 400
    assert client.post("/dashboard/support/known-issues/", {"title": "Photos\x00"}).status_code == 400
    response = api(agent).get("/api/v1/help/articles/", {"q": "x\x00"})
    assert response.status_code == 400
    assert assert_error_shape(response.json(), "invalid")["fields"] == {"q": ["Null characters are not allowed."]}


def test_a_sign_up_keeps_only_the_printable_part_of_a_campaign_code(db):
    registration = signup(email="camp@example.com", campaign="spring\x00" + "x" * 80)
    assert registration.campaign == "spring" + "x" * 44


def test_a_next_address_that_is_not_a_path_falls_back(client, reviewer):
    client.force_login(reviewer)
    response = client.post("/dashboard/registrations/bulk/", {"next": "[[]]{{}}"})
    assert response.status_code in (302, 400)
    assert not response.get("Location", "").endswith("[[]]{{}}")


# --- Dates at the edges of the calendar -------------------------------------------------------------------------

FAR_DAYS = ["9999-12-31", "0001-01-01", "0001-01-03", "1999-12-31"]
FAR_RANGES = [("0001-01-01", "0001-01-03"), ("9999-12-01", "9999-12-31"), ("0001-01-01", "9999-12-31")]


def test_the_metrics_api_refuses_days_beyond_the_calendar_with_the_error_shape(manager):
    client = api(manager)
    for day in FAR_DAYS:
        for period in ("week", "month", "quarter"):
            response = client.get("/api/v1/metrics/", {"period": period, "day": day})
            assert response.status_code == 400, (period, day)
            assert list(assert_error_shape(response.json(), "invalid")["fields"]) == ["day"]
    for start, end in FAR_RANGES:
        response = client.get("/api/v1/metrics/", {"period": "custom", "start": start, "end": end})
        assert response.status_code == 400, (start, end)
        assert set(assert_error_shape(response.json(), "invalid")["fields"]) <= {"start", "end"}
    first = EARLIEST_DAY.isoformat()
    assert client.get("/api/v1/metrics/", {"period": "week", "day": first}).status_code == 200
    assert client.get("/api/v1/metrics/", {"period": "custom", "start": first, "end": first}).status_code == 200


def test_an_area_page_shows_a_form_error_for_days_beyond_the_calendar(as_):
    client = as_("manager")
    for day in FAR_DAYS:
        response = client.get("/dashboard/areas/accounts/", {"period": "week", "day": day})
        assert response.status_code == 200 and response.context["form"].errors["day"], day
    for start, end in FAR_RANGES:
        response = client.get("/dashboard/areas/support/", {"period": "custom", "start": start, "end": end})
        assert response.status_code == 200 and response.context["form"].errors, (start, end)


def test_the_transparency_summary_refuses_an_end_beyond_the_calendar(client, db):
    for end in FAR_DAYS:
        assert client.get("/help/transparency/", {"end": end}).status_code == 400, end
        assert client.get("/help/transparency.csv", {"end": end}).status_code == 400, end
    # A garbled date still means "the fortnight ending today".
    assert client.get("/help/transparency/", {"end": "not-a-date"}).status_code == 200


def test_a_report_cannot_be_requested_for_a_day_beyond_the_calendar(as_):
    client = as_("manager")
    beyond = (latest_day() + timedelta(days=1)).isoformat()
    for day in ["0001-01-01", "9999-12-31", "1999-12-31", beyond]:
        response = client.post("/dashboard/reports/", {"kind": "weekly", "day": day})
        assert response.status_code == 200 and response.context["form"].errors["day"], day
    assert not ReportRun.objects.exists()


def test_the_report_service_refuses_a_period_beyond_the_calendar(db):
    from datetime import date

    from reports import services
    from saypro.errors import InvalidInput

    with pytest.raises(InvalidInput):
        services.report_period(kind="weekly", day=date(1, 1, 1))
