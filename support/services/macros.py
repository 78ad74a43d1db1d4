"""Canned responses (macros) and their placeholders."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from accounts.models import User
from support.models import (
    Macro,
    Ticket,
)

# --- Canned responses (macros) --------------------------------------------------------------------------------------

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}")


@dataclass(frozen=True)
class RenderedMacro:
    text: str
    # Placeholders the context had no value for; they stay visible in the text as written.
    unknown: tuple[str, ...]


def _lookup(context: Mapping[str, Any], name: str) -> tuple[bool, Any]:
    if name in context:
        return True, context[name]
    value: Any = context
    for part in name.split("."):
        # Mappings only: a placeholder can never call a method or reach an attribute of a model.
        if not isinstance(value, Mapping) or part not in value:
            return False, None
        value = value[part]
    return True, value


def macro_render_checked(*, macro: Macro | str, context: Mapping[str, Any]) -> RenderedMacro:
    """Substitute `{{ name }}` / `{{ a.b }}` placeholders from `context` (plain values and nested dicts).

    Values are inserted as text (the result is plain text, escaped wherever it is shown as HTML); unknown
    placeholders are left as they are and reported."""
    text = macro.body if isinstance(macro, Macro) else str(macro)
    unknown: list[str] = []

    def substitute(match: re.Match[str]) -> str:
        found, value = _lookup(context, match.group(1))
        if not found or value is None:
            if match.group(1) not in unknown:
                unknown.append(match.group(1))
            return match.group(0)
        return str(value)

    return RenderedMacro(PLACEHOLDER.sub(substitute, text), tuple(unknown))


def macro_render(*, macro: Macro | str, context: Mapping[str, Any]) -> str:
    """The macro's text with its placeholders filled; unknown ones stay visible (see macro_render_checked)."""
    return macro_render_checked(macro=macro, context=context).text


def macro_context(*, ticket: Ticket, agent: User) -> dict[str, Any]:
    """The placeholders a ticket offers."""
    requester = ticket.requester
    return {
        "requester_name": requester.get_short_name(),
        "requester_full_name": requester.get_full_name(),
        "requester_email": requester.email,
        "agent_name": agent.get_short_name(),
        "agent_full_name": agent.get_full_name(),
        "ticket_id": ticket.pk,
        "ticket_subject": ticket.subject,
        "department": ticket.department.name if ticket.department else "Support",
        "site_url": settings.SITE_URL,
        "help_url": f"{settings.SITE_URL}/help/",
    }
