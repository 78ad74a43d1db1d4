"""The verified-user badge: e-mail and phone verified, the ID document verified when one was given, and no active
strike. It is derived from those facts in the database, so it is granted the moment the last one holds and revoked
the moment a strike is issued, with nothing to keep in step; strike_issue records the revocation in the audit trail.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import BooleanField, Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from accounts.models import User

from .models import Strike


def active_strikes(*, at: datetime | None = None) -> QuerySet[Strike]:
    at = at or timezone.now()
    return Strike.objects.filter(revoked_at__isnull=True, issued_at__lte=at, expires_at__gt=at)


def verified_q(prefix: str = "", *, at: datetime | None = None) -> Q:
    """The badge as a filter on users, or on rows related to a user through `prefix` (e.g. "seller__")."""
    struck = Exists(active_strikes(at=at).filter(user=OuterRef(f"{prefix}pk")))
    verified = Q(**{f"{prefix}email_verified_at__isnull": False, f"{prefix}phone_verified_at__isnull": False})
    id_checked = (
        Q(**{f"{prefix}registration__isnull": True})
        | Q(**{f"{prefix}registration__id_document": ""})
        | Q(**{f"{prefix}id_verified_at__isnull": False})
    )
    return Q(verified, id_checked, ~struck)


def verified_annotation(prefix: str = "", *, at: datetime | None = None) -> Case:
    """For `.annotate(author_verified=verified_annotation("author__"))`: the badge per row, in the same query."""
    return Case(When(verified_q(prefix, at=at), then=Value(True)), default=Value(False), output_field=BooleanField())


def user_is_verified(user: User | None, *, at: datetime | None = None) -> bool:
    if user is None or user.pk is None:
        return False
    return User.objects.filter(verified_q(at=at), pk=user.pk).exists()
