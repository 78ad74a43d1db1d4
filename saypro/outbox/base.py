"""The project's Celery task class: a publish the broker cannot take goes to the outbox instead of being lost.

Kept free of model imports, because the Celery app names this class before Django's app registry is ready.
"""

from __future__ import annotations

from typing import Any

from celery import Task
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

# What a publish raises when the broker is down: kombu wraps most connection failures in OperationalError.
BROKER_ERRORS: tuple[type[BaseException], ...] = (OperationalError, RedisConnectionError, RedisTimeoutError, OSError)


class OutboxTask(Task):
    def apply_async(self, *call: Any, **options: Any) -> Any:
        try:
            return super().apply_async(*call, **options)
        except BROKER_ERRORS as error:
            if self.app.conf.task_always_eager:
                raise
            from .services import outbox_store

            args = call[0] if call else options.pop("args", None)
            kwargs = call[1] if len(call) > 1 else options.pop("kwargs", None)
            outbox_store(task_name=self.name, args=args, kwargs=kwargs, options=options, error=error)
            return None

    def send_now(self, args: Any, kwargs: Any, **options: Any) -> Any:
        """Publish without the fallback: the drain keeps a row whose publish failed again."""
        return super().apply_async(args, kwargs, **options)
