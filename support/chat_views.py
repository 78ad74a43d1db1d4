"""The agents' chat panel: the queue of live chats beside the open chat, with canned replies, transfer and
conversion to a ticket.

The transcript, typing and read state travel over the agent's chat WebSocket (support.consumers) and the queue
refetches itself when the queue socket says a chat changed, or on a timer when the socket is down
(static/js/chat_panel.js). Without JavaScript the composer posts an ordinary ticket reply."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from saypro.errors import DomainError, InvalidInput
from saypro.forms import add_service_errors
from saypro.sla.models import Clock

from . import chat_selectors, selectors, services
from .forms import ChatConvertForm, ChatTransferForm
from .models import FIRST_RESPONSE, Ticket

# The socket tells the panel of every change; the timer is the fallback while it is down.
QUEUE_REFRESH_SECONDS = 30
# The head of the queue: more chats than this waiting at once is an outage to staff up for, not a list to scroll.
QUEUE_LIMIT = 100
# A user waiting this long is shown in amber, then in red: chat users expect an answer within minutes.
WAIT_WARN_SECONDS = 2 * 60
WAIT_LATE_SECONDS = 5 * 60

ViewFunc = Callable[..., HttpResponseBase]


class SignedInRequest(HttpRequest):
    user: User


def chat_page(view: ViewFunc) -> ViewFunc:
    return login_required(permission_required(services.ANSWER_PERMISSION, raise_exception=True)(view))


def _queue_context(request: SignedInRequest, current: int | None) -> dict[str, Any]:
    # One more than shown tells whether there are more.
    queue = chat_selectors.chat_queue(user=request.user, limit=QUEUE_LIMIT + 1)
    return {
        "queue": queue[:QUEUE_LIMIT],
        "more": len(queue) > QUEUE_LIMIT,
        "waiting_count": sum(1 for row in queue[:QUEUE_LIMIT] if not row.answered),
        "current": current,
        "wait_warn": WAIT_WARN_SECONDS,
        "wait_late": WAIT_LATE_SECONDS,
        "now": timezone.now(),
    }


def _canned(ticket: Ticket, agent: User) -> list[dict[str, Any]]:
    """The macros usable on this chat, their placeholders filled for it, ready to drop into the composer."""
    context = services.macro_context(ticket=ticket, agent=agent)
    return [
        {"pk": macro.pk, "name": macro.name, "text": services.macro_render(macro=macro, context=context)}
        for macro in selectors.macros_usable(surface="ticket", department=ticket.department)
    ]


def _render_panel(
    request: SignedInRequest,
    chat: Ticket | None = None,
    *,
    status: int = 200,
    transfer_form: ChatTransferForm | None = None,
    convert_form: ChatConvertForm | None = None,
) -> HttpResponse:
    context = _queue_context(request, chat.pk if chat else None)
    context.update(
        {
            "refresh_seconds": QUEUE_REFRESH_SECONDS,
            "socket_base": settings.SUPPORT_CHAT_SOCKET_URL,
            "chat": chat,
        }
    )
    if chat is not None:
        agents = chat_selectors.agents_on_shift(exclude=request.user)
        departments = list(chat_selectors.departments_active())
        context.update(
            {
                "transcript": chat_selectors.chat_transcript(ticket=chat),
                "canned": _canned(chat, request.user),
                "first_response": Clock.objects.filter(
                    target_type__app_label="support",
                    target_type__model="ticket",
                    target_id=chat.pk,
                    metric=FIRST_RESPONSE,
                )
                .order_by("-started_at", "-pk")
                .first(),
                "transfer_form": transfer_form or ChatTransferForm(agents=agents, departments=departments),
                "convert_form": convert_form or ChatConvertForm(),
                "can_transfer": chat.assignee_id in (None, request.user.pk),
            }
        )
    return render(request, "support/chats.html", context, status=status)


@require_GET
@chat_page
def chats(request: SignedInRequest) -> HttpResponse:
    """The panel with no chat open; asked with `X-Requested-With: fetch`, the queue alone (its live refresh)."""
    if request.headers.get("X-Requested-With") == "fetch":
        current = request.GET.get("current", "")
        context = _queue_context(request, int(current) if current.isdigit() else None)
        return render(request, "support/_chat_queue.html", context)
    return _render_panel(request)


@require_GET
@chat_page
def chat(request: SignedInRequest, pk: int) -> HttpResponse:
    ticket = chat_selectors.chat_for_agent(pk=pk)
    if ticket.chat_ended_at is not None or not ticket.is_open:
        messages.info(request, f"The chat #{ticket.pk} has ended; it goes on here as a ticket.")
        return redirect("support:ticket", pk=ticket.pk)
    return _render_panel(request, ticket)


def _refused(request: SignedInRequest, pk: int, error: DomainError) -> HttpResponse:
    # Decided meanwhile (transferred, ended): the panel reloads with the news, or the ticket page if it ended.
    messages.error(request, error.message)
    return redirect("support:chat", pk=pk)


@require_POST
@chat_page
def chat_transfer(request: SignedInRequest, pk: int) -> HttpResponse:
    ticket = chat_selectors.chat_for_agent(pk=pk)
    form = ChatTransferForm(
        request.POST,
        agents=chat_selectors.agents_on_shift(exclude=request.user),
        departments=list(chat_selectors.departments_active()),
    )
    if form.is_valid():
        try:
            services.chat_transfer(ticket=ticket, by=request.user, note=form.cleaned_data["note"], **form.target())
        except InvalidInput as error:
            add_service_errors(form, error)
        except DomainError as error:
            return _refused(request, pk, error)
        else:
            messages.success(request, f"Chat #{ticket.pk} transferred.")
            return redirect("support:chats")
    return _render_panel(request, ticket, status=400, transfer_form=form)


@require_POST
@chat_page
def chat_convert(request: SignedInRequest, pk: int) -> HttpResponse:
    ticket = chat_selectors.chat_for_agent(pk=pk)
    form = ChatConvertForm(request.POST)
    if form.is_valid():
        try:
            services.chat_convert_to_ticket(ticket=ticket, by=request.user, note=form.cleaned_data["note"])
        except InvalidInput as error:
            add_service_errors(form, error)
        except DomainError as error:
            return _refused(request, pk, error)
        else:
            messages.success(request, f"Chat #{ticket.pk} is now a ticket; the user was told it goes on by e-mail.")
            return redirect("support:ticket", pk=ticket.pk)
    return _render_panel(request, ticket, status=400, convert_form=form)
