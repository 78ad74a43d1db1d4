"""Pages for signing in and keeping an account safe: sign-in with an optional second step for the two-factor
code, sign-out, two-factor set-up, and password reset (account recovery).

Everything that decides goes through accounts.security and accounts.self_service; these views parse forms and
turn domain errors into form errors.
"""

from __future__ import annotations

import time
from typing import Any, cast

import django_otp
import segno
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.contrib.auth.views import LoginView, LogoutView
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from saypro.errors import DomainError, InvalidInput
from saypro.request_guards import local_url

from . import security, self_service, services
from .events import client_of
from .landing import home_url
from .models import AccountSession, User

PENDING_KEY = "sign_in_pending"
# accounts.security checked the password; the session is the project's one backend's like any other.
SIGN_IN_BACKEND = settings.AUTHENTICATION_BACKENDS[0]
# Seconds between a correct password and the code: after that, start again.
PENDING_SECONDS = 300


def _channel(next_url: str) -> str:
    return AccountSession.Channel.ADMIN if next_url.startswith("/admin/") else AccountSession.Channel.WEB


def _safe_next(request: HttpRequest, fallback: str = "") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    return local_url(request, target, fallback)


def _landing(user: User) -> str:
    return home_url(user)


class SignInForm(AuthenticationForm):
    """E-mail and password, checked by accounts.security (attempts recorded, lockout, account status)."""

    def clean(self) -> dict[str, Any]:
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if email and password:
            assert self.request is not None
            client = client_of(self.request, _channel(_safe_next(self.request)))
            try:
                self.user_cache = security.sign_in_check(email=email, password=password, client=client)
            except security.SignInRefused as exc:
                raise forms.ValidationError(exc.message, code=exc.code) from None
        return self.cleaned_data


class SignInView(LoginView):
    template_name = "accounts/login.html"
    form_class = SignInForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return _landing(self.request.user) if self.request.user.is_authenticated else super().get_default_redirect_url()

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        next_url = self.get_redirect_url() or _landing(user)
        if security.has_two_factor(user):
            # The password was right; the session signs in only once the code is too.
            self.request.session[PENDING_KEY] = {"user": user.pk, "at": time.time(), "next": next_url}
            return redirect(f"{reverse('login-verify')}?{urlencode({'next': next_url})}")
        login(self.request, user, backend=SIGN_IN_BACKEND)
        security.sign_in_complete(
            user=user,
            client=client_of(self.request, _channel(next_url)),
            key=self.request.session.session_key or "",
        )
        return HttpResponseRedirect(next_url)

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_invalid(form)
        # A paused address or network is told so with the status clients and proxies understand.
        if any(error.code == "sign_in_throttled" for error in form.non_field_errors().as_data()):
            response.status_code = 429
        return response


