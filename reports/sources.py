"""The rollup sources: the SLA kernel, registrations, account activity, messaging, support and moderation.

Every figure is a count or a sum per local day, so any period adds up from its days. What cannot be added up
from days (medians and p90s, distinct users over a period, rates whose rows keep changing long after their day)
the sections read from the apps' selectors, and say so where they do.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from django.conf import settings
from django.db.models import CharField, Count, DateTimeField, F, Min, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import (
    Coalesce,
    ExtractHour,
    ExtractIsoWeekDay,
    Greatest,
    Lower,
    TruncDate,
    TruncWeek,
)
from django.utils import timezone

from accounts.metrics import local_days
from accounts.models import (
    AccountEvent,
    AccountSession,
    ActivityDay,
    ActivityHour,
    Lockout,
    PasswordReset,
    Registration,
    RegistrationStatus,
    User,
)
from messaging.models import Conversation, Initiator, Message, MessageKind
from moderation.models import Decision, Flag
from moderation.models import Source as FlagSource
from saypro.sla.models import Clock, ClockState, Policy
from saypro.sla.promises import promises
from saypro.sla.selectors import ACHIEVED, breached
from support.models import Survey, Ticket

from .rollups import Row, Source, count, grouped_counts, source_register

SLA_DUE = "sla.due"
SLA_STOPPED = "sla.stopped"
SLA_STARTED = "sla.started"
REG_STARTED = "registrations.started"
REG_DECIDED = "registrations.decided"


def sla_metrics() -> list[str]:
    """Every metric with a promise or a policy: the kernel measures them all alike."""
    return sorted({p.metric for p in promises()} | set(Policy.objects.values_list("metric", flat=True).distinct()))


def sla_labels() -> dict[str, str]:
    """What to call each metric's clocks where people read them: its promise's title, or else the name of its
    default policy (its first policy where none is the default)."""
    names: dict[str, str] = {}
    for metric, name in Policy.objects.order_by("metric", "-is_default", "pk").values_list("metric", "name"):
        names.setdefault(metric, name)
    names.update({p.metric: p.title for p in promises()})
    return {metric: names.get(metric, metric) for metric in sla_metrics()}


def _sla_compute(start: datetime, end: datetime, tz: tzinfo, now: datetime, wanted: frozenset[str]) -> Iterable[Row]:
    rows: list[Row] = []
    # One metric at a time, so each query runs on the (metric, …) indexes.
    for metric in sla_metrics():
        clocks = Clock.objects.filter(metric=metric)
        label = metric_value(metric)
        families: dict[str, tuple[QuerySet[Clock], str, dict[str, Any]]] = {
            SLA_DUE: (
                clocks,
                "due_at",
                {"achieved": Count("pk", filter=ACHIEVED), "breached": Count("pk", filter=breached(now))},
            ),
            SLA_STOPPED: (
                clocks.filter(state=ClockState.STOPPED, elapsed_seconds__isnull=False),
                "stopped_at",
                {"stopped": Count("pk"), "met": count(met=True), "seconds": Sum("elapsed_seconds")},
            ),
            SLA_STARTED: (clocks, "started_at", {"started": Count("pk")}),
        }
        for family, (queryset, day_field, values) in families.items():
            if family not in wanted:
                continue
            dimensions: dict[str, Any] = {"metric": label}
            if family != SLA_DUE:
                # Arrivals and decisions by hour of day: the staffing recommendations compare them.
                dimensions[f"{metric}@hour"] = ExtractHour(day_field, tzinfo=tz)
            rows += grouped_counts(
                metric=family,
                queryset=queryset,
                day_field=day_field,
                values=values,
                dimensions=dimensions,
                start=start,
                end=end,
                tz=tz,
                total=False,
            )
    return rows


def metric_value(metric: str) -> Value:
    return Value(metric, output_field=CharField())


def _sla_first_at() -> datetime | None:
    return Clock.objects.aggregate(first=Min("started_at"))["first"]


def _registrations_compute(
    start: datetime, end: datetime, tz: tzinfo, now: datetime, wanted: frozenset[str]
) -> Iterable[Row]:
    common: dict[str, Any] = {"start": start, "end": end, "tz": tz}
    rows: list[Row] = []
    if REG_STARTED in wanted:
        rows += grouped_counts(
            metric=REG_STARTED,
            queryset=Registration.objects.all(),
            day_field="started_at",
            values={
                "started": Count("pk"),
                "email_verified": count(email_verified_at__isnull=False),
                "phone_verified": count(phone_verified_at__isnull=False),
                "profile_completed": count(profile_completed_at__isnull=False),
                "submitted": count(submitted_at__isnull=False),
                "approved": count(status=RegistrationStatus.APPROVED),
                "rejected": count(status=RegistrationStatus.REJECTED),
            },
            dimensions={
                "country": "user__country",
                "region": "user__region",
                "age": "user__age_band",
                "device": "device_type",
                "campaign": "campaign",
                "hour": ExtractHour("started_at", tzinfo=tz),
                "weekday": ExtractIsoWeekDay("started_at", tzinfo=tz),
            },
            **common,
        )
    if REG_DECIDED in wanted:
        rows += grouped_counts(
            metric=REG_DECIDED,
            queryset=Registration.objects.filter(decided_at__isnull=False),
            day_field="decided_at",
            values={
                "approved": count(status=RegistrationStatus.APPROVED),
                "rejected": count(status=RegistrationStatus.REJECTED),
                "auto_approved": count(status=RegistrationStatus.APPROVED, auto_approved=True),
                "delayed": Count("pk", filter=~Q(delay_cause="")),
            },
            dimensions={"cause": "delay_cause"},
            **common,
        )
    return rows


def _registrations_first_at() -> datetime | None:
    return Registration.objects.aggregate(first=Min("started_at"))["first"]


def register() -> None:
    source_register(
        Source(
            name="sla",
            metrics={
                SLA_DUE: ("achieved", "breached"),
                SLA_STOPPED: ("stopped", "met", "seconds"),
                SLA_STARTED: ("started",),
            },
            compute=_sla_compute,
            first_at=_sla_first_at,
        )
    )
    source_register(
        Source(
            name="activity",
            metrics={
                ACTIVITY_USERS: ("dau", "wau", "mau"),
                ACTIVITY_FEATURES: ("active", *FEATURES, *(f"users_{name}" for name in FEATURES)),
                ACTIVITY_HOURS: ("actions",),
                ACTIVITY_SESSIONS: ("sessions",),
            },
            compute=_activity_compute,
            first_at=_activity_or_session_first_at,
        )
    )
    source_register(
        Source(
            name="activity_returns",
            metrics={
                ACTIVITY_RETURNS: (FIRST,),
                ACTIVITY_COHORTS: (FIRST,),
                ACTIVITY_JOINED: ("joined",),
                SIGN_IN_RETURNS: (FIRST,),
                PROBLEM_RETURNS: (FIRST,),
            },
            compute=_returns_compute,
            first_at=_returns_first_at,
        )
    )
    source_register(
        Source(
            name="registrations",
            metrics={
                REG_STARTED: (
                    "started",
                    "email_verified",
                    "phone_verified",
                    "profile_completed",
                    "submitted",
                    "approved",
                    "rejected",
                ),
                REG_DECIDED: ("approved", "rejected", "auto_approved", "delayed"),
            },
            compute=_registrations_compute,
            first_at=_registrations_first_at,
        )
    )
    source_register(
        Source(
            name="messaging",
            metrics={
                MSG_CONVERSATIONS: ("inbound", "outbound"),
                MSG_MESSAGES: ("user_messages", "team_replies"),
            },
            compute=_messaging_compute,
            first_at=_messaging_first_at,
        )
    )
    source_register(
        Source(
            name="support",
            metrics={
                SUPPORT_CREATED: ("created",),
                SUPPORT_SOLVED: ("solved",),
                SUPPORT_SURVEYS: ("sent", "responses", "satisfied", "rating_sum"),
            },
            compute=_support_compute,
            first_at=_support_first_at,
            # A survey is answered up to SUPPORT_SURVEY_LINK_DAYS after it was sent, and the rating changed up
            # to SUPPORT_SURVEY_CHANGE_DAYS after that: its sent day's counts settle only then.
            settle_days=settings.SUPPORT_SURVEY_LINK_DAYS + settings.SUPPORT_SURVEY_CHANGE_DAYS,
        )
    )
    source_register(
        Source(
            name="moderation",
            metrics={
                MOD_FLAGS: ("flags", *FlagSource.values),
                MOD_DECISIONS: ("decisions",),
            },
            compute=_moderation_compute,
            first_at=_moderation_first_at,
        )
    )


# --- Account activity -------------------------------------------------------------------------------------------

ACTIVITY_USERS = "activity.users"
ACTIVITY_FEATURES = "activity.features"
ACTIVITY_HOURS = "activity.hours"
# Sessions started per local day by device type: the device mix.
ACTIVITY_SESSIONS = "activity.sessions"
FEATURES = ("sign_ins", "profile_updates", "password_changes", "messages_sent", "listings_posted", "transactions")
# The trailing windows of the definitions: WAU over 7 days and MAU over 30 days, each ending on the day.
WAU_DAYS, MAU_DAYS = 7, 30


def _activity_compute(
    start: datetime, end: datetime, tz: tzinfo, now: datetime, wanted: frozenset[str]
) -> Iterable[Row]:
    first, last = local_days(start, end)
    days = [first + timedelta(days=n) for n in range((last - first).days)]
    if not days:
        return []
    rows: list[Row] = []
    in_range = ActivityDay.objects.filter(day__gte=days[0], day__lte=days[-1])
    if ACTIVITY_USERS in wanted:
        dau = dict(in_range.values("day").annotate(n=Count("user", distinct=True)).values_list("day", "n"))
        for day in days:
            # Distinct users over the trailing windows: a count per day, in the database, on the (day, user) index.
            windows = ActivityDay.objects.filter(day__gt=day - timedelta(days=MAU_DAYS), day__lte=day).aggregate(
                wau=Count("user", distinct=True, filter=Q(day__gt=day - timedelta(days=WAU_DAYS))),
                mau=Count("user", distinct=True),
            )
            if windows["mau"]:
                rows.append(
                    (
                        ACTIVITY_USERS,
                        "",
                        day,
                        {"dau": float(dau.get(day, 0)), "wau": float(windows["wau"]), "mau": float(windows["mau"])},
                    )
                )
    if ACTIVITY_FEATURES in wanted:
        # Annotations may not shadow the model's own field names: summed as total_<feature>.
        sums = {f"total_{name}": Sum(name) for name in FEATURES}
        users = {f"users_{name}": Count("pk", filter=Q(**{f"{name}__gt": 0})) for name in FEATURES}
        for row in in_range.values("day").annotate(active=Count("pk"), **sums, **users).order_by():
            data: dict[str, Any] = dict(row)
            day = data.pop("day")
            rows.append(
                (ACTIVITY_FEATURES, "", day, {key.removeprefix("total_"): float(v or 0) for key, v in data.items()})
            )
    if ACTIVITY_HOURS in wanted:
        for day, hour, actions in ActivityHour.objects.filter(day__gte=days[0], day__lte=days[-1]).values_list(
            "day", "hour", "actions"
        ):
            rows.append((ACTIVITY_HOURS, f"hour:{hour}", day, {"actions": float(actions)}))
    if ACTIVITY_SESSIONS in wanted:
        # A session's device type never changes, so its day's counts are final.
        rows += grouped_counts(
            metric=ACTIVITY_SESSIONS,
            queryset=AccountSession.objects.all(),
            day_field="started_at",
            values={"sessions": Count("pk")},
            dimensions={"device": "device_type"},
            start=start,
            end=end,
            tz=tz,
            total=False,
        )
    return rows


# Distinct users over a span of days do not add up from each day's count, nor from whole weeks' counts where the
# span starts or ends inside a week (a quarter rarely starts on a Monday). What does add up, exactly, for any span:
# each day's active users by how many days before it each was last active (the gap). A user active in [A, B) is
# counted once, on the first day D of the span they were active, where their gap exceeds D − A; so
# distinct(A, B) = the sum over D in [A, B) of the users active on D with a gap above D − A. A day's row per region
# holds one count per gap up to RETURN_DAYS (a few hundred numbers), so a quarter and the quarter before read one
# row per day instead of every user's activity days.
ACTIVITY_RETURNS = "activity.returns"
# The same per sign-up week (cohort) for the retention tables, and the marketplace users who joined each day (the
# cohorts' sizes).
ACTIVITY_COHORTS = "activity.cohorts"
ACTIVITY_JOINED = "activity.joined"
# Gaps beyond this, and a user's first activity, share one count: exact for spans up to RETURN_DAYS + 1 days,
# which covers the longest span a figure reads (churn's quarter and the quarter before it: 184 days at most).
RETURN_DAYS = 184
FIRST = "first"
# The same counts for narrower meanings of "active", for the figures that count distinct users by them (document
# 001): the marketplace users who signed in (a sign-in event, not any activity: the active-user share), and the
# users who faced a sign-in problem (a failed sign-in, a lockout or a password-reset request). These place a
# user on the local day of the event, as the figures place them, so a span's users follow from the same sum.
SIGN_IN_RETURNS = "activity.sign_in_returns"
PROBLEM_RETURNS = "activity.problem_returns"


def _returns_compute(
    start: datetime, end: datetime, tz: tzinfo, now: datetime, wanted: frozenset[str]
) -> Iterable[Row]:
    first, last = local_days(start, end)
    if first >= last:
        return []
    rows: list[Row] = []
    if ACTIVITY_RETURNS in wanted:
        # A user has one region, so the regions' counts add up to the total's.
        for day, region, gap_key, n in _gaps(first, last, Lower("user__region")):
            rows += [
                (ACTIVITY_RETURNS, "", day, {gap_key: n}),
                (ACTIVITY_RETURNS, f"region:{region or ''}", day, {gap_key: n}),
            ]
    if ACTIVITY_COHORTS in wanted:
        # The retention tables follow marketplace users (not staff) by the local week they joined in.
        week = TruncWeek("user__date_joined", tzinfo=tz)
        for day, cohort, gap_key, n in _gaps(first, last, week, Q(user__is_staff=False)):
            rows.append((ACTIVITY_COHORTS, f"cohort:{cohort.date().isoformat()}", day, {gap_key: n}))
    if SIGN_IN_RETURNS in wanted:
        rows += _sign_in_returns(start, end, tz)
    if PROBLEM_RETURNS in wanted:
        rows += _problem_returns(start, end, tz)
    if ACTIVITY_JOINED in wanted:
        rows += grouped_counts(
            metric=ACTIVITY_JOINED,
            queryset=User.objects.filter(is_staff=False),
            day_field="date_joined",
            values={"joined": Count("pk")},
            start=start,
            end=end,
            tz=tz,
        )
    return _merged(rows)


def _gaps(first: date, last: date, by: Any, users: Q | None = None) -> Iterable[tuple[date, Any, str, float]]:
    """(day, the value of `by`, gap key, users) for the activity days in [first, last) of the users chosen."""
    # The user's previous activity day: one probe of the (user, day) unique index per activity row.
    before = ActivityDay.objects.filter(user=OuterRef("user"), day__lt=OuterRef("day")).order_by("-day")
    groups = (
        ActivityDay.objects.filter(Q(day__gte=first, day__lt=last) & (users or Q()))
        .values("day", group=by, previous=Subquery(before.values("day")[:1]))
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in groups:
        gap = (row["day"] - row["previous"]).days if row["previous"] is not None else None
        yield row["day"], row["group"], str(gap) if gap is not None and gap <= RETURN_DAYS else FIRST, float(row["n"])


# (user, the instant of a problem, the user's region, the user's last problem before the problem's local day)
EventRow = tuple[int, datetime, str | None, datetime | None]
# Before any data: stands for "none" inside GREATEST, which ignores NULLs on PostgreSQL only.
NEVER = datetime(1970, 1, 1, tzinfo=UTC)


def _sign_in_returns(start: datetime, end: datetime, tz: tzinfo) -> list[Row]:
    """SIGN_IN_RETURNS for [start, end): one probe of the (user, at) index per sign-in for the user's last sign-in
    before its day, which every sign-in of the user that day shares, so distinct users per (day, region, last
    day) count each user once a day."""
    sign_ins = AccountEvent.objects.filter(kind=AccountEvent.Kind.SIGN_IN, user__isnull=False)
    before = _last_before(sign_ins, "at", tz)
    groups = (
        sign_ins.filter(at__gte=start, at__lt=end, user__is_staff=False)
        .annotate(instant=F("at"), event_day=TruncDate("at", tzinfo=tz))
        .values(
            day=F("event_day"),
            region=Lower("user__region"),
            last=TruncDate(Subquery(before.values("at")[:1], output_field=DateTimeField()), tzinfo=tz),
        )
        .annotate(n=Count("user", distinct=True))
        .order_by()
    )
    rows: list[Row] = []
    for row in groups:
        key = _gap_key(row["day"], row["last"])
        rows += [
            (SIGN_IN_RETURNS, "", row["day"], {key: float(row["n"])}),
            (SIGN_IN_RETURNS, f"region:{row['region'] or ''}", row["day"], {key: float(row["n"])}),
        ]
    return rows


def _last_before(rows: QuerySet[Any], field: str, tz: tzinfo) -> QuerySet[Any]:
    """The outer row's user's rows before its local day (the outer query annotates `instant` and `event_day`),
    latest first: the index on (user, instant) is walked back from the outer row, past that day's other rows."""
    return (
        rows.annotate(row_day=TruncDate(field, tzinfo=tz))
        .filter(user=OuterRef("user"), **{f"{field}__lt": OuterRef("instant")}, row_day__lt=OuterRef("event_day"))
        .order_by(f"-{field}")
    )


