"""Pages: the agent workspace (queues, the ticket page and its actions, follow-ups, known issues, figures), and the
public help center, transparency summary and survey pages.

Routine actions on the ticket page post with `X-Requested-With: fetch` and get the ticket's main block back to
swap in place (static/js/app.js, `form[data-inplace]`); without JavaScript they post and redirect as usual.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import markdown
import nh3
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, F, Q
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from saypro import periods
from saypro.errors import DomainError, InvalidInput
from saypro.figures.registry import figure_read, figure_specs, value_text
from saypro.figures.targets import TargetBook
from saypro.files import private_file_response
from saypro.forms import add_service_errors
from saypro.localtime import check_day, local_midnight
from saypro.paginators import QueuePaginator
from saypro.sla.models import Clock

from . import metrics, selectors, services
from .forms import (
    CcForm,
    FollowUpForm,
    KnownIssueForm,
    KnownIssueLinkForm,
    MergeForm,
    PropertiesForm,
    QueueFilterForm,
    ReplyForm,
    SurveyCommentForm,
)
from .models import (
    FIRST_RESPONSE,
    RESOLUTION,
    Article,
    ArticleCategory,
    Category,
    KnownIssue,
    SurveyFollowUp,
    Ticket,
    TicketAttachment,
)

QUEUE_PAGE_SIZE = 50
QUEUE_REFRESH_SECONDS = 30
ViewFunc = Callable[..., HttpResponseBase]


class SignedInRequest(HttpRequest):
    user: User


def _permission_page(perm: str) -> Callable[[ViewFunc], ViewFunc]:
    def decorator(view: ViewFunc) -> ViewFunc:
        return login_required(permission_required(perm, raise_exception=True)(view))

    return decorator


tickets_page = _permission_page("support.view_ticket")
answer_page = _permission_page(services.ANSWER_PERMISSION)
figures_page = _permission_page("support.view_support_figures")
follow_up_page = _permission_page("support.handle_followup")
known_issue_page = _permission_page("support.view_knownissue")


def _is_fetch(request: HttpRequest) -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


# --- Queues --------------------------------------------------------------------------------------------------


@require_GET
@tickets_page
def home(request: SignedInRequest) -> HttpResponse:
    """The queues: mine, my team, unassigned, triage, at risk, breached, all open, and the solved and closed
    tickets; ?at_risk=on / ?breached=on list exactly the tickets behind the dashboard's counts."""
    view = request.GET.get("view", "all")
    if view not in selectors.QUEUE_VIEWS:
        view = "all"
    form = QueueFilterForm(request.GET or None)
    filters = form.selector_kwargs()
    now = timezone.now()
    rows = selectors.ticket_queue(user=request.user, view=view, now=now, **filters)
    page = QueuePaginator(rows, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    counts = selectors.queue_view_counts(user=request.user, now=now)
    context = {
        "form": form,
        "page": page,
        "view": view,
        "tabs": [(key, label, counts.get(key)) for key, label in selectors.QUEUE_VIEWS.items()],
        "done_view": view in selectors.DONE_VIEWS,
        "filter_query": query.urlencode(),
        "filtered": bool(filters),
        "now": now,
        "refresh_seconds": QUEUE_REFRESH_SECONDS,
        "can_answer": request.user.has_perm(services.ANSWER_PERMISSION),
    }
    template = "support/_queue_body.html" if _is_fetch(request) else "support/queue.html"
    return render(request, template, context)


# --- The ticket page ------------------------------------------------------------------------------------------


def _latest_clocks(ticket: Ticket) -> dict[str, Clock]:
    clocks = Clock.objects.filter(
        target_type__app_label="support", target_type__model="ticket", target_id=ticket.pk
    ).order_by("started_at", "pk")
    latest: dict[str, Clock] = {}
    for clock in clocks:
        latest[clock.metric] = clock
    return latest


def _ticket_context(request: SignedInRequest, ticket: Ticket, **forms: Any) -> dict[str, Any]:
    macros = selectors.macros_usable(surface="ticket", department=ticket.department)
    clocks = _latest_clocks(ticket)
    return {
        "ticket": ticket,
        "timeline": selectors.ticket_timeline(ticket=ticket),
        "macros": list(macros),
        "clock_first": clocks.get(FIRST_RESPONSE),
        "clock_resolution": clocks.get(RESOLUTION),
        "triage_explanation": services.triage_explanation(ticket),
        "reply_form": forms.get("reply_form") or ReplyForm(macros=macros),
        "properties_form": forms.get("properties_form")
        or PropertiesForm(
            initial={
                "status": ticket.status,
                "priority": ticket.priority,
                "department": ticket.department.slug if ticket.department else "",
            }
        ),
        "merge_form": forms.get("merge_form") or MergeForm(),
        "cc_form": forms.get("cc_form") or CcForm(initial={"cc": ", ".join(ticket.cc_emails)}),
        "known_issue_form": forms.get("known_issue_form")
        or KnownIssueLinkForm(initial={"known_issue": ticket.known_issue_id}),
        "others": Ticket.objects.filter(requester=ticket.requester_id)
        .exclude(pk=ticket.pk)
        .order_by("-created_at")[:8],
        "can_answer": request.user.has_perm(services.ANSWER_PERMISSION),
        "now": timezone.now(),
        "error": forms.get("error", ""),
        "inplace": _is_fetch(request),
    }


def _render_ticket(request: SignedInRequest, pk: int, status: int = 200, **forms: Any) -> HttpResponse:
    ticket = selectors.ticket_detail(pk=pk)
    template = "support/_ticket_main.html" if _is_fetch(request) else "support/ticket.html"
    return render(request, template, _ticket_context(request, ticket, **forms), status=status)


@require_GET
@tickets_page
def ticket_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    return _render_ticket(request, pk)


@require_GET
@tickets_page
def ticket_attachment(request: SignedInRequest, pk: int, attachment_pk: int) -> FileResponse:
    """A file on one of the ticket's messages, for those who can see the ticket (internal notes included)."""
    item = get_object_or_404(TicketAttachment, pk=attachment_pk, message__ticket_id=pk)
    return private_file_response(item.file, name=item.name, content_type=item.content_type)


def _done(request: SignedInRequest, pk: int, text: str) -> HttpResponse:
    messages.success(request, text)
    if _is_fetch(request):
        return _render_ticket(request, pk)
    return redirect("support:ticket", pk=pk)


def _refused(request: SignedInRequest, pk: int, error: DomainError) -> HttpResponse:
    if _is_fetch(request):
        return _render_ticket(request, pk, status=409, error=error.message)
    messages.error(request, error.message)
    return redirect("support:ticket", pk=pk)


@require_POST
@answer_page
def ticket_reply(request: SignedInRequest, pk: int) -> HttpResponse:
    ticket = get_object_or_404(Ticket.objects.select_related("department"), pk=pk)
    form = ReplyForm(request.POST, macros=selectors.macros_usable(surface="ticket", department=ticket.department))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.ticket_reply(
                ticket=ticket,
                by=request.user,
                body=data["body"],
                public=not data["internal"],
                macro=data["macro"],
                status=data["status"] or None,
                attachments=request.FILES.getlist("attachments"),
            )
        except DomainError as exc:
            # Refused (invalid, or the ticket changed meanwhile): shown beside the reply, which stays typed.
            add_service_errors(form, exc)
        else:
            return _done(request, pk, "Internal note added." if data["internal"] else "Reply sent.")
    return _render_ticket(request, pk, status=400, reply_form=form)


@require_POST
@answer_page
def ticket_properties(request: SignedInRequest, pk: int) -> HttpResponse:
    ticket = get_object_or_404(Ticket, pk=pk)
    form = PropertiesForm(request.POST)
    if not form.is_valid():
        return _render_ticket(request, pk, status=400, properties_form=form)
    data = form.cleaned_data
    changed = []
    try:
        if data["department"] is not None and data["department"].pk != ticket.department_id:
            ticket = services.ticket_set_department(ticket=ticket, by=request.user, department=data["department"])
            changed.append(f"department {data['department'].name}")
        if data["priority"] != ticket.priority:
            ticket = services.ticket_set_priority(ticket=ticket, by=request.user, priority=data["priority"])
            changed.append(f"priority {ticket.get_priority_display().lower()}")
        if data["status"] != ticket.status:
            ticket = services.ticket_set_status(ticket=ticket, by=request.user, status=data["status"])
            changed.append(f"status {ticket.get_status_display().lower()}")
    except InvalidInput as exc:
        add_service_errors(form, exc)
        return _render_ticket(request, pk, status=400, properties_form=form)
    except DomainError as exc:
        return _refused(request, pk, exc)
    return _done(request, pk, f"Changed {', '.join(changed)}." if changed else "Nothing changed.")


@require_POST
@answer_page
def ticket_assign(request: SignedInRequest, pk: int) -> HttpResponse:
    ticket = get_object_or_404(Ticket, pk=pk)
    try:
        if request.POST.get("release"):
            services.ticket_assign(ticket=ticket, by=request.user, assignee=None)
            text = f"Ticket #{pk} released to the queue."
        else:
            services.ticket_assign(
                ticket=ticket, by=request.user, assignee=request.user, take_over=bool(request.POST.get("take_over"))
            )
            text = f"You took ticket #{pk}."
    except DomainError as exc:
        return _refused(request, pk, exc)
    if request.POST.get("next") == "queue":
        messages.success(request, text)
        return redirect(reverse("support:home") + "?view=mine")
    return _done(request, pk, text)


@require_POST
@answer_page
def ticket_cc(request: SignedInRequest, pk: int) -> HttpResponse:
    ticket = get_object_or_404(Ticket, pk=pk)
    form = CcForm(request.POST)
    if form.is_valid():
        try:
            services.ticket_set_cc(ticket=ticket, by=request.user, cc=form.addresses())
        except InvalidInput as exc:
            add_service_errors(form, exc)
        else:
            return _done(request, pk, "CC list saved.")
    return _render_ticket(request, pk, status=400, cc_form=form)


@require_POST
@answer_page
def ticket_merge(request: SignedInRequest, pk: int) -> HttpResponse:
    ticket = get_object_or_404(Ticket, pk=pk)
    form = MergeForm(request.POST)
    if not form.is_valid():
        return _render_ticket(request, pk, status=400, merge_form=form)
    into = Ticket.objects.filter(pk=form.cleaned_data["into"]).first()
    if into is None:
        form.add_error("into", "No ticket with this number.")
        return _render_ticket(request, pk, status=400, merge_form=form)
    try:
        services.ticket_merge(ticket=ticket, into=into, by=request.user)
    except InvalidInput as exc:
        add_service_errors(form, exc)
        return _render_ticket(request, pk, status=400, merge_form=form)
    except DomainError as exc:
        return _refused(request, pk, exc)
    messages.success(request, f"Ticket #{pk} merged into #{into.pk}.")
    return redirect("support:ticket", pk=into.pk)


@require_POST
@answer_page
def ticket_known_issue(request: SignedInRequest, pk: int) -> HttpResponse:
    ticket = get_object_or_404(Ticket, pk=pk)
    form = KnownIssueLinkForm(request.POST)
    if not form.is_valid():
        return _render_ticket(request, pk, status=400, known_issue_form=form)
    issue = form.cleaned_data["known_issue"]
    services.ticket_link_known_issue(ticket=ticket, by=request.user, known_issue=issue)
    return _done(request, pk, f"Linked to “{issue}”." if issue else "Known issue unlinked.")


@require_GET
@answer_page
def macro_preview(request: SignedInRequest, pk: int, macro_pk: int) -> JsonResponse:
    """A macro's text for this ticket, placeholders filled, to drop into the reply box."""
    ticket = get_object_or_404(Ticket.objects.select_related("requester", "department"), pk=pk)
    macro = get_object_or_404(selectors.macros_usable(surface="ticket", department=ticket.department), pk=macro_pk)
    rendered = services.macro_render_checked(
        macro=macro, context=services.macro_context(ticket=ticket, agent=request.user)
    )
    return JsonResponse({"text": rendered.text, "unknown": list(rendered.unknown), "status": macro.set_status})


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


def _monthly_figures(months: list[periods.Period]) -> list[dict[str, Any]]:
    now, book = timezone.now(), TargetBook()
    rows = []
    for spec in (s for area in PUBLIC_FIGURE_AREAS for s in figure_specs(area)):
        if spec.kinds and periods.MONTH not in spec.kinds:
            continue
        readings = [figure_read(spec.key, month, now=now, compare=False, book=book).current for month in months]
        cells = [
            {"month": r.period, "value": r.value, "text": "–" if r.value is None else value_text(r.value, spec.unit)}
            | {"n": r.n, "target_text": r.target_text, "met": r.met}
            for r in readings
        ]
        rows.append({"key": spec.key, "area": spec.area, "label": spec.label, "cells": cells})
    return rows


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
    first = metrics.first_response_stats(start=start, end=now)
    resolution = metrics.resolution_time_stats(start=start, end=now)
    compliance = metrics.resolution_compliance(start=start, end=now, now=now)
    csat_total = metrics.csat(start=start, end=now)
    platform = metrics.platform_issue_rate(start=start, end=now)
    deflection = metrics.deflection_rate(start=start, end=now, now=now)
    misroute = metrics.misroute_rate(start=start, end=now)
    # The targets in force for the period shown (percent, hours and a rating, as administrators set them).
    book = TargetBook()
    day = timezone.localdate(start)
    targets = {
        "weekly": book.value("support.resolved_24h.weekly", day),
        "monthly": book.value("support.resolved_24h", day),
        "first_response": book.value("support.first_response_hours", day),
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
            "average": _hours(first.average),
            "median": _hours(first.median),
            "p90": _hours(first.p90),
            "count": first.count,
            "below": first.average is not None
            and targets["first_response"] is not None
            and first.average >= targets["first_response"] * 3600,
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
        "deflection": deflection,
        "deflection_text": _percent(deflection.rate),
        "misroute": misroute,
        "misroute_text": _percent(misroute.rate),
        "targets": targets,
    }
    return render(request, "support/figures.html", context)


# --- Public: help center, transparency, surveys -------------------------------------------------------------

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h2",
    "h3",
    "h4",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}


