"""DRF permission helpers: roles are checked through their Django permissions."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request


def has_perm(codename: str) -> type[BasePermission]:
    """A permission class requiring one Django permission, e.g. has_perm("accounts.review_registration")."""

    class HasPerm(BasePermission):
        message = "Your role does not allow this."

        def has_permission(self, request: Request, view: Any) -> bool:
            return bool(request.user and request.user.is_authenticated and request.user.has_perm(codename))

    HasPerm.__name__ = f"HasPerm[{codename}]"
    return HasPerm
