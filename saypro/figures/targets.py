"""The target in force for a figure and a period: the latest row set for a period starting on or before it.

Every output reads targets here, so a target an administrator sets for a quarter shows in the dashboard, the
area pages, the API and the reports of that quarter and after it, and the reports of earlier quarters keep theirs.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from .models import Target


class HasStart(Protocol):
    @property
    def start(self) -> date: ...


@dataclass(frozen=True)
class TargetValue:
    key: str
    value: float
    period_start: date
    set_at: datetime
    set_by: str
    note: str


class TargetBook:
    """Every target row, read in one query (the table holds a few rows per figure and quarter)."""

    def __init__(self) -> None:
        self._rows: dict[str, list[TargetValue]] = defaultdict(list)
        for row in Target.objects.select_related("set_by").order_by("figure_key", "-period_start", "-set_at", "-pk"):
            self._rows[row.figure_key].append(
                TargetValue(
                    key=row.figure_key,
                    value=row.value,
                    period_start=row.period_start,
                    set_at=row.set_at,
                    set_by=row.set_by.get_username() if row.set_by else "",
                    note=row.note,
                )
            )

    def get(self, key: str, day: date) -> TargetValue | None:
        """The row in force on `day`: the latest period start on or before it, the latest set among equals."""
        return next((row for row in self._rows.get(key, []) if row.period_start <= day), None)

    def value(self, key: str, day: date) -> float | None:
        row = self.get(key, day)
        return None if row is None else row.value

    def history(self, key: str) -> list[TargetValue]:
        return list(self._rows.get(key, []))


def target_for(figure_key: str, period: HasStart | date) -> float | None:
    """The target of one figure for the period (or the period starting on the day); None when none is set."""
    day = period if isinstance(period, date) else period.start
    row = (
        Target.objects.filter(figure_key=figure_key, period_start__lte=day)
        .order_by("-period_start", "-set_at", "-pk")
        .values_list("value", flat=True)
        .first()
    )
    return row