def render_markdown(text: str) -> SafeString:
    """Markdown to HTML, sanitised: raw HTML, scripts, event handlers and javascript: links are removed."""
    html = markdown.markdown(text, extensions=["tables", "fenced_code", "sane_lists"])
    return mark_safe(
        nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href", "title"}}, url_schemes={"http", "https", "mailto"})
    )


@require_GET
def help_home(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")[:200].strip()
    categories = (
        ArticleCategory.objects.prefetch_related("articles")
        .annotate(published=Count("articles", filter=Q(articles__is_published=True)))
        .filter(published__gt=0)
    )
    results = selectors.article_search(q=q) if q else None
    return render(request, "support/help/home.html", {"q": q, "categories": categories, "results": results})


@require_http_methods(["GET", "POST"])
def help_article(request: HttpRequest, category: str, slug: str) -> HttpResponse:
    article = get_object_or_404(
        Article.objects.select_related("category"), slug=slug, category__slug=category, is_published=True
    )
    voted = None
    if request.method == "POST":
        helpful = request.POST.get("helpful")
        if helpful not in ("yes", "no"):
            return HttpResponse("Choose yes or no.", status=400)
        if not request.session.session_key:
            request.session.save()
        voter = f"user:{request.user.pk}" if request.user.is_authenticated else f"session:{request.session.session_key}"
        article = services.article_vote(article=article, voter=voter, helpful=helpful == "yes")
        request.session[f"voted:{article.pk}"] = helpful
        voted = helpful
    else:
        services.article_view(article=article)
        voted = request.session.get(f"voted:{article.pk}")
    related = article.category.articles.filter(is_published=True).exclude(pk=article.pk)[:5]
    return render(
        request,
        "support/help/article.html",
        {"article": article, "html": render_markdown(article.body), "voted": voted, "related": related},
    )


@require_GET
def transparency(request: HttpRequest) -> HttpResponse:
    start, end = _fortnight(request)
    months = _public_months(request)
    return render(
        request,
        "support/help/transparency.html",
        {"summary": _transparency(start, end), "months": months, "monthly": _monthly_figures(months)},
    )


@require_GET
def transparency_csv(request: HttpRequest) -> HttpResponse:
    start, end = _fortnight(request)
    summary = _transparency(start, end)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="transparency-{start:%Y-%m-%d}.csv"'
    writer = csv.writer(response)
    writer.writerow(["event", "date", "title", "status", "reports", "fix"])
    for event, rows, when in (("found", summary["found"], "found_at"), ("fixed", summary["fixed"], "fixed_at")):
        for issue in rows:
            moment = timezone.localtime(getattr(issue, when))
            writer.writerow(
                [
                    event,
                    f"{moment:%Y-%m-%d}",
                    _csv_safe(issue.title),
                    issue.get_status_display(),
                    issue.reports,
                    _csv_safe(issue.fix),
                ]
            )
    # The monthly figures follow as their own table, one value per line.
    writer.writerow([])
    writer.writerow(["month", "area", "figure", "value", "n", "target"])
    for row in _monthly_figures(_public_months(request)):
        for cell in row["cells"]:
            value = "" if cell["value"] is None else round(cell["value"], 2)
            writer.writerow([cell["month"].slug, row["area"], row["key"], value, cell["n"], cell["target_text"]])
    return response


def _csv_safe(text: str) -> str:
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, token: str, rating: int | None = None) -> HttpResponse:
    """One click records the rating (no sign-in: the signed link is the credential); the page then offers a
    comment and a change of mind."""
    form = SurveyCommentForm(request.POST or None)
    error = ""
    survey_row = None
    try:
        if request.method == "POST":
            if form.is_valid():
                survey_row = services.survey_answer(
                    token=token, rating=form.cleaned_data["rating"], comment=form.cleaned_data["comment"]
                )
                messages.success(request, "Thank you: your answer is saved.")
                return redirect("help:survey", token=token)
            survey_row = services.survey_from_token(token)
        elif rating is not None:
            survey_row = services.survey_answer(token=token, rating=rating)
            return redirect("help:survey", token=token)
        else:
            survey_row = services.survey_from_token(token)
    except DomainError as exc:
        error = exc.message
        if survey_row is None and not isinstance(exc, services.SurveyLocked):
            return render(request, "support/survey.html", {"error": error}, status=400)
        survey_row = survey_row or services.survey_from_token(token)
    if survey_row.rating and not form.is_bound:
        form = SurveyCommentForm(initial={"rating": survey_row.rating, "comment": survey_row.comment})
    changeable_until = (
        survey_row.answered_at + timedelta(days=settings.SUPPORT_SURVEY_CHANGE_DAYS) if survey_row.answered_at else None
    )
    return render(
        request,
        "support/survey.html",
        {
            "survey": survey_row,
            "form": form,
            "error": error,
            "changeable_until": changeable_until,
            "points": settings.SUPPORT_SURVEY_POINTS,
            "token": token,
        },
        status=409 if error else 200,
    )
