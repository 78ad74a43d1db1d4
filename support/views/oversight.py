"""Follow-ups, known issues and the support figures page."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import BadRequest, PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from saypro import periods
from saypro.errors import InvalidInput
from saypro.figures.registry import (
    COUNT,
    HOURS,
    MINUTES,
    PERCENT,
    SCORE,
    Reading,
    figure_read,
    figure_specs,
    figures_read,
    shared_reads,
)
from saypro.figures.targets import TargetBook
from saypro.forms import add_service_errors
from saypro.localtime import check_day, local_midnight
from saypro.shared import computed_once
from support import metrics, services
from support.forms import FollowUpForm, KnownIssueForm
from support.models import Category, KnownIssue, SurveyFollowUp, Ticket
from support.views.common import QUEUE_PAGE_SIZE, SignedInRequest, figures_page, follow_up_page, known_issue_page

# --- Follow-ups, known issues, figures --------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@follow_up_page
def follow_ups(request: SignedInRequest) -> HttpResponse:
    if request.method == "POST":
        follow_up = get_object_or_404(SurveyFollowUp, pk=request.POST.get("follow_up") or 0)
        form = FollowUpForm(request.POST)
        if form.is_valid():
            services.follow_up_close(follow_up=follow_up, by=request.user, note=form.cleaned_data["note"])
            messages.success(request, "Follow-up recorded.")
        else:
            messages.error(request, "Say what was done.")
        return redirect("support:follow-ups")
    rows = SurveyFollowUp.objects.select_related(
        "survey__requester", "survey__agent", "survey__department", "assigned_to"
    ).order_by(F("done_at").desc(nulls_first=True), "-created_at")
    page = Paginator(rows, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "support/follow_ups.html", {"page": page, "form": FollowUpForm()})


def _fortnight(request: HttpRequest) -> tuple[datetime, datetime]:
    """The two weeks of the transparency summary: ending today by default, or ending the given ?end=YYYY-MM-DD."""
    try:
        end_day = date.fromisoformat(request.GET.get("end", ""))
    except ValueError:
        end_day = timezone.localdate() + timedelta(days=1)
    try:
        check_day(end_day)
    except ValueError as exc:
        # Far enough from today, the fortnight's arithmetic leaves the calendar (0001-01-01 has no day before it).
        raise BadRequest(str(exc)) from None
    return local_midnight(end_day - timedelta(days=14)), local_midnight(end_day)


def _transparency(start: datetime, end: datetime) -> dict[str, Any]:
    found = KnownIssue.objects.filter(found_at__gte=start, found_at__lt=end)
    fixed = KnownIssue.objects.filter(fixed_at__gte=start, fixed_at__lt=end)
    reports = Ticket.objects.filter(category=Category.PLATFORM_ISSUE, created_at__gte=start, created_at__lt=end)
    return {
        "start": start,
        "end": end,
        "last_day": end - timedelta(days=1),
        "found": list(found.annotate(reports=Count("tickets")).order_by("found_at")),
        "fixed": list(fixed.annotate(reports=Count("tickets")).order_by("fixed_at")),
        "reports": reports.count(),
        "open_issues": KnownIssue.objects.filter(
            status__in=[KnownIssue.State.INVESTIGATING, KnownIssue.State.IDENTIFIED]
        ).count(),
    }


# The public monthly posts: the support and moderation areas' registered figures, whole months only (a month still
# running would read as a finished one), aggregates with their sample size and the target in force that month.
PUBLIC_FIGURE_AREAS = ("support", "moderation")
PUBLIC_MONTHS_DEFAULT, PUBLIC_MONTHS_MAX = 3, 12


def _public_months(request: HttpRequest) -> list[periods.Period]:
    """The last ?months=N whole months (3 by default, at most 12), oldest first; anything else is a bad request."""
    raw = request.GET.get("months", "")
    if raw and not (raw.isdigit() and 1 <= int(raw) <= PUBLIC_MONTHS_MAX):
        raise BadRequest(f"months must be a whole number from 1 to {PUBLIC_MONTHS_MAX}.")
    count = int(raw) if raw else PUBLIC_MONTHS_DEFAULT
    chain = [periods.containing(periods.MONTH, timezone.localdate()).previous()]
    while len(chain) < count:
        chain.insert(0, chain[0].previous())
    return chain


def _reading_text(value: float, unit: str) -> str:
    """A reading as the reports print it, to a fixed number of decimals (two for a rating out of 5), so that the
    public sees 94.3 %, not the 94.3396 % of a ratio unrounded; whole counts with thousands separators."""
    if unit == COUNT:
        return f"{value:,.0f}"
    suffix = {PERCENT: " %", HOURS: " h", MINUTES: " min"}.get(unit, "")
    return f"{value:,.{2 if unit == SCORE else 1}f}{suffix}"


# A whole month's figures change only when late rows arrive (a ticket solved after the month ended), and the page
# is open to anyone as often as they like: each month's are read at most once per interval for everyone, and the
# page says when. Read on every request, they took 1.2 to 2.2 s and up to 323 queries on the backlog benchmark.
PUBLIC_FIGURES_MAX_AGE = 10 * 60


@dataclass(frozen=True)
class MonthFigures:
    as_of: datetime
    readings: dict[str, Reading]


def _month_figures(month: periods.Period, keys: list[str], now: datetime) -> MonthFigures:
    def read(at: datetime) -> MonthFigures:
        book = TargetBook()
        with shared_reads():
            readings = {key: figure_read(key, month, now=at, compare=False, book=book).current for key in keys}
        return MonthFigures(as_of=at, readings=readings)

    # The figures' keys are part of the cache key: a release that adds a figure does not read an entry without it.
    figures = zlib.crc32(",".join(keys).encode())
    return computed_once(f"transparency:{month.slug}:{figures}", read, now=now, max_age=PUBLIC_FIGURES_MAX_AGE)


def _monthly_figures(months: list[periods.Period]) -> tuple[list[dict[str, Any]], datetime]:
    """The public figures' rows, one cell per month, and when the oldest of the months was read."""
    now = timezone.now()
    specs = [s for a in PUBLIC_FIGURE_AREAS for s in figure_specs(a) if not s.kinds or periods.MONTH in s.kinds]
    keys = [spec.key for spec in specs]
    entries = [_month_figures(month, keys, now) for month in months]
    rows = []
    for spec in specs:
        readings = [entry.readings[spec.key] for entry in entries]
        cells = [
            {"month": r.period, "value": r.value, "text": "–" if r.value is None else _reading_text(r.value, spec.unit)}
            | {"n": r.n, "target_text": r.target_text, "met": r.met}
            for r in readings
        ]
        rows.append({"key": spec.key, "area": spec.area, "label": spec.label, "cells": cells})
    return rows, min(entry.as_of for entry in entries)


