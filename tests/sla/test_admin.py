"""The SLA admin: calendars and policies are edited there, clocks only looked at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from saypro.sla import services
from saypro.sla.models import Calendar, Clock
from tests.factories import UserFactory
from tests.sla.conftest import METRIC

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def admin_client(client, administrator):
    client.force_login(administrator)
    return client


def calendar_form(**overrides) -> dict:
    data = {
        "name": "Cape Town office",
        "kind": "business",
        "time_zone": "Africa/Johannesburg",
        "hours-TOTAL_FORMS": "2",
        "hours-INITIAL_FORMS": "0",
        "hours-0-weekday": "0",
        "hours-0-start": "08:00",
        "hours-0-end": "12:00",
        "hours-1-weekday": "0",
        "hours-1-start": "13:00",
        "hours-1-end": "17:00",
        "holidays-TOTAL_FORMS": "1",
        "holidays-INITIAL_FORMS": "0",
        "holidays-0-date": "2026-03-21",
        "holidays-0-name": "Human Rights Day",
    }
    return {**data, **overrides}


def test_a_calendar_is_set_up_with_its_hours_and_holidays_in_one_page(admin_client):
    response = admin_client.post(reverse("admin:sla_calendar_add"), calendar_form())
    assert response.status_code == 302
    calendar = Calendar.objects.get(name="Cape Town office")
    assert [(h.start.hour, h.end.hour) for h in calendar.hours.all()] == [(8, 12), (13, 17)]
    assert calendar.holidays.get().name == "Human Rights Day"


def test_an_unknown_time_zone_is_refused_before_any_clock_uses_it(admin_client):
    response = admin_client.post(reverse("admin:sla_calendar_add"), calendar_form(time_zone="Mars/Olympus"))
    assert response.status_code == 200
    assert "time_zone" in response.context["adminform"].form.errors
    assert not Calendar.objects.filter(name="Cape Town office").exists()


def test_working_hours_that_end_before_they_start_are_refused(admin_client):
    response = admin_client.post(
        reverse("admin:sla_calendar_add"), calendar_form(**{"hours-1-start": "17:00", "hours-1-end": "13:00"})
    )
    assert response.status_code == 200
    assert not Calendar.objects.filter(name="Cape Town office").exists()


@pytest.mark.parametrize(
    ("warn_percents", "saved"),
    [("[90, 75, 90]", [75, 90]), ("[]", [])],
)
def test_a_policys_warning_points_are_saved_sorted(admin_client, policy, warn_percents, saved):
    response = admin_client.post(
        reverse("admin:sla_policy_change", args=[policy.pk]),
        {
            "metric": METRIC,
            "name": "Eight hours",
            "target": "8",
            "warn_percents": warn_percents,
            "calendar": policy.calendar_id,
            "is_default": "on",
        },
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.warn_percents == saved


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("warn_percents", '["75"]'),
        ("warn_percents", "[0, 50]"),
        ("warn_percents", "[100]"),
        ("warn_percents", '{"75": true}'),
        ("target", "0"),
    ],
)
def test_a_policy_the_sweep_could_not_measure_is_refused(admin_client, policy, field, value):
    data = {
        "metric": METRIC,
        "name": "Eight hours",
        "target": "8",
        "warn_percents": "[75, 90]",
        "calendar": policy.calendar_id,
        "is_default": "on",
        field: value,
    }
    response = admin_client.post(reverse("admin:sla_policy_change", args=[policy.pk]), data)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    policy.refresh_from_db()
    assert policy.warn_percents == [75, 90] and policy.target == timedelta(hours=8)


def test_the_clock_list_filters_by_metric_and_state_in_a_bounded_number_of_queries(
    admin_client, policy, django_assert_max_num_queries
):
    targets = UserFactory.create_batch(12)
    for target in targets:
        services.clock_start(metric=METRIC, target=target, at=T0)
    for target in targets[:4]:
        services.clock_stop(metric=METRIC, target=target, at=T0 + timedelta(hours=1))
    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("admin:sla_clock_changelist"), {"metric": METRIC, "state": "running"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == list(
        Clock.objects.filter(state="running").order_by("-due_at", "-pk")
    )
    assert len(response.context["cl"].result_list) == 8


def test_a_clock_is_shown_with_its_events_and_cannot_be_edited(admin_client, policy):
    target = UserFactory()
    clock = services.clock_start(metric=METRIC, target=target, at=T0)
    services.clock_pause(metric=METRIC, target=target, at=T0 + timedelta(hours=1))
    url = reverse("admin:sla_clock_change", args=[clock.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert b"Paused" in response.content and b"Started" in response.content
    assert admin_client.post(url, {"state": "stopped"}).status_code == 403
    assert admin_client.get(reverse("admin:sla_clock_add")).status_code == 403
    assert admin_client.post(reverse("admin:sla_clock_delete", args=[clock.pk]), {"post": "yes"}).status_code == 403
    clock.refresh_from_db()
    assert clock.state == "paused"


def test_staff_without_a_role_cannot_see_clocks(client, outsider, policy):
    clock = services.clock_start(metric=METRIC, target=UserFactory(), at=T0)
    client.force_login(outsider)
    assert client.get(reverse("admin:sla_clock_changelist")).status_code == 403
    assert client.get(reverse("admin:sla_clock_change", args=[clock.pk])).status_code == 403
