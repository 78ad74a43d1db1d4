"""A finished scheduled report reaches its subscribers in a task of its own: an HTML summary with a plain-text
alternative and the PDF attached, or a signed, expiring link to the PDF when it is large; a delivery lost between
the commit and its dispatch is caught up by the reconciliation sweep, once."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import mail, signing
from django.utils import timezone
from django.utils.html import escape

from accounts import roles
from reports import links, services
from reports.document import document_from_dict
from reports.models import ReportKind, ReportRun
from saypro import periods
from saypro.mail import mail_retry
from saypro.outbox.followups import followups_reconcile
from saypro.outbox.models import MailDelivery
from tests.conftest import wait_for
from tests.factories import UserFactory
from tests.foundation.support import closed_port

from .conftest import local, signup

pytestmark = pytest.mark.django_db

MONTH = periods.containing(periods.MONTH, date(2026, 2, 1))


def _scheduled_run(*subscribers) -> ReportRun:
    # One sign-up approved in time and one two days late: the summary has a promise missed, so a risk to act on.
    signup(local(2026, 2, 5, 10, 0), decided_after_hours=2)
    signup(local(2026, 2, 9, 10, 0), decided_after_hours=60)
    for user in subscribers:
        services.report_subscriptions_set(user=user, kinds=[ReportKind.MONTHLY])
    return services.report_request(kind=ReportKind.MONTHLY, period=MONTH, by=None, scheduled=True)


def _generated(run: ReportRun, capture) -> ReportRun:
    with capture(execute=True):
        services.report_generate(run_id=run.pk)
    run.refresh_from_db()
    return run


def _html(message) -> str:
    (alternative,) = message.alternatives
    assert alternative[1] == "text/html"
    return alternative[0]


def _link_path(message) -> str:
    (url,) = [word for word in message.body.split() if "/dashboard/reports/link/" in word]
    return urlsplit(url).path


def test_the_email_has_the_summary_in_html_and_the_pdf_attached(
    manager, administrator, django_capture_on_commit_callbacks
):
    run = _generated(_scheduled_run(manager, administrator), django_capture_on_commit_callbacks)

    assert sorted(m.to[0] for m in mail.outbox) == [administrator.email, manager.email]
    message = mail.outbox[0]
    html = _html(message)
    summary = document_from_dict(run.document).section("summary")
    assert summary is not None and summary.cards and summary.risks
    for card in summary.cards:
        assert escape(card.title) in html and escape(card.figure.text()) in html
        assert escape(card.figure.target_text or "none set") in html
    verdicts = html.count("&#10003; met") + html.count("&#10007; missed") + html.count("no verdict")
    assert verdicts == len(summary.cards)
    for finding in summary.risks:
        assert escape(finding.text) in html and escape(finding.recommendation) in html
    assert f'href="{settings.SITE_URL}/dashboard/reports/{run.pk}/"' in html
    # Readable in mail clients: inline styles only, nothing to fetch, nothing to run.
    for banned in ("<script", "<style", "<link", "<img", "src=", "@import"):
        assert banned not in html
    assert "Headline figures" in message.body and "The PDF is attached." in message.body

    ((filename, content, mimetype),) = message.attachments
    assert (filename, mimetype) == (f"{run.file_stem}.pdf", "application/pdf")
    assert hashlib.sha256(content).hexdigest() == run.pdf_sha256
    # The outbox row keeps the HTML and a reference to the report's file, not a copy of the PDF.
    delivery = MailDelivery.objects.get(once_key=f"report-ready:{run.pk}:1:{manager.pk}")
    assert delivery.html == _html(next(m for m in mail.outbox if m.to == [manager.email]))
    assert delivery.attachments == [
        {"storage": "default", "name": run.pdf.name, "filename": filename, "mimetype": "application/pdf"}
    ]


def test_a_failed_email_is_sent_again_with_its_html_and_attachment(
    manager, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2
    run = _generated(_scheduled_run(manager), django_capture_on_commit_callbacks)
    delivery = MailDelivery.objects.get(once_key=f"report-ready:{run.pk}:1:{manager.pk}")
    assert delivery.status == MailDelivery.Status.FAILED

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert mail_retry(now=timezone.now() + timedelta(minutes=3)) == 1
    (message,) = mail.outbox
    assert _html(message) == delivery.html and message.body == delivery.body
    ((_, content, _),) = message.attachments
    assert hashlib.sha256(content).hexdigest() == run.pdf_sha256


def test_a_large_pdf_is_a_signed_link_that_downloads_it_without_signing_in(
    manager, settings, client, django_capture_on_commit_callbacks
):
    settings.REPORTS_MAIL_ATTACH_MAX_BYTES = 1000
    run = _generated(_scheduled_run(manager), django_capture_on_commit_callbacks)

    (message,) = mail.outbox
    assert message.attachments == [] and "The PDF is attached" not in message.body
    path = _link_path(message)
    assert escape(path) in _html(message)
    delivery = MailDelivery.objects.get(once_key=f"report-ready:{run.pk}:1:{manager.pk}")
    assert delivery.attachments == []

    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{run.file_stem}.pdf"'
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == run.pdf_sha256


def _regenerated(run: ReportRun, capture) -> ReportRun:
    """The same report generated again (as after its quarter closes), with a sign-up more: other figures."""
    signup(local(2026, 2, 16, 10, 0), decided_after_hours=70)
    services.report_request(kind=ReportKind.MONTHLY, period=MONTH, by=None, scheduled=True)
    return _generated(run, capture)


def test_a_link_from_before_the_report_was_generated_again_says_so_and_serves_no_other_file(
    manager, settings, client, django_capture_on_commit_callbacks
):
    settings.REPORTS_MAIL_ATTACH_MAX_BYTES = 1000
    first = _generated(_scheduled_run(manager), django_capture_on_commit_callbacks)
    first_sha = first.pdf_sha256
    old_path = _link_path(mail.outbox[0])
    again = _regenerated(first, django_capture_on_commit_callbacks)
    assert again.generations == 2 and again.pdf_sha256 != first_sha
    new_path = _link_path(mail.outbox[1])

    response = client.get(old_path)
    assert response.status_code == 410 and response["Content-Type"].startswith("text/html")
    assert response["Referrer-Policy"] == "no-referrer"
    generated_at = again.document["generated_at"]
    text = response.content.decode()
    assert f"This report was generated again on {generated_at}" in text
    assert "the figures in your e-mail are from the earlier version" in text
    assert f'href="/dashboard/reports/{again.pk}/"' in text and again.document["period_label"] in text

    # The e-mail of the new generation links to its own PDF.
    response = client.get(new_path)
    assert response.status_code == 200
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == again.pdf_sha256


def test_a_link_whose_file_is_being_replaced_asks_to_try_again(manager, client):
    run = generated_quietly(manager)
    path = urlsplit(links.report_pdf_link(run=run, user=manager, now=timezone.now()).url).path
    run.pdf.storage.delete(run.pdf.name)  # the new generation's commit has removed it; this request read the row

    response = client.get(path)
    assert response.status_code == 503 and b"being generated again right now" in response.content


def test_a_link_that_names_no_generation_is_taken_as_the_first(manager, client, django_capture_on_commit_callbacks):
    run = generated_quietly(manager)
    token = signing.TimestampSigner(salt=links.LINK_SALT).sign_object({"r": run.pk, "u": manager.pk})
    assert client.get(f"/dashboard/reports/link/{token}/").status_code == 200

    _regenerated(run, django_capture_on_commit_callbacks)
    response = client.get(f"/dashboard/reports/link/{token}/")
    assert response.status_code == 410 and b"generated again" in response.content


def test_a_revoked_link_to_a_report_generated_again_is_refused_as_withdrawn(
    manager, client, django_capture_on_commit_callbacks
):
    run = generated_quietly(manager)
    path = urlsplit(links.report_pdf_link(run=run, user=manager, now=timezone.now()).url).path
    _regenerated(run, django_capture_on_commit_callbacks)
    manager.groups.clear()

    response = client.get(path)
    assert response.status_code == 403 and b"This link was withdrawn" in response.content
    assert b"generated again" not in response.content


def generated_quietly(user) -> ReportRun:
    """A finished report the user subscribes to, its delivery task not run."""
    run = _scheduled_run(user)
    services.report_generate(run_id=run.pk)
    run.refresh_from_db()
    return run


def test_a_delivery_lost_between_commit_and_dispatch_is_caught_up_once_by_the_sweep(
    manager, administrator, django_capture_on_commit_callbacks
):
    followups_reconcile(now=timezone.now() - timedelta(minutes=1))  # the sweep ran before the run finished
    run = _scheduled_run(manager, administrator)
    # The worker dies after the commit, before the delivery task is published: the callback never runs.
    with django_capture_on_commit_callbacks(execute=False) as lost:
        services.report_generate(run_id=run.pk)
    assert len(lost) == 1 and mail.outbox == []

    def sweep(minutes: int) -> int:
        return followups_reconcile(now=timezone.now() + timedelta(minutes=minutes))["reports.undelivered"]

    assert sweep(1) == 0  # within the grace period: the task may still be on its way
    assert sweep(15) == 1
    assert sorted(m.to[0] for m in mail.outbox) == [administrator.email, manager.email]
    assert ReportRun.objects.get(pk=run.pk).delivered_generation == 1
    assert sweep(60) == 0
    # A worker that sent the e-mails and died before marking the run: handed out again, nothing is sent twice.
    ReportRun.objects.filter(pk=run.pk).update(delivered_generation=0)
    assert sweep(120) == 1
    assert len(mail.outbox) == 2
    assert ReportRun.objects.get(pk=run.pk).delivered_generation == 1


def test_delivery_reads_the_subscribers_in_a_fixed_number_of_queries(
    manager, administrator, django_assert_max_num_queries
):
    others = [UserFactory(email=f"manager{n}@saypro.example", roles=[roles.MANAGER]) for n in range(3)]
    run = generated_quietly(manager)
    for user in (administrator, *others):
        services.report_subscriptions_set(user=user, kinds=[ReportKind.MONTHLY])
    # Per e-mail: the recipient's preferences, the delivery row in its savepoint, and its outcome; the run, the
    # subscribers with their permission and the mark of delivery are read or written once, however many there are.
    with django_assert_max_num_queries(3 + 4 * 5):
        assert services.report_deliver(run_id=run.pk) == 5


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_on_a_real_worker_the_finished_run_dispatches_its_delivery_after_commit(celery_worker_live, manager):
    run = _scheduled_run(manager)

    def delivered():
        return (
            MailDelivery.objects.filter(
                once_key=f"report-ready:{run.pk}:1:{manager.pk}", status=MailDelivery.Status.SENT
            ).exists()
            and ReportRun.objects.filter(pk=run.pk, delivered_generation=1).exists()
        )

    wait_for(delivered, timeout=90)
    (message,) = mail.outbox
    assert message.to == [manager.email] and message.attachments and _html(message)