def _gap_key(day: date, last: date | None) -> str:
    gap = None if last is None else (day - last).days
    return str(gap) if gap is not None and gap <= RETURN_DAYS else FIRST


def _problems(start: datetime, end: datetime, tz: tzinfo) -> Iterable[EventRow]:
    """The failed sign-ins, lockouts and password-reset requests of known users in [start, end), each with its
    user's last problem of any of the three kinds before its day."""
    failed = AccountEvent.objects.filter(kind=AccountEvent.Kind.SIGN_IN_FAILED, user__isnull=False)
    locked = Lockout.objects.filter(user__isnull=False)
    reset = PasswordReset.objects.all()
    tables: tuple[tuple[QuerySet[Any], str], ...] = ((failed, "at"), (locked, "started_at"), (reset, "requested_at"))

    def last_before(rows: QuerySet[Any], field: str) -> Coalesce:
        latest = _last_before(rows, field, tz).values(field)[:1]
        return Coalesce(Subquery(latest), Value(NEVER), output_field=DateTimeField())

    out: list[EventRow] = []
    for rows, field in tables:
        previous = Greatest(*(last_before(r, f) for r, f in tables), output_field=DateTimeField())
        for user, at, region, last in (
            rows.filter(**{f"{field}__gte": start, f"{field}__lt": end})
            .annotate(instant=F(field), event_day=TruncDate(field, tzinfo=tz))
            .values_list("user", field, "user__region", previous)
        ):
            out.append((user, at, region, None if last == NEVER else last))
    return out


