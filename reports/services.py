"""Every write of the reports app: report runs (request, generate), rollup refreshes, the improvement log."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from accounts.routing import staff_emails_on_duty
from messaging.models import Category as MessageCategory
from saypro import periods
from saypro.audit.services import audit_record
from saypro.dispatch import after_commit
from saypro.errors import InvalidInput
from saypro.localtime import check_day, local_midnight, local_tz
from saypro.mail import MailAttachment, send_template
from saypro.periods import Period
from saypro.sla.promises import promise_for
from support.models import CommentTopic

from . import links, staffing
from .models import Improvement, ReportKind, ReportRun, ReportSubscription, RunStatus, StaffingAlert

logger = logging.getLogger(__name__)

PERIOD_OF_KIND = {
    ReportKind.WEEKLY: periods.WEEK,
    ReportKind.MONTHLY: periods.MONTH,
    ReportKind.QUARTERLY: periods.QUARTER,
}
# Scheduled reports are generated from this local hour on: ready when managers start the day.
REPORT_HOUR = 6


def report_period(*, kind: str, day: date) -> Period:
    if kind not in PERIOD_OF_KIND:
        raise InvalidInput("Unknown report kind.", fields={"kind": ["Choose weekly, monthly or quarterly."]})
    try:
        return periods.containing(PERIOD_OF_KIND[ReportKind(kind)], check_day(day))
    except ValueError as exc:
        # Refused when asked, not accepted and then failed in the worker that renders the period's documents.
        raise InvalidInput(str(exc), fields={"day": [str(exc)]}) from None


# The documents' custom reports (004): by inquiry type, ad category and region, as the area pages and the
# metrics API narrow the figures. The longest value each may have.
REPORT_FILTERS = {"category": 20, "ad_category": 60, "region": 100}


def report_filters_clean(filters: Mapping[str, Any] | None) -> tuple[dict[str, str], str]:
    """The filters of a report run, checked, and their canonical key: blanks dropped, values trimmed; ad
    categories and regions match in any case, so the key holds them in lower case."""
    errors: dict[str, list[str]] = {}
    chosen: dict[str, str] = {}
    for name, value in (filters or {}).items():
        if name not in REPORT_FILTERS:
            errors[name] = ["Reports can be filtered by inquiry type, ad category and region only."]
            continue
        text = str(value or "").strip()
        if len(text) > REPORT_FILTERS[name]:
            errors[name] = [f"At most {REPORT_FILTERS[name]} characters."]
        elif name == "category" and text and text not in MessageCategory.values:
            errors[name] = [f"Choose one of: {', '.join(MessageCategory.values)}."]
        elif text:
            chosen[name] = text
    if errors:
        raise InvalidInput("The report's filters are not valid.", fields=errors)
    ordered = {name: chosen[name] for name in REPORT_FILTERS if name in chosen}
    key = urlencode([(name, value if name == "category" else value.lower()) for name, value in ordered.items()])
    return ordered, key


@transaction.atomic
def report_request(
    *,
    kind: str,
    period: Period,
    by: Any | None,
    scheduled: bool = False,
    now: datetime | None = None,
    filters: Mapping[str, Any] | None = None,
) -> ReportRun:
    """Queue the report of `kind` for `period` and `filters`: one run per kind, period and filters, re-generated
    in place."""
    now = now or timezone.now()
    if period.start > periods.today(now):
        raise InvalidInput("That period has not started yet.", fields={"period": ["Choose a period that has begun."]})
    chosen, key = report_filters_clean(filters)
    run, created = ReportRun.objects.select_for_update().get_or_create(
        kind=kind,
        period_slug=period.slug,
        filters_key=key,
        defaults={
            "filters": chosen,
            "period_start": period.start,
            "period_end": period.end,
            "requested_by": by,
            "scheduled": scheduled,
            "requested_at": now,
        },
    )
    if not created:
        in_flight = run.status == RunStatus.QUEUED or (run.status == RunStatus.RUNNING and not _stalled(run, now))
        if in_flight:
            return run
        run.status, run.progress, run.step, run.error = RunStatus.QUEUED, 0, "Waiting for a worker", ""
        run.requested_by, run.scheduled, run.requested_at = by, scheduled, now
        run.save(update_fields=["status", "progress", "step", "error", "requested_by", "scheduled", "requested_at"])
    audit_record(
        actor=by, action="report.request", target=run, data={"kind": kind, "period": period.slug, "filters": chosen}
    )
    from . import tasks

    transaction.on_commit(lambda: tasks.report_generate.delay(run.pk))
    return run


def _stalled_after() -> timedelta:
    return timedelta(minutes=settings.REPORTS_STALLED_MINUTES)


def _stalled(run: ReportRun, now: datetime) -> bool:
    """A generating run whose heartbeat stopped: its worker died (killed, out of memory, the machine restarted)."""
    beat = run.heartbeat_at or run.started_at
    return beat is None or now - beat >= _stalled_after()


def _progress(run_id: int, percent: int, step: str) -> None:
    ReportRun.objects.filter(pk=run_id).update(progress=percent, step=step[:120], heartbeat_at=timezone.now())


def _replace_file(run: ReportRun, field: str, name: str, content: bytes) -> None:
    """Store the new file, then remove the one it replaces: a download in between still finds a file."""
    old = getattr(run, field)
    old_name = old.name if old else ""
    getattr(run, field).save(name, ContentFile(content), save=False)
    setattr(run, f"{field}_sha256", hashlib.sha256(content).hexdigest())
    if old_name and old_name != getattr(run, field).name:
        old.storage.delete(old_name)


def report_generate(*, run_id: int, now: datetime | None = None) -> ReportRun | None:
    """Build and render one queued run. A second delivery of the same task finds it claimed and does nothing."""
    from .render.pdf import ChartsAhead, render_pdf
    from .render.sheets import render_csv, render_xlsx
    from .sections import build_document

    started = timezone.now()
    claimed = ReportRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=started, heartbeat_at=started, progress=5, step="Reading the figures"
    )
    if claimed != 1:
        return None
    run = ReportRun.objects.get(pk=run_id)
    period = Period(PERIOD_OF_KIND[ReportKind(run.kind)], run.period_start, run.period_end)
    try:
        with ChartsAhead() as charts:
            document = build_document(
                kind=run.kind,
                period=period,
                now=now,
                progress=lambda percent, step: _progress(run_id, percent, step),
                filters=run.filters,
                section_built=charts.section_built,
            )
            _progress(run_id, 75, "Drawing the PDF")
            pdf = render_pdf(document, charts)
        _progress(run_id, 88, "Writing the spreadsheet and CSV")
        xlsx, csv = render_xlsx(document), render_csv(document)
        run.refresh_from_db()
        with transaction.atomic():
            _replace_file(run, "pdf", f"{run.file_stem}.pdf", pdf)
            _replace_file(run, "xlsx", f"{run.file_stem}.xlsx", xlsx)
            _replace_file(run, "csv", f"{run.file_stem}.csv", csv)
            run.document = document.as_dict()
            run.status, run.progress, run.step = RunStatus.DONE, 100, "Ready"
            run.finished_at = timezone.now()
            run.generations += 1
            run.save(
                update_fields=[
                    "pdf",
                    "xlsx",
                    "csv",
                    "pdf_sha256",
                    "xlsx_sha256",
                    "csv_sha256",
                    "document",
                    "status",
                    "progress",
                    "step",
                    "finished_at",
                    "generations",
                ]
            )
            if run.scheduled:
                # Its own task, after commit: a slow or failing mail server never holds up or fails the run, and a
                # delivery lost between the commit and the publish is found again by the "reports.undelivered" sweep.
                after_commit("reports.tasks.report_deliver", run.pk)
    except Exception as exc:
        logger.exception("Report run %s failed", run_id)
        with transaction.atomic():
            ReportRun.objects.filter(pk=run_id).update(
                status=RunStatus.FAILED, error=str(exc)[:2000], finished_at=timezone.now(), step="Failed"
            )
            after_commit("reports.tasks.report_failure_notify", run_id)
        raise
    return run


def report_subscriptions_set(*, user: Any, kinds: list[str]) -> None:
    """The kinds of report the user receives by e-mail from now on: exactly `kinds`."""
    with transaction.atomic():
        ReportSubscription.objects.filter(user=user).exclude(kind__in=kinds).delete()
        for kind in kinds:
            ReportSubscription.objects.get_or_create(user=user, kind=kind)


def report_deliver(*, run_id: int, now: datetime | None = None) -> int:
    """E-mail a finished scheduled run to everyone subscribed to its kind who may still see reports: the executive
    summary in the body (HTML with a plain-text alternative) and the PDF attached, or a signed link to it when it
    is larger than REPORTS_MAIL_ATTACH_MAX_BYTES. Once per run, generation and person, however often the task is
    delivered; the run is then marked delivered for that generation. Returns how many e-mails went out."""
    from .document import document_from_dict

    now = now or timezone.now()
    run = ReportRun.objects.filter(pk=run_id, status=RunStatus.DONE, scheduled=True).first()
    # A run generated again meanwhile is delivered by its own new generation's task.
    if run is None or run.delivered_generation >= run.generations or run.document is None:
        return 0
    document = document_from_dict(run.document)
    summary = document.section("summary")
    context = {
        "run": run,
        "document": document,
        "cards": summary.cards if summary else [],
        "wins": summary.wins if summary else [],
        "risks": summary.risks if summary else [],
        "url": f"{settings.SITE_URL}{reverse('dashboard:report', args=[run.pk])}",
    }
    attach = bool(run.pdf) and run.pdf.size <= settings.REPORTS_MAIL_ATTACH_MAX_BYTES
    attachments = (
        [MailAttachment(name=str(run.pdf.name), filename=f"{run.file_stem}.pdf", mimetype="application/pdf")]
        if attach
        else []
    )
    # Subscribed while a manager, since moved to a role without reports: no longer receives them. One query for
    # everyone, rather than a permission lookup per subscriber.
    readers = ModelBackend().with_perm("reports.download_report", is_active=True)
    subscribers = (
        ReportSubscription.objects.filter(kind=run.kind, user__in=readers).select_related("user").order_by("pk")
    )
    sent = 0
    for subscription in subscribers:
        user = subscription.user
        link = None if attach or not run.pdf else links.report_pdf_link(run=run, user=user, now=now)
        sent += send_template(
            to=[user.email],
            kind="reports.subscription",
            template="reports/email/report_ready.txt",
            html_template="reports/email/report_ready.html",
            context={**context, "attached": attach, "link": link},
            attachments=attachments,
            once_key=f"report-ready:{run.pk}:{run.generations}:{user.pk}",
        )
    ReportRun.objects.filter(pk=run.pk, generations=run.generations).update(delivered_generation=run.generations)
    return sent


def report_failure_send(*, run_id: int) -> bool:
    """Tell the administrators a report run failed: every active one (a failure is not a queue on a deadline,
    so not only those on duty). Sent once per failed attempt (its finish time), however often it is delivered."""
    from accounts.models import User

    run = ReportRun.objects.filter(pk=run_id, status=RunStatus.FAILED).first()
    if run is None:
        return False
    admins = User.objects.filter(groups__name=roles.ADMINISTRATOR, is_active=True).order_by("pk")
    sent = send_template(
        to=list(admins.values_list("email", flat=True).distinct()),
        kind="reports.run_failed",
        template="reports/email/run_failed.txt",
        context={
            "run": run,
            "label": run.get_kind_display(),
            "error": run.error,
            "url": f"{settings.SITE_URL}{reverse('dashboard:report', args=[run.pk])}",
        },
        once_key=f"report-failed:{run.pk}:{run.finished_at.isoformat() if run.finished_at else ''}",
    )
    # Only this attempt: a run generated again meanwhile and failed once more gets a notice of its own.
    ReportRun.objects.filter(pk=run.pk, finished_at=run.finished_at).update(failure_notified_at=run.finished_at)
    return sent


def report_runs_recover(*, now: datetime | None = None) -> list[int]:
    """Queue again every run whose worker died while generating it; returns their ids.

    With late acknowledgement the broker would hand the task out again too, but only after its visibility
    timeout (CELERY_VISIBILITY_TIMEOUT) and then to a claim that refuses a run already marked as generating. A run is
    put back to queued with a compare-and-set on its heartbeat, so a worker that was only slow and beats again
    keeps its run, and the re-queued task generates the report once.
    """
    now = now or timezone.now()
    stalled = ReportRun.objects.filter(status=RunStatus.RUNNING).filter(
        Q(heartbeat_at__lte=now - _stalled_after()) | Q(heartbeat_at__isnull=True)
    )
    from . import tasks

    recovered = []
    for run in stalled:
        with transaction.atomic():
            requeued = ReportRun.objects.filter(
                pk=run.pk, status=RunStatus.RUNNING, heartbeat_at=run.heartbeat_at
            ).update(status=RunStatus.QUEUED, progress=0, step="Waiting for a worker (the last one stopped)")
            if not requeued:
                continue
            logger.warning("Report run %s stalled at %s %%; queued again", run.pk, run.progress)
            audit_record(actor=None, action="report.recover", target=run, data={"progress": run.progress})
            transaction.on_commit(lambda pk=run.pk: tasks.report_generate.delay(pk))  # type: ignore[misc]
        recovered.append(run.pk)
    return recovered


def scheduled_reports_request(*, now: datetime | None = None) -> list[ReportRun]:
    """Queue the reports due today in TIME_ZONE: last week's on Mondays, last month's on the 1st, last quarter's
    on a quarter's first day, from REPORT_HOUR on. Beat calls this every hour, so a missed hour catches up; a
    report already asked for today (by the schedule or by a person) is not asked for again."""
    now = now or timezone.now()
    local = timezone.localtime(now, local_tz())
    closed = running_reports_regenerate(now=now)
    if local.hour < REPORT_HOUR:
        return closed
    today = local.date()
    due = []
    if today.weekday() == 0:
        due.append(ReportKind.WEEKLY)
    if today.day == 1:
        due.append(ReportKind.MONTHLY)
        if today.month in (1, 4, 7, 10):
            due.append(ReportKind.QUARTERLY)
    runs = []
    for kind in due:
        period = periods.last_complete(PERIOD_OF_KIND[kind], now)
        asked_today = ReportRun.objects.filter(
            kind=kind, period_slug=period.slug, filters_key="", requested_at__gte=local_midnight(today)
        ).exists()
        if not asked_today:
            runs.append(report_request(kind=kind, period=period, by=None, scheduled=True, now=now))
    return closed + runs


def running_reports_regenerate(*, now: datetime) -> list[ReportRun]:
    """Queue again each finished report of a period that was still running when it was built (it reads "to
    date") and has closed since: the finished report replaces it and goes to the subscribers (a filtered report,
    asked for by a person, is not theirs: it is only generated again). Once: the new run finishes after the
    period's end, and a queued or failed run is not picked up."""
    # period_end is the local day after the period (exclusive); __date reads finished_at in TIME_ZONE.
    stale = ReportRun.objects.filter(
        status=RunStatus.DONE, period_end__lte=periods.today(now), finished_at__date__lt=F("period_end")
    ).order_by("pk")
    return [
        report_request(
            kind=run.kind,
            period=Period(PERIOD_OF_KIND[ReportKind(run.kind)], run.period_start, run.period_end),
            by=None,
            scheduled=not run.filters,
            now=now,
            filters=run.filters,
        )
        for run in stale
    ]


