"""After-commit work: a service queues a Celery task by name, to run once its transaction has committed.

By name, so that services need not import their app's tasks module (which imports the services). Robust: a publish
that fails for another reason than the broker being down (the task class keeps those in the outbox) is logged and
does not stop the commit's other callbacks; the reconciliation sweep hands the lost work out again.
"""

from __future__ import annotations

from typing import Any

from celery import current_app
from django.db import transaction


def after_commit(task_name: str, *args: Any, countdown: float | None = None) -> None:
    """Queue the Celery task `task_name` (e.g. "accounts.tasks.screen_registration") with `args` after commit;
    `countdown` seconds later when given (e.g. once a decision can no longer be undone)."""
    if countdown is None:
        transaction.on_commit(lambda: current_app.tasks[task_name].delay(*args), robust=True)
    else:
        transaction.on_commit(
            lambda: current_app.tasks[task_name].apply_async(args=args, countdown=countdown), robust=True
        )
