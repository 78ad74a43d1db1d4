"""Support metrics, for the dashboard and the reports: each one aggregate (or a few) in the database.

Definitions (the reports' glossary uses the same words):
- Resolution within 24 h: achievement of the `ticket.resolution` clocks = achieved ÷ (achieved + breached), by
  deadline date; an open clock past its deadline counts as breached, one inside it is left out. The weekly and
  monthly (cumulative from the 1st) targets are the figure registry's (saypro.figures).
- First response: from the ticket's creation to the first public human reply (`ticket.first_response` clocks'
  elapsed time, automatic replies never stop it); average (target under 3 h), median and p90 over the clocks
  stopped in the period; change against the previous quarter's average (target −20 %).
- Resolution time: the `ticket.resolution` clocks' elapsed time, paused time excluded, by stop date.
- CSAT = ratings 4–5 ÷ all ratings (1–5), with the average (target 4.5) and the number of responses; response
  rate = answered ÷ sent. Surveys count by the date they were sent; agent, department and channel are those
  recorded at send time.
- Platform-issue rate = distinct users who reported a platform issue in the period ÷ active users (target under
  3 %). Active users: given by the caller (e.g. the reports' DAU/MAU rollups); by default the active marketplace
  accounts that existed at the end of the period.

The deflection and misroute rates and the first response's median and p90 over the tickets received in a period
are registered figures (support.figures), read through saypro.figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Avg, Count, Q
from django.db.models.functions import TruncDate, TruncWeek
from django.utils import timezone

from accounts.models import User
from saypro.localtime import local_midnight, local_tz
from saypro.sla import selectors as sla_selectors
from saypro.sla.models import Clock
from saypro.sla.selectors import ACHIEVED, Compliance, QueueCounts, StopStats

from .models import FIRST_RESPONSE, RESOLUTION, Category, Survey, Ticket


def _breached(now: datetime) -> Q:
    return Q(breached_at__isnull=False) | Q(state="stopped", met=False) | Q(state="running", due_at__lte=now)


@dataclass(frozen=True)
class PeriodCompliance:
    start: date
    achieved: int
    breached: int

    @property
    def rate(self) -> float | None:
        decided = self.achieved + self.breached
        return self.achieved / decided if decided else None


def resolution_weekly(*, start: datetime, end: datetime, now: datetime | None = None) -> list[PeriodCompliance]:
    """Resolution-within-target achievement per local week (Monday first) of the deadline, one GROUP BY."""
    now = now or timezone.now()
    rows = (
        Clock.objects.filter(metric=RESOLUTION, due_at__gte=start, due_at__lt=end)
        .annotate(week=TruncWeek("due_at", tzinfo=local_tz()))
        .values("week")
        .annotate(achieved=Count("pk", filter=ACHIEVED), breached=Count("pk", filter=_breached(now)))
        .order_by("week")
    )
    return [
        PeriodCompliance(
            start=row["week"].date() if isinstance(row["week"], datetime) else row["week"],
            achieved=row["achieved"],
            breached=row["breached"],
        )
        for row in rows
    ]


def resolution_month_to_date(*, month: date, now: datetime | None = None) -> list[PeriodCompliance]:
    """Cumulative achievement from the 1st of `month` to each deadline day of it: the monthly 95 % line."""
    now = now or timezone.now()
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    rows = (
        Clock.objects.filter(
            metric=RESOLUTION, due_at__gte=local_midnight(first), due_at__lt=min(local_midnight(following), now)
        )
        .annotate(day=TruncDate("due_at", tzinfo=local_tz()))
        .values("day")
        .annotate(achieved=Count("pk", filter=ACHIEVED), breached=Count("pk", filter=_breached(now)))
        .order_by("day")
    )
    cumulative: list[PeriodCompliance] = []
    achieved = breached = 0
    for row in rows:
        achieved += row["achieved"]
        breached += row["breached"]
        cumulative.append(PeriodCompliance(start=row["day"], achieved=achieved, breached=breached))
    return cumulative


def resolution_compliance(*, start: datetime, end: datetime, now: datetime | None = None) -> Compliance:
    return sla_selectors.compliance(metric=RESOLUTION, start=start, end=end, now=now)


def first_response_compliance(*, start: datetime, end: datetime, now: datetime | None = None) -> Compliance:
    return sla_selectors.compliance(metric=FIRST_RESPONSE, start=start, end=end, now=now)


def first_response_stats(*, start: datetime, end: datetime) -> StopStats:
    """Average, median and p90 seconds to the first public human reply, over replies given in [start, end)."""
    return sla_selectors.stop_time_stats(metric=FIRST_RESPONSE, start=start, end=end)


def resolution_time_stats(*, start: datetime, end: datetime) -> StopStats:
    return sla_selectors.stop_time_stats(metric=RESOLUTION, start=start, end=end)


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _previous_quarter(start: date) -> date:
    return quarter_start(start - timedelta(days=1))


def _next_quarter(start: date) -> date:
    return quarter_start(start + timedelta(days=95))


@dataclass(frozen=True)
class QuarterChange:
    current: StopStats
    previous: StopStats

    @property
    def change(self) -> float | None:
        """Relative change of the average (−0.25 = a quarter faster); the target is −20 % or better."""
        if self.current.average is None or not self.previous.average:
            return None
        return self.current.average / self.previous.average - 1


def first_response_quarter_change(*, quarter: date, now: datetime | None = None) -> QuarterChange:
    """The first-response figures of the quarter containing `quarter` (up to `now`) beside the previous one's."""
    now = now or timezone.now()
    start = quarter_start(quarter)
    previous = _previous_quarter(start)
    end = min(local_midnight(_next_quarter(start)), now)
    return QuarterChange(
        current=first_response_stats(start=local_midnight(start), end=end),
        previous=first_response_stats(start=local_midnight(previous), end=local_midnight(start)),
    )


