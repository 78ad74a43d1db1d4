"""The kinds of personal data the apps keep, and how each purges a batch of what has expired."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

# Purge one batch: at most `limit` items older than `cutoff`, returning how many were purged (0 when none is left).
# Each call must leave the items it purged outside its own selection, so that repeated calls end.
Purger = Callable[[datetime, int], int]

# What a deleted account's words read as once their period is over: the row stays, so counts and times still add up.
REMOVED_TEXT = "[Removed: the account was deleted]"


@dataclass(frozen=True)
class DataKind:
    key: str
    label: str
    # What expiry does to it and what stays, in a sentence an administrator reads beside the period.
    description: str
    # From the date the description names (the event, the decision, the closing).
    default_days: int
    purge: Purger


_kinds: dict[str, DataKind] = {}


def retention_register(*, key: str, label: str, description: str, default_days: int, purge: Purger) -> None:
    """Called from an app's AppConfig.ready()."""
    if key in _kinds and _kinds[key].purge is not purge:
        raise ValueError(f"The data kind {key!r} is declared twice.")
    _kinds[key] = DataKind(key=key, label=label, description=description, default_days=default_days, purge=purge)


def data_kinds() -> list[DataKind]:
    return sorted(_kinds.values(), key=lambda kind: kind.label)


def data_kind(key: str) -> DataKind | None:
    return _kinds.get(key)
