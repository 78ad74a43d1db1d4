"""Managers choose the reports they receive by e-mail; a scheduled run that completes sends each subscriber one
e-mail with the executive summary, however often the task is delivered."""

from __future__ import annotations

from datetime import date

import pytest

from accounts import roles
from reports import services, tasks
from reports.models import ReportKind, ReportRun, ReportSubscription
from saypro import periods
from tests.factories import UserFactory

from .conftest import local, signup

pytestmark = pytest.mark.django_db

MONTH = periods.containing(periods.MONTH, date(2026, 2, 1))


def test_a_manager_subscribes_and_unsubscribes(client, manager, django_assert_max_num_queries):
    client.force_login(manager)
    with django_assert_max_num_queries(12):
        assert client.get("/dashboard/reports/subscriptions/").status_code == 200
    response = client.post("/dashboard/reports/subscriptions/", {"kinds": ["weekly", "quarterly"]})
    assert response.status_code == 302
    assert set(ReportSubscription.objects.filter(user=manager).values_list("kind", flat=True)) == {
        "weekly",
        "quarterly",
    }
    page = client.get("/dashboard/reports/subscriptions/").content.decode()
    assert 'value="weekly"' in page and "checked" in page
    client.post("/dashboard/reports/subscriptions/", {"kinds": ["monthly"]})
    assert list(ReportSubscription.objects.filter(user=manager).values_list("kind", flat=True)) == ["monthly"]
    client.post("/dashboard/reports/subscriptions/", {})
    assert not ReportSubscription.objects.filter(user=manager).exists()


def test_an_unknown_kind_re_renders_the_form(client, manager):
    client.force_login(manager)
    response = client.post("/dashboard/reports/subscriptions/", {"kinds": ["daily"]})
    assert response.status_code == 400 and b"Select a valid choice" in response.content
    assert not ReportSubscription.objects.exists()


def test_a_completed_scheduled_run_emails_each_subscriber_once(
    manager, administrator, mailoutbox, django_capture_on_commit_callbacks
):
    signup(local(2026, 2, 5, 10, 0), decided_after_hours=2)
    other_kind = UserFactory(email="weekly@saypro.example", roles=[roles.MANAGER])
    # Subscribed while a manager, since moved to a role without reports: no longer receives them.
    former = UserFactory(email="former@saypro.example", roles=[roles.MANAGER])
    for user, kind in ((manager, "monthly"), (administrator, "monthly"), (other_kind, "weekly"), (former, "monthly")):
        services.report_subscriptions_set(user=user, kinds=[kind])
    former.groups.clear()
    run = services.report_request(kind=ReportKind.MONTHLY, period=MONTH, by=None, scheduled=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.report_generate(run_id=run.pk)
    run.refresh_from_db()
    assert sorted(m.to[0] for m in mailoutbox) == [administrator.email, manager.email]
    mail = mailoutbox[0]
    assert MONTH.label in mail.subject or MONTH.name in mail.subject
    assert f"/dashboard/reports/{run.pk}/" in mail.body and "Headline figures" in mail.body
    assert "The PDF is attached." in mail.body
    assert run.delivered_generation == run.generations == 1
    # Delivered again: the run is no longer queued, and delivering again finds every e-mail already sent.
    tasks.report_generate(run.pk)
    ReportRun.objects.filter(pk=run.pk).update(delivered_generation=0)
    assert services.report_deliver(run_id=run.pk) == 0
    assert len(mailoutbox) == 2


def test_a_run_a_person_asked_for_is_not_emailed(manager, mailoutbox, django_capture_on_commit_callbacks):
    services.report_subscriptions_set(user=manager, kinds=["monthly"])
    run = services.report_request(kind=ReportKind.MONTHLY, period=MONTH, by=manager)
    with django_capture_on_commit_callbacks(execute=True):
        services.report_generate(run_id=run.pk)
    assert mailoutbox == []
    assert services.report_deliver(run_id=run.pk) == 0
