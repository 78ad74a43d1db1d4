"""Staff pages: the agent inbox and the thread page with every action on a conversation.

Views parse input and check permissions; every change goes through messaging.services, whose domain errors
become form errors or flash messages. The inbox rows and the thread's messages are fragments the page fetches
again every few seconds (`data-refresh-url`), so new messages appear without a reload.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.views import SignedInRequest
from accounts.views import _permission_page as permission_page
from saypro.errors import DomainError, InvalidInput
from saypro.files import private_file_response
from saypro.forms import add_service_errors
from saypro.paginators import POSITION_PARAMS, KeysetPage

from . import integrations, selectors, services, tiles
from .forms import (
    AssignForm,
    CategoryForm,
    EscalateForm,
    InboxFilterForm,
    NoteForm,
    ReplyForm,
    ResolveForm,
    StartConversationForm,
)
from .models import Attachment, Category, Conversation

INBOX_PAGE_SIZE = 50
# Seconds between fetches of the live fragments: the inbox rows and the thread's messages.
INBOX_REFRESH_SECONDS = 15
THREAD_REFRESH_SECONDS = 5

# The staff pages' sign-in and role check, as on the registration pages.
view_required = permission_page("messaging.view_conversation")
reply_required = permission_page("messaging.reply_conversation")
start_required = permission_page("messaging.start_conversation")
assign_required = permission_page("messaging.assign_conversation")
escalate_required = permission_page("messaging.escalate_conversation")


# --- Inbox ----------------------------------------------------------------------------------------


def _inbox_context(request: SignedInRequest) -> dict[str, Any]:
    form = InboxFilterForm(request.GET or None)
    filters = form.selector_kwargs()
    now = timezone.now()
    rows = selectors.with_previews(selectors.inbox(user=request.user, now=now, **filters))
    page = KeysetPage(rows, request.GET, INBOX_PAGE_SIZE)
    query = request.GET.copy()
    for name in POSITION_PARAMS:
        query.pop(name, None)
    view_query = query.copy()
    view_query.pop("view", None)
    return {
        "form": form,
        "filters": filters,
        "page": page,
        "now": now,
        "filter_query": query.urlencode(),
        "view_query": view_query.urlencode(),
        "rows_url": f"{reverse('messaging:inbox-rows')}?{request.GET.urlencode()}",
        "refresh_seconds": INBOX_REFRESH_SECONDS,
    }


@require_GET
@view_required
def home(request: SignedInRequest) -> HttpResponse:
    """The agent inbox: views mine / unassigned / at risk / breached, filters, soonest deadline first."""
    context = _inbox_context(request)
    # Shared by everyone for a refresh interval: they aggregate the whole open backlog (messaging.tiles). The
    # refreshed rows below the tabs show no counts, so only the page reads them.
    context["tiles"] = shared = tiles.inbox_tiles(now=context["now"])
    counts = {**shared.view_counts, selectors.View.MINE: selectors.mine_count(user=request.user)}
    context["views"] = [(key, label, counts.get(key)) for key, label in selectors.View.CHOICES]
    return render(request, "messaging/inbox.html", context)


@require_GET
@view_required
def inbox_rows(request: SignedInRequest) -> HttpResponse:
    return render(request, "messaging/_inbox_rows.html", _inbox_context(request))


# --- Thread ---------------------------------------------------------------------------------------


def _conversation_or_404(pk: int) -> Conversation:
    try:
        return selectors.conversation_get(pk=pk)
    except Conversation.DoesNotExist:
        raise Http404("No such conversation.") from None


def _render_thread(request: SignedInRequest, conversation: Conversation, **bound: forms.Form) -> HttpResponse:
    user = request.user
    clocks = selectors.conversation_clocks(conversation=conversation)
    context = {
        "conversation": conversation,
        "row": conversation,
        "messages_list": selectors.thread(conversation=conversation, staff=True),
        "first_response_clock": clocks[services.FIRST_RESPONSE],
        "resolution_clock": clocks[services.RESOLUTION],
        "other_conversations": selectors.user_conversations(user=conversation.user, exclude=conversation.pk),
        "account": integrations.account_summary(user=conversation.user),
        "canned_responses": integrations.canned_responses_for(user=user),
        "reply_form": bound.get("reply_form") or ReplyForm(),
        "note_form": bound.get("note_form") or NoteForm(),
        "category_form": bound.get("category_form")
        or CategoryForm(initial={"category": conversation.category or conversation.suggested_category}),
        "assign_form": bound.get("assign_form") or AssignForm(initial={"to": conversation.assigned_to_id}),
        "escalate_form": bound.get("escalate_form") or EscalateForm(),
        "resolve_form": bound.get("resolve_form") or ResolveForm(),
        "can_reply": user.has_perm("messaging.reply_conversation"),
        "can_assign": user.has_perm("messaging.assign_conversation"),
        "can_escalate": user.has_perm("messaging.escalate_conversation"),
        "messages_url": reverse("messaging:thread-messages", args=[conversation.pk]),
        "refresh_seconds": THREAD_REFRESH_SECONDS,
        "now": timezone.now(),
    }
    status = 400 if any(form.errors for form in bound.values()) else 200
    return render(request, "messaging/thread.html", context, status=status)


@require_GET
@view_required
def thread(request: SignedInRequest, pk: int) -> HttpResponse:
    conversation = _conversation_or_404(pk)
    services.conversation_mark_read(conversation=conversation, by=request.user)
    return _render_thread(request, conversation)


@require_GET
@reply_required
def canned_response(request: SignedInRequest, pk: int, macro_pk: int) -> JsonResponse:
    """A canned response's text for this conversation, placeholders filled, to insert into the reply box."""
    conversation = _conversation_or_404(pk)
    rendered = integrations.canned_response_render(macro_id=macro_pk, conversation=conversation, agent=request.user)
    if rendered is None:
        raise Http404("No such canned response.")
    return JsonResponse({"text": rendered})


