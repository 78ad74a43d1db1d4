"""Report generation on a real Celery worker, and two managers asking for the same report at once."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from django.db import OperationalError, close_old_connections, connection

from reports import services
from reports.models import ReportRun, RunStatus
from saypro import periods
from saypro.audit.models import AuditEntry
from tests.conftest import wait_for

from .conftest import local, signup

Q1 = periods.containing(periods.QUARTER, date(2026, 2, 1))


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_generates_a_requested_report(celery_worker_live, manager):
    signup(local(2026, 1, 5, 10, 0), decided_after_hours=2)
    run = services.report_request(kind="quarterly", period=Q1, by=manager)

    def done():
        run.refresh_from_db()
        return run.status == RunStatus.DONE

    wait_for(done, timeout=60)
    assert run.progress == 100 and run.pdf and run.xlsx and run.csv and len(run.pdf_sha256) == 64
    assert run.document["sections"][0]["key"] == "summary"


@pytest.mark.django_db(transaction=True)
def test_two_managers_asking_at_once_get_one_run(manager, administrator, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    barrier = threading.Barrier(2)
    runs: list[int] = []

    def ask(user):
        barrier.wait()
        try:
            for _attempt in range(50):
                try:
                    runs.append(services.report_request(kind="quarterly", period=Q1, by=user).pk)
                    return
                except OperationalError:
                    # SQLite refuses a second writer instead of waiting; PostgreSQL waits on the lock.
                    assert connection.vendor == "sqlite"
                    time.sleep(0.01)
        finally:
            close_old_connections()

    from saypro.celery import app

    app.conf.task_always_eager = False  # queued, not run: the race is about the request
    threads = [threading.Thread(target=ask, args=(user,)) for user in (manager, administrator)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(runs) == 2 and len(set(runs)) == 1
    assert ReportRun.objects.count() == 1
    assert AuditEntry.objects.filter(action="report.request").count() == 1
