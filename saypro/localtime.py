"""The marketplace's calendar: a day starts at local midnight in settings.TIME_ZONE, whatever the server's zone."""

from __future__ import annotations

from datetime import date, datetime, time, tzinfo
from zoneinfo import ZoneInfo

from django.conf import settings


def local_tz() -> tzinfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_midnight(day: date) -> datetime:
    """The instant `day` starts, for filtering timestamps by local calendar day, week, month or quarter."""
    return datetime.combine(day, time.min, tzinfo=local_tz())
