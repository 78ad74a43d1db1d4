"""The metrics API's registered figures: managers only, filters that the figure has, the one error shape for the
rest, and a fixed number of queries however many rows lie beneath."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from messaging.models import MessageKind
from saypro.figures.registry import figure_specs
from support.models import Channel, Department

from .test_figure_definitions import conversation, local, message, ticket

pytestmark = pytest.mark.django_db

URL = "/api/v1/metrics/figures/"
NOW = datetime(2026, 3, 20, 12, tzinfo=local(2026, 1, 1).tzinfo)


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.mark.parametrize(
    ("persona", "status"),
    [("user", 403), ("agent", 403), ("reviewer", 403), ("moderator", 403), ("manager", 200), ("administrator", 200)],
)
def test_only_those_who_read_metrics_read_the_figures(request, persona, status):
    assert api(request.getfixturevalue(persona)).get(URL, {"area": "support"}).status_code == status


def test_anonymous_calls_are_refused():
    assert api().get(URL).status_code == 401


def test_one_figure_split_by_channel_with_its_definition_and_the_last_four_quarters(manager):
    ticket(local(2026, 2, 3, 9), solved_after=3, channel=Channel.CHAT)
    ticket(local(2026, 2, 4, 9), solved_after=30, channel=Channel.EMAIL)
    with time_machine.travel(NOW, tick=False):
        body = (
            api(manager)
            .get(
                URL,
                {
                    "period": "quarter",
                    "day": "2026-03-01",
                    "key": "support.resolved_24h",
                    "channel": "chat",
                    "quarters": "true",
                },
            )
            .json()
        )
    assert body["filters"] == {"channel": "chat"}
    [figure] = body["figures"]
    assert figure["definition"].startswith("Inquiries resolved within 24 hours of receipt")
    assert (figure["current"]["value"], figure["current"]["n"], figure["current"]["to_date"]) == (100.0, 1, True)
    assert [q["period"] for q in figure["quarters"]] == ["2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1"]
    assert figure["quarters"][-1]["value"] == 100.0 and figure["quarters"][0]["n"] == 0


def test_a_filter_the_figure_does_not_have_or_an_unknown_figure_is_a_400(manager):
    client = api(manager)
    wrong = client.get(URL, {"key": "registrations.approved_48h", "channel": "chat"})
    assert wrong.status_code == 400
    assert "channel" in wrong.json()["error"]["fields"]
    assert client.get(URL, {"key": "nothing.here"}).status_code == 400
    assert client.get(URL, {"period": "year"}).status_code == 400


@pytest.mark.parametrize("url", [URL, "/api/v1/metrics/"])
def test_a_filter_value_outside_its_choices_is_a_400_that_names_them(manager, url):
    """A misspelt channel or department must not read as a quiet period: it is refused with the values it can be."""
    assert Department.objects.filter(slug="billing").exists()  # the departments the product starts with
    client = api(manager)
    wrong = client.get(url, {"channel": "chta", "priority": "asap", "reason": "rude", "content_type": "poem"})
    assert wrong.status_code == 400
    fields = wrong.json()["error"]["fields"]
    assert set(fields) == {"channel", "priority", "reason", "content_type"}
    assert fields["channel"] == ['"chta" is not one of: web, email, chat, social, in_app, conversation.']
    department = client.get(url, {"department": "biling"})
    assert department.status_code == 400
    [message] = department.json()["error"]["fields"]["department"]
    assert message.startswith("No support department has that slug: choose one of ") and "billing" in message
    assert client.get(url, {"department": "billing", "channel": "chat", "content_type": "listing"}).status_code == 200
    # A blank filter is no filter, as before.
    assert client.get(url, {"channel": "", "department": ""}).status_code == 200


def test_the_figures_take_a_fixed_number_of_queries(manager, django_assert_max_num_queries):
    client = api(manager)
    client.get(URL, {"period": "week"})  # the content types, loaded once
    # Two queries per figure (the period and the one before) and a handful per figure with a second look-up,
    # plus the session and the targets.
    budget = 3 * len(figure_specs()) + 10
    counts = []
    for extra in (0, 20):
        for index in range(extra):
            ticket(local(2026, 2, 3, 9) + timedelta(minutes=index), solved_after=2)
        with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(budget) as captured:
            assert client.get(URL, {"period": "quarter", "day": "2026-03-01"}).status_code == 200
        counts.append(len(captured))
    # More rows never cost more queries. One fewer is allowed: a rollup source's on-the-spot window starts at its
    # first row, and the new users move that start, which can leave a part of a span with nothing to compute.
    assert counts[1] <= counts[0]


def test_area_pages_narrow_the_registered_figures_to_a_region(client, manager):
    gauteng = conversation(local(2026, 2, 2, 9), region="Gauteng")
    message(gauteng, MessageKind.USER, local(2026, 2, 2, 9))
    cape = conversation(local(2026, 2, 3, 9), region="Western Cape")
    for hours in (0, 1):
        message(cape, MessageKind.USER, local(2026, 2, 3, 9) + timedelta(hours=hours))
    client.force_login(manager)
    query = {"period": "quarter", "day": "2026-03-01"}
    with time_machine.travel(NOW, tick=False):
        whole = client.get("/dashboard/areas/messaging/", query)
        narrowed = client.get("/dashboard/areas/messaging/", {**query, "region": "Western Cape"})
    values = [{f.key: f.value for s in page.context["sections"] for f in s.figures} for page in (whole, narrowed)]
    assert (values[0]["messaging.volume"], values[1]["messaging.volume"]) == (3, 2)
    assert "Registered figures narrowed to region “Western Cape”" in narrowed.content.decode()