def _problem_returns(start: datetime, end: datetime, tz: tzinfo) -> list[Row]:
    """PROBLEM_RETURNS for [start, end): a user with problems of two kinds on one day is one user that day, so
    the three tables' rows meet here (a small share of the users have any)."""
    seen: set[tuple[int, date]] = set()
    rows: list[Row] = []
    for user, at, region, last in _problems(start, end, tz):
        day = at.astimezone(tz).date()
        if (user, day) in seen:
            continue
        seen.add((user, day))
        key = _gap_key(day, None if last is None else last.astimezone(tz).date())
        rows += [
            (PROBLEM_RETURNS, "", day, {key: 1.0}),
            (PROBLEM_RETURNS, f"region:{(region or '').lower()}", day, {key: 1.0}),
        ]
    return rows


def _merged(rows: list[Row]) -> list[Row]:
    """One row per metric, dimension and day, its values added up."""
    merged: dict[tuple[str, str, date], dict[str, float]] = defaultdict(dict)
    for metric, dimension, day, values in rows:
        bucket = merged[(metric, dimension, day)]
        for key, value in values.items():
            bucket[key] = bucket.get(key, 0.0) + value
    return [(metric, dimension, day, values) for (metric, dimension, day), values in merged.items()]


def _returns_first_at() -> datetime | None:
    """The first activity, or the first marketplace user joining before it (a cohort's size counts from then)."""
    joined = User.objects.filter(is_staff=False).aggregate(first=Min("date_joined"))["first"]
    active = _activity_first_at()
    return min((moment for moment in (joined, active) if moment is not None), default=None)


