"""The task outbox: work that the broker could not take is stored in the database and sent when it is back.

Every task of the project is an `OutboxTask` (the Celery app's task class, in `base.py`), so `task.delay(...)`
anywhere, in a request or in a worker, falls back to a row here when the broker is unreachable, instead of
losing the e-mail, the screening or the escalation. `outbox_drain` (on the beat schedule) re-sends the rows in
order. Delivery is at least once: a crash between the publish and the delete sends a row twice, which is safe
because every task of the project is idempotent.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from celery import current_app
from django.db import connection, transaction

from .base import BROKER_ERRORS, OutboxTask
from .models import OutboxMessage

logger = logging.getLogger(__name__)

KEPT_OPTIONS = ("countdown", "eta", "expires", "queue", "priority")


def _json_options(options: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for key in KEPT_OPTIONS:
        value = options.get(key)
        if value is not None:
            kept[key] = value.isoformat() if isinstance(value, datetime) else value
    return kept


def outbox_store(*, task_name: str, args: Any, kwargs: Any, options: dict[str, Any], error: BaseException) -> None:
    OutboxMessage.objects.create(
        task_name=task_name,
        args=list(args or ()),
        kwargs=dict(kwargs or {}),
        options=_json_options(options),
        last_error=repr(error)[:2000],
    )
    logger.warning("broker unavailable: %s stored in the outbox (%r)", task_name, error)


def outbox_drain(*, batch_size: int = 500) -> int:
    """Send stored tasks oldest first; stop at the first failure (the broker is still away). Returns how many."""
    # Every app's tasks module, so a row names a known task in any process (a worker has imported them already).
    current_app.loader.import_default_modules()
    sent = 0
    after = 0
    while True:
        with transaction.atomic():
            rows = OutboxMessage.objects.filter(pk__gt=after).order_by("pk")
            if connection.features.has_select_for_update_skip_locked:
                # Two drains at once share the rows instead of sending each one twice.
                rows = rows.select_for_update(skip_locked=True)
            batch = list(rows[:batch_size])
            for row in batch:
                after = row.pk
                task = current_app.tasks.get(row.task_name)
                if task is None:
                    logger.error("outbox row %s names the unknown task %s; kept", row.pk, row.task_name)
                    continue
                send = task.send_now if isinstance(task, OutboxTask) else task.apply_async
                try:
                    send(row.args, row.kwargs, **row.options)
                except BROKER_ERRORS as error:
                    OutboxMessage.objects.filter(pk=row.pk).update(
                        attempts=row.attempts + 1, last_error=repr(error)[:2000]
                    )
                    return sent
                row.delete()
                sent += 1
        if len(batch) < batch_size:
            return sent
