from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from .models import AuditEntry

SYSTEM = "system"


def audit_record(
    *,
    actor: Any | None,
    action: str,
    target: models.Model,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record one decision. `actor=None` means the system acted (automation, schedules)."""
    return AuditEntry.objects.create(
        at=timezone.now(),
        actor=actor if actor is not None and actor.pk else None,
        actor_label=actor.get_username() if actor is not None else SYSTEM,
        action=action,
        target_type=ContentType.objects.get_for_model(target),
        target_id=str(target.pk),
        target_repr=str(target)[:200],
        reason=reason,
        data=data or {},
    )
