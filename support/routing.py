"""WebSocket routes of live chat (composed by saypro.asgi)."""

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from support.consumers import AgentChatConsumer, AgentQueueConsumer, UserChatConsumer

websocket_urlpatterns = [
    # The user's socket authenticates with an API token, never an ambient cookie: any origin may open it.
    path("ws/support/chats/<int:pk>/", UserChatConsumer.as_asgi()),
    # The agent's socket rides on the session cookie, so only the workspace's own pages may open it.
    path(
        "ws/support/agent/chats/",
        AllowedHostsOriginValidator(AuthMiddlewareStack(AgentQueueConsumer.as_asgi())),
    ),
    path(
        "ws/support/agent/chats/<int:pk>/",
        AllowedHostsOriginValidator(AuthMiddlewareStack(AgentChatConsumer.as_asgi())),
    ),
]
