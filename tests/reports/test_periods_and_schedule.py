"""Period boundaries in the configured time zone, the morning schedule of reports, and the rollup refresh."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from reports import rollups, services
from reports.models import DailyRollup, ReportRun, RollupCoverage
from reports.sources import SLA_DUE
from saypro import periods
from saypro.celery import app as celery_app
from saypro.sla.models import Clock
from saypro.sla.services import clock_stop

from .conftest import METRIC, local, signup

pytestmark = pytest.mark.django_db


def test_periods_are_whole_local_days():
    quarter = periods.containing(periods.QUARTER, date(2026, 2, 14))
    assert (quarter.start, quarter.end, quarter.slug) == (date(2026, 1, 1), date(2026, 4, 1), "2026-Q1")
    # Midnight in Johannesburg is 22:00 UTC the day before.
    assert quarter.start_at == datetime(2025, 12, 31, 22, tzinfo=UTC)
    assert quarter.previous().slug == "2025-Q4" and quarter.previous().end == quarter.start
    week = periods.containing(periods.WEEK, date(2026, 1, 1))
    assert (week.start, week.slug, week.previous().slug) == (date(2025, 12, 29), "2026-W01", "2025-W52")
    month = periods.containing(periods.MONTH, date(2026, 3, 31))
    assert (month.previous().start, month.previous().days) == (date(2026, 2, 1), 28)
    custom = periods.custom(date(2026, 1, 10), date(2026, 1, 19))
    assert (custom.days, custom.previous().start, custom.slug) == (10, date(2025, 12, 31), "2026-01-10..2026-01-19")
    for slug in ("2026-W07", "2026-02", "2026-Q1", "2026-02-01..2026-02-14"):
        assert periods.from_slug(slug).slug == slug
    for bad in ("2026-Q5", "soon", "2026-13"):
        with pytest.raises(ValueError):
            periods.from_slug(bad)
    with pytest.raises(ValueError):
        periods.custom(date(2026, 1, 1), date(2027, 6, 1))


def test_period_boundaries_follow_the_local_time_zone(db):
    """A deadline at 23:30 local on 31 March is Q1; at 00:30 local on 1 April (still 31 March in UTC) it is Q2."""
    late_march = signup(local(2026, 3, 29, 23, 20), decided_after_hours=1)
    Clock.objects.filter(target_id=late_march.pk).update(due_at=local(2026, 3, 31, 23, 30))
    early_april = signup(local(2026, 3, 30, 0, 20), decided_after_hours=1)
    Clock.objects.filter(target_id=early_april.pk).update(due_at=local(2026, 4, 1, 0, 30))
    reader = rollups.Reader(local(2026, 4, 2, 12, 0))
    q1 = reader.totals(SLA_DUE, date(2026, 1, 1), date(2026, 4, 1), dimension=f"metric:{METRIC}")
    q2 = reader.totals(SLA_DUE, date(2026, 4, 1), date(2026, 7, 1), dimension=f"metric:{METRIC}")
    assert (q1["achieved"], q2["achieved"]) == (1, 1)
    rollups.rollups_refresh(first=date(2026, 3, 1), last=date(2026, 4, 1), now=local(2026, 4, 2, 12, 0))
    assert DailyRollup.objects.get(metric=SLA_DUE, dimension=f"metric:{METRIC}", day=date(2026, 3, 31)).values == {
        "achieved": 1.0,
        "breached": 0.0,
    }
    assert DailyRollup.objects.get(metric=SLA_DUE, dimension=f"metric:{METRIC}", day=date(2026, 4, 1)).values == {
        "achieved": 1.0,
        "breached": 0.0,
    }


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (local(2026, 3, 2, 5, 59), []),  # Monday, before 06:00
        (local(2026, 3, 2, 6, 5), [("weekly", "2026-W09")]),
        (local(2026, 3, 3, 6, 5), []),  # Tuesday
        (local(2026, 4, 1, 6, 5), [("monthly", "2026-03"), ("quarterly", "2026-Q1")]),  # a Wednesday
        (local(2026, 6, 1, 7, 0), [("weekly", "2026-W22"), ("monthly", "2026-05")]),  # a Monday and the 1st
    ],
)
def test_scheduled_reports_are_asked_for_on_their_mornings(moment, expected, django_capture_on_commit_callbacks):
    with time_machine.travel(moment, tick=False), django_capture_on_commit_callbacks(execute=True):
        runs = services.scheduled_reports_request(now=moment)
        # Beat asks every hour: a report already asked for today is not asked for again.
        later = [] if not runs else services.scheduled_reports_request(now=moment + timedelta(hours=1))
    assert [(r.kind, r.period_slug) for r in runs] == expected
    assert later == []
    assert all(r.scheduled and r.requested_by is None for r in ReportRun.objects.all())
    assert ReportRun.objects.count() == len(expected)


def test_beat_runs_the_rollups_and_the_report_schedule():
    schedule = {entry["task"] for entry in celery_app.conf.beat_schedule.values()}
    assert {"reports.tasks.rollups_refresh", "reports.tasks.scheduled_reports"} <= schedule


def test_refresh_recomputes_recent_days_so_late_changes_arrive(db, settings):
    settings.REPORTS_ROLLUP_RECENT_DAYS = 3
    registration = signup(local(2026, 3, 10, 9, 0))  # due 12 March 09:10, still open
    first_run = local(2026, 3, 11, 1, 0)
    rollups.rollups_refresh(now=first_run, names=["sla"])
    coverage = RollupCoverage.objects.get(source="sla")
    assert (coverage.first_day, coverage.last_day) == (date(2026, 3, 10), date(2026, 3, 10))
    # Decided in time on 11 March: the day it is due (12 March) is computed when the day is complete.
    clock_stop(metric=METRIC, target=registration, at=local(2026, 3, 11, 15, 0))
    rollups.rollups_refresh(now=local(2026, 3, 13, 1, 0), names=["sla"])
    row = DailyRollup.objects.get(metric=SLA_DUE, dimension=f"metric:{METRIC}", day=date(2026, 3, 12))
    assert row.values == {"achieved": 1.0, "breached": 0.0}
    # A late change to a day inside the recent window is picked up by the next run.
    Clock.objects.filter(target_id=registration.pk).update(met=False)
    rollups.rollups_refresh(now=local(2026, 3, 13, 2, 0), names=["sla"])
    row = DailyRollup.objects.get(metric=SLA_DUE, dimension=f"metric:{METRIC}", day=date(2026, 3, 12))
    assert row.values == {"achieved": 0.0, "breached": 1.0}
    assert RollupCoverage.objects.get(source="sla").last_day == date(2026, 3, 12)


def test_rebuild_command_recomputes_a_range(db, capsys):
    signup(local(2026, 1, 5, 10, 0), decided_after_hours=2)
    with time_machine.travel(local(2026, 2, 1, 12, 0), tick=False):
        call_command("rollups_rebuild", "--from", "2026-01-01", "--to", "2026-01-31")
    assert "Rollups refreshed" in capsys.readouterr().out
    assert DailyRollup.objects.filter(day__gte=date(2026, 1, 1), day__lte=date(2026, 1, 31)).exists()
    assert RollupCoverage.objects.get(source="registrations").first_day == date(2026, 1, 1)
    with pytest.raises(CommandError):
        call_command("rollups_rebuild", "--source", "nope")
    with pytest.raises(CommandError):
        call_command("rollups_rebuild", "--from", "2026-02-01", "--to", "2026-01-01")


def test_a_period_that_has_not_begun_cannot_be_reported(db, manager):
    with pytest.raises(services.InvalidInput):
        later = periods.today() + timedelta(days=30)
        services.report_request(kind="weekly", period=periods.containing(periods.WEEK, later), by=manager)


def test_asking_for_a_report_in_progress_returns_the_same_run(db, manager):
    period = periods.containing(periods.QUARTER, date(2026, 1, 1))
    first = services.report_request(kind="quarterly", period=period, by=manager)
    second = services.report_request(kind="quarterly", period=period, by=manager)
    assert first.pk == second.pk and ReportRun.objects.count() == 1
    assert services.report_generate(run_id=first.pk) is not None
    assert services.report_generate(run_id=first.pk) is None  # a second delivery finds it done


def test_a_report_built_while_its_quarter_ran_is_built_again_once_after_it_closes(
    db, django_capture_on_commit_callbacks
):
    mid_quarter = local(2026, 3, 20, 12, 0)
    with time_machine.travel(mid_quarter, tick=False), django_capture_on_commit_callbacks(execute=True):
        run = services.report_request(kind="quarterly", period=periods.from_slug("2026-Q1"), by=None, now=mid_quarter)
    run.refresh_from_db()
    assert run.status == "done" and run.generations == 1
    # Still running: the hourly schedule leaves it alone (20 March is no report morning).
    with time_machine.travel(mid_quarter + timedelta(hours=1), tick=False):
        assert services.scheduled_reports_request(now=mid_quarter + timedelta(hours=1)) == []

    closed = local(2026, 4, 2, 6, 5)  # a Thursday: nothing else is due
    with time_machine.travel(closed, tick=False), django_capture_on_commit_callbacks(execute=True):
        regenerated = services.scheduled_reports_request(now=closed)
        # Beat's next hour, while the fresh run is queued: not asked for twice.
        again = services.scheduled_reports_request(now=closed + timedelta(minutes=1))
    assert [(r.kind, r.period_slug) for r in regenerated] == [("quarterly", "2026-Q1")]
    assert again == []
    run.refresh_from_db()
    assert run.status == "done" and run.generations == 2 and run.scheduled
    assert run.started_at >= local(2026, 4, 1)
    # The finished report is not built a third time.
    later = closed + timedelta(hours=1)
    with time_machine.travel(later, tick=False):
        assert services.scheduled_reports_request(now=later) == []
    assert ReportRun.objects.count() == 1
