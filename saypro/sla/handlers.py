"""What each metric does when its clocks warn or breach (e-mail, escalation), registered by the apps."""

from __future__ import annotations

from collections.abc import Callable

from .models import ClockEvent

Handler = Callable[[ClockEvent], None]
_handlers: dict[str, Handler] = {}


def register(metric: str) -> Callable[[Handler], Handler]:
    """Decorator: `@register("registration.approval")` on a function taking the ClockEvent."""

    def decorate(function: Handler) -> Handler:
        _handlers[metric] = function
        return function

    return decorate


def handler_for(metric: str) -> Handler | None:
    return _handlers.get(metric)
