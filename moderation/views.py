"""Pages: the moderator queue, the case page with its decision, appeals, detection keywords and the figures.

Views parse input and check permissions; every change goes through moderation.services, whose domain errors
become form errors or flash messages, never a server error.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from saypro import periods
from saypro.durations import target_text
from saypro.errors import DomainError, InvalidInput
from saypro.files import stored_file_response
from saypro.forms import add_service_errors
from saypro.paginators import POSITION_PARAMS, KeysetPage, bounded_count

from . import metrics, selectors, services
from .forms import AppealDecisionForm, DecisionForm, KeywordRuleForm, QueueFilterForm
from .models import ACTION_DONE, Action, Appeal, Case, KeywordRule, Reason, Source
from .registry import moderatable_for_kind

QUEUE_PAGE_SIZE = 50
ViewFunc = Callable[..., HttpResponseBase]


class SignedInRequest(HttpRequest):
    user: User


def permission_page(perm: str) -> Callable[[ViewFunc], ViewFunc]:
    """Anonymous visitors go to the sign-in page; signed-in users without the permission get a 403."""

    def decorator(view: ViewFunc) -> ViewFunc:
        return login_required(permission_required(perm, raise_exception=True)(view))

    return decorator


view_required = permission_page("moderation.view_case")
decide_required = permission_page("moderation.decide_case")
appeal_required = permission_page("moderation.decide_appeal")
keywords_required = permission_page("moderation.view_keywordrule")
figures_required = permission_page("moderation.view_moderation_figures")


def _levels() -> dict[str, int]:
    return {"severity_high": selectors.SEVERITY_HIGH, "severity_medium": selectors.SEVERITY_MEDIUM}


# --- Queue -----------------------------------------------------------------------------------------------------


@require_GET
@view_required
def home(request: SignedInRequest) -> HttpResponse:
    """The moderator queue, soonest deadline first; `?at_risk=on` and `?breached=on` narrow it (dashboard tiles)."""
    form = QueueFilterForm(request.GET or None)
    filters = form.selector_kwargs()
    now = timezone.now()
    page = KeysetPage(selectors.case_queue(**filters, now=now), request.GET, QUEUE_PAGE_SIZE)
    query = request.GET.copy()
    for name in POSITION_PARAMS:
        query.pop(name, None)
    return render(
        request,
        "moderation/queue.html",
        {
            "form": form,
            "page": page,
            "filter_query": query.urlencode(),
            "counts": selectors.queue_page_counts(now=now),
            "pending_appeals": bounded_count(selectors.appeal_queue()),
            "now": now,
            "showing_open": filters["status"] == "open",
            **_levels(),
        },
    )


# --- Case page and decision ----------------------------------------------------------------------------------


def _case_or_404(pk: int) -> Case:
    try:
        return selectors.case_detail(pk=pk)
    except Case.DoesNotExist:
        raise Http404("No such case.") from None


def _render_case(request: SignedInRequest, case: Case, *, form: DecisionForm | None = None) -> HttpResponse:
    entry = moderatable_for_kind(case.kind)
    content = entry.get(case.object_id) if entry is not None else None
    decisions = selectors.case_decisions(case=case)
    now = timezone.now()
    pending_appeal = selectors.appeal_queue(now=now).filter(case=case).first()
    return render(
        request,
        "moderation/case.html",
        {
            "case": case,
            "entry": entry,
            "content": content,
            "content_url": entry.url(content) if entry is not None and entry.url and content is not None else "",
            "facts": entry.facts(content) if entry is not None and entry.facts and content is not None else [],
            "images": entry.images_of(content) if entry is not None else [],
            "flags": selectors.case_flags(case=case),
            "detections": selectors.case_detections(case=case),
            "decisions": decisions,
            "history": selectors.author_history(user=case.author, exclude_case=case, now=now),
            "clock": selectors.case_clock(case=case),
            "pending_appeal": pending_appeal,
            "appeal_target": _appeal_target() if pending_appeal is not None else "",
            "form": form or DecisionForm(),
            "can_decide": request.user.has_perm("moderation.decide_case"),
            "can_decide_appeal": request.user.has_perm("moderation.decide_appeal"),
            "now": now,
            "appeal_window_days": services.APPEAL_WINDOW.days,
            **_levels(),
        },
    )


@require_GET
@view_required
def case(request: SignedInRequest, pk: int) -> HttpResponse:
    return _render_case(request, _case_or_404(pk))


@require_GET
@view_required
def case_image(request: SignedInRequest, pk: int, index: int) -> FileResponse:
    """One picture of the case's content, for the case's moderators: the n-th the owning app lists, never a
    storage key taken from the address, so this view serves nothing but the pictures of content under review."""
    current = _case_or_404(pk)
    entry = moderatable_for_kind(current.kind)
    images = entry.images_of(entry.get(current.object_id)) if entry is not None else []
    if index >= len(images) or not images[index].key:
        raise Http404("No such picture.")
    return stored_file_response(images[index].key)


@require_POST
@decide_required
def case_decide(request: SignedInRequest, pk: int) -> HttpResponse:
    current = _case_or_404(pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            decision = services.case_decide(
                case=current, by=request.user, action=data["action"], rule=data["rule"], reason=data["reason"]
            )
        except InvalidInput as exc:
            add_service_errors(form, exc)
        except DomainError as exc:
            # Someone decided first (the message names who and when).
            messages.error(request, exc.message)
            return redirect("moderation:case", pk=pk)
        else:
            told = "The reporters are told the outcome"
            if decision.action != Action.KEEP:
                told += " and the author the action"
            messages.success(request, f"Case #{pk}: {decision.action_done.lower()}. {told}.")
            return redirect(_next_case_url(pk))
    return _render_case(request, _case_or_404(pk), form=form)


def _next_case_url(decided_pk: int) -> str:
    """Straight on to the next case by deadline, or back to the queue when it is empty."""
    following = selectors.case_queue().exclude(pk=decided_pk).values_list("pk", flat=True).first()
    if following is None:
        return reverse("moderation:home")
    return reverse("moderation:case", args=[following])


# --- Appeals --------------------------------------------------------------------------------------------------


@require_GET
@appeal_required
def appeals(request: SignedInRequest) -> HttpResponse:
    status = request.GET.get("status", Appeal.Status.PENDING)
    if status not in {*Appeal.Status.values, "all"}:
        status = Appeal.Status.PENDING
    now = timezone.now()
    rows = selectors.appeal_queue(status="" if status == "all" else status, now=now)
    page = KeysetPage(rows, request.GET, QUEUE_PAGE_SIZE)
    return render(
        request,
        "moderation/appeals.html",
        {
            "page": page,
            "status": status,
            "statuses": Appeal.Status.choices,
            "now": now,
            "appeal_target": _appeal_target(),
        },
    )


def _appeal_target() -> str:
    """The appeal deadline as administrators set it ("24 h"), read from its policy rather than a constant."""
    policy = selectors.appeal_policy()
    return target_text(policy.target.total_seconds()) if policy is not None else ""


@require_http_methods(["GET", "POST"])
@appeal_required
def appeal(request: SignedInRequest, pk: int) -> HttpResponse:
    now = timezone.now()
    try:
        item = selectors.appeal_detail(pk=pk, now=now)
    except Appeal.DoesNotExist:
        raise Http404("No such appeal.") from None
    form = AppealDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            decided = services.appeal_decide(
                appeal=item,
                by=request.user,
                reverse=form.cleaned_data["outcome"] == Appeal.Status.REVERSED,
                reason=form.cleaned_data["reason"],
            )
        except InvalidInput as exc:
            add_service_errors(form, exc)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("moderation:appeal", pk=pk)
        else:
            messages.success(request, f"Appeal #{pk}: {decided.get_status_display().lower()}. The user is told.")
            return redirect("moderation:appeals")
    entry = moderatable_for_kind(item.case.kind)
    content = entry.get(item.case.object_id) if entry is not None else None
    return render(
        request,
        "moderation/appeal.html",
        {
            "appeal": item,
            "form": form,
            "own_decision": item.decision.by_id == request.user.pk,
            "case_url": reverse("moderation:case", args=[item.case_id]),
            "clock": selectors.appeal_clock(appeal=item),
            "appeal_target": _appeal_target(),
            "row": item,
            "now": now,
            "facts": entry.facts(content) if entry is not None and entry.facts and content is not None else [],
            "content": content,
            "images": entry.images_of(content) if entry is not None else [],
            "can_view_case": request.user.has_perm("moderation.view_case"),
        },
    )


# --- Keywords ---------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@keywords_required
def keywords(request: SignedInRequest) -> HttpResponse:
    can_manage = request.user.has_perm("moderation.manage_keywords")
    form = KeywordRuleForm(request.POST or None)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                rule = services.keyword_rule_create(by=request.user, **form.cleaned_data)
            except InvalidInput as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Keyword “{rule.phrase}” added: new and edited content is checked for it.")
                return redirect("moderation:keywords")
    return render(
        request,
        "moderation/keywords.html",
        {
            "form": form,
            "rules": KeywordRule.objects.select_related("created_by").order_by("-is_active", "phrase"),
            "can_manage": can_manage,
            "model": metrics.spam_model_summary(),
        },
    )


@require_POST
@permission_page("moderation.manage_keywords")
def keyword_toggle(request: SignedInRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(KeywordRule, pk=pk)
    rule = services.keyword_rule_set_active(rule=rule, by=request.user, active=not rule.is_active)
    messages.success(request, f"Keyword “{rule.phrase}” {'activated' if rule.is_active else 'deactivated'}.")
    return redirect("moderation:keywords")


# --- Figures ------------------------------------------------------------------------------------------------


@require_GET
@figures_required
def figures(request: SignedInRequest) -> HttpResponse:
    """The moderation figures of the last `days` days to now, for managers: the registry's, as the reports and
    the area page read them."""
    now = timezone.now()
    days = request.GET.get("days", "30")
    span = int(days) if days.isdigit() and 1 <= int(days) <= 366 else 30
    today = periods.today(now)
    period = periods.custom(today - timedelta(days=span - 1), today)
    start = period.start_at
    figures = metrics.moderation_figures(period=period, now=now)
    flags = figures["moderation.flags"].parts
    by_reason = [
        (label, int(flags.get(f"{reason}/{Source.USER}", 0)), int(flags.get(f"{reason}/{Source.AUTOMATIC}", 0)))
        for reason, label in Reason.choices
    ]
    widest = max([user + automatic for _, user, automatic in by_reason] + [1])
    decisions = figures["moderation.actions"].parts
    actions = [(ACTION_DONE[action], int(decisions.get(action, 0))) for action in Action.values]
    most_actions = max([count for _, count in actions] + [1])
    by_day = {day: (met, late, rate) for day, met, late, rate in metrics.decisions_by_day(start=start, end=now)}
    # Every day of the period, those without a deadline too, so the gaps show.
    daily = [(day, *by_day.get(day, (0, 0, None))) for day in period.day_list()]
    busiest = max([met + late for _, met, late, _ in daily] + [1])
    context: dict[str, Any] = {
        "days": span,
        "period": period,
        "spans": (7, 30, 90),
        "figures": {key.removeprefix("moderation."): reading for key, reading in figures.items()},
        "flag_bars": [
            {
                "label": label,
                "user": user,
                "automatic": automatic,
                "user_pct": 100 * user / widest,
                "auto_pct": 100 * automatic / widest,
            }
            for label, user, automatic in by_reason
        ],
        "action_bars": [(label, count, 100 * count / most_actions) for label, count in actions],
        "daily": [
            {"day": day, "met": met, "late": late, "rate": rate, "height": 100 * (met + late) / busiest}
            for day, met, late, rate in daily
        ],
        "now": now,
    }
    return render(request, "moderation/figures.html", context)
