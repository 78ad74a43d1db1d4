"""Security headers Django 5.2 does not set by itself: a Content-Security-Policy for every response.

Scripts come only from our own static files (no inline scripts, no CDN), so an injected <script> cannot run.
Inline style attributes stay allowed: they cannot run code, and several pages position small things with them.
Pages may connect to their own origin, and to live chat's WebSocket server when it has an address of its own
(SUPPORT_CHAT_SOCKET_URL, e.g. daphne on the next port under `make run`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse

_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'{sockets}",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


@lru_cache(maxsize=4)
def policy(socket_url: str = "") -> str:
    return _POLICY.format(sockets=f" {socket_url}" if socket_url else "")


def content_security_policy(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[..., HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        response.headers.setdefault("Content-Security-Policy", policy(settings.SUPPORT_CHAT_SOCKET_URL))
        return response

    return middleware
