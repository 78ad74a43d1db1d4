"""Reads that may lag go to the streaming replica only where they may lag: the router, the middleware, the tasks."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.sessions.models import Session
from django.http import HttpResponse
from django.test import RequestFactory

from accounts.models import User
from reports.models import ReportRun
from saypro import replica
from support.models import Ticket

router = replica.ReplicaRouter()


@pytest.fixture
def with_replica(monkeypatch):
    monkeypatch.setattr(replica, "replica_configured", lambda: True)


def test_without_a_replica_every_read_stays_on_the_primary():
    with replica.lag_tolerant():
        assert router.db_for_read(Ticket) is None


def test_lag_tolerant_reads_go_to_the_replica_and_everything_else_to_the_primary(with_replica):
    assert router.db_for_read(Ticket) is None
    with replica.lag_tolerant():
        assert router.db_for_read(Ticket) == router.db_for_read(User) == "replica"
        # State a request or a job has just written, and every write, stay on the primary.
        assert router.db_for_read(Session) is None and router.db_for_read(ReportRun) is None
        assert router.db_for_write(Ticket) == "default"
    assert router.db_for_read(Ticket) is None
    assert router.allow_migrate("replica", "support") is False and router.allow_migrate("default", "support")


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("get", "/dashboard/areas/support/", True),
        ("get", "/api/v1/metrics/compliance/", True),
        ("post", "/api/v1/metrics/reports/", False),
        ("get", "/dashboard/support/", False),
        ("get", "/api/v1/staff/tickets/", False),
    ],
)
def test_the_middleware_opens_replica_reads_for_get_requests_on_lag_tolerant_paths(
    with_replica, method, path, expected
):
    seen = []

    def view(request):
        seen.append(router.db_for_read(Ticket) == "replica")
        return HttpResponse()

    request = getattr(RequestFactory(), method)(path)
    replica.replica_reads(view)(request)
    assert seen == [expected]
    assert router.db_for_read(Ticket) is None


def test_reports_and_rollups_read_from_the_replica_while_their_task_runs(with_replica):
    report = SimpleNamespace(name="reports.tasks.report_generate", request=SimpleNamespace())
    sweep = SimpleNamespace(name="saypro.sla.tasks.sweep", request=SimpleNamespace())
    replica.task_started(task=sweep)
    assert router.db_for_read(Ticket) is None
    replica.task_finished(task=sweep)
    replica.task_started(task=report)
    assert router.db_for_read(Ticket) == "replica"
    replica.task_finished(task=report)
    assert router.db_for_read(Ticket) is None
