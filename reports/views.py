"""Staff pages: the live dashboard (one tile per promise, by role) with the items behind each of its numbers,
the area pages with their charts, the report runs with their downloads and preview, and the improvement log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from saypro import periods, shared
from saypro.durations import duration_text
from saypro.errors import DomainError
from saypro.figures.registry import target_specs
from saypro.figures.targets import TargetBook
from saypro.forms import add_service_errors
from saypro.sla.models import Clock
from saypro.sla.promises import ItemSummary, Promise, promise_for
from support import selectors as support_selectors
from support.models import CommentTopic

from . import selectors, services, staffing, tiles
from .document import Chart, Section, Series, document_from_dict
from .figures import FIGURE_FILTERS
from .forms import ImprovementForm, PeriodForm, ReportRequestForm, ReportSubscriptionForm, TopicImprovementForm
from .models import Improvement, ReportRun, ReportSubscription, RunStatus
from .sections import AREAS, SUPPORT, Context, build_sections, context_for
from .sections.topics import change_text, topic_rows

RUN_PAGE_ROWS = 40
DOWNLOADS = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
}
# Who opens an area page: the staff who work that area, and everyone who sees compliance.
AREA_PERMISSIONS = {
    "accounts": "accounts.review_registration",
    "messaging": "messaging.view_conversation",
    "support": "support.view_ticket",
    "moderation": "moderation.view_case",
}

ITEMS_PER_PAGE = 50
# Comments shown under each topic on the support area page.
TOPIC_EXAMPLES = 3

ViewFunc = Callable[..., HttpResponseBase]


def staff_required(view: ViewFunc) -> ViewFunc:
    """Any staff role may open the dashboard; a marketplace user gets a 403, an anonymous visitor the sign-in."""

    @wraps(view)
    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_staff:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _permission_page(perm: str) -> Callable[[ViewFunc], ViewFunc]:
    def decorator(view: ViewFunc) -> ViewFunc:
        return login_required(permission_required(perm, raise_exception=True)(view))

    return decorator


def _areas_for(user: Any) -> list[dict[str, str]]:
    return [
        {"key": key, "label": label, "url": reverse("dashboard:area", args=[key])}
        for key, label in AREAS.items()
        if _may_see_area(user, key)
    ]


def _may_see_area(user: Any, area: str) -> bool:
    return bool(user.has_perm("sla.view_compliance") or user.has_perm(AREA_PERMISSIONS[area]))


def _dashboard_context(request: HttpRequest) -> dict[str, Any]:
    now = timezone.now()
    entry = tiles.dashboard_tiles(user=request.user, now=now, max_age=shared.REFRESH_SECONDS)
    return {
        "tiles": entry.tiles,
        # Our own template's output, rendered when the tiles were computed.
        "tiles_html": mark_safe(entry.html),
        "as_of": entry.as_of,
        "now": now,
        "refresh_seconds": shared.REFRESH_SECONDS,
    }


@require_GET
@staff_required
def home(request: HttpRequest) -> HttpResponse:
    context = _dashboard_context(request)
    context["areas"] = _areas_for(request.user)
    context["may_report"] = request.user.has_perm("reports.download_report")
    context["may_staff"] = request.user.has_perm(STAFFING_PERMISSION)
    context["staffing_alerts"] = selectors.staffing_alerts_active(user=request.user, now=context["now"])
    return render(request, "dashboard/home.html", context)


@require_GET
@staff_required
def tiles_fragment(request: HttpRequest) -> HttpResponse:
    """The tile block alone, fetched by the dashboard every shared.REFRESH_SECONDS to swap in place."""
    return HttpResponse(_dashboard_context(request)["tiles_html"])


@require_GET
@staff_required
def area(request: HttpRequest, area: str) -> HttpResponse:
    if area not in AREAS:
        raise Http404
    if not _may_see_area(request.user, area):
        raise PermissionDenied
    form = PeriodForm(request.GET or None)
    period = form.chosen()
    # The documents' custom reports: the registered figures that have the dimension are read for this value only.
    filters = {name: value[:100] for name in FIGURE_FILTERS if (value := request.GET.get(name, "").strip())}
    ctx = context_for(period, filters=filters)
    return render(
        request,
        "dashboard/area.html",
        {
            "area": area,
            "area_label": AREAS[area],
            "areas": _areas_for(request.user),
            "form": form,
            "period": period,
            "previous": ctx.previous,
            "filters": filters,
            "sections": build_sections(ctx, area),
            "topics": _topic_cards(request.user, ctx) if area == SUPPORT else [],
        },
    )


def _topic_cards(user: Any, ctx: Context) -> list[dict[str, Any]]:
    """The period's comment topics with a few of their comments, for staff who may read comments (personal
    data); with the button that logs an improvement answering the topic for those who may."""
    if not user.has_perm("support.read_topic_comments"):
        return []
    rows, _ = topic_rows(ctx)
    shown = [row for row in rows if row.current and row.is_active]
    examples: dict[int, list[support_selectors.TopicComment]] = {}
    for comment in support_selectors.topic_examples(
        topic_ids=[row.topic_id for row in shown], start=ctx.period.start_at, end=ctx.end, per_topic=TOPIC_EXAMPLES
    ):
        examples.setdefault(comment.topic_id, []).append(comment)
    may_log = user.has_perm("reports.log_topic_improvement")
    return [
        {
            "id": row.topic_id,
            "label": row.label,
            "terms": ", ".join(row.terms),
            "count": row.current,
            "previous": row.previous,
            "trend": change_text(row.current, row.previous),
            "examples": examples.get(row.topic_id, []),
            "log_url": reverse("dashboard:topic-improvement", args=[row.topic_id]) if may_log else "",
        }
        for row in shown
    ]


# --- The items behind a tile's numbers ---------------------------------------------------------------------

STATE_LABELS = {
    selectors.OPEN: ("Open", "Every item still waiting for its decision, in time or not."),
    selectors.AT_RISK: ("At risk", "Open, not yet due, with more than 75 % of its time gone."),
    selectors.BREACHED: ("Breached", "Open past its deadline."),
    selectors.DECIDED: (
        "Met and missed",
        "Met, or missed (decided late, or still open past the deadline). Items still inside their deadline are "
        "left out until it passes, as they are from the achievement.",
    ),
    selectors.MET: ("Met", "Decided in time."),
    selectors.MISSED: ("Missed", "Decided late, or still open past the deadline."),
}
PERIOD_LABELS = {"week": "This week", "month": "This month", "quarter": "This quarter"}
# Row states as pills; "paused" waits on the user, its clock stopped meanwhile.
ROW_STATES = {
    selectors.OPEN: "On time",
    selectors.AT_RISK: "At risk",
    selectors.BREACHED: "Breached",
    "paused": "Paused",
    selectors.MET: "Met",
    selectors.MISSED: "Missed",
}


def _item_row(
    clock: Clock, now: datetime, promise: Promise, summary: ItemSummary | None, opens_items: bool
) -> dict[str, Any]:
    state = selectors.clock_state(clock, now)
    model = ContentType.objects.get_for_id(clock.target_type_id).model_class()
    name = f"{capfirst(model._meta.verbose_name) if model else 'Item'} #{clock.target_id}"
    label, url = name, ""
    # Staff who may not open the item see what it is and its status, not whose it is.
    if summary is None and promise.describe_items is not None:
        label = f"{name} (deleted)"
    elif opens_items:
        label = summary.label if summary else name
        url = reverse(promise.item_url_name, args=[clock.target_id])
    if clock.stopped_at is not None:
        # Stopped after the deadline yet met: the deadline stood still while the clock was paused.
        late = (clock.stopped_at - clock.due_at).total_seconds()
        if state == selectors.MET:
            timing = f"In time, {duration_text(-late)} to spare" if late <= 0 else "In time (paused past the deadline)"
        else:
            timing = f"{duration_text(late)} late" if late > 0 else "Late"
        countdown = False
    elif state == "paused":
        timing = f"{duration_text(clock.remaining_seconds or 0)} left when resumed"
        countdown = False
    else:
        left = (clock.due_at - now).total_seconds()
        timing = f"{duration_text(left)} left" if left > 0 else f"{duration_text(-left)} overdue"
        countdown = True
    return {
        "id": clock.target_id,
        "label": label,
        "url": url,
        "status": summary.status if summary else "",
        "state": state,
        "state_label": ROW_STATES[state],
        "started_at": clock.started_at,
        "due_at": clock.due_at,
        "risk_at": clock.risk_at,
        "stopped_at": clock.stopped_at,
        "timing": timing,
        "countdown": countdown,
        # The year only when the item began in another one than today's.
        "date_format": "D j M, H:i"
        if timezone.localtime(clock.started_at).year == timezone.localtime(now).year
        else "D j M Y, H:i",
    }


@require_GET
@staff_required
def promise_items(request: HttpRequest, metric: str) -> HttpResponse:
    """Read-only: the clocks behind one number of a promise's tile, soonest deadline first."""
    promise = promise_for(metric)
    if promise is None:
        raise Http404("No promise measures this.")
    if not selectors.may_see_promise(request.user, promise):
        raise PermissionDenied
    now = timezone.now()
    state = request.GET.get("state", selectors.OPEN)
    period = request.GET.get("period") or None
    base = {"promise": promise, "now": now, "dashboard_url": reverse("dashboard:home")}
    try:
        clocks = selectors.promise_items(metric=metric, state=state, period=period, now=now)
    except ValueError:
        return render(
            request,
            "dashboard/items.html",
            {
                **base,
                "error": True,
                "live_url": tiles.items_url(metric, state=selectors.OPEN),
                "period_url": tiles.items_url(metric, state=selectors.DECIDED, period="week"),
            },
            status=400,
        )
    works_queue = request.user.has_perm(promise.queue_permission)
    opens_items = bool(promise.item_url_name) and request.user.has_perm(
        promise.item_permission or promise.queue_permission
    )
    page = Paginator(clocks, ITEMS_PER_PAGE).get_page(request.GET.get("page"))
    summaries = (
        promise.describe_items(ids=[clock.target_id for clock in page.object_list]) if promise.describe_items else {}
    )
    period_query = {"period": period} if period else {}
    queue_url = ""
    if works_queue and period is None:
        queue_filter = {selectors.AT_RISK: "?at_risk=on", selectors.BREACHED: "?breached=on"}.get(state, "")
        queue_url = reverse(promise.items_url_name) + queue_filter
    # The tabs: every state of the same kind (live, or the period's) with its count, from one aggregate.
    tabs = [
        {
            "state": key,
            "label": promise.open_label if key == selectors.OPEN else STATE_LABELS[key][0],
            "count": count,
            "url": tiles.items_url(metric, state=key, **period_query),
        }
        for key, count in selectors.promise_item_counts(metric=metric, period=period, now=now).items()
    ]
    return render(
        request,
        "dashboard/items.html",
        {
            **base,
            "tabs": tabs,
            "state": state,
            "state_label": promise.open_label if state == selectors.OPEN else STATE_LABELS[state][0],
            "state_help": STATE_LABELS[state][1],
            "period": period,
            "period_label": PERIOD_LABELS.get(period or "", ""),
            "period_first": selectors.tile_start(period, now) if period else None,
            "periods": [
                {"key": key, "label": label, "url": tiles.items_url(metric, state=state, period=key)}
                for key, label in PERIOD_LABELS.items()
            ],
            "page": page,
            "rows": [
                _item_row(clock, now, promise, summaries.get(clock.target_id), opens_items)
                for clock in page.object_list
            ],
            "page_query": urlencode({"state": state, **period_query}),
            "queue_url": queue_url,
        },
    )


