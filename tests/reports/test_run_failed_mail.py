"""A report run that fails e-mails the administrators once; managers and the rest of the staff hear nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from reports import services, tasks
from reports.models import ReportRun, RunStatus
from saypro import periods
from saypro.outbox.followups import followups_reconcile

pytestmark = pytest.mark.django_db

MONTH = periods.containing(periods.MONTH, date(2026, 2, 1))


def _fail(*args, **kwargs):
    raise RuntimeError("the chart library is missing a font")


def test_a_failed_run_tells_the_administrators_once(
    manager, administrator, mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    run = services.report_request(kind="monthly", period=MONTH, by=manager)
    monkeypatch.setattr("reports.sections.build_document", _fail)
    # The notice is a task of its own, dispatched once the failure is committed.
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True) as dispatched:
        services.report_generate(run_id=run.pk)
    assert len(dispatched) == 1
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [administrator.email]
    assert "Report not generated" in mail.subject and MONTH.slug in mail.subject
    assert "the chart library is missing a font" in mail.body and f"/dashboard/reports/{run.pk}/" in mail.body
    # The task delivered again finds the run no longer queued; the e-mail asked for again is a repeat.
    tasks.report_generate(run.pk)
    assert tasks.report_failure_notify(run.pk) is False
    assert len(mailoutbox) == 1 and ReportRun.objects.get(pk=run.pk).status == RunStatus.FAILED


def test_a_finished_run_sends_no_failure(administrator, mailoutbox):
    assert services.report_failure_send(run_id=0) is False
    assert mailoutbox == []


def test_a_notice_lost_between_commit_and_dispatch_is_sent_once_by_the_sweep(
    manager, administrator, mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    followups_reconcile(now=timezone.now() - timedelta(minutes=1))  # the sweep ran before the run failed
    run = services.report_request(kind="monthly", period=MONTH, by=manager)
    monkeypatch.setattr("reports.sections.build_document", _fail)
    # The worker dies after the failure is committed, before the notice task is published.
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=False) as lost:
        services.report_generate(run_id=run.pk)
    assert len(lost) == 1 and mailoutbox == []

    def sweep(minutes: int) -> int:
        return followups_reconcile(now=timezone.now() + timedelta(minutes=minutes))["reports.failure_unnotified"]

    assert sweep(1) == 0  # within the grace period: the task may still be on its way
    assert sweep(15) == 1
    assert [m.to for m in mailoutbox] == [[administrator.email]]
    failed = ReportRun.objects.get(pk=run.pk)
    assert failed.failure_notified_at == failed.finished_at
    assert sweep(60) == 0
    # Generated again and failed again: the new attempt's notice is owed, and the sweep sends it once.
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=False):
        ReportRun.objects.filter(pk=run.pk).update(status=RunStatus.QUEUED)
        services.report_generate(run_id=run.pk)
    assert sweep(120) == 1 and sweep(180) == 0
    assert len(mailoutbox) == 2
