"""Server-sent events of a live chat, for clients that cannot keep a WebSocket open (a proxy that drops upgrades,
a client without WebSocket support): the same events as the user's socket, one way; messages are still sent
through the API's reply endpoint.

`GET /api/v1/support/chats/<ticket id>/events/` with the API token (`Authorization: Token …`, or `?token=` for
EventSource, which cannot set headers). Each message event carries its id, so a client that reconnects with
`Last-Event-ID` first receives the messages it missed. The view is asynchronous and reads the chat's channel-layer
group: it must be served by the ASGI server (daphne), where a stream holds no worker thread.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET
from rest_framework.exceptions import AuthenticationFailed

from accounts.authentication import TokenAuthentication
from accounts.models import User
from saypro.api import error_body

from . import selectors, services
from .consumers import chat_group, message_event
from .models import Ticket

# A comment line this often keeps proxies from closing an idle stream, and finds out that a client has gone.
KEEPALIVE_SECONDS = 15
# How long a client waits before reconnecting after the stream drops (the "retry" field, in milliseconds).
RETRY_MS = 3000


def _user(request: HttpRequest) -> User | None:
    """The token's user, like the API's token authentication; raises AuthenticationFailed for a bad token."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "token":
        key = request.GET.get("token", "")
    if not key.strip():
        return None
    user, _ = TokenAuthentication().authenticate_credentials(key.strip())
    return user


def _opening(request: HttpRequest, pk: int) -> tuple[HttpResponse | None, Ticket | None, dict[str, Any] | None]:
    """A refusal in the API's error shape, or the chat (and, for a chat turned into a ticket, the event that
    says so)."""
    try:
        user = _user(request)
    except AuthenticationFailed as error:
        return JsonResponse(error_body("authentication_failed", str(error.detail)), status=401), None, None
    if user is None:
        message = "Authentication credentials were not provided."
        return JsonResponse(error_body("not_authenticated", message), status=401), None, None
    ticket = selectors.chat_for_requester(user=user, pk=pk)
    if ticket is None:
        return JsonResponse(error_body("not_found", "No such chat."), status=404), None, None
    return None, ticket, services.chat_unavailable_event(ticket)


def _frame(event: dict[str, Any]) -> str:
    head = f"id: {event['id']}\n" if event.get("type") == "message" else ""
    return f"{head}event: {event['type']}\ndata: {json.dumps(event)}\n\n"


@sync_to_async
def _missed(ticket: Ticket, last_event_id: int) -> list[dict[str, Any]]:
    return [message_event(message) for message in selectors.chat_messages_after(ticket=ticket, after=last_event_id)]


async def _stream(ticket: Ticket, last_event_id: int | None) -> AsyncGenerator[str, None]:
    layer = get_channel_layer()
    assert layer is not None
    channel = await layer.new_channel()
    group = chat_group(ticket.pk)
    # Subscribed before the missed messages are read and the first byte goes out: nothing falls in between.
    await layer.group_add(group, channel)
    receiving: asyncio.Future[Any] | None = None
    try:
        missed = [] if last_event_id is None else await _missed(ticket, last_event_id)
        yield f"retry: {RETRY_MS}\n\n" + "".join(_frame(event) for event in missed)
        # A message replayed above may also arrive live: each is sent once.
        sent = max((event["id"] for event in missed), default=0)
        while True:
            # One pending receive across keepalives: cancelling a layer's receive may lose a message.
            receiving = receiving or asyncio.ensure_future(layer.receive(channel))
            done, _ = await asyncio.wait({receiving}, timeout=KEEPALIVE_SECONDS)
            if not done:
                yield ": keepalive\n\n"
                continue
            event = receiving.result()["event"]
            receiving = None
            if event.get("type") == "message":
                if event["id"] <= sent:
                    continue
                sent = event["id"]
            yield _frame(event)
    finally:
        if receiving is not None:
            receiving.cancel()
        await layer.group_discard(group, channel)


async def _unavailable(event: dict[str, Any]) -> AsyncGenerator[str, None]:
    yield f"retry: {RETRY_MS}\n\n{_frame(event)}"


@require_GET
async def chat_events(request: HttpRequest, pk: int) -> HttpResponseBase:
    refusal, ticket, unavailable = await sync_to_async(_opening)(request, pk)
    if refusal is not None:
        return refusal
    assert ticket is not None
    last = request.headers.get("Last-Event-ID", "").strip()
    # A chat that became an e-mail ticket: one event saying why, and the stream ends.
    events = _unavailable(unavailable) if unavailable else _stream(ticket, int(last) if last.isdigit() else None)
    response = StreamingHttpResponse(events, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    # nginx would otherwise buffer the stream and deliver events late.
    response["X-Accel-Buffering"] = "no"
    return response