# --- Reports -------------------------------------------------------------------------------------------------

reports_required = _permission_page("reports.download_report")


def _run_or_404(pk: int) -> ReportRun:
    return get_object_or_404(ReportRun.objects.select_related("requested_by"), pk=pk)


@require_http_methods(["GET", "POST"])
@reports_required
def reports(request: HttpRequest) -> HttpResponse:
    form = ReportRequestForm(request.POST or None, initial={"day": timezone.localdate()})
    if request.method == "POST":
        if not request.user.has_perm("reports.generate_report"):
            raise PermissionDenied
        if form.is_valid():
            try:
                period = services.report_period(kind=form.cleaned_data["kind"], day=form.cleaned_data["day"])
                run = services.report_request(
                    kind=form.cleaned_data["kind"], period=period, by=request.user, filters=form.filters()
                )
            except DomainError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"{run} is being generated.")
                return redirect("dashboard:report", pk=run.pk)
    runs = ReportRun.objects.select_related("requested_by").order_by("-period_start", "kind")[:RUN_PAGE_ROWS]
    return render(request, "reports/list.html", {"form": form, "runs": runs})


@require_http_methods(["GET", "POST"])
@reports_required
def report_subscriptions(request: HttpRequest) -> HttpResponse:
    """Which scheduled reports the person receives by e-mail, with the summary in the body."""
    user: Any = request.user  # signed in: reports_required turned the anonymous away
    current = list(ReportSubscription.objects.filter(user=user).values_list("kind", flat=True))
    # Unticking every box posts no field at all: a POST is still a bound form.
    form = ReportSubscriptionForm(request.POST if request.method == "POST" else None, initial={"kinds": current})
    if request.method == "POST" and form.is_valid():
        services.report_subscriptions_set(user=user, kinds=form.cleaned_data["kinds"])
        messages.success(request, "Your report e-mails are saved.")
        return redirect("dashboard:report-subscriptions")
    return render(request, "reports/subscriptions.html", {"form": form}, status=400 if form.errors else 200)


