"""Display filters of the moderation figures page: the registry's percentages and hours in words."""

from __future__ import annotations

from django import template

from saypro.durations import duration_text

register = template.Library()


@register.filter
def share(value: float | None, digits: int = 1) -> str:
    """A percentage, 99.25 → "99.3 %"; no value (nothing to measure) → "—"."""
    if value is None:
        return "—"
    return f"{value:.{int(digits)}f} %"


@register.filter
def hours(value: float | None) -> str:
    """Hours → "42 min", "3 h 05 min" or "2 d 4 h"; nothing → "—"."""
    if value is None:
        return "—"
    return duration_text(value * 3600)
