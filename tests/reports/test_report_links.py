"""Following the link in a report's e-mail: a signed, expiring link to the PDF that works without signing in, and
every way it stops working (expired, tampered with, withdrawn, the report gone), each with a page that says why.

The report is generated once for the module (a PDF takes about half a second each time); the tests that generate
it again, remove its file or deliver it are in test_report_delivery.py."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import signing
from django.db import transaction
from django.utils import timezone

from accounts import roles
from accounts.models import User
from reports import links, services
from reports.models import ReportKind, ReportRun
from tests.factories import UserFactory

from .test_report_delivery import MONTH, generated_quietly

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Shared:
    run: ReportRun
    manager: User


@pytest.fixture(scope="module")
def generated(django_db_setup, django_db_blocker) -> Iterator[Shared]:
    """A finished monthly report a manager subscribes to, its delivery task not run: made in a transaction rolled
    back at the module's end, each test in a savepoint of it, so what a test changes (a role, a subscription, the
    run's row) is undone after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        manager = UserFactory(email="link-manager@saypro.example", roles=[roles.MANAGER])
        yield Shared(run=generated_quietly(manager), manager=manager)
        transaction.set_rollback(True)


@pytest.fixture
def shared(generated: Shared) -> Shared:
    """The module's report and manager read afresh in the test's savepoint: a test that deletes or changes them
    changes its own copies, not the next test's."""
    return Shared(run=ReportRun.objects.get(pk=generated.run.pk), manager=User.objects.get(pk=generated.manager.pk))


def test_an_expired_link_is_refused_with_a_page_that_says_so(shared, client):
    run, manager = shared.run, shared.manager
    path = urlsplit(links.report_pdf_link(run=run, user=manager, now=timezone.now()).url).path

    with time_machine.travel(timezone.now() + timedelta(days=6, hours=23)):
        assert client.get(path).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        response = client.get(path)
    assert response.status_code == 403
    assert b"This link has expired" in response.content and b"This link does not work" in response.content


@pytest.mark.parametrize(
    "how", ["signature changed", "cut short", "other link's salt", "nonsense", "generation not a number"]
)
def test_a_tampered_link_is_refused(shared, client, how):
    run, manager = shared.run, shared.manager
    token = links.report_link_token(run=run, user=manager)
    tampered = {
        "signature changed": token[:-1] + ("A" if token[-1] != "A" else "B"),
        "cut short": token[: len(token) // 2],
        "other link's salt": signing.TimestampSigner(salt="support.survey").sign_object({"r": run.pk, "u": manager.pk}),
        "nonsense": "not-a-link",
        "generation not a number": signing.TimestampSigner(salt=links.LINK_SALT).sign_object(
            {"r": run.pk, "g": "1", "u": manager.pk}
        ),
    }[how]
    response = client.get(f"/dashboard/reports/link/{tampered}/")
    assert response.status_code == 403 and b"This link is not valid" in response.content


@pytest.mark.parametrize("how", ["unsubscribed", "lost the manager role", "deactivated"])
def test_a_revoked_link_is_refused(shared, client, how):
    run, manager = shared.run, shared.manager
    path = urlsplit(links.report_pdf_link(run=run, user=manager, now=timezone.now()).url).path
    assert client.get(path).status_code == 200
    if how == "unsubscribed":
        services.report_subscriptions_set(user=manager, kinds=[ReportKind.WEEKLY])
    elif how == "lost the manager role":
        manager.groups.clear()
    else:
        manager.is_active = False
        manager.save(update_fields=["is_active"])

    response = client.get(path)
    assert response.status_code == 403 and b"This link was withdrawn" in response.content


def test_a_link_to_a_report_no_longer_there_is_refused(shared, client):
    run, manager = shared.run, shared.manager
    path = urlsplit(links.report_pdf_link(run=run, user=manager, now=timezone.now()).url).path
    run.delete()
    response = client.get(path)
    assert response.status_code == 403 and b"This report is not available" in response.content


def test_a_link_still_downloads_its_own_generation_while_the_report_is_generated_again(shared, client):
    run, manager = shared.run, shared.manager
    path = urlsplit(links.report_pdf_link(run=run, user=manager, now=timezone.now()).url).path
    services.report_request(kind=ReportKind.MONTHLY, period=MONTH, by=None, scheduled=True)
    assert ReportRun.objects.get(pk=run.pk).status == "queued"

    response = client.get(path)
    assert response.status_code == 200
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == run.pdf_sha256


def test_a_link_naming_a_generation_not_made_is_refused(shared, client):
    run, manager = shared.run, shared.manager
    token = signing.TimestampSigner(salt=links.LINK_SALT).sign_object({"r": run.pk, "g": 2, "u": manager.pk})
    response = client.get(f"/dashboard/reports/link/{token}/")
    assert response.status_code == 403 and b"This report is not available" in response.content
