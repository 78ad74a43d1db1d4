"""Display filters of the moderation pages: rates as percentages and durations in words."""

from __future__ import annotations

from django import template

from saypro.durations import duration_text

register = template.Library()


@register.filter
def percent(rate: float | None, digits: int = 1) -> str:
    """0.9925 → "99.3 %"; no rate (nothing to measure) → "—"."""
    if rate is None:
        return "—"
    return f"{rate * 100:.{int(digits)}f} %"


@register.filter
def duration(seconds: float | None) -> str:
    """Seconds → "42 min", "3 h 05 min" or "2 d 4 h"; nothing → "—"."""
    if seconds is None:
        return "—"
    return duration_text(seconds)
