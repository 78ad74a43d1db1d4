"""A report whose worker died while generating it is queued again and generated once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from reports import services
from reports.models import ReportRun, RunStatus
from saypro import periods

T0 = datetime(2026, 4, 2, 6, 0, tzinfo=UTC)


@pytest.fixture
def run_whose_worker_died(db, manager, django_capture_on_commit_callbacks):
    """A quarterly run claimed by a worker that was then killed: marked generating, its heartbeat stopped."""
    with time_machine.travel(T0, tick=False):
        run = services.report_request(
            kind="quarterly", period=periods.containing(periods.QUARTER, date(2026, 1, 1)), by=manager
        )  # its task is never run: the worker that took it died
        ReportRun.objects.filter(pk=run.pk).update(
            status=RunStatus.RUNNING, started_at=T0, heartbeat_at=T0, progress=40, step="Support"
        )
    return run


def test_a_run_still_beating_is_left_to_its_worker(run_whose_worker_died, settings):
    just_inside = T0 + timedelta(minutes=settings.REPORTS_STALLED_MINUTES) - timedelta(seconds=1)
    assert services.report_runs_recover(now=just_inside) == []
    assert ReportRun.objects.get().status == RunStatus.RUNNING


def test_a_stalled_run_is_queued_again_and_generated_once(
    run_whose_worker_died, settings, django_capture_on_commit_callbacks
):
    stalled = T0 + timedelta(minutes=settings.REPORTS_STALLED_MINUTES)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.report_runs_recover(now=stalled) == [run_whose_worker_died.pk]
    run = ReportRun.objects.get()
    assert run.status == RunStatus.DONE and run.generations == 1
    assert run.pdf and run.pdf_sha256 and run.xlsx_sha256 and run.csv_sha256
    # The dead worker's own task, handed out again by the broker much later, finds nothing to do.
    assert services.report_generate(run_id=run.pk) is None
    assert ReportRun.objects.get().generations == 1
    assert services.report_runs_recover(now=stalled + timedelta(hours=2)) == []


def test_asking_again_for_a_stalled_run_starts_it_afresh(run_whose_worker_died, manager, settings):
    stalled = T0 + timedelta(minutes=settings.REPORTS_STALLED_MINUTES)
    again = services.report_request(
        kind="quarterly", period=periods.containing(periods.QUARTER, date(2026, 1, 1)), by=manager, now=stalled
    )
    assert again.pk == run_whose_worker_died.pk
    assert ReportRun.objects.get().status == RunStatus.QUEUED
