"""The points ledger."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from accounts.models import User
from support.models import (
    PointsEntry,
)

# --- Points ledger -----------------------------------------------------------------------------------------------


def points_credit(*, user: User, points: int, reason: str, key: str) -> PointsEntry | None:
    """Credit (or, negative, debit) points once per `key`; a repeated key returns None and changes nothing."""
    try:
        with transaction.atomic():
            return PointsEntry.objects.create(user=user, points=points, reason=reason[:200], key=key[:100])
    except IntegrityError:
        return None
