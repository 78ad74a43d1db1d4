"""Live chat over WebSockets: the marketplace user's side of a chat ticket.

The user connects to `/ws/support/chats/<ticket id>/?token=<API token>` (a browser cannot set headers on a
WebSocket, so the token travels in the query string, over TLS in production). Messages go through the same service
as the API's requester replies, so a chat message is a ticket message; every event is relayed to the chat's group
so that whoever else is connected (the agent) sees it at once."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404
from rest_framework.authtoken.models import Token

from accounts.models import User
from saypro.errors import DomainError
from support import selectors, services
from support.models import Channel, Ticket, TicketMessage

# Close codes in the application range (4000-4999): the client can tell a refusal from a dropped network.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404


def chat_group(ticket_id: int) -> str:
    return f"support.chat.{ticket_id}"


def message_event(message: TicketMessage) -> dict[str, Any]:
    return {
        "type": "message",
        "id": message.pk,
        "kind": message.kind,
        # The name only, never an agent's e-mail address.
        "author": message.author.full_name if message.author else "",
        "body": message.body,
        "created_at": message.created_at.isoformat(),
    }


@database_sync_to_async
def _user_of_token(key: str) -> User | None:
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return None
    return token.user


@database_sync_to_async
def _own_chat(user: User, pk: int) -> Ticket | None:
    try:
        ticket = selectors.ticket_for_requester(user=user, pk=pk)
    except Http404:
        return None
    return ticket if ticket.channel == Channel.CHAT else None


@database_sync_to_async
def _send(ticket: Ticket, body: str) -> dict[str, Any]:
    return message_event(services.ticket_requester_reply(ticket=ticket, body=body))


class UserChatConsumer(AsyncJsonWebsocketConsumer):
    """A marketplace user in their own chat: sends messages and typing; receives everything said in the chat."""

    ticket: Ticket
    user: User

    async def connect(self) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode())
        user = await _user_of_token((query.get("token") or [""])[0])
        if user is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        # Another user's chat, a ticket that is not a chat, or no such id: the same refusal, so ids cannot be probed.
        ticket = await _own_chat(user, int(self.scope["url_route"]["kwargs"]["pk"]))
        if ticket is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.user, self.ticket = user, ticket
        await self.channel_layer.group_add(chat_group(ticket.pk), self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "ticket"):
            await self.channel_layer.group_discard(chat_group(self.ticket.pk), self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "message":
            try:
                event = await _send(self.ticket, str(content.get("body", "")))
            except DomainError as error:
                await self.send_json({"type": "error", "detail": str(error)})
                return
            await self.channel_layer.group_send(chat_group(self.ticket.pk), {"type": "chat.event", "event": event})
        elif kind == "typing":
            await self.channel_layer.group_send(
                chat_group(self.ticket.pk),
                {"type": "chat.event", "event": {"type": "typing", "side": "user"}, "sender": self.channel_name},
            )
        else:
            await self.send_json({"type": "error", "detail": "Send a message or typing event."})

    async def chat_event(self, event: dict[str, Any]) -> None:
        # A typing indicator is for the other side; the sender does not see their own.
        if event.get("sender") != self.channel_name:
            await self.send_json(event["event"])
