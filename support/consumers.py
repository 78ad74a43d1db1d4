"""Live chat over WebSockets: the marketplace user's and the agent's sides of a chat ticket.

The user connects to `/ws/support/chats/<ticket id>/?token=<API token>` (a browser cannot set headers on a
WebSocket, so the token travels in the query string, over TLS in production). Messages go through the same service
as the API's requester replies, so a chat message is a ticket message; every event is relayed to the chat's group
so that whoever else is connected sees it at once. A chat that found live chat closed or nobody on shift became an
e-mail ticket: its socket sends one `unavailable` event (why, and when chat opens next) and closes. The user's read
events are also stored on the ticket, so that a reply they read live is not e-mailed to them.

The agent connects to `/ws/support/agent/chats/<ticket id>/` with their signed-in session: staff who may answer
tickets, and who have passed the second factor their role requires. An agent's message is a public reply through
`ticket_reply`, so the first one stops the first-response clock.

The agents' chat panel also listens on `/ws/support/agent/chats/` for changes to the queue of chats (one arrived,
was answered, taken, assigned, transferred or ended) and refetches the queue when told."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from rest_framework.authtoken.models import Token

from accounts import security
from accounts.models import User
from saypro.errors import DomainError
from support import selectors, services
from support.chat_events import QUEUE_GROUP, chat_group
from support.models import Channel, Ticket, TicketMessage

# Close codes in the application range (4000-4999): the client can tell a refusal from a dropped network.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
# Events a side may send besides a message; each is relayed to the other side, tagged with who sent it.
SIGNALS = {"typing", "read"}


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
def _own_chat(user: User, pk: int) -> tuple[Ticket | None, dict[str, Any] | None]:
    """The user's chat, and for a chat that found nobody to answer it, the event that says so."""
    ticket = selectors.chat_for_requester(user=user, pk=pk)
    return ticket, (services.chat_unavailable_event(ticket) if ticket else None)


@database_sync_to_async
def _agent_refusal(scope: dict[str, Any]) -> int | None:
    user = scope.get("user")
    if user is None or not user.is_authenticated or not user.is_active:
        return CLOSE_UNAUTHENTICATED
    if not (user.is_staff and user.has_perm(services.ANSWER_PERMISSION)):
        return CLOSE_FORBIDDEN
    if security.session_store_owes_second_factor(user=user, session=scope["session"]):
        return CLOSE_FORBIDDEN
    return None


@database_sync_to_async
def _chat(pk: int) -> Ticket | None:
    return Ticket.objects.filter(pk=pk, channel=Channel.CHAT).first()


class ChatConsumer(AsyncJsonWebsocketConsumer):
    """One side of a chat: sends messages, typing and read events; receives everything the other side says."""

    side: str
    ticket: Ticket
    user: User
    # The latest message this socket has delivered: what a bare read event says was read.
    seen = 0

    # How this side's message is stored on the ticket (each side through its own service).
    store: Callable[[str], TicketMessage]

    async def join(self, user: User, ticket: Ticket) -> None:
        self.user, self.ticket = user, ticket
        await self.channel_layer.group_add(chat_group(ticket.pk), self.channel_name)
        await self.accept()

    async def say(self, body: str) -> dict[str, Any]:
        return message_event(await database_sync_to_async(self.store)(body))

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "ticket"):
            await self.channel_layer.group_discard(chat_group(self.ticket.pk), self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "message":
            try:
                event = await self.say(str(content.get("body", "")))
            except DomainError as error:
                await self.send_json({"type": "error", "detail": str(error)})
                return
            await self.channel_layer.group_send(chat_group(self.ticket.pk), {"type": "chat.event", "event": event})
        elif kind in SIGNALS:
            if kind == "read":
                await self.read(content.get("id"))
            await self.channel_layer.group_send(
                chat_group(self.ticket.pk),
                {"type": "chat.event", "event": {"type": kind, "side": self.side}, "sender": self.channel_name},
            )
        else:
            await self.send_json({"type": "error", "detail": "Send a message, typing or read event."})

    async def read(self, up_to: Any) -> None:
        """This side has read the chat (only the requester's reading is kept)."""

    async def chat_event(self, event: dict[str, Any]) -> None:
        # Typing and read state are for the other side; the sender does not see their own.
        if event.get("sender") != self.channel_name:
            if event["event"].get("type") == "message":
                self.seen = max(self.seen, event["event"]["id"])
            await self.send_json(event["event"])


class UserChatConsumer(ChatConsumer):
    """A marketplace user in their own chat."""

    side = "user"

    def store(self, body: str) -> TicketMessage:
        return services.ticket_requester_reply(ticket=self.ticket, body=body)

    async def read(self, up_to: Any) -> None:
        # A client may name the last message it shows (one loaded before this socket opened, say); without it,
        # the last one this socket delivered. Either way the service caps it at the chat's own latest message.
        last = up_to if isinstance(up_to, int) and not isinstance(up_to, bool) and up_to > 0 else self.seen
        if last:
            await database_sync_to_async(services.chat_mark_read)(ticket=self.ticket, up_to=last)

    async def connect(self) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode())
        user = await _user_of_token((query.get("token") or [""])[0])
        if user is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        # Another user's chat, a ticket that is not a chat, or no such id: the same refusal, so ids cannot be probed.
        ticket, unavailable = await _own_chat(user, int(self.scope["url_route"]["kwargs"]["pk"]))
        if ticket is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        if unavailable is not None:
            # The chat became an e-mail ticket: say why and when chat opens, then end normally.
            await self.accept()
            await self.send_json(unavailable)
            await self.close()
            return
        await self.join(user, ticket)


class AgentChatConsumer(ChatConsumer):
    """An agent on a chat: their messages are public replies on the ticket."""

    side = "agent"

    async def connect(self) -> None:
        refusal = await _agent_refusal(self.scope)
        if refusal is not None:
            await self.close(code=refusal)
            return
        ticket = await _chat(int(self.scope["url_route"]["kwargs"]["pk"]))
        if ticket is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        await self.join(self.scope["user"], ticket)

    def store(self, body: str) -> TicketMessage:
        return services.ticket_reply(ticket=self.ticket, by=self.user, body=body)


class AgentQueueConsumer(AsyncJsonWebsocketConsumer):
    """The chat panel's queue: tells the page to refetch it whenever a chat changes (it sends nothing itself)."""

    async def connect(self) -> None:
        refusal = await _agent_refusal(self.scope)
        if refusal is not None:
            await self.close(code=refusal)
            return
        await self.channel_layer.group_add(QUEUE_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(QUEUE_GROUP, self.channel_name)

    async def queue_changed(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "queue"})