@require_GET
@view_required
def thread_messages(request: SignedInRequest, pk: int) -> HttpResponse:
    """The thread's messages alone, fetched every few seconds by the open thread page."""
    conversation = _conversation_or_404(pk)
    services.conversation_mark_read(conversation=conversation, by=request.user)
    return render(
        request,
        "messaging/_thread_messages.html",
        {"conversation": conversation, "messages_list": selectors.thread(conversation=conversation, staff=True)},
    )


def _act(
    request: SignedInRequest,
    pk: int,
    form_class: type[forms.Form],
    form_name: str,
    action: Callable[[Conversation, dict[str, Any]], str],
    *,
    files: bool = False,
) -> HttpResponse:
    """Run one action from the thread page; a form error re-renders the page with the form's errors."""
    conversation = _conversation_or_404(pk)
    form = form_class(request.POST, request.FILES if files else None)
    if form.is_valid():
        try:
            done = action(conversation, form.cleaned_data)
        except DomainError as exc:
            # Refused (invalid, or decided by a colleague meanwhile): the page shows why, with the text kept.
            add_service_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("messaging:thread", pk=pk)
    return _render_thread(request, _conversation_or_404(pk), **{form_name: form})


@require_POST
@reply_required
def reply(request: SignedInRequest, pk: int) -> HttpResponse:
    def send(conversation: Conversation, data: dict[str, Any]) -> str:
        services.reply_send(
            conversation=conversation,
            by=request.user,
            body=data["body"],
            then=data["then"],
            attachments=data["attachments"],
            canned_response_ref=data["canned_response_ref"],
        )
        after = {services.Then.WAIT: "waiting for the user", services.Then.OPEN: "kept open"}
        return f"Reply sent to {conversation.user.get_full_name()}; " + after.get(data["then"], "resolved") + "."

    return _act(request, pk, ReplyForm, "reply_form", send, files=True)


@require_POST
@view_required
def note(request: SignedInRequest, pk: int) -> HttpResponse:
    def add(conversation: Conversation, data: dict[str, Any]) -> str:
        services.note_add(conversation=conversation, by=request.user, body=data["body"])
        return "Internal note added."

    return _act(request, pk, NoteForm, "note_form", add)


