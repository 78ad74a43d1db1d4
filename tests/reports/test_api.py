"""The read-only metrics API: the same figures as the report, for managers only, in the OpenAPI schema."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import Registration, RegistrationStatus
from reports.sections import specs
from saypro import periods

from .conftest import METRIC, NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(request):
    def as_(persona: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(request.getfixturevalue(persona))
        return client

    return as_


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("user", 403), ("reviewer", 403), ("agent", 403), ("manager", 200), ("administrator", 200)],
)
def test_only_managers_read_the_metrics(api, persona, expected):
    for url in ("/api/v1/metrics/", "/api/v1/metrics/compliance/", "/api/v1/metrics/reports/"):
        assert api(persona).get(url).status_code == expected, url


def test_anonymous_calls_are_refused():
    assert APIClient().get("/api/v1/metrics/").status_code == 401


def test_metrics_serve_the_report_figures(api, quarter_data, django_assert_max_num_queries):
    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(80):
        response = api("manager").get(
            "/api/v1/metrics/", {"period": "quarter", "day": "2026-02-01", "section": "registrations"}
        )
    body = response.json()
    assert body["period"]["slug"] == "2026-Q1" and body["previous"]["slug"] == "2025-Q4"
    assert [s["key"] for s in body["sections"]] == ["registrations"]
    figures = {f["key"]: f for f in body["sections"][0]["figures"]}
    within = figures["registrations.approved_48h"]

    def share(period):
        submitted = [r for r in Registration.objects.all() if r.submitted_at and period.contains(r.submitted_at)]
        approved = [r for r in submitted if r.status == RegistrationStatus.APPROVED]
        undecided = [r for r in submitted if r.decided_at is None and NOW - r.submitted_at > timedelta(hours=48)]
        in_time = [r for r in approved if r.decided_at - r.submitted_at <= timedelta(hours=48)]
        return 100 * len(in_time) / (len(approved) + len(undecided)), len(approved) + len(undecided)

    q1 = periods.from_slug("2026-Q1")
    (value, n), (previous, _) = share(q1), share(q1.previous())
    assert (within["value"], within["n"], within["previous"], within["target"]) == (
        pytest.approx(value),
        n,
        pytest.approx(previous),
        100.0,
    )
    assert within["met"] is (value >= 100)
    assert figures["registrations.started"]["value"] == 6


def test_the_sections_of_one_response_read_what_they_share_once(api, quarter_data):
    """The trends and compliance sections show figures the area sections read too, for the same quarter: asked for
    together, the sections read those rows once, as a report does (asked for one by one, each reads them again)."""
    client = api("manager")
    quarter = {"period": "quarter", "day": "2026-02-01"}
    with time_machine.travel(NOW, tick=False):
        one_by_one = 0
        for spec in specs():
            with CaptureQueriesContext(connection) as queries:
                assert client.get("/api/v1/metrics/", {**quarter, "section": spec.key}).status_code == 200
            one_by_one += len(queries)
        with CaptureQueriesContext(connection) as together:
            response = client.get("/api/v1/metrics/", quarter)
    assert [s["key"] for s in response.json()["sections"]] == [spec.key for spec in specs()]
    assert len(together) <= 0.85 * one_by_one, (len(together), one_by_one)


def test_compliance_lists_every_promise_live(api, quarter_data):
    with time_machine.travel(NOW, tick=False):
        rows = {row["metric"]: row for row in api("manager").get("/api/v1/metrics/compliance/").json()}
    registration = rows[METRIC]
    # 2 April, noon: R5's deadline (10:10 today) is the quarter's first, and it passed with R5 still open.
    assert registration["quarter"] == {"achieved": 0, "breached": 1, "rate": 0.0}
    assert (registration["open"], registration["at_risk"], registration["breached"]) == (2, 0, 2)


def test_bad_periods_get_the_one_error_shape(api):
    client = api("manager")
    response = client.get("/api/v1/metrics/", {"period": "decade"})
    assert response.status_code == 400 and "period" in response.json()["error"]["fields"]
    response = client.get("/api/v1/metrics/", {"period": "custom", "start": "2026-02-01", "end": "2026-01-01"})
    assert response.status_code == 400 and response.json()["error"]["fields"]["end"] == [
        "The range ends before it starts."
    ]
    assert client.get("/api/v1/metrics/", {"section": "nope"}).status_code == 400


def test_a_misspelt_filter_is_refused_rather_than_read_as_no_filter(api):
    client = api("manager")
    for path in ("/api/v1/metrics/", "/api/v1/metrics/figures/"):
        response = client.get(path, {"period": "month", "chanel": "chat"})
        assert response.status_code == 400
        assert response.json()["error"]["fields"]["chanel"][0].startswith("Not a parameter here: use period, day")
    assert client.get("/api/v1/metrics/figures/", {"quarters": "true", "format": "json"}).status_code == 200


def test_the_metrics_endpoints_are_in_the_schema(api):
    schema = api("manager").get("/api/schema/", {"format": "json"}).json()
    assert {"/api/v1/metrics/", "/api/v1/metrics/compliance/", "/api/v1/metrics/reports/"} <= set(schema["paths"])
