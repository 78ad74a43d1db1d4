"""The marketplace's calendar: a day starts at local midnight in settings.TIME_ZONE, whatever the server's zone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import formats, timezone

# The days a period (a report, an area page, the metrics API, the transparency summary) may start or end on.
# The product holds nothing from before 2000, and nobody plans more than a year ahead. Outside these bounds the
# calendar's edge is near: 9999-12-31 has no next day and 0001-01-01 no previous week (Python's dates overflow),
# and PostgreSQL's timestamps end sooner still, so a period there would fail in the middle of a query or a report.
EARLIEST_DAY = date(2000, 1, 1)
DAYS_AHEAD = 366


def local_tz() -> tzinfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_midnight(day: date) -> datetime:
    """The instant `day` starts, for filtering timestamps by local calendar day, week, month or quarter."""
    return datetime.combine(day, time.min, tzinfo=local_tz())


def latest_day() -> date:
    return timezone.localtime(timezone.now(), local_tz()).date() + timedelta(days=DAYS_AHEAD)


def check_day(day: date) -> date:
    """`day` when a period may start or end on it; ValueError (with a message for the user) otherwise."""
    if isinstance(day, datetime):
        day = day.date()
    if not EARLIEST_DAY <= day <= latest_day():
        raise ValueError(f"Choose a day between {EARLIEST_DAY:%d %b %Y} and {latest_day():%d %b %Y}.")
    return day


def validate_day(day: date) -> None:
    """check_day as the validator of a form or serializer date field (both take Django's ValidationError)."""
    try:
        check_day(day)
    except ValueError as exc:
        raise ValidationError(str(exc), code="out_of_range") from None


def local_text(moment: datetime) -> str:
    """An instant as every page, e-mail and the admin show it: in TIME_ZONE, in the one DATETIME_FORMAT."""
    return formats.date_format(timezone.localtime(moment, local_tz()), "DATETIME_FORMAT")