@require_POST
@reply_required
def category(request: SignedInRequest, pk: int) -> HttpResponse:
    def change(conversation: Conversation, data: dict[str, Any]) -> str:
        services.conversation_categorise(conversation=conversation, by=request.user, category=data["category"])
        return f"Category set to {Category(data['category']).label}; the resolution deadline follows it."

    return _act(request, pk, CategoryForm, "category_form", change)


@require_POST
@assign_required
def assign(request: SignedInRequest, pk: int) -> HttpResponse:
    if request.POST.get("claim"):
        conversation = get_object_or_404(Conversation, pk=pk)
        try:
            services.conversation_claim(conversation=conversation, by=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Conversation #{pk} is yours.")
        return redirect(
            "messaging:home" if request.POST.get("next") == "inbox" else reverse("messaging:thread", args=[pk])
        )

    def transfer(conversation: Conversation, data: dict[str, Any]) -> str:
        services.conversation_transfer(conversation=conversation, by=request.user, to=data["to"], reason=data["reason"])
        return f"Transferred to {data['to'].get_full_name()}." if data["to"] else "Back in the unassigned view."

    return _act(request, pk, AssignForm, "assign_form", transfer)


@require_POST
@reply_required
def resolve(request: SignedInRequest, pk: int) -> HttpResponse:
    def done(conversation: Conversation, data: dict[str, Any]) -> str:
        services.conversation_resolve(conversation=conversation, by=request.user, note=data["note"])
        return "Resolved. The user will be asked to rate the answer."

    return _act(request, pk, ResolveForm, "resolve_form", done)


@require_POST
@reply_required
def reopen(request: SignedInRequest, pk: int) -> HttpResponse:
    conversation = get_object_or_404(Conversation, pk=pk)
    services.conversation_reopen(conversation=conversation, by=request.user)
    messages.success(request, "Reopened: a new resolution deadline is running.")
    return redirect("messaging:thread", pk=pk)


@require_POST
@escalate_required
def escalate(request: SignedInRequest, pk: int) -> HttpResponse:
    def up(conversation: Conversation, data: dict[str, Any]) -> str:
        services.conversation_escalate(conversation=conversation, by=request.user, reason=data["reason"])
        return "Escalated to the Classified Office."

    return _act(request, pk, EscalateForm, "escalate_form", up)


@require_POST
@reply_required
def convert(request: SignedInRequest, pk: int) -> HttpResponse:
    conversation = get_object_or_404(Conversation, pk=pk)
    try:
        ticket = services.conversation_convert_to_ticket(conversation=conversation, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("messaging:thread", pk=pk)
    messages.success(request, f"Converted to support ticket #{ticket.pk}; this conversation is resolved.")
    return redirect(integrations.ticket_url(ticket) or reverse("messaging:thread", args=[pk]))


@require_http_methods(["GET", "POST"])
@start_required
def conversation_new(request: SignedInRequest) -> HttpResponse:
    """The team writes to a user first: ad status, policy enforcement, the outcome of a report."""
    initial = {"email": request.GET.get("email", "")}
    form = StartConversationForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            conversation = services.conversation_start_by_staff(
                by=request.user,
                user=data["email"],
                subject=data["subject"],
                body=data["body"],
                category=data["category"],
                attachments=data["attachments"],
                listing_ref=data["listing_ref"],
            )
        except InvalidInput as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Message sent to {conversation.user.get_full_name()}.")
            return redirect("messaging:thread", pk=conversation.pk)
    return render(request, "messaging/new.html", {"form": form}, status=400 if form.errors else 200)


@require_GET
@view_required
def attachment(request: SignedInRequest, pk: int) -> FileResponse:
    return attachment_response(get_object_or_404(Attachment.objects.select_related("message"), pk=pk))


def attachment_response(item: Attachment) -> FileResponse:
    """Attachments are private: served through an authorised view, never from a public media URL."""
    return private_file_response(item.file, name=item.name, content_type=item.content_type)
