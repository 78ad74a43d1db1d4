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


# What an app keeps in step with its clocks in the same transaction as each change (a queue's sort key): called
# with the target ids whose clock of the metric started, paused, resumed, stopped or was retargeted.
ChangeListener = Callable[[list[int]], None]
_change_listeners: dict[str, ChangeListener] = {}


def on_change(metric: str) -> Callable[[ChangeListener], ChangeListener]:
    """Decorator: `@on_change("message.first_response")` on a function taking the target ids."""

    def decorate(function: ChangeListener) -> ChangeListener:
        _change_listeners[metric] = function
        return function

    return decorate


# A bulk insert tells its listener in slices of this many ids: one statement each, with a bounded IN list.
CHANGE_BATCH = 1000


def clocks_changed(metric: str, target_ids: list[int]) -> None:
    listener = _change_listeners.get(metric)
    if listener is None:
        return
    for start in range(0, len(target_ids), CHANGE_BATCH):
        listener(target_ids[start : start + CHANGE_BATCH])
