"""The agent's queues and the ticket page with its actions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from saypro.errors import DomainError, InvalidInput
from saypro.files import private_file_response
from saypro.forms import add_service_errors
from saypro.paginators import POSITION_PARAMS, KeysetPage
from saypro.sla.models import Clock
from support import selectors, services
from support.forms import CcForm, KnownIssueLinkForm, MergeForm, PropertiesForm, QueueFilterForm, ReplyForm
from support.models import FIRST_RESPONSE, RESOLUTION, Ticket, TicketAttachment
from support.views.common import (
    QUEUE_PAGE_SIZE,
    QUEUE_REFRESH_SECONDS,
    SignedInRequest,
    _is_fetch,
    answer_page,
    tickets_page,
)

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
    counts = selectors.queue_view_counts(user=request.user, now=now)
    # Unfiltered, a view lists exactly the tickets its tab counts (the at-risk and breached tabs count the open
    # resolution clocks: one per open ticket): the page takes that count instead of counting them again. The solved
    # and closed views have no count of their own.
    same_rows = not filters and view in counts
    page = KeysetPage(rows, request.GET, QUEUE_PAGE_SIZE, count=counts[view] if same_rows else None)
    query = request.GET.copy()
    for name in POSITION_PARAMS:
        query.pop(name, None)
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