class CodeForm(forms.Form):
    otp = forms.CharField(
        max_length=20,
        label="Code",
        help_text="The 6 digits from your authenticator app, or one of your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


def _pending_user(request: HttpRequest) -> tuple[User | None, str]:
    pending = request.session.get(PENDING_KEY) or {}
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None, ""
    return User.objects.filter(pk=int(pending.get("user") or 0), is_active=True).first(), pending.get("next", "")


@require_http_methods(["GET", "POST"])
def sign_in_verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in, and the check a signed-in session still owes (see the middleware)."""
    signed_in = request.user.is_authenticated
    user: User | None
    if signed_in:
        user, next_url = cast(User, request.user), ""
    else:
        user, next_url = _pending_user(request)
    if user is None:
        messages.warning(request, "Sign in again: the code was not entered in time.")
        return redirect("login")
    next_url = _safe_next(request, next_url or _landing(user))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        client = client_of(request, _channel(next_url))
        try:
            device = security.second_factor_verify(user=user, code=form.cleaned_data["otp"], client=client)
        except security.LockedOut as exc:
            request.session.pop(PENDING_KEY, None)
            messages.error(request, exc.message)
            return redirect("login")
        except security.SignInRefused as exc:
            form.add_error("otp", exc.message)
        else:
            request.session.pop(PENDING_KEY, None)
            if not signed_in:
                login(request, user, backend=SIGN_IN_BACKEND)
            django_otp.login(request, device)
            used = "recovery_code" if device.__class__.__name__ == "StaticDevice" else "totp"
            if not signed_in:
                security.sign_in_complete(
                    user=user, client=client, key=request.session.session_key or "", second_factor=used
                )
            if used == "recovery_code":
                left = security.recovery_codes_left(user)
                messages.warning(request, f"You used a recovery code: {left} left. Make new ones if you run low.")
            return redirect(next_url)
    return render(request, "accounts/login_verify.html", {"form": form, "next": next_url})


class SignOutView(LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and request.session.session_key:
            security.sign_out_record(
                user=request.user,
                client=client_of(request, AccountSession.Channel.WEB),
                key=request.session.session_key,
            )
        return super().post(request, *args, **kwargs)


def admin_login(request: HttpRequest) -> HttpResponseBase:
    """The admin signs in through the one sign-in page, so lockout, events and two-factor apply there too."""
    next_url = _safe_next(request, reverse("admin:index"))
    if request.user.is_authenticated:
        if admin.site.has_permission(request):
            # Already signed in with admin access (a bookmark, the back button): on to the page.
            return redirect(next_url)
        # Signed in without admin access: sending them to sign in again would bounce straight back here.
        raise PermissionDenied
    return redirect(f"{reverse('login')}?{urlencode({'next': next_url})}")


def admin_password_change(request: HttpRequest) -> HttpResponseBase:
    """The admin's own "Change password" page, then what every password change does: the other sessions end and
    every API token stops working (this tab stays signed in; Django re-signed its session)."""
    response = admin.site.admin_view(admin.site.password_change)(request)
    if request.method == "POST" and response.status_code == 302 and request.user.is_authenticated:
        services.sessions_end(user=cast(User, request.user), keep_session=request.session.session_key or "")
    return response


# --- Two-factor set-up -------------------------------------------------------------------------------------------


def _qr_svg(url: str) -> str:
    return segno.make(url, error="m").svg_inline(scale=4, dark="#1b2433", light="#ffffff")


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    client = client_of(request, AccountSession.Channel.WEB)
    action = request.POST.get("action", "")
    form = CodeForm(request.POST or None) if action in ("confirm", "disable") else CodeForm()
    codes: list[str] = []
    if request.method == "POST":
        try:
            if action == "begin":
                security.two_factor_begin(user=user)
            elif action == "confirm" and form.is_valid():
                device, codes = security.two_factor_confirm(user=user, code=form.cleaned_data["otp"], client=client)
                django_otp.login(request, device)
                messages.success(request, "Two-factor sign-in is on. Keep the recovery codes below somewhere safe.")
            elif action == "regenerate":
                codes = security.recovery_codes_regenerate(user=user, client=client)
                messages.success(request, "New recovery codes: the old ones no longer work.")
            elif action == "disable" and form.is_valid():
                security.two_factor_disable(user=user, by=user, client=client, code=form.cleaned_data["otp"])
                messages.success(request, "Two-factor sign-in is off.")
                return redirect("two-factor")
        except InvalidInput as exc:
            form.add_error("otp", exc.message)
        except security.LockedOut as exc:
            messages.error(request, exc.message)
            return redirect("login")
        except security.SignInRefused as exc:
            form.add_error("otp", exc.message)
        except DomainError as exc:
            messages.error(request, exc.message)
    pending = None if security.has_two_factor(user) else security.two_factor_pending(user=user)
    context = {
        "enabled": security.has_two_factor(user),
        "required": security.two_factor_required(user),
        "pending": pending,
        "qr": _qr_svg(pending.config_url) if pending else "",
        "form": form,
        "codes": codes,
        "codes_left": security.recovery_codes_left(user),
        "next": _safe_next(request),
    }
    return render(request, "accounts/two_factor.html", context)


# --- Password reset (account recovery) ---------------------------------------------------------------------


class ResetRequestForm(forms.Form):
    email = forms.EmailField(label="E-mail address", widget=forms.EmailInput(attrs={"autocomplete": "email"}))


@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    form = ResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            self_service.password_reset_request(
                email=form.cleaned_data["email"], client=client_of(request, AccountSession.Channel.WEB)
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            # The same answer whether or not the address has an account: the page tells nobody who is a user.
            messages.success(
                request,
                "If an account uses that address, we have sent it a link to choose a new password. "
                "It works once, within the next few hours.",
            )
            return redirect("login")
    return render(request, "accounts/password_reset.html", {"form": form})


@require_http_methods(["GET", "POST"])
def password_reset_confirm(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    user = self_service.password_reset_user(uidb64=uidb64, token=token)
    if user is None:
        return render(request, "accounts/password_reset_confirm.html", {"invalid": True}, status=400)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            self_service.password_reset_complete(
                uidb64=uidb64,
                token=token,
                new_password=form.cleaned_data["new_password1"],
                client=client_of(request, AccountSession.Channel.WEB),
            )
        except InvalidInput as exc:
            for message in exc.fields.get("new_password", [exc.message]):
                form.add_error("new_password1", message)
        else:
            messages.success(request, "Your password is changed. Sign in with the new one.")
            return redirect("login")
    return render(request, "accounts/password_reset_confirm.html", {"form": form})


def email_change_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link sent to a new address: following it makes the address the account's."""
    try:
        user = self_service.email_change_confirm(token=token, client=client_of(request, AccountSession.Channel.WEB))
    except InvalidInput as exc:
        return render(request, "accounts/email_change.html", {"error": exc.message}, status=400)
    return render(request, "accounts/email_change.html", {"email": user.email})
