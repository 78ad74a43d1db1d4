from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.core.files.storage import Storage
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from saypro.audit.services import audit_record

from .models import RetentionPolicy
from .registry import data_kinds

log = logging.getLogger(__name__)

BATCH_SIZE = 500


def policies() -> dict[str, RetentionPolicy]:
    """Every declared kind's policy, created with the kind's default period the first time it is asked for."""
    kinds = data_kinds()
    existing = {policy.kind: policy for policy in RetentionPolicy.objects.filter(kind__in=[k.key for k in kinds])}
    missing = [RetentionPolicy(kind=k.key, days=k.default_days) for k in kinds if k.key not in existing]
    if missing:
        RetentionPolicy.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {policy.kind: policy for policy in RetentionPolicy.objects.filter(kind__in=[k.key for k in kinds])}
    return existing


def purge_expired(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Purge what has outlived its period, kind by kind, one short transaction per batch so that staff writes never
    wait long behind it; record each kind's count in the audit trail. Returns the counts by kind."""
    now = now or timezone.now()
    in_force = policies()
    counts: dict[str, int] = {}
    for kind in data_kinds():
        policy = in_force[kind.key]
        cutoff = now - timedelta(days=policy.days)
        total = 0
        while True:
            with transaction.atomic():
                purged = kind.purge(cutoff, batch_size)
            total += purged
            if not purged:
                break
        counts[kind.key] = total
        RetentionPolicy.objects.filter(pk=policy.pk).update(last_run_at=now, last_purged=total)
        if total:
            audit_record(
                actor=None,
                action="retention.purge",
                target=policy,
                data={"kind": kind.key, "count": total, "older_than": cutoff.isoformat()},
            )
            log.info("Purged %s item(s) of %s older than %s", total, kind.key, cutoff)
    return counts


# --- Helpers for the apps' purgers -------------------------------------------------------------------------------


def batch_update(queryset: QuerySet[Any], limit: int, **values: Any) -> int:
    """Anonymise one batch: set `values` on at most `limit` rows of `queryset` (which must no longer select a row
    once it holds `values`)."""
    ids = list(queryset.values_list("pk", flat=True)[:limit])
    if ids:
        queryset.model._default_manager.filter(pk__in=ids).update(**values)
    return len(ids)


def batch_delete_with_files(queryset: QuerySet[Any], limit: int, field: str) -> int:
    """Delete one batch of rows and, once the deletion is committed, the files they point to."""
    rows = list(queryset.values_list("pk", field)[:limit])
    if rows:
        queryset.model._default_manager.filter(pk__in=[pk for pk, _ in rows]).delete()
        _delete_files_on_commit(queryset.model._meta.get_field(field).storage, [name for _, name in rows if name])
    return len(rows)


def batch_clear_files(queryset: QuerySet[Any], limit: int, field: str) -> int:
    """Blank a file field on one batch of rows (which must then leave `queryset`) and delete the files on commit."""
    rows = list(queryset.values_list("pk", field)[:limit])
    if rows:
        queryset.model._default_manager.filter(pk__in=[pk for pk, _ in rows]).update(**{field: ""})
        _delete_files_on_commit(queryset.model._meta.get_field(field).storage, [name for _, name in rows if name])
    return len(rows)


def _delete_files_on_commit(storage: Storage, names: list[str]) -> None:
    # Only once the rows no longer point to them: a rolled-back batch keeps its files.
    def delete() -> None:
        for name in names:
            storage.delete(name)

    transaction.on_commit(delete)
