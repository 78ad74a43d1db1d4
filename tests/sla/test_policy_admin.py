"""SLA policies in the admin read and are edited in hours, with their warning points as percentages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from saypro.durations import target_text
from saypro.sla.models import Calendar, Policy
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def calendar():
    return Calendar.objects.create(name="Always", kind=Calendar.Kind.ALWAYS)


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_policy_list_shows_targets_in_hours_and_warnings_in_percent(admin_client, calendar):
    Policy.objects.create(
        metric="ticket.resolution", name="Tickets", target=timedelta(days=1), warn_percents=[75, 90], calendar=calendar
    )
    page = admin_client.get("/admin/sla/policy/").content.decode()
    assert "24 h" in page and "75 %, 90 %" in page
    assert "1 day, 0:00:00" not in page


def test_a_policy_target_is_typed_in_hours(admin_client, calendar):
    policy = Policy.objects.create(
        metric="ticket.resolution", name="Tickets", target=timedelta(hours=24), calendar=calendar
    )
    url = f"/admin/sla/policy/{policy.pk}/change/"
    assert 'name="target" value="24"' in admin_client.get(url).content.decode()
    form = {
        "metric": "ticket.resolution",
        "name": "Tickets",
        "target": "12.5",
        "warn_percents": "[75, 90]",
        "calendar": calendar.pk,
    }
    assert admin_client.post(url, form).status_code == 302
    policy.refresh_from_db()
    assert policy.target == timedelta(hours=12, minutes=30)
    refused = admin_client.post(url, {**form, "target": "0"})
    assert refused.status_code == 200 and "greater than or equal to 0.01" in refused.content.decode()


@pytest.mark.parametrize(
    ("seconds", "text"), [(86400, "24 h"), (43200, "12 h"), (5400, "1 h 30 min"), (1800, "30 min"), (259200, "72 h")]
)
def test_deadline_lengths_read_as_the_promises_state_them(seconds, text):
    assert target_text(seconds) == text
