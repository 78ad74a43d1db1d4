"""`/`: each person's starting point, and where sign-in lands when no `next` was asked for.

Visitors sign in. Staff land on their role's main page: the first entry below whose permission they hold wins, so a
manager's or administrator's day starts on the dashboard, a reviewer's on the registration queue. A marketplace user
follows their registration until it is approved, then lands on their conversations with the team.
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_GET

from .models import Registration, RegistrationStatus, User

STAFF_HOMES: list[tuple[str, str]] = [
    ("sla.view_compliance", "dashboard:home"),
    ("accounts.review_registration", "accounts:queue"),
    ("moderation.view_case", "moderation:home"),
    ("messaging.view_conversation", "messaging:home"),
    ("support.view_ticket", "support:home"),
]


def home_url(user: User) -> str:
    if user.is_staff:
        for permission, url_name in STAFF_HOMES:
            if user.has_perm(permission):
                return reverse(url_name)
        return reverse("dashboard:home")
    applying = Registration.objects.filter(user_id=user.pk).exclude(status=RegistrationStatus.APPROVED).exists()
    return reverse("accounts:register-status" if applying else "messages:list")


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("home"))
    return HttpResponseRedirect(home_url(request.user))
