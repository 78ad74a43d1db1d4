"""What every support page shares: the signed-in request, the permission decorators, fetch detection."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponseBase

from accounts.models import User
from support import services

QUEUE_PAGE_SIZE = 50
QUEUE_REFRESH_SECONDS = 30
ViewFunc = Callable[..., HttpResponseBase]


class SignedInRequest(HttpRequest):
    user: User


def _permission_page(perm: str) -> Callable[[ViewFunc], ViewFunc]:
    def decorator(view: ViewFunc) -> ViewFunc:
        return login_required(permission_required(perm, raise_exception=True)(view))

    return decorator


tickets_page = _permission_page("support.view_ticket")
answer_page = _permission_page(services.ANSWER_PERMISSION)
figures_page = _permission_page("support.view_support_figures")
follow_up_page = _permission_page("support.handle_followup")
known_issue_page = _permission_page("support.view_knownissue")


def _is_fetch(request: HttpRequest) -> bool:
    return request.headers.get("X-Requested-With") == "fetch"