@require_http_methods(["GET", "POST"])
@known_issue_page
def known_issues(request: SignedInRequest) -> HttpResponse:
    form = KnownIssueForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("support.add_knownissue"):
            raise PermissionDenied
        if form.is_valid():
            try:
                issue = services.known_issue_save(by=request.user, **form.cleaned_data)
            except InvalidInput as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Known issue “{issue}” recorded.")
                return redirect("support:known-issues")
    issues = KnownIssue.objects.annotate(reports=Count("tickets")).order_by(
        F("fixed_at").desc(nulls_first=True), "-found_at"
    )
    start, end = _fortnight(request)
    return render(
        request,
        "support/known_issues.html",
        {"form": form, "issues": issues[:200], "summary": _transparency(start, end), "editing": None},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@known_issue_page
def known_issue_edit(request: SignedInRequest, pk: int) -> HttpResponse:
    issue = get_object_or_404(KnownIssue, pk=pk)
    initial = {"title": issue.title, "description": issue.description, "status": issue.status, "fix": issue.fix}
    form = KnownIssueForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not request.user.has_perm("support.change_knownissue"):
            raise PermissionDenied
        if form.is_valid():
            try:
                services.known_issue_save(by=request.user, known_issue=issue, **form.cleaned_data)
            except InvalidInput as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Known issue “{issue.title}” saved.")
                return redirect("support:known-issues")
    tickets = issue.tickets.select_related("requester").order_by("-created_at")[:50]
    return render(
        request,
        "support/known_issue.html",
        {"form": form, "issue": issue, "tickets": tickets},
        status=400 if form.errors else 200,
    )


PERIODS = {"week": "This week", "month": "This month", "quarter": "This quarter"}


def _hours(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _below(rate: float | None, target_percent: float | None) -> bool:
    return rate is not None and target_percent is not None and rate * 100 < target_percent


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f} %"


def _reading_hours(reading: Reading) -> str:
    return _hours(None if reading.value is None else reading.value * 3600)


# The page's figures that are registered: the first answer's average, median and p90 and the deflection and
# misroute rates.
REGISTERED = (
    "support.first_response_hours",
    "support.first_response_median",
    "support.first_response_p90",
    "support.deflection_rate",
    "support.misroute_rate",
)


@require_GET
@figures_page
def figures(request: SignedInRequest) -> HttpResponse:
    """Managers' support figures for one period, with the targets beside them."""
    now = timezone.now()
    period = request.GET.get("period", "quarter")
    if period not in PERIODS:
        period = "quarter"
    start = metrics.period_starts(now)[period]
    weeks = metrics.resolution_weekly(
        start=metrics.period_starts(now)["quarter"] - timedelta(weeks=4), end=now, now=now
    )
    month = metrics.resolution_month_to_date(month=timezone.localdate(now), now=now)
    change = metrics.first_response_quarter_change(quarter=timezone.localdate(now), now=now)
    # The figures the registry holds, read as the reports read them: over the tickets received in the period.
    chosen = periods.containing(period, timezone.localdate(now))
    book = TargetBook()
    read = {r.figure.key: r.current for r in figures_read(REGISTERED, chosen, now=now, compare=False, book=book)}
    resolution = metrics.resolution_time_stats(start=start, end=now)
    compliance = metrics.resolution_compliance(start=start, end=now, now=now)
    csat_total = metrics.csat(start=start, end=now)
    platform = metrics.platform_issue_rate(start=start, end=now)
    first = read["support.first_response_hours"]
    # The targets in force for the period shown (percent, hours and a rating, as administrators set them).
    day = timezone.localdate(start)
    targets = {
        "weekly": book.value("support.resolved_24h.weekly", day),
        "monthly": book.value("support.resolved_24h", day),
        "csat": book.value("support.csat_average", day),
        "platform": book.value("support.platform_issue_rate", day),
    }
    context = {
        "period": period,
        "periods": PERIODS,
        "start": start,
        "now": now,
        "compliance": compliance,
        "compliance_text": _percent(compliance.rate),
        "weeks": [
            {
                "start": w.start,
                "rate": w.rate,
                "text": _percent(w.rate),
                "below": _below(w.rate, targets["weekly"]),
                "achieved": w.achieved,
                "breached": w.breached,
                "width": 0 if w.rate is None else round(w.rate * 100, 1),
            }
            for w in weeks
        ],
        "month": [
            {
                "day": d.start,
                "text": _percent(d.rate),
                "width": 0 if d.rate is None else round(d.rate * 100, 1),
                "below": _below(d.rate, targets["monthly"]),
            }
            for d in month
        ],
        "first": {
            "average": _reading_hours(first),
            "median": _reading_hours(read["support.first_response_median"]),
            "p90": _reading_hours(read["support.first_response_p90"]),
            "count": first.n,
            "pending": first.pending,
            "below": first.met is False,
        },
        "change": change.change,
        "change_text": "—" if change.change is None else f"{change.change * 100:+.0f} %",
        "previous_average": _hours(change.previous.average),
        "resolution": {
            "average": _hours(resolution.average),
            "median": _hours(resolution.median),
            "p90": _hours(resolution.p90),
            "count": resolution.count,
        },
        "csat_total": csat_total,
        "csat": {
            dimension: metrics.csat_by(dimension=dimension, start=start, end=now)
            for dimension in ("channel", "department", "agent")
        },
        "csat_text": _percent(csat_total.csat),
        "response_rate_text": _percent(csat_total.response_rate),
        "platform": platform,
        "platform_text": _percent(platform.rate),
        "platform_met": platform.rate is not None
        and targets["platform"] is not None
        and platform.rate * 100 < targets["platform"],
        "deflection": read["support.deflection_rate"],
        "misroute": read["support.misroute_rate"],
        "targets": targets,
    }
    return render(request, "support/figures.html", context)