def _activity_or_session_first_at() -> datetime | None:
    """The first activity day or session: the sessions' device mix counts from the first session."""
    session = AccountSession.objects.aggregate(first=Min("started_at"))["first"]
    return min((moment for moment in (session, _activity_first_at()) if moment is not None), default=None)


def _activity_first_at() -> datetime | None:
    first = ActivityDay.objects.aggregate(first=Min("day"))["first"]
    return None if first is None else datetime.combine(first, time.min, tzinfo=timezone.get_current_timezone())


# --- Messaging, support and moderation --------------------------------------------------------------------------
# First responses and deadlines met are the SLA kernel's (SLA_STOPPED and SLA_DUE per metric); these are the
# areas' own counts.

MSG_CONVERSATIONS = "messaging.conversations"
MSG_MESSAGES = "messaging.messages"
SUPPORT_CREATED = "support.tickets.created"
SUPPORT_SOLVED = "support.tickets.solved"
SUPPORT_SURVEYS = "support.surveys"
MOD_FLAGS = "moderation.flags"
MOD_DECISIONS = "moderation.decisions"


def _messaging_compute(
    start: datetime, end: datetime, tz: tzinfo, now: datetime, wanted: frozenset[str]
) -> Iterable[Row]:
    common: dict[str, Any] = {"start": start, "end": end, "tz": tz}
    rows: list[Row] = []
    if MSG_CONVERSATIONS in wanted:
        # By the conversation's current category, as messaging's selectors count it; "category:" is the
        # uncategorised.
        rows += grouped_counts(
            metric=MSG_CONVERSATIONS,
            queryset=Conversation.objects.all(),
            day_field="created_at",
            values={"inbound": count(initiated_by=Initiator.USER), "outbound": count(initiated_by=Initiator.STAFF)},
            dimensions={"category": "category"},
            **common,
        )
    if MSG_MESSAGES in wanted:
        rows += grouped_counts(
            metric=MSG_MESSAGES,
            queryset=Message.objects.filter(kind__in=[MessageKind.USER, MessageKind.REPLY]),
            day_field="created_at",
            values={"user_messages": count(kind=MessageKind.USER), "team_replies": count(kind=MessageKind.REPLY)},
            **common,
        )
    return rows