@transaction.atomic
def improvement_create(
    *,
    by: Any,
    kind: str,
    title: str,
    made_on: date,
    description: str = "",
    area: str = "",
    topic: CommentTopic | None = None,
) -> Improvement:
    improvement = Improvement.objects.create(
        kind=kind, title=title, made_on=made_on, description=description, area=area, created_by=by, topic=topic
    )
    audit_record(actor=by, action="improvement.create", target=improvement, data={"topic": topic.pk} if topic else None)
    return improvement


@transaction.atomic
def improvement_update(*, improvement: Improvement, by: Any, **fields: Any) -> Improvement:
    improvement = Improvement.objects.select_for_update().get(pk=improvement.pk)
    for name, value in fields.items():
        setattr(improvement, name, value)
    improvement.save(update_fields=list(fields))
    audit_record(actor=by, action="improvement.update", target=improvement, data={"fields": sorted(fields)})
    return improvement


@transaction.atomic
def improvement_delete(*, improvement: Improvement, by: Any) -> None:
    audit_record(actor=by, action="improvement.delete", target=improvement, reason=improvement.title)
    improvement.delete()


# --- Staffing alerts ------------------------------------------------------------------------------------------


def staffing_alerts_raise(*, now: datetime | None = None) -> list[StaffingAlert]:
    """Raise an alert for each queue whose forecast breaches its deadline before the next shift starts, once per
    queue and shift window (the unique row is the guard, so a re-run or a second worker raises nothing twice);
    the managers on duty are e-mailed after commit. Returns the alerts raised by this run."""
    raised = []
    for forecast in staffing.staffing_forecast(now=now):
        breach_at = forecast.breach_at
        if breach_at is None or not forecast.breaches_before_next_shift:
            continue
        with transaction.atomic():
            alert, created = StaffingAlert.objects.get_or_create(
                metric=forecast.promise.metric,
                window_end=forecast.window_end,
                defaults={
                    "breach_at": breach_at,
                    "breaching": max(forecast.breaching, 1),
                    "open_items": forecast.open_now,
                    "next_shift_at": forecast.next_shift_at,
                    "raised_at": now or timezone.now(),
                },
            )
            if created:
                after_commit("reports.tasks.staffing_alert_send", alert.pk)
                raised.append(alert)
    return raised


def staffing_alert_send(*, alert_id: int) -> bool:
    """E-mail the managers on duty (every manager when none is) about one alert; sent once, however often run."""
    alert = StaffingAlert.objects.filter(pk=alert_id).first()
    promise = promise_for(alert.metric) if alert else None
    if alert is None or promise is None:
        return False
    return send_template(
        to=staff_emails_on_duty(roles.MANAGER),
        kind="staffing.breach_forecast",
        template="reports/email/staffing_alert.txt",
        context={
            "queue": promise.title,
            "deadline": promise.deadline_text,
            "breaching": alert.breaching,
            "open_items": alert.open_items,
            "breach_at": timezone.localtime(alert.breach_at),
            "next_shift_at": alert.next_shift_at and timezone.localtime(alert.next_shift_at),
            "url": f"{settings.SITE_URL}{reverse('dashboard:staffing')}",
        },
        once_key=f"staffing-alert:{alert.pk}",
    )
