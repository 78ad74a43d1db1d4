"""A report built while its period was still running is generated again once the period closes, once, and the
finished report goes to its subscribers."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from reports import services
from reports.models import ReportKind, ReportRun, RunStatus
from saypro import periods

from .conftest import local, signup

pytestmark = pytest.mark.django_db

FEBRUARY = periods.containing(periods.MONTH, date(2026, 2, 1))


def test_a_report_of_a_running_month_is_regenerated_once_after_it_closes(
    manager, mailoutbox, django_capture_on_commit_callbacks
):
    # Requests only queue runs (their after-commit dispatch does not run here); the test generates them.
    signup(local(2026, 2, 5, 10, 0), decided_after_hours=2)
    services.report_subscriptions_set(user=manager, kinds=["monthly"])
    with time_machine.travel(local(2026, 2, 20, 12), tick=False):
        run = services.report_request(kind=ReportKind.MONTHLY, period=FEBRUARY, by=manager)
        services.report_generate(run_id=run.pk)
    run.refresh_from_db()
    assert run.document["period_label"].startswith("February 2026 to date") and mailoutbox == []
    # The month's last evening: still running, nothing to do.
    with time_machine.travel(local(2026, 2, 28, 23), tick=False):
        assert services.scheduled_reports_request() == []
    # Just after midnight, before the scheduled hour: the closed month's report is queued again, once.
    with time_machine.travel(local(2026, 3, 1, 0, 30), tick=False):
        assert [r.pk for r in services.scheduled_reports_request()] == [run.pk]
        assert services.scheduled_reports_request() == []
        with django_capture_on_commit_callbacks(execute=True):
            services.report_generate(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE and run.generations == 2
    assert run.document["period_label"] == FEBRUARY.label
    assert [m.to for m in mailoutbox] == [[manager.email]] and FEBRUARY.name in mailoutbox[0].subject
    # At the scheduled hour the month is not asked for again, and the finished report is not rebuilt.
    with time_machine.travel(local(2026, 3, 1, 9), tick=False):
        assert [r.kind for r in services.scheduled_reports_request()] == []
    assert ReportRun.objects.get(pk=run.pk).status == RunStatus.DONE and len(mailoutbox) == 1
