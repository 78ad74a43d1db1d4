"""Celery tasks of the reports app: the rollup refresh, report generation and the e-mails that follow it (to the
subscribers, or the administrators when it failed), the morning schedule and the staffing alerts."""

from __future__ import annotations

from celery import shared_task

from . import rollups, services


@shared_task(name="reports.tasks.rollups_refresh")
def rollups_refresh() -> dict[str, int]:
    return rollups.rollups_refresh()


@shared_task(name="reports.tasks.report_generate")
def report_generate(run_id: int) -> None:
    services.report_generate(run_id=run_id)


@shared_task(name="reports.tasks.report_deliver")
def report_deliver(run_id: int) -> int:
    return services.report_deliver(run_id=run_id)


@shared_task(name="reports.tasks.report_failure_notify")
def report_failure_notify(run_id: int) -> bool:
    return services.report_failure_send(run_id=run_id)


@shared_task(name="reports.tasks.runs_recover")
def runs_recover() -> list[int]:
    return services.report_runs_recover()


@shared_task(name="reports.tasks.scheduled_reports")
def scheduled_reports() -> list[int]:
    return [run.pk for run in services.scheduled_reports_request()]


@shared_task(name="reports.tasks.staffing_check")
def staffing_check() -> list[int]:
    return [alert.pk for alert in services.staffing_alerts_raise()]


@shared_task(name="reports.tasks.staffing_alert_send")
def staffing_alert_send(alert_id: int) -> bool:
    return services.staffing_alert_send(alert_id=alert_id)
