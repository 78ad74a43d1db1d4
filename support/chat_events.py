"""Live-chat events pushed from services to the WebSocket consumers, through the channel layer.

Sent after commit, so that a panel refetching its queue on the event reads the committed state. A send that fails
(the layer is down) is logged by `on_commit(robust=True)` and lost: the panel also refreshes on a timer."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

# Every agent on the chat panel listens here: a chat arrived, was answered, taken, assigned, transferred or ended.
QUEUE_GROUP = "support.chats.queue"


def chat_group(ticket_id: int) -> str:
    return f"support.chat.{ticket_id}"


def _send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(group, message)


def queue_changed() -> None:
    transaction.on_commit(lambda: _send(QUEUE_GROUP, {"type": "queue.changed"}), robust=True)


def chat_announce(ticket_id: int, event: dict[str, Any]) -> None:
    """An event for both sides of one chat (e.g. that it ended), as the consumers relay their own."""
    transaction.on_commit(lambda: _send(chat_group(ticket_id), {"type": "chat.event", "event": event}), robust=True)
