"""Staffing at the peaks: for each queue and each of the next hours, the arrivals to expect, the people on shift,
what they decide per person-hour, and whether the backlog will outrun the queue's deadline.

- Arrivals: the deadline clocks started in the same hour of the same weekday over the last LOOKBACK_WEEKS weeks,
  averaged. Sign-ups that came through a marketing campaign are one-off spikes, so they are left out of that
  weekly pattern; a campaign still bringing sign-ups (some in the last day) is expected to keep the pace of its
  last day over the whole horizon.
- People on shift: the shifts (accounts.AgentProfile: calendar, availability) of the queue's staff role, as
  person-hours within each hour; a shift without a calendar counts as always on.
- Throughput: the queue's decisions (the promise's audit actions, by a person) over the last THROUGHPUT_DAYS days
  per person-hour in which someone took one.
- Projection: the open items and the forecast arrivals are served in deadline order at that pace; an item still
  waiting at the end of the hour in which it falls due is a projected breach. Items already past their deadline
  are the sweep's business: they are served first but not counted again.

Hours are UTC hours (whole-hour time zones make them local hours too) and every count is aggregated in the database:
one query for the arrivals, one for the open items, two per queue for the throughput, and a few for the policies and
the shifts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import reduce
from operator import or_

from django.db.models import Count, Q
from django.db.models.functions import TruncHour
from django.utils import timezone

from accounts.models import AgentProfile
from accounts.selectors import agent_is_on_duty, campaign_registration_ids
from saypro.audit.models import AuditEntry
from saypro.sla.calendars import CalendarSpec, add, working_seconds
from saypro.sla.models import Clock, ClockState, Policy
from saypro.sla.promises import Promise, promises
from saypro.sla.services import spec_for

LOOKBACK_WEEKS = 4
THROUGHPUT_DAYS = 28
HORIZON_HOURS = 48
HOUR = timedelta(hours=1)
WEEK = timedelta(days=7)
DAY = timedelta(days=1)
# The metric whose arrivals are sign-ups, which campaigns drive.
SIGNUPS = "registration.approval"


@dataclass
class Hour:
    start: datetime
    # Forecast arrivals: the weekly pattern plus the campaigns running now.
    arrivals: float
    campaign: float
    # Person-hours on shift within the hour, and the decisions they are expected to take in it.
    staff: float
    capacity: float
    # Projected at the end of the hour: items waiting, and those among them past their deadline (new breaches).
    backlog: float = 0.0
    breaching: float = 0.0

    @property
    def end(self) -> datetime:
        return self.start + HOUR


@dataclass
class Person:
    name: str
    email: str
    languages: list[str]
    regions: list[str]
    calendar: str
    on_duty: bool


@dataclass
class QueueForecast:
    promise: Promise
    target: timedelta
    open_now: int
    # Decisions per person-hour; None while no decision has been recorded in the window.
    rate: float | None
    decisions: int
    person_hours: int
    hours: list[Hour]
    people: list[Person] = field(default_factory=list)
    # When someone of the role next comes on duty (the end of the current shift window); None within the horizon.
    next_shift_at: datetime | None = None

    @property
    def key(self) -> str:
        return self.promise.metric.replace(".", "-")

    @property
    def breach_at(self) -> datetime | None:
        """The start of the first hour at whose end some item is projected to be waiting past its deadline."""
        return next((hour.start for hour in self.hours if hour.breaching >= 1), None)

    @property
    def breaching(self) -> int:
        return round(max((hour.breaching for hour in self.hours), default=0))

    @property
    def breaches_before_next_shift(self) -> bool:
        breach_at = self.breach_at
        return breach_at is not None and (self.next_shift_at is None or breach_at < self.next_shift_at)

    @property
    def window_end(self) -> datetime:
        """The end of the shift window the forecast speaks for: the next shift's start, else the horizon's day."""
        if self.next_shift_at is not None:
            return self.next_shift_at
        end = self.hours[-1].end if self.hours else timezone.now()
        return end.replace(hour=0, minute=0, second=0, microsecond=0)


def staffed_promises() -> list[Promise]:
    return [promise for promise in promises() if promise.decision_actions and promise.staff_role]


def hour_floor(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _arrival_history(metrics: Sequence[str], first_hour: datetime) -> dict[str, dict[int, tuple[float, float]]]:
    """Per metric and hour of the horizon (0 = first_hour): (weekly-pattern arrivals, campaign pace per hour)."""
    windows = [
        Q(started_at__gte=first_hour - weeks * WEEK, started_at__lt=first_hour - weeks * WEEK + HORIZON_HOURS * HOUR)
        for weeks in range(1, LOOKBACK_WEEKS + 1)
    ]
    last_day = Q(started_at__gte=first_hour - DAY, started_at__lt=first_hour)
    from_campaign = Q(metric=SIGNUPS, target_id__in=campaign_registration_ids())
    rows = (
        Clock.objects.filter(reduce(or_, [*windows, last_day]), metric__in=metrics)
        .annotate(hour=TruncHour("started_at", tzinfo=UTC))
        .values("metric", "hour")
        .annotate(total=Count("pk"), campaign=Count("pk", filter=from_campaign))
        .order_by()
    )
    pattern: dict[str, defaultdict[int, float]] = {metric: defaultdict(float) for metric in metrics}
    campaign_day: dict[str, float] = defaultdict(float)
    for row in rows:
        hour = row["hour"].astimezone(UTC)
        if first_hour - DAY <= hour < first_hour:
            campaign_day[row["metric"]] += row["campaign"]
        for weeks in range(1, LOOKBACK_WEEKS + 1):
            index = (hour + weeks * WEEK - first_hour) // HOUR
            if 0 <= index < HORIZON_HOURS:
                pattern[row["metric"]][index] += (row["total"] - row["campaign"]) / LOOKBACK_WEEKS
    return {
        metric: {index: (pattern[metric][index], campaign_day[metric] / 24) for index in range(HORIZON_HOURS)}
        for metric in metrics
    }


def _open_items(metrics: Sequence[str]) -> dict[str, list[tuple[datetime, int]]]:
    """Per metric, the running clocks (paused ones wait on the user) as (hour their deadline falls in, count)."""
    rows = (
        Clock.objects.filter(metric__in=metrics, state=ClockState.RUNNING)
        .annotate(due=TruncHour("due_at", tzinfo=UTC))
        .values("metric", "due")
        .annotate(n=Count("pk"))
        .order_by()
    )
    items: dict[str, list[tuple[datetime, int]]] = {metric: [] for metric in metrics}
    for row in rows:
        items[row["metric"]].append((row["due"].astimezone(UTC), row["n"]))
    return items


def _throughput(promise: Promise, since: datetime, until: datetime) -> tuple[int, int]:
    """(decisions, person-hours in which someone took one) over the window, by people (not automation)."""
    decisions = AuditEntry.objects.filter(
        action__in=promise.decision_actions, actor__isnull=False, at__gte=since, at__lt=until
    )
    count = decisions.count()
    person_hours = (
        decisions.annotate(hour=TruncHour("at", tzinfo=UTC)).values("actor", "hour").distinct().order_by().count()
        if count
        else 0
    )
    return count, person_hours


def _default_policies(metrics: Sequence[str]) -> dict[str, Policy]:
    policies = (
        Policy.objects.filter(metric__in=metrics, is_default=True)
        .select_related("calendar")
        .prefetch_related("calendar__hours", "calendar__holidays")
    )
    return {policy.metric: policy for policy in policies}


def _shifts(roles: Sequence[str]) -> dict[str, list[AgentProfile]]:
    """Per staff role, the shifts of its active members."""
    profiles = (
        AgentProfile.objects.filter(user__groups__name__in=roles, user__is_active=True)
        .select_related("user", "working_hours")
        .prefetch_related("user__groups", "working_hours__hours", "working_hours__holidays")
        .distinct()
        .order_by("user__full_name", "user__email")
    )
    by_role: dict[str, list[AgentProfile]] = {role: [] for role in roles}
    for profile in profiles:
        for group in profile.user.groups.all():
            if group.name in by_role:
                by_role[group.name].append(profile)
    return by_role


def _person_hours(profiles: Sequence[AgentProfile], start: datetime) -> float:
    total = 0.0
    for profile in profiles:
        if not profile.is_available:
            continue
        if profile.working_hours is None:
            total += 1.0
        else:
            total += working_seconds(spec_for(profile.working_hours), start, start + HOUR) / 3600
    return total


def _next_shift_at(profiles: Sequence[AgentProfile], now: datetime, hours: Sequence[datetime]) -> datetime | None:
    """The first hour start in the horizon at which someone who was not on duty the hour before comes on."""
    on = {profile.pk for profile in profiles if agent_is_on_duty(profile=profile, at=now)}
    for start in hours[1:]:
        now_on = {profile.pk for profile in profiles if agent_is_on_duty(profile=profile, at=start)}
        if now_on - on:
            return start
        on = now_on
    return None


@dataclass
class _Cohort:
    # The hour in which the items fall due.
    due: datetime
    items: float


def _project(
    hours: list[Hour], waiting: list[tuple[datetime, int]], due_spec: CalendarSpec, target: timedelta, now: datetime
) -> None:
    """Serve the items in deadline order, hour by hour, and fill in each hour's backlog and new breaches."""
    cohorts = [_Cohort(due, float(n)) for due, n in sorted(waiting)]
    first = hour_floor(now)
    for hour in hours:
        if hour.arrivals:
            due = hour_floor(add(due_spec, hour.start + HOUR / 2, target.total_seconds()))
            cohorts.append(_Cohort(due, hour.arrivals))
            cohorts.sort(key=lambda cohort: cohort.due)
        left = hour.capacity
        for cohort in cohorts:
            served = min(left, cohort.items)
            cohort.items -= served
            left -= served
        cohorts = [cohort for cohort in cohorts if cohort.items > 1e-9]
        hour.backlog = sum(cohort.items for cohort in cohorts)
        # Items already past their deadline now (due before this hour) are the sweep's breaches, not new ones.
        hour.breaching = sum(cohort.items for cohort in cohorts if first <= cohort.due <= hour.start)