def _messaging_first_at() -> datetime | None:
    return Conversation.objects.aggregate(first=Min("created_at"))["first"]


def _support_compute(
    start: datetime, end: datetime, tz: tzinfo, now: datetime, wanted: frozenset[str]
) -> Iterable[Row]:
    common: dict[str, Any] = {"start": start, "end": end, "tz": tz}
    rows: list[Row] = []
    if SUPPORT_CREATED in wanted:
        rows += grouped_counts(
            metric=SUPPORT_CREATED,
            queryset=Ticket.objects.all(),
            day_field="created_at",
            values={"created": Count("pk")},
            dimensions={"channel": "channel", "category": "category"},
            **common,
        )
    if SUPPORT_SOLVED in wanted:
        # A reopened ticket is solved no more: its solved_at is cleared (within SUPPORT_REOPEN_DAYS).
        rows += grouped_counts(
            metric=SUPPORT_SOLVED,
            queryset=Ticket.objects.filter(solved_at__isnull=False),
            day_field="solved_at",
            values={"solved": Count("pk")},
            **common,
        )
    if SUPPORT_SURVEYS in wanted:
        # Surveys count by the day they were sent, with the channel recorded then; the ratings' sum gives the
        # average of any range of days.
        rows += grouped_counts(
            metric=SUPPORT_SURVEYS,
            queryset=Survey.objects.all(),
            day_field="sent_at",
            values={
                "sent": Count("pk"),
                "responses": count(rating__isnull=False),
                "satisfied": count(rating__gte=4),
                "rating_sum": Sum("rating"),
            },
            dimensions={"channel": "channel"},
            **common,
        )
    return rows


