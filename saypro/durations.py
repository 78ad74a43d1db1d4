"""Durations as people read them, the same on every page (and as the countdowns in static/js/app.js write them)."""

from __future__ import annotations


def duration_text(seconds: float) -> str:
    """Seconds → "42 min", "3 h 05 min" below two days, then "2 d 4 h"."""
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {rest:02d} min"
    return f"{hours // 24} d {hours % 24} h"


def target_text(seconds: float) -> str:
    """A deadline's length as a promise states it: "24 h", "12 h", "90 min", "1 h 30 min"."""
    minutes = round(seconds / 60)
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" if not rest else f"{hours} h {rest:02d} min"