def staffing_forecast(*, now: datetime | None = None, with_people: bool = False) -> list[QueueForecast]:
    """The forecast of every staffed queue over the next HORIZON_HOURS hours, from the current hour."""
    now = now or timezone.now()
    first = hour_floor(now)
    starts = [first + index * HOUR for index in range(HORIZON_HOURS)]
    staffed = staffed_promises()
    metrics = [promise.metric for promise in staffed]
    history = _arrival_history(metrics, first)
    waiting = _open_items(metrics)
    policies = _default_policies(metrics)
    shifts = _shifts(sorted({promise.staff_role for promise in staffed}))
    forecasts = []
    for promise in staffed:
        policy = policies.get(promise.metric)
        if policy is None:
            continue
        decisions, person_hours = _throughput(promise, now - THROUGHPUT_DAYS * DAY, now)
        rate = decisions / person_hours if person_hours else None
        profiles = shifts[promise.staff_role]
        hours = []
        for index, start in enumerate(starts):
            pattern, campaign = history[promise.metric][index]
            staff = _person_hours(profiles, start)
            hours.append(
                Hour(
                    start=start,
                    arrivals=pattern + campaign,
                    campaign=campaign,
                    staff=staff,
                    capacity=staff * (rate or 0.0),
                )
            )
        open_now = sum(n for _, n in waiting[promise.metric])
        if rate is not None:
            # Without a measured pace there is nothing to project with; the page says so instead.
            _project(hours, waiting[promise.metric], spec_for(policy.calendar), policy.target, now)
        forecast = QueueForecast(
            promise=promise,
            target=policy.target,
            open_now=open_now,
            rate=rate,
            decisions=decisions,
            person_hours=person_hours,
            hours=hours,
            next_shift_at=_next_shift_at(profiles, now, starts),
        )
        if with_people:
            forecast.people = [
                Person(
                    name=profile.user.get_full_name() or profile.user.email,
                    email=profile.user.email,
                    languages=list(profile.languages),
                    regions=list(profile.regions),
                    calendar=profile.working_hours.name if profile.working_hours else "Always on",
                    on_duty=agent_is_on_duty(profile=profile, at=now),
                )
                for profile in profiles
            ]
        forecasts.append(forecast)
    return forecasts