def _support_first_at() -> datetime | None:
    firsts = [
        Ticket.objects.aggregate(first=Min("created_at"))["first"],
        Survey.objects.aggregate(first=Min("sent_at"))["first"],
    ]
    return min((first for first in firsts if first is not None), default=None)


def _moderation_compute(
    start: datetime, end: datetime, tz: tzinfo, now: datetime, wanted: frozenset[str]
) -> Iterable[Row]:
    common: dict[str, Any] = {"start": start, "end": end, "tz": tz}
    rows: list[Row] = []
    if MOD_FLAGS in wanted:
        # A flag's reason and source never change, so its day's counts are final.
        rows += grouped_counts(
            metric=MOD_FLAGS,
            queryset=Flag.objects.all(),
            day_field="created_at",
            values={"flags": Count("pk"), **{source: count(source=source) for source in FlagSource.values}},
            dimensions={"reason": "reason"},
            **common,
        )
    if MOD_DECISIONS in wanted:
        rows += grouped_counts(
            metric=MOD_DECISIONS,
            queryset=Decision.objects.all(),
            day_field="at",
            values={"decisions": Count("pk")},
            dimensions={"action": "action"},
            **common,
        )
    return rows


def _moderation_first_at() -> datetime | None:
    return Flag.objects.aggregate(first=Min("created_at"))["first"]
