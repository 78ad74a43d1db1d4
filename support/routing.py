"""WebSocket routes of live chat (composed by saypro.asgi)."""

from django.urls import path

from support.consumers import UserChatConsumer

websocket_urlpatterns = [
    path("ws/support/chats/<int:pk>/", UserChatConsumer.as_asgi()),
]