@require_GET
@reports_required
def report(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run_or_404(pk)
    template = "reports/_run_status.html" if request.headers.get("X-Requested-With") == "fetch" else "reports/run.html"
    return render(
        request,
        template,
        {"run": run, "in_flight": run.status in (RunStatus.QUEUED, RunStatus.RUNNING), "refresh_seconds": 2},
    )


@require_GET
@reports_required
def report_preview(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run_or_404(pk)
    if run.document is None:
        raise Http404("This report has not been generated yet.")
    document = document_from_dict(run.document)
    appendix_section = Section(key="appendices", title="Appendices: the daily data", tables=document.appendices)
    return render(
        request, "reports/preview.html", {"run": run, "document": document, "appendix_section": appendix_section}
    )


@require_GET
@reports_required
def report_download(request: HttpRequest, pk: int, fmt: str) -> FileResponse:
    run = _run_or_404(pk)
    if fmt not in DOWNLOADS:
        raise Http404
    file = getattr(run, fmt)
    if not file:
        raise Http404("This report has no file yet.")
    response = FileResponse(
        file.open("rb"), as_attachment=True, filename=f"{run.file_stem}.{fmt}", content_type=DOWNLOADS[fmt]
    )
    response["X-Content-SHA256"] = getattr(run, f"{fmt}_sha256")
    return response


# --- Targets ---------------------------------------------------------------------------------------------------


@require_GET
@_permission_page("figures.view_target")
def targets(request: HttpRequest) -> HttpResponse:
    """Read-only: every target with the value in force for a quarter (this one by default) and its history.
    Administrators set targets in the admin; every output shows the target in force for the period it reports."""
    try:
        quarter = periods.from_slug(request.GET["quarter"]) if request.GET.get("quarter") else None
    except ValueError as exc:
        return render(request, "reports/targets.html", {"error": str(exc)}, status=400)
    if quarter is not None and quarter.kind != periods.QUARTER:
        return render(request, "reports/targets.html", {"error": "Give a quarter, e.g. 2026-Q1."}, status=400)
    quarter = quarter or periods.current(periods.QUARTER)
    book = TargetBook()
    rows = []
    for spec in target_specs():
        row = book.get(spec.key, quarter.start)
        rows.append(
            {
                "spec": spec,
                "in_force": None if row is None else spec.text(row.value),
                "row": row,
                "history": book.history(spec.key),
            }
        )
    return render(
        request,
        "reports/targets.html",
        {
            "quarter": quarter,
            "previous": quarter.previous(),
            "next": periods.containing(periods.QUARTER, quarter.end),
            "rows": rows,
            "may_set": request.user.has_perm("figures.add_target"),
        },
    )


# --- Improvement log -----------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@_permission_page("reports.view_improvement")
def improvements(request: HttpRequest) -> HttpResponse:
    may_edit = request.user.has_perm("reports.add_improvement")
    form = ImprovementForm(request.POST or None)
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        if form.is_valid():
            services.improvement_create(by=request.user, **form.cleaned_data)
            messages.success(request, "Improvement logged.")
            return redirect("dashboard:improvements")
    entries = Improvement.objects.select_related("created_by", "topic")[:200]
    return render(request, "reports/improvements.html", {"form": form, "entries": entries, "may_edit": may_edit})


@require_http_methods(["GET", "POST"])
@_permission_page("reports.change_improvement")
def improvement_edit(request: HttpRequest, pk: int) -> HttpResponse:
    improvement = get_object_or_404(Improvement, pk=pk)
    form = ImprovementForm(request.POST or None, instance=improvement)
    if request.method == "POST" and form.is_valid():
        services.improvement_update(
            improvement=improvement, by=request.user, **{name: form.cleaned_data[name] for name in form.changed_data}
        )
        messages.success(request, "Improvement updated.")
        return redirect("dashboard:improvements")
    return render(request, "reports/improvement_edit.html", {"form": form, "improvement": improvement})


@require_http_methods(["GET", "POST"])
@_permission_page("reports.log_topic_improvement")
def topic_improvement(request: HttpRequest, pk: int) -> HttpResponse:
    """Turn a comment topic into an improvement-log entry; the report then measures the topic before and after."""
    topic = get_object_or_404(CommentTopic, pk=pk)
    form = TopicImprovementForm(
        request.POST or None,
        initial={"title": f"Answer to comments about {topic.label.lower()}", "made_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        services.improvement_create(
            by=request.user, kind=Improvement.Kind.FEEDBACK, area=SUPPORT, topic=topic, **form.cleaned_data
        )
        messages.success(request, "Improvement logged; the reports will measure the topic before and after it.")
        return redirect("dashboard:improvements")
    return render(request, "reports/topic_improvement.html", {"form": form, "topic": topic})


@require_POST
@_permission_page("reports.delete_improvement")
def improvement_delete(request: HttpRequest, pk: int) -> HttpResponse:
    improvement = get_object_or_404(Improvement, pk=pk)
    services.improvement_delete(improvement=improvement, by=request.user)
    messages.success(request, "Improvement removed from the log.")
    return redirect("dashboard:improvements")


# --- Staffing -------------------------------------------------------------------------------------------------

STAFFING_PERMISSION = "sla.view_compliance"


def _local_hour(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%a %H:%M}"


def _staffing_queue(forecast: staffing.QueueForecast) -> dict[str, Any]:
    hours = forecast.hours
    labels = [_local_hour(hour.start) for hour in hours]
    chart = Chart(
        key=f"staffing-{forecast.key}",
        title=f"{forecast.promise.title}: the next {len(hours)} hours",
        kind="line",
        labels=labels,
        series=[
            Series("Arrivals forecast", [round(hour.arrivals, 1) for hour in hours]),
            Series("Decisions the shift can take", [round(hour.capacity, 1) for hour in hours]),
            Series("Projected backlog", [round(hour.backlog, 1) for hour in hours]),
        ],
    )
    breach_at = forecast.breach_at
    if forecast.rate is None:
        grade = "neutral"
    elif forecast.breaches_before_next_shift:
        grade = "bad"
    elif breach_at is not None:
        grade = "warn"
    else:
        grade = "ok"
    return {
        "key": forecast.key,
        "title": forecast.promise.title,
        "deadline_text": forecast.promise.deadline_text,
        "open_now": forecast.open_now,
        "rate": forecast.rate,
        "decisions": forecast.decisions,
        "person_hours": forecast.person_hours,
        "breach_at": breach_at and timezone.localtime(breach_at),
        "breaching": forecast.breaching,
        "next_shift_at": forecast.next_shift_at and timezone.localtime(forecast.next_shift_at),
        "grade": grade,
        # An empty chart says nothing the facts above do not.
        "chart": chart if any(hour.arrivals or hour.capacity or hour.backlog for hour in hours) else None,
        "total_arrivals": round(sum(hour.arrivals for hour in hours)),
        "total_campaign": round(sum(hour.campaign for hour in hours)),
        "rows": [
            {
                "label": label,
                "arrivals": hour.arrivals,
                "campaign": hour.campaign,
                "staff": hour.staff,
                "capacity": hour.capacity,
                "backlog": hour.backlog,
                "breaching": hour.breaching,
            }
            for label, hour in zip(labels, hours, strict=True)
        ],
        "people": forecast.people,
        "role": forecast.promise.staff_role,
    }


@require_GET
@_permission_page(STAFFING_PERMISSION)
def staffing_page(request: HttpRequest) -> HttpResponse:
    """For managers and administrators: each queue's next two days, the forecast arrivals against the people on
    shift and their pace, and whether the backlog will outrun the deadline before the next shift."""
    now = timezone.now()
    forecasts = staffing.staffing_forecast(now=now, with_people=True)
    return render(
        request,
        "dashboard/staffing.html",
        {
            "queues": [_staffing_queue(forecast) for forecast in forecasts],
            "now": now,
            "lookback_weeks": staffing.LOOKBACK_WEEKS,
            "throughput_days": staffing.THROUGHPUT_DAYS,
            "horizon_hours": staffing.HORIZON_HOURS,
            "time_zone": settings.TIME_ZONE,
            "may_edit_shifts": request.user.has_perm("accounts.change_agentprofile"),
        },
    )