# --- Satisfaction -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Csat:
    key: object  # the channel, department id or agent id; None for the total or an unrecorded one
    label: str
    sent: int
    responses: int
    satisfied: int
    average: float | None

    @property
    def csat(self) -> float | None:
        return self.satisfied / self.responses if self.responses else None

    @property
    def response_rate(self) -> float | None:
        return self.responses / self.sent if self.sent else None


CSAT_DIMENSIONS = {"channel": "channel", "department": "department_id", "agent": "agent_id"}


def _csat_aggregates() -> dict[str, object]:
    return {
        "sent": Count("pk"),
        "responses": Count("pk", filter=Q(rating__isnull=False)),
        "satisfied": Count("pk", filter=Q(rating__gte=4)),
        "average": Avg("rating"),
    }


def csat(
    *, start: datetime, end: datetime, channel: str = "", department_id: int | None = None, agent_id: int | None = None
) -> Csat:
    """CSAT of the surveys sent in [start, end), optionally of one channel, department or agent."""
    surveys = Survey.objects.filter(sent_at__gte=start, sent_at__lt=end)
    if channel:
        surveys = surveys.filter(channel=channel)
    if department_id is not None:
        surveys = surveys.filter(department_id=department_id)
    if agent_id is not None:
        surveys = surveys.filter(agent_id=agent_id)
    row = surveys.aggregate(**_csat_aggregates())
    return Csat(key=None, label="All", **row)


def csat_by(*, dimension: str, start: datetime, end: datetime) -> list[Csat]:
    """CSAT per channel, department or agent (`dimension`), one GROUP BY; most responses first."""
    if dimension not in CSAT_DIMENSIONS:
        raise ValueError(f"Unknown CSAT dimension {dimension!r}: use one of {', '.join(CSAT_DIMENSIONS)}.")
    column = CSAT_DIMENSIONS[dimension]
    labels = {"channel": "channel", "department": "department__name", "agent": "agent__full_name"}
    rows = (
        Survey.objects.filter(sent_at__gte=start, sent_at__lt=end)
        .values(column, labels[dimension], *(["agent__email"] if dimension == "agent" else []))
        .annotate(**_csat_aggregates())
        .order_by("-responses", column)
    )
    result = []
    for row in rows:
        if dimension == "channel":
            from .models import Channel

            label = Channel(row["channel"]).label
        else:
            label = row[labels[dimension]] or row.get("agent__email") or "(none)"
        result.append(
            Csat(
                key=row[column],
                label=label,
                sent=row["sent"],
                responses=row["responses"],
                satisfied=row["satisfied"],
                average=row["average"],
            )
        )
    return result


# --- Rates ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    numerator: int
    denominator: int

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


def platform_issue_rate(*, start: datetime, end: datetime, active_users: int | None = None) -> Rate:
    reporters = (
        Ticket.objects.filter(category=Category.PLATFORM_ISSUE, created_at__gte=start, created_at__lt=end)
        .values("requester")
        .distinct()
        .count()
    )
    if active_users is None:
        active_users = User.objects.filter(is_staff=False, is_active=True, date_joined__lt=end).count()
    return Rate(reporters, active_users)


# --- The dashboard tile ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SupportTile:
    week: Compliance
    month: Compliance
    quarter: Compliance
    first_response: StopStats
    queue: QueueCounts


def period_starts(now: datetime) -> dict[str, datetime]:
    local = timezone.localtime(now)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    month = midnight.replace(day=1)
    return {
        "week": midnight - timedelta(days=midnight.weekday()),
        "month": month,
        "quarter": month.replace(month=3 * ((month.month - 1) // 3) + 1),
    }


def support_tile(*, now: datetime | None = None) -> SupportTile:
    """Resolution-within-24 h compliance this week, month and quarter, the quarter's first-response figures,
    and the open, at-risk and breached resolution clocks."""
    now = now or timezone.now()
    starts = period_starts(now)
    return SupportTile(
        week=resolution_compliance(start=starts["week"], end=now, now=now),
        month=resolution_compliance(start=starts["month"], end=now, now=now),
        quarter=resolution_compliance(start=starts["quarter"], end=now, now=now),
        first_response=first_response_stats(start=starts["quarter"], end=now),
        queue=sla_selectors.queue_counts(metric=RESOLUTION, now=now),
    )
