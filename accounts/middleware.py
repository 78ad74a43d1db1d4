"""Per-request account security: the session's last activity, and two-factor enforcement for deciding staff."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from . import security
from .models import AccountSession, User

# Pages a signed-in user who still owes a second factor may open: signing in and out, and the set-up itself.
# The API answers for itself: accounts.authentication.SessionAuthentication refuses a session that owes it,
# whatever headers the request carries.
OPEN_PREFIXES = ("/accounts/", "/static/", "/health", "/api/")


class AccountSecurityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            key = request.session.session_key
            if key:
                channel = (
                    AccountSession.Channel.ADMIN if request.path.startswith("/admin/") else AccountSession.Channel.WEB
                )
                security.session_touch(channel=channel, key=key)
            if not request.path.startswith(OPEN_PREFIXES) and security.session_owes_second_factor(request):
                target = "two-factor-verify" if security.has_two_factor(cast(User, user)) else "two-factor"
                return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
