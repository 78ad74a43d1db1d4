"""Demo data, second accounts phase: a quarter of what approved users did with their accounts.

Sign-ins with sessions and devices, failed attempts and the odd lockout, password resets, profile and privacy
changes, suspicious events, daily activity (ActivityDay and ActivityHour, as the flush writes them) and
feedback with NPS answers: every section of the user-account report has data. Users are engaged to different
degrees and fade over the weeks, some stop altogether (churn); activity follows the same daily rhythm as the
sign-ups.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction

from accounts import roles
from accounts.events import describe_device, identifier_of
from accounts.models import (
    AccountEvent,
    AccountPreferences,
    AccountSession,
    ActivityDay,
    ActivityHour,
    Feedback,
    Lockout,
    PasswordReset,
    PrivacyChange,
    User,
)
from demo.accounts import COUNTRIES, HOUR_WEIGHTS, USER_AGENTS, WEEKDAY_WEIGHTS
from demo.core import DemoContext, DemoUser, approved_users

Kind = AccountEvent.Kind
COUNTRY_BY_CODE = {country.code: country for country in COUNTRIES}
POLICY_VERSION = "2026-01"
REGISTRATION_COMMENTS = (
    "Quick and easy.",
    "The SMS code took a while to arrive.",
    "Approved within a day, thank you!",
    "Too many steps.",
    "",
    "",
)
NPS_COMMENTS = ("Great place to sell my old phone.", "Buyers reply fast.", "Too many scammers.", "", "", "")


@dataclass
class _Rows:
    days: list[ActivityDay] = field(default_factory=list)
    sessions: list[AccountSession] = field(default_factory=list)
    events: list[AccountEvent] = field(default_factory=list)
    resets: list[PasswordReset] = field(default_factory=list)
    lockouts: list[Lockout] = field(default_factory=list)
    preferences: list[AccountPreferences] = field(default_factory=list)
    feedback: list[Feedback] = field(default_factory=list)


class _Simulator:
    def __init__(self, ctx: DemoContext, admin: User):
        self.ctx, self.rng, self.period, self.admin = ctx, ctx.rng, ctx.period, admin
        self.hours: Counter[tuple[Any, int]] = Counter()

    def moment(self, day: int, tz: Any) -> datetime:
        rng = self.rng
        local = datetime.combine(
            self.period.first_day + timedelta(days=day),
            datetime.min.time().replace(hour=rng.choices(range(24), weights=HOUR_WEIGHTS)[0]),
            tzinfo=tz,
        ) + timedelta(minutes=rng.randrange(60), seconds=rng.randrange(60))
        return min(max(local, self.period.start), self.period.end - timedelta(hours=1))

    def ip(self, country_code: str) -> str:
        country = COUNTRY_BY_CODE.get(country_code) or COUNTRIES[0]
        return f"{self.rng.choice(country.ipv4_blocks)}.{self.rng.randrange(256)}.{self.rng.randrange(1, 255)}"

    def event(self, rows: _Rows, user: DemoUser, kind: str, at: datetime, **extra: Any) -> None:
        rows.events.append(AccountEvent(user_id=user.pk, kind=kind, at=at, **extra))

    def user(self, rows: _Rows, user: DemoUser) -> None:
        rng, period = self.rng, self.period
        assert user.decided_at is not None
        start_day = period.day_index(user.decided_at)
        if start_day >= period.days:
            return
        zone = ZoneInfo(COUNTRY_BY_CODE.get(user.country, COUNTRIES[0]).tz)
        engagement = min(0.9, rng.lognormvariate(math.log(0.05), 0.9))
        # Some users leave for good after a while: the churn the report measures.
        quits = start_day + int(rng.expovariate(1 / 40)) if rng.random() < 0.45 else period.days
        agent = USER_AGENTS.pick(rng)
        home_ip = self.ip(user.country)
        identifier = identifier_of(user.email)
        known_devices = {describe_device(agent).key}
        days_by_date: dict[Any, ActivityDay] = {}
        self.privacy(rows, user, user.decided_at)
        for day in range(start_day, min(period.days, quits)):
            weekday = (period.first_day + timedelta(days=day)).weekday()
            fade = 0.35 + 0.65 * math.exp(-(day - start_day) / 30)
            if rng.random() >= engagement * fade * WEEKDAY_WEIGHTS[weekday]:
                continue
            self.active_day(rows, user, day, zone, agent, home_ip, identifier, known_devices, days_by_date)
        if rng.random() < 0.012:
            self.reset(rows, user, rng.randint(start_day, period.days - 1), zone, home_ip)
        self.survey(rows, user)

    def active_day(
        self,
        rows: _Rows,
        user: DemoUser,
        day: int,
        zone: Any,
        agent: str,
        home_ip: str,
        identifier: str,
        known_devices: set[str],
        days_by_date: dict[Any, ActivityDay],
    ) -> None:
        rng = self.rng
        at = self.moment(day, zone)
        # Now and then the user signs in from another phone or a cybercafé.
        session_agent = agent if rng.random() > 0.06 else USER_AGENTS.pick(rng)
        ip = home_ip if rng.random() > 0.15 else self.ip(user.country)
        device = describe_device(session_agent)
        common = {"ip_address": ip, "user_agent": session_agent[:300], "device_type": device.type}
        if rng.random() < 0.05:
            failures = 5 if rng.random() < 0.03 else rng.randint(1, 2)
            for n in range(failures):
                self.event(
                    rows,
                    user,
                    Kind.SIGN_IN_FAILED,
                    at - timedelta(minutes=failures - n),
                    reason="wrong_password",
                    channel="api",
                    identifier=identifier,
                    **common,
                )
            if failures == 5:
                self.lockout(rows, user, at, identifier, common)
                at += timedelta(minutes=35)
        minutes = rng.lognormvariate(math.log(9), 0.9)
        rows.sessions.append(
            AccountSession(
                user_id=user.pk,
                channel="api",
                key=f"{rng.getrandbits(128):032x}",
                started_at=at,
                last_seen_at=at + timedelta(minutes=minutes),
                ended_at=at + timedelta(minutes=minutes) if rng.random() < 0.7 else None,
                ip_address=ip,
                subnet=f"{ip.rsplit('.', 1)[0]}.0/24",  # the demo's addresses are IPv4
                user_agent=session_agent[:300],
                device_type=device.type,
                platform=device.platform,
                browser=device.browser,
                device_key=device.key,
            )
        )
        self.event(rows, user, Kind.SIGN_IN, at, channel="api", identifier=identifier, **common)
        if device.key not in known_devices:
            known_devices.add(device.key)
            self.event(rows, user, Kind.SUSPICIOUS, at, reason="new_device", channel="api", **common)
        messages = int(rng.expovariate(0.6))
        listings = 1 if rng.random() < 0.25 else 0
        transactions = 1 if rng.random() < 0.08 else 0
        profile = 1 if rng.random() < 0.02 else 0
        if profile:
            self.event(rows, user, Kind.PROFILE_UPDATED, at + timedelta(minutes=2), channel="api", **common)
        local = at.astimezone(self.period.tz)
        # Two days of the user's own time zone can fall on one local day of TIME_ZONE: one row, as the flush writes.
        row = days_by_date.get(local.date())
        if row is None:
            row = days_by_date[local.date()] = ActivityDay(user_id=user.pk, day=local.date())
            rows.days.append(row)
        row.sign_ins += 1
        row.profile_updates += profile
        row.messages_sent += messages
        row.listings_posted += listings
        row.transactions += transactions
        self.hours[(local.date(), local.hour)] += 1 + messages + listings + transactions + profile

    def lockout(self, rows: _Rows, user: DemoUser, at: datetime, identifier: str, common: dict[str, Any]) -> None:
        released = self.rng.random() < 0.3
        rows.lockouts.append(
            Lockout(
                user_id=user.pk,
                identifier=identifier,
                ip_address=common["ip_address"],
                failures=5,
                started_at=at,
                until=at + timedelta(minutes=30),
                released_at=at + timedelta(minutes=self.rng.randint(3, 20)) if released else None,
                released_by=self.admin if released else None,
            )
        )
        self.event(rows, user, Kind.LOCKOUT, at, channel="api", identifier=identifier, **common)
        self.event(rows, user, Kind.SUSPICIOUS, at, reason="failure_burst", channel="api", **common)

    def reset(self, rows: _Rows, user: DemoUser, day: int, zone: Any, ip: str) -> None:
        at = self.moment(day, zone)
        took = timedelta(hours=self.rng.lognormvariate(math.log(0.4), 1.2))
        completed = at + took if self.rng.random() < 0.8 and at + took < self.period.end else None
        rows.resets.append(PasswordReset(user_id=user.pk, requested_at=at, completed_at=completed, channel="api"))
        self.event(rows, user, Kind.PASSWORD_RESET_REQUESTED, at, channel="api", ip_address=ip)
        if completed is not None:
            self.event(rows, user, Kind.PASSWORD_RESET_COMPLETED, completed, channel="api", ip_address=ip)

    def privacy(self, rows: _Rows, user: DemoUser, at: datetime) -> None:
        rng = self.rng
        consent = rng.random() < 0.96
        marketing = rng.random() < 0.32
        opted_out = marketing and rng.random() < 0.15
        later = at + timedelta(days=rng.uniform(3, 60))
        rows.preferences.append(
            AccountPreferences(
                user_id=user.pk,
                marketing_opt_in=marketing and not (opted_out and later < self.period.end),
                marketing_changed_at=at if marketing else None,
                data_processing_consent=consent,
                consent_policy_version=POLICY_VERSION if consent else "",
                consent_at=at if consent else None,
                email_notifications=rng.random() < 0.9,
            )
        )
        if consent:
            self.event(rows, user, Kind.PRIVACY_CHANGED, at, reason=PrivacyChange.CONSENT_GIVEN, channel="api")
        if marketing:
            self.event(rows, user, Kind.PRIVACY_CHANGED, at, reason=PrivacyChange.MARKETING_OPT_IN, channel="api")
            if opted_out and later < self.period.end:
                self.event(
                    rows, user, Kind.PRIVACY_CHANGED, later, reason=PrivacyChange.MARKETING_OPT_OUT, channel="api"
                )

    def survey(self, rows: _Rows, user: DemoUser) -> None:
        rng = self.rng
        assert user.decided_at is not None
        answered = user.decided_at + timedelta(hours=rng.uniform(1, 72))
        if answered >= self.period.end:
            return
        if rng.random() < 0.12:
            score = rng.choices((5, 4, 3, 2, 1), weights=(45, 30, 12, 8, 5))[0]
            rows.feedback.append(
                Feedback(
                    user_id=user.pk,
                    topic=Feedback.Topic.REGISTRATION,
                    score=score,
                    comment=rng.choice(REGISTRATION_COMMENTS),
                    created_at=answered,
                )
            )
        if rng.random() < 0.04:
            score = rng.choices((5, 4, 3, 2, 1), weights=(35, 35, 15, 10, 5))[0]
            rows.feedback.append(
                Feedback(user_id=user.pk, topic=Feedback.Topic.ACCOUNT, score=score, created_at=answered)
            )
        later = answered + timedelta(days=rng.uniform(14, 45))
        if rng.random() < 0.07 and later < self.period.end:
            score = rng.choices(range(11), weights=(2, 1, 1, 2, 2, 4, 6, 10, 18, 24, 30))[0]
            rows.feedback.append(
                Feedback(
                    user_id=user.pk,
                    topic=Feedback.Topic.NPS,
                    score=score,
                    comment=rng.choice(NPS_COMMENTS),
                    created_at=later,
                )
            )

    def stuffing(self) -> list[AccountEvent]:
        """A few credential-stuffing runs: one address, many unknown accounts, minutes apart."""
        rng, events = self.rng, []
        for _ in range(max(1, self.ctx.user_count // 20000)):
            ip = f"185.244.25.{rng.randrange(2, 255)}"
            at = self.period.start + (self.period.end - self.period.start) * rng.random()
            for n in range(rng.randint(20, 60)):
                events.append(
                    AccountEvent(
                        kind=Kind.SIGN_IN_FAILED,
                        reason="unknown_account",
                        at=at + timedelta(seconds=10 * n),
                        channel="api",
                        ip_address=ip,
                        user_agent="python-requests/2.31.0",
                        device_type="other",
                        identifier=identifier_of(f"stuffed{n}@{ip}"),
                    )
                )
            events.append(
                AccountEvent(
                    kind=Kind.SUSPICIOUS,
                    reason="credential_stuffing",
                    at=at + timedelta(seconds=50),
                    channel="api",
                    ip_address=ip,
                    data={"accounts": 5},
                )
            )
        return events


def security_admin_ensure() -> User:
    """The administrator who releases lockouts in the demo; created without a usable password, like the demo's
    extra reviewers (`ensure_staff` owns the logins people use)."""
    user, created = User.objects.get_or_create(
        email="security@saypro.example",
        defaults={"full_name": "Lindiwe Mahlangu", "is_staff": True, "password": make_password(None)},
    )
    if created:
        user.groups.add(Group.objects.get(name=roles.ADMINISTRATOR))
    return user


def activity_phase(ctx: DemoContext) -> None:
    with transaction.atomic():
        admin = security_admin_ensure()
    simulator = _Simulator(ctx, admin)
    with ctx.bar(total=len(ctx.roster()), desc="accounts: activity", unit="users") as bar:
        for batch in ctx.batches(approved_users(ctx)):
            rows = _Rows()
            for user in batch:
                simulator.user(rows, user)
            with transaction.atomic():
                ctx.insert(ActivityDay, rows.days)
                ctx.insert(AccountSession, rows.sessions)
                ctx.insert(AccountEvent, rows.events)
                ctx.insert(PasswordReset, rows.resets)
                ctx.insert(Lockout, rows.lockouts)
                ctx.insert(AccountPreferences, rows.preferences)
                ctx.insert(Feedback, rows.feedback)
            bar.update(len(batch))
    with transaction.atomic():
        ctx.insert(AccountEvent, simulator.stuffing())
        ctx.insert(
            ActivityHour,
            [ActivityHour(day=day, hour=hour, actions=n) for (day, hour), n in sorted(simulator.hours.items())],
        )
