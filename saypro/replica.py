"""Reads that may lag a few seconds go to a PostgreSQL streaming replica, when DATABASE_REPLICA_URL names one.

Which reads may lag is decided by where they happen, not by the model: a figure on an area page, in the metrics
API, in a report document or a rollup is as good a few seconds late, while a queue, a form or anything about to be
written is not. So the router sends a read to the "replica" database only inside `lag_tolerant()`, which the
middleware opens for GET requests on the paths of settings.REPLICA_READ_PATHS and a Celery signal opens for the
tasks of settings.REPLICA_READ_TASKS. Writes, and reads that lock (select_for_update, get_or_create), always go
to the primary; so do the rows a request or a job keeps its own state in (sessions, tokens, a report run), which a
replica a few seconds behind may not have yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest, HttpResponse

REPLICA = "replica"

_lag_tolerant: ContextVar[bool] = ContextVar("saypro_lag_tolerant", default=False)

# Rows a request or a job reads back right after writing them: never from a replica that may not have them yet.
PRIMARY_ONLY_APPS = frozenset({"sessions", "authtoken", "otp_totp", "otp_static", "django_otp", "contenttypes"})
PRIMARY_ONLY_MODELS = frozenset({"reports.reportrun", "accounts.accountsession"})


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@contextmanager
def lag_tolerant() -> Iterator[None]:
    """Reads in this block may come from the replica (when there is one)."""
    token = _lag_tolerant.set(True)
    try:
        yield
    finally:
        _lag_tolerant.reset(token)


class ReplicaRouter:
    def db_for_read(self, model: type[models.Model], **hints: Any) -> str | None:
        if not _lag_tolerant.get() or not replica_configured():
            return None
        meta = model._meta
        if meta.app_label in PRIMARY_ONLY_APPS or meta.label_lower in PRIMARY_ONLY_MODELS:
            return None
        return REPLICA

    def db_for_write(self, model: type[models.Model], **hints: Any) -> str | None:
        return "default"

    def allow_relation(self, obj1: models.Model, obj2: models.Model, **hints: Any) -> bool | None:
        # The replica is a copy of the primary: a row read from one relates to rows of the other.
        return True

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        return db == "default"


def replica_reads(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """Middleware: GET requests on the lag-tolerant paths read from the replica. Placed after authentication, and
    the signed-in user is loaded before the replica is switched on, so sign-in is always checked on the primary."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if (
            request.method in ("GET", "HEAD")
            and replica_configured()
            and request.path.startswith(tuple(settings.REPLICA_READ_PATHS))
        ):
            getattr(request, "user", None) and request.user.is_authenticated  # resolve the lazy user now
            with lag_tolerant():
                return get_response(request)
        return get_response(request)

    return middleware


def task_started(task: Any = None, **kwargs: Any) -> None:
    """Celery's task_prerun: the lag-tolerant tasks (reports, rollups) read from the replica."""
    if task is not None and task.name in settings.REPLICA_READ_TASKS and replica_configured():
        task.request.saypro_replica_token = _lag_tolerant.set(True)


def task_finished(task: Any = None, **kwargs: Any) -> None:
    token = getattr(task.request, "saypro_replica_token", None) if task is not None else None
    if token is not None:
        _lag_tolerant.reset(token)
        task.request.saypro_replica_token = None
