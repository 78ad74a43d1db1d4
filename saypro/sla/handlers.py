"""What each metric does when its clocks warn or breach (e-mail, escalation), registered by the apps.

An app registers its handler in its AppConfig.ready(); the task saypro.sla.tasks.handle_event calls it after
the sweep's transaction committed, once per event.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured

from .models import ClockEvent

Handler = Callable[[ClockEvent], None]
_handlers: dict[str, Handler] = {}


def register(metric: str) -> Callable[[Handler], Handler]:
    """Decorator: `@register("registration.approval")` on a function taking the ClockEvent."""

    def decorate(function: Handler) -> Handler:
        current = _handlers.get(metric)
        # Two apps answering one metric's breaches would be a wiring mistake; say so at start-up.
        if current is not None and current.__qualname__ != function.__qualname__:
            raise ImproperlyConfigured(f"The SLA metric {metric!r} already has the handler {current.__qualname__}.")
        _handlers[metric] = function
        return function

    return decorate


def handler_for(metric: str) -> Handler | None:
    return _handlers.get(metric)
