"""API authentication: tokens that keep their session's last-seen time, and sessions that must have passed the
second factor (see accounts.security)."""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest
from drf_spectacular.authentication import SessionScheme as OpenApiSessionScheme
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from . import security
from .models import AccountSession


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication (inactive, i.e. suspended, banned or deactivated, users are refused)."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        user, token = super().authenticate_credentials(key)
        security.session_touch(channel=AccountSession.Channel.API, key=key)
        return user, token


class SecondFactorOwed(exceptions.PermissionDenied):
    default_detail = "Verify your two-factor code on the web first."
    default_code = "second_factor_required"


class SessionAuthentication(authentication.SessionAuthentication):
    """DRF's session authentication, refused while the session still owes the second factor its role requires.

    The check sits here, on the one class that authenticates by session, rather than in a middleware that guesses
    from the headers which class will: a session request that also carries `Authorization: Bearer …`, Basic or
    anything else the token class ignores is still authenticated by its session, and must pass the same check."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        if result is not None and security.session_owes_second_factor(cast(HttpRequest, request._request)):
            raise SecondFactorOwed()
        return result


class SessionScheme(OpenApiSessionScheme):
    """The schema documents the two-factor session class as the cookie session it is."""

    target_class = "accounts.authentication.SessionAuthentication"
