"""Account metrics for the quarterly user-account report: read-only, computed in the database.

Every function takes a period as aware datetimes, `start` inclusive and `end` exclusive. Day-based figures
(active users, retention, churn, activity by weekday) use the local days of TIME_ZONE that the period covers,
since ActivityDay rows are local days. "Active" means having an ActivityDay row: the user signed in, changed
the profile or password, sent a message, posted a listing or made a transaction that day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import (
    Avg,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, ExtractIsoWeekDay, TruncMonth, TruncWeek
from django.utils import timezone

from saypro.localtime import local_midnight

from .models import (
    AccountEvent,
    AccountSession,
    ActivityDay,
    ActivityHour,
    FeatureRelease,
    Feedback,
    Lockout,
    PasswordReset,
    Registration,
    RegistrationStatus,
    SignUpStart,
    User,
)

Kind = AccountEvent.Kind


def local_days(start: datetime, end: datetime) -> tuple[date, date]:
    """The local dates [first, last) a period covers: a day counts when the period starts before it ends."""
    first = timezone.localtime(start).date()
    last_moment = timezone.localtime(end)
    last = last_moment.date() + (timedelta(days=1) if last_moment.time() != datetime.min.time() else timedelta())
    return first, last


def _days(start: datetime, end: datetime) -> QuerySet[ActivityDay]:
    first, last = local_days(start, end)
    return ActivityDay.objects.filter(day__gte=first, day__lt=last)


def _share(part: int | float, whole: int | float) -> float | None:
    return part / whole if whole else None


def _in_region(rows: QuerySet[Any], region: str | None) -> QuerySet[Any]:
    """The rows of users in one region (the region the user gave, any case); every row without a region asked."""
    return rows.filter(user__region__iexact=region) if region else rows


# --- Active users ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActiveUsers:
    dau: float  # mean distinct active users per local day of the period
    wau: float  # mean distinct active users per ISO week (Monday–Sunday) the period touches
    mau: float  # mean distinct active users per calendar month the period touches
    active: int  # distinct users active at any time in the period
    stickiness: float | None  # DAU / MAU


def daily_active_users(*, start: datetime, end: datetime) -> list[tuple[date, int]]:
    """Distinct active users per local day; days without activity are 0."""
    counts = dict(_days(start, end).values("day").annotate(n=Count("user", distinct=True)).values_list("day", "n"))
    first, last = local_days(start, end)
    return [(first + timedelta(days=i), counts.get(first + timedelta(days=i), 0)) for i in range((last - first).days)]


def active_users(*, start: datetime, end: datetime) -> ActiveUsers:
    """DAU, WAU, MAU and stickiness (DAU/MAU) over the period. Weeks and months at the edges count only their
    days inside the period."""
    rows = _days(start, end)
    daily = daily_active_users(start=start, end=end)
    weekly = list(rows.annotate(week=TruncWeek("day")).values("week").annotate(n=Count("user", distinct=True)))
    monthly = list(rows.annotate(month=TruncMonth("day")).values("month").annotate(n=Count("user", distinct=True)))
    first, last = local_days(start, end)
    weeks = {
        first - timedelta(days=first.weekday()) + timedelta(weeks=i) for i in range(((last - first).days + 13) // 7)
    }
    weeks = {w for w in weeks if w < last and w + timedelta(days=7) > first}
    months = {(d.year, d.month) for d, _ in daily}
    dau = sum(n for _, n in daily) / len(daily) if daily else 0.0
    wau = sum(r["n"] for r in weekly) / len(weeks) if weeks else 0.0
    mau = sum(r["n"] for r in monthly) / len(months) if months else 0.0
    return ActiveUsers(
        dau=dau,
        wau=wau,
        mau=mau,
        active=rows.values("user").distinct().count(),
        stickiness=_share(dau, mau),
    )


@dataclass(frozen=True)
class FeatureAdoption:
    name: str
    released_on: date
    users: int  # distinct users who used it in the period
    uses: int
    share: float | None  # of the users active in the period


def feature_adoption(*, start: datetime, end: datetime, active: int | None = None) -> list[FeatureAdoption]:
    """Each feature released before the period's end: who used it in the period, and as a share of the users
    active in the period (`active` when the caller has it from a rollup, else counted here)."""
    first, last = local_days(start, end)
    if active is None:
        active = _days(start, end).values("user").distinct().count()
    in_period = Q(uses__day__gte=first, uses__day__lt=last)
    rows = FeatureRelease.objects.filter(released_on__lt=last).annotate(
        users=Count("uses__user", filter=in_period, distinct=True), total=Sum("uses__uses", filter=in_period)
    )
    return [
        FeatureAdoption(row.name, row.released_on, row.users, row.total or 0, _share(row.users, active)) for row in rows
    ]


# --- Retention and churn -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cohort:
    week: date  # the Monday of the sign-up week
    size: int
    returned: list[int]  # returned[n]: members active in week n after the sign-up week (0 = that week)
    returned_or_later: list[int]  # members active in week n or any later week

    def rates(self) -> list[float | None]:
        return [_share(n, self.size) for n in self.returned]

    def rates_or_later(self) -> list[float | None]:
        return [_share(n, self.size) for n in self.returned_or_later]


def retention_cohorts(*, start: datetime, end: datetime, weeks: int = 12) -> list[Cohort]:
    """Weekly sign-up cohorts (users who joined in each ISO week starting in the period) and how many of them
    were active in week N after joining ("returned in week N") and in week N or later, for N = 0 … weeks,
    as far as the period's end allows (later weeks are left out, not counted as 0)."""
    first, last = local_days(start, end)
    first_monday = first + timedelta(days=(7 - first.weekday()) % 7)
    mondays = [first_monday + timedelta(weeks=n) for n in range(max(0, -(-(last - first_monday).days // 7)))]
    if not mondays:
        return []
    # Three grouped queries for every cohort at once (one per cohort took seconds each on a million users).
    # A cohort's whole sign-up week counts, even past the period's end; members are active only after joining,
    # so activity from the first cohort's Monday covers every cohort.
    members = User.objects.filter(
        is_staff=False,
        date_joined__gte=local_midnight(mondays[0]),
        date_joined__lt=local_midnight(mondays[-1] + timedelta(days=7)),
    )
    sizes = {
        cohort.date(): n
        for cohort, n in members.annotate(cohort=TruncWeek("date_joined"))
        .values("cohort")
        .annotate(n=Count("pk"))
        .values_list("cohort", "n")
    }
    days = ActivityDay.objects.filter(day__gte=mondays[0], day__lt=last)
    activity = days.filter(user__in=members)
    by_week: dict[tuple[date, date], int] = {
        (cohort.date(), week): n
        for cohort, week, n in activity.annotate(cohort=TruncWeek("user__date_joined"), week=TruncWeek("day"))
        .values("cohort", "week")
        .annotate(n=Count("user", distinct=True))
        .values_list("cohort", "week", "n")
    }
    # Each active member's last active week. Narrowing to active members first (one hashed pass over the
    # activity) runs the per-member look-up for them alone, not for every member twice.
    last_week: dict[tuple[date, date], int] = {
        (cohort.date(), week): n
        for cohort, week, n in members.filter(pk__in=days.values("user"))
        .annotate(last_day=Subquery(days.filter(user=OuterRef("pk")).values("user").annotate(m=Max("day")).values("m")))
        .annotate(cohort=TruncWeek("date_joined"), week=TruncWeek("last_day"))
        .values("cohort", "week")
        .annotate(n=Count("pk"))
        .values_list("cohort", "week", "n")
    }
    cohorts: list[Cohort] = []
    for monday in mondays:
        # Weeks 0 … N that have begun before the period ends.
        span = min(weeks + 1, -(-(last - monday).days // 7))
        returned, later = [], []
        for n in range(span):
            week = monday + timedelta(weeks=n)
            returned.append(by_week.get((monday, week), 0))
            later.append(sum(count for (c, w), count in last_week.items() if c == monday and w >= week))
        cohorts.append(Cohort(week=monday, size=sizes.get(monday, 0), returned=returned, returned_or_later=later))
    return cohorts


@dataclass(frozen=True)
class Churn:
    previous_active: int  # active in the period before (same length)
    retained: int  # of those, active again in this period
    churned: int
    rate: float | None  # churned / previous_active


def churn(*, start: datetime, end: datetime, region: str | None = None) -> Churn:
    """churn(P) = users active in P−1 and not in P ÷ users active in P−1, P−1 being the period of the same
    length just before P."""
    previous = _in_region(_days(start - (end - start), start), region).values("user").distinct()
    now = _days(start, end).filter(user__in=previous).values("user").distinct()
    previous_count, retained = previous.count(), now.count()
    churned = previous_count - retained
    return Churn(previous_count, retained, churned, _share(churned, previous_count))


# --- Registration funnel --------------------------------------------------------------------------------------

FUNNEL_STEPS = (
    ("started", "Started"),
    ("email_verified", "E-mail verified"),
    ("phone_verified", "Phone verified"),
    ("profile_completed", "Profile completed"),
    ("submitted", "Submitted"),
    ("approved", "Approved"),
)


@dataclass(frozen=True)
class FunnelStep:
    key: str
    label: str
    count: int
    conversion: float | None  # of those who started
    step_conversion: float | None  # of those who reached the step before
    drop_off: float | None  # 1 − step_conversion


def _funnel(rows: QuerySet[Any], steps: Sequence[tuple[str, str, Q]]) -> list[FunnelStep]:
    """How far the rows got: each step also requires the steps before it."""
    aggregates, cumulative = {}, Q()
    for key, _, condition in steps:
        cumulative &= condition
        aggregates[key] = Count("pk", filter=cumulative)
    counts = rows.aggregate(**aggregates)
    first = counts[steps[0][0]]
    result, previous = [], None
    for key, label, _ in steps:
        count = counts[key]
        step = _share(count, previous) if previous is not None else (1.0 if count else None)
        result.append(FunnelStep(key, label, count, _share(count, first), step, None if step is None else 1 - step))
        previous = count
    return result


def registration_funnel(*, start: datetime, end: datetime) -> list[FunnelStep]:
    """Accounts opened in the period and how far their registrations got."""
    conditions = (
        Q(),
        Q(email_verified_at__isnull=False),
        Q(phone_verified_at__isnull=False),
        Q(profile_completed_at__isnull=False),
        Q(submitted_at__isnull=False),
        Q(status=RegistrationStatus.APPROVED),
    )
    return _funnel(
        Registration.objects.filter(started_at__gte=start, started_at__lt=end),
        [(key, label, condition) for (key, label), condition in zip(FUNNEL_STEPS, conditions, strict=True)],
    )


# The form's own steps; verification comes after submission here (the registration funnel follows it).
FORM_STEPS = (
    ("started", "Started the form", Q()),
    ("created", "Account created", Q(registration__isnull=False)),
    ("submitted", "Submitted for approval", Q(registration__submitted_at__isnull=False)),
)


def form_funnel(*, start: datetime, end: datetime) -> list[FunnelStep]:
    """Visitors who started the sign-up form in the period and how far they got: the last step is document 001's
    completed registration, each step's drop-off is where visitors abandoned it."""
    return _funnel(SignUpStart.objects.filter(started_at__gte=start, started_at__lt=end), FORM_STEPS)


# --- Account changes, sign-in problems, recovery ----------------------------------------------------------------

UPDATE_KINDS = (
    Kind.PROFILE_UPDATED,
    Kind.EMAIL_CHANGED,
    Kind.PASSWORD_CHANGED,
    Kind.PASSWORD_RESET_COMPLETED,
    Kind.PREFERENCES_CHANGED,
    Kind.PRIVACY_CHANGED,
    Kind.TWO_FACTOR_ENABLED,
    Kind.TWO_FACTOR_DISABLED,
)


def _events(start: datetime, end: datetime, region: str | None = None) -> QuerySet[AccountEvent]:
    return _in_region(AccountEvent.objects.filter(at__gte=start, at__lt=end), region)


@dataclass(frozen=True)
class LoginIssues:
    attempts: int
    failures: int
    failure_rate: float | None
    users_affected: int  # known accounts with at least one failure
    by_reason: dict[str, int]


@dataclass(frozen=True)
class AccountEvents:
    """A period's account events counted by kind and reason, and the known accounts with a failed sign-in: what
    the sign-in, security, privacy and account-change figures and tables count, from two queries."""

    counts: dict[tuple[str, str], int]
    failed_users: int

    def by_reason(self, kind: str) -> dict[str, int]:
        """One kind's events by reason, the most frequent first."""
        rows = [(reason, n) for (k, reason), n in self.counts.items() if k == kind]
        return dict(sorted(rows, key=lambda row: (-row[1], row[0])))

    def total(self, *kinds: str) -> int:
        return sum(n for (kind, _), n in self.counts.items() if kind in kinds)

    def by_kind(self, kinds: Sequence[str]) -> dict[str, int]:
        """The events of the kinds given, per kind, the most frequent first."""
        rows = [(kind, self.total(kind)) for kind in kinds if self.total(kind)]
        return dict(sorted(rows, key=lambda row: (-row[1], row[0])))

    @property
    def login_issues(self) -> LoginIssues:
        failures = self.total(Kind.SIGN_IN_FAILED)
        attempts = failures + self.total(Kind.SIGN_IN)
        return LoginIssues(
            attempts=attempts,
            failures=failures,
            failure_rate=_share(failures, attempts),
            users_affected=self.failed_users,
            by_reason=self.by_reason(Kind.SIGN_IN_FAILED),
        )


def account_events(*, start: datetime, end: datetime, region: str | None = None) -> AccountEvents:
    events = _events(start, end, region)
    counts = events.values("kind", "reason").annotate(n=Count("pk")).order_by().values_list("kind", "reason", "n")
    failed = events.filter(kind=Kind.SIGN_IN_FAILED).aggregate(users=Count("user", distinct=True))
    return AccountEvents({(kind, reason): n for kind, reason, n in counts}, failed["users"])


def account_updates_by_type(*, start: datetime, end: datetime) -> dict[str, int]:
    """Account changes by kind (profile, e-mail, password, reset, preferences, privacy, two-factor)."""
    return account_events(start=start, end=end).by_kind(UPDATE_KINDS)


def login_issues(*, start: datetime, end: datetime, region: str | None = None) -> LoginIssues:
    """Sign-in attempts and failures, the failures by reason."""
    return account_events(start=start, end=end, region=region).login_issues


@dataclass(frozen=True)
class Lockouts:
    count: int
    accounts: int
    released_by_admin: int
    average_minutes: float | None  # from start to release, or to the end of the cool-off


def lockouts(*, start: datetime, end: datetime, region: str | None = None) -> Lockouts:
    """Lockouts started in the period; a lockout lasts until released or to the end of its cool-off."""
    rows = _in_region(Lockout.objects.filter(started_at__gte=start, started_at__lt=end), region)
    lasted = ExpressionWrapper(Coalesce("released_at", "until") - F("started_at"), output_field=DurationField())
    totals = rows.aggregate(
        count=Count("pk"),
        accounts=Count("identifier", distinct=True),
        by_admin=Count("pk", filter=Q(released_by__isnull=False)),
        average=Avg(lasted),
    )
    average = totals["average"].total_seconds() / 60 if totals["average"] is not None else None
    return Lockouts(totals["count"], totals["accounts"], totals["by_admin"], average)


@dataclass(frozen=True)
class Recovery:
    requests: int
    completed: int
    completion_rate: float | None
    average_hours: float | None  # time to recovery: completed_at − requested_at
    median_hours: float | None


def recovery(*, start: datetime, end: datetime, region: str | None = None, median: bool = True) -> Recovery:
    """Password-reset requests made in the period, how many were completed, and the time to recover;
    `median=False` leaves the median out (one query fewer)."""
    rows = _in_region(PasswordReset.objects.filter(requested_at__gte=start, requested_at__lt=end), region)
    took = ExpressionWrapper(F("completed_at") - F("requested_at"), output_field=DurationField())
    totals = rows.aggregate(requests=Count("pk"), completed=Count("completed_at"), average=Avg(took))
    done = rows.filter(completed_at__isnull=False).annotate(took=took).order_by("took")
    median_hours = None
    if median and totals["completed"]:
        middle = list(
            done.values_list("took", flat=True)[(totals["completed"] - 1) // 2 : totals["completed"] // 2 + 1]
        )
        median_hours = sum((m.total_seconds() for m in middle), 0.0) / len(middle) / 3600
    average = totals["average"].total_seconds() / 3600 if totals["average"] is not None else None
    return Recovery(
        totals["requests"], totals["completed"], _share(totals["completed"], totals["requests"]), average, median_hours
    )


def suspicious_events(*, start: datetime, end: datetime, region: str | None = None) -> dict[str, int]:
    """Suspicious events by reason (new_device, new_network, failure_burst, credential_stuffing, …)."""
    return account_events(start=start, end=end, region=region).by_reason(Kind.SUSPICIOUS)


def privacy_changes(*, start: datetime, end: datetime, region: str | None = None) -> dict[str, int]:
    """Privacy-choice changes: marketing_opt_in, marketing_opt_out, consent_given, consent_withdrawn."""
    return account_events(start=start, end=end, region=region).by_reason(Kind.PRIVACY_CHANGED)


def preference_changes(*, start: datetime, end: datetime, region: str | None = None) -> int:
    """Changes to the e-mail and notification preferences (what a user is sent, as against consent)."""
    return account_events(start=start, end=end, region=region).total(Kind.PREFERENCES_CHANGED)


def login_problem_users(*, start: datetime, end: datetime, region: str | None = None) -> int:
    """Users facing a sign-in problem in the period: a failed sign-in, a lockout or a password-reset request
    (document 001's login issues, "including account lockouts or forgotten passwords"), each user once."""
    failed = AccountEvent.objects.filter(user=OuterRef("pk"), kind=Kind.SIGN_IN_FAILED, at__gte=start, at__lt=end)
    locked = Lockout.objects.filter(user=OuterRef("pk"), started_at__gte=start, started_at__lt=end)
    reset = PasswordReset.objects.filter(user=OuterRef("pk"), requested_at__gte=start, requested_at__lt=end)
    users = User.objects.filter(Exists(failed) | Exists(locked) | Exists(reset))
    return (users.filter(region__iexact=region) if region else users).count()


# --- Sessions, devices, when users are active ---------------------------------------------------------------


@dataclass(frozen=True)
class Sessions:
    count: int
    average_minutes: float | None  # last activity − start, averaged


def sessions(*, start: datetime, end: datetime, channel: str | None = None, region: str | None = None) -> Sessions:
    """Sessions started in the period (optionally of one channel) and their mean length."""
    rows = _in_region(AccountSession.objects.filter(started_at__gte=start, started_at__lt=end), region)
    if channel:
        rows = rows.filter(channel=channel)
    length = ExpressionWrapper(F("last_seen_at") - F("started_at"), output_field=DurationField())
    row = rows.aggregate(n=Count("pk"), v=Avg(length))
    return Sessions(row["n"], row["v"].total_seconds() / 60 if row["v"] is not None else None)


def average_session_minutes(*, start: datetime, end: datetime, channel: str | None = None) -> float | None:
    """Mean of last activity − start over sessions started in the period (optionally of one channel)."""
    return sessions(start=start, end=end, channel=channel).average_minutes


@dataclass(frozen=True)
class DeviceMix:
    signups: dict[str, int]
    sessions: dict[str, int]

    @staticmethod
    def shares(counts: dict[str, int]) -> dict[str, float]:
        total = sum(counts.values())
        return {name: n / total for name, n in counts.items()} if total else {}


def activity_by_hour(*, start: datetime, end: datetime) -> list[int]:
    """Actions per local hour of day (0–23) over the period's days."""
    first, last = local_days(start, end)
    counts = dict(
        ActivityHour.objects.filter(day__gte=first, day__lt=last)
        .values("hour")
        .annotate(n=Sum("actions"))
        .values_list("hour", "n")
    )
    return [counts.get(hour, 0) for hour in range(24)]


def activity_by_weekday(*, start: datetime, end: datetime) -> list[int]:
    """Actions per ISO weekday, Monday first."""
    first, last = local_days(start, end)
    counts = dict(
        ActivityHour.objects.filter(day__gte=first, day__lt=last)
        .annotate(weekday=ExtractIsoWeekDay("day"))
        .values("weekday")
        .annotate(n=Sum("actions"))
        .values_list("weekday", "n")
    )
    return [counts.get(weekday, 0) for weekday in range(1, 8)]


# --- Feedback -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ratings:
    count: int
    average: float | None
    distribution: dict[int, int]  # score → answers, 1–5


def feedback_ratings(*, start: datetime, end: datetime, topic: str) -> Ratings:
    rows = Feedback.objects.filter(topic=topic, created_at__gte=start, created_at__lt=end)
    totals = rows.aggregate(count=Count("pk"), average=Avg("score"))
    distribution = dict(rows.values("score").annotate(n=Count("pk")).values_list("score", "n"))
    return Ratings(totals["count"], totals["average"], {s: distribution.get(s, 0) for s in range(1, 6)})
