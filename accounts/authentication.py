"""API token authentication that also keeps the token's session last-seen time (see accounts.security)."""

from __future__ import annotations

from typing import Any

from rest_framework import authentication

from . import security
from .models import AccountSession


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication (inactive, i.e. suspended, banned or deactivated, users are refused)."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        user, token = super().authenticate_credentials(key)
        security.session_touch(channel=AccountSession.Channel.API, key=key)
        return user, token
