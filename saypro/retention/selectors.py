from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import IntegerField, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from saypro.audit.models import AuditEntry

from .registry import data_kind


@dataclass(frozen=True)
class Purged:
    kind: str
    label: str
    count: int


def purged_between(*, start: datetime, end: datetime) -> list[Purged]:
    """How many items of each kind the daily runs purged in [start, end), from the audit trail."""
    rows = (
        AuditEntry.objects.filter(action="retention.purge", at__gte=start, at__lt=end)
        .values(kind=KT("data__kind"))
        .annotate(count=Sum(Cast(KT("data__count"), IntegerField())))
        .order_by("kind")
    )
    return [Purged(kind=row["kind"], label=_label(row["kind"]), count=row["count"]) for row in rows]


def _label(key: str) -> str:
    kind = data_kind(key)
    return kind.label if kind else key
