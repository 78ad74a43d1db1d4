"""Staff pages: the live dashboard (one tile per promise, by role), the area pages with their charts, the
report runs with their downloads and preview, and the improvement log."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from saypro.errors import DomainError

from . import selectors, services
from .document import Section, document_from_dict
from .forms import ImprovementForm, PeriodForm, ReportRequestForm
from .models import Improvement, ReportRun, RunStatus
from .sections import AREAS, build_sections, context_for

REFRESH_SECONDS = 30
# Below target by at most this many points is amber; further below is red.
AMBER_POINTS = 5.0
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


def compliance_grade(percent: float | None, target: float) -> str:
    if percent is None:
        return "neutral"
    if percent >= target:
        return "ok"
    if percent >= target - AMBER_POINTS:
        return "warn"
    return "bad"


def _items_url(url_name: str, **filters: str) -> str:
    try:
        url = reverse(url_name)
    except NoReverseMatch:
        return ""
    return f"{url}?{urlencode(filters)}" if filters else url


def _tile(tile: selectors.PromiseTile) -> dict[str, Any]:
    promise = tile.promise
    target = promise.target_rate * 100
    link = (lambda **f: _items_url(promise.items_url_name, **f)) if tile.can_open_items else (lambda **f: "")
    periods_ = []
    for key, label, value in (
        ("week", "This week", tile.week),
        ("month", "This month", tile.month),
        ("quarter", "This quarter", tile.quarter),
    ):
        periods_.append(
            {
                "key": key,
                "label": label,
                "value": "—" if value.percent is None else f"{value.percent:.1f} %",
                "note": f"{value.achieved:,} of {value.decided:,}" if value.decided else "no deadline yet",
                "grade": compliance_grade(value.percent, target),
            }
        )
    return {
        "key": promise.metric.replace(".", "-"),
        "metric": promise.metric,
        "title": promise.title,
        "target": f"{target:g} %",
        "deadline_text": promise.deadline_text,
        "periods": periods_,
        "grade": compliance_grade(tile.week.percent, target),
        "counts": [
            {"key": "open", "label": "Open", "value": tile.open, "url": link(), "grade": "neutral"},
            {
                "key": "at_risk",
                "label": "At risk",
                "value": tile.at_risk,
                "url": link(at_risk="on"),
                "grade": "warn" if tile.at_risk else "ok",
            },
            {
                "key": "breached",
                "label": "Breached",
                "value": tile.breached_open,
                "url": link(breached="on"),
                "grade": "bad" if tile.breached_open else "ok",
            },
        ],
        "trend": [value for _, value in tile.trend],
        "trend_label": (f"Weekly achievement from {tile.trend[0][0]} to {tile.trend[-1][0]}" if tile.trend else ""),
        "target_value": target,
    }


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
    return {
        "tiles": [_tile(t) for t in selectors.promise_tiles(user=request.user, now=now)],
        "now": now,
        "refresh_seconds": REFRESH_SECONDS,
    }


@require_GET
@staff_required
def home(request: HttpRequest) -> HttpResponse:
    context = _dashboard_context(request)
    context["areas"] = _areas_for(request.user)
    context["may_report"] = request.user.has_perm("reports.download_report")
    return render(request, "dashboard/home.html", context)


@require_GET
@staff_required
def tiles(request: HttpRequest) -> HttpResponse:
    """The tile block alone, fetched by the dashboard every REFRESH_SECONDS to swap in place."""
    return render(request, "dashboard/_tiles.html", _dashboard_context(request))


@require_GET
@staff_required
def area(request: HttpRequest, area: str) -> HttpResponse:
    if area not in AREAS:
        raise Http404
    if not _may_see_area(request.user, area):
        raise PermissionDenied
    form = PeriodForm(request.GET or None)
    period = form.chosen()
    ctx = context_for(period)
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
            "sections": build_sections(ctx, area),
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
                run = services.report_request(kind=form.cleaned_data["kind"], period=period, by=request.user)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"{run} is being generated.")
                return redirect("dashboard:report", pk=run.pk)
    runs = ReportRun.objects.select_related("requested_by").order_by("-period_start", "kind")[:RUN_PAGE_ROWS]
    return render(request, "reports/list.html", {"form": form, "runs": runs})


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
    entries = Improvement.objects.select_related("created_by")[:200]
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


@require_POST
@_permission_page("reports.delete_improvement")
def improvement_delete(request: HttpRequest, pk: int) -> HttpResponse:
    improvement = get_object_or_404(Improvement, pk=pk)
    services.improvement_delete(improvement=improvement, by=request.user)
    messages.success(request, "Improvement removed from the log.")
    return redirect("dashboard:improvements")
