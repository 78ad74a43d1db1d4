"""E-mail verification links: signed, expiring, and single-use.

The hash covers the address and its verification time, so a link stops working once it has been used or once
the address changes, the way Django's password-reset tokens stop working after a password change.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from .models import User


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "accounts.tokens.EmailVerificationTokenGenerator"

    def __init__(self) -> None:
        super().__init__()
        self.timeout = settings.EMAIL_VERIFICATION_MAX_AGE_HOURS * 3600

    def _make_hash_value(self, user: User, timestamp: int) -> str:
        verified: datetime | None = user.email_verified_at
        return f"{user.pk}{user.email}{verified.isoformat() if verified else ''}{timestamp}"

    def _now(self) -> datetime:
        # The parent class uses naive local time; verification links live in UTC like everything else.
        return timezone.now().replace(tzinfo=None)


email_verification_tokens = EmailVerificationTokenGenerator()


def make_email_token(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"{uid}.{email_verification_tokens.make_token(user)}"


def user_for_email_token(token: str) -> User | None:
    """The user the token was made for, when it is still valid; None for a forged, used or expired token."""
    uid, _, raw = token.partition(".")
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (ValueError, TypeError, OverflowError):
        return None
    user = User.objects.filter(pk=pk).first()
    if user is None or not email_verification_tokens.check_token(user, raw):
        return None
    return user
