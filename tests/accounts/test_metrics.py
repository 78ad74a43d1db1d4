"""Account metrics against figures worked out by hand on a small fixed dataset (two weeks of March 2026)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from accounts import metrics
from accounts.models import (
    AccountEvent,
    AccountSession,
    ActivityDay,
    ActivityHour,
    Feedback,
    Lockout,
    PasswordReset,
    RegistrationStatus,
)
from tests.factories import RegistrationFactory, UserFactory

pytestmark = pytest.mark.django_db
SAST = ZoneInfo("Africa/Johannesburg")
Kind = AccountEvent.Kind


def t(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SAST)


START, END = t(3, 2, 0), t(3, 16, 0)  # Monday 2 March to Monday 16 March: 14 local days


@pytest.fixture
def people():
    a, b, c = (UserFactory(date_joined=t(3, 2)) for _ in range(3))
    d = UserFactory(date_joined=t(3, 9))
    e, f = UserFactory(date_joined=t(2, 1)), UserFactory(date_joined=t(2, 1))
    for user, days in {
        a: [(3, 2), (3, 3), (3, 10)],
        b: [(3, 2)],
        c: [(3, 11), (3, 12)],
        d: [(3, 9)],
        e: [(2, 20), (3, 5)],
        f: [(2, 18)],
    }.items():
        for month, day in days:
            ActivityDay.objects.create(user=user, day=date(2026, month, day), sign_ins=1)
    return a, b, c, d, e, f


def test_daily_weekly_monthly_active_users_and_stickiness(people):
    result = metrics.active_users(start=START, end=END)
    assert result.dau == pytest.approx(8 / 14)
    assert result.wau == 3  # week of 2 March: a, b, e; week of 9 March: a, c, d
    assert result.mau == 5  # March: a, b, c, d, e
    assert result.active == 5
    assert result.stickiness == pytest.approx(8 / 14 / 5)
    daily = dict(metrics.daily_active_users(start=START, end=END))
    assert len(daily) == 14 and daily[date(2026, 3, 2)] == 2 and daily[date(2026, 3, 4)] == 0


def test_retention_cohorts_returned_in_week_n_and_in_week_n_or_later(people):
    first, second = metrics.retention_cohorts(start=START, end=END)
    assert (first.week, first.size) == (date(2026, 3, 2), 3)
    assert first.returned == [2, 2]  # week 0: a, b; week 1: a, c
    assert first.returned_or_later == [3, 2]  # last active: a week 1, b week 0, c week 1
    assert first.rates() == [pytest.approx(2 / 3), pytest.approx(2 / 3)]
    assert (second.week, second.size, second.returned, second.returned_or_later) == (date(2026, 3, 9), 1, [1], [1])


def test_churn_is_active_before_and_not_now_over_active_before(people):
    result = metrics.churn(start=START, end=END)
    # The 14 days before: e and f active; only e comes back.
    assert (result.previous_active, result.retained, result.churned, result.rate) == (2, 1, 1, 0.5)


def test_registration_funnel_conversion_and_drop_off_by_step():
    full = {"email_verified_at": t(3, 3), "phone_verified_at": t(3, 3), "profile_completed_at": t(3, 3)}
    RegistrationFactory(started_at=t(3, 3), submitted_at=t(3, 3), status=RegistrationStatus.APPROVED, **full)
    RegistrationFactory(started_at=t(3, 4), email_verified_at=t(3, 4), phone_verified_at=t(3, 4))
    RegistrationFactory(started_at=t(3, 5))
    RegistrationFactory(started_at=t(3, 6), submitted_at=t(3, 6), status=RegistrationStatus.REJECTED, **full)
    RegistrationFactory(started_at=t(2, 20), submitted_at=t(2, 20), status=RegistrationStatus.APPROVED, **full)
    steps = {step.key: step for step in metrics.registration_funnel(start=START, end=END)}
    assert [s.count for s in steps.values()] == [4, 3, 3, 2, 2, 1]
    assert [s.conversion for s in steps.values()] == [1.0, 0.75, 0.75, 0.5, 0.5, 0.25]
    assert steps["profile_completed"].step_conversion == pytest.approx(2 / 3)
    assert steps["profile_completed"].drop_off == pytest.approx(1 / 3)
    assert steps["approved"].drop_off == 0.5 and steps["email_verified"].drop_off == 0.25


def event(kind, reason="", at=None, user=None, **extra):
    return AccountEvent.objects.create(kind=kind, reason=reason, at=at or t(3, 4), user=user, **extra)


def test_account_updates_login_issues_suspicious_and_privacy_changes():
    user = UserFactory()
    event(Kind.PROFILE_UPDATED, user=user)
    event(Kind.PROFILE_UPDATED, user=user)
    event(Kind.PASSWORD_CHANGED, user=user)
    event(Kind.PRIVACY_CHANGED, "marketing_opt_in", user=user)
    event(Kind.PRIVACY_CHANGED, "consent_given", user=user)
    event(Kind.PROFILE_UPDATED, user=user, at=t(3, 20))  # after the period
    for _ in range(3):
        event(Kind.SIGN_IN, user=user)
    event(Kind.SIGN_IN_FAILED, "wrong_password", user=user)
    event(Kind.SIGN_IN_FAILED, "wrong_password", user=user)
    event(Kind.SIGN_IN_FAILED, "unknown_account")
    event(Kind.SUSPICIOUS, "new_device", user=user)
    event(Kind.SUSPICIOUS, "new_device", user=user)
    event(Kind.SUSPICIOUS, "credential_stuffing")

    assert metrics.account_updates_by_type(start=START, end=END) == {
        "privacy_changed": 2,
        "profile_updated": 2,
        "password_changed": 1,
    }
    issues = metrics.login_issues(start=START, end=END)
    assert (issues.attempts, issues.failures, issues.failure_rate, issues.users_affected) == (6, 3, 0.5, 1)
    assert issues.by_reason == {"wrong_password": 2, "unknown_account": 1}
    assert metrics.suspicious_events(start=START, end=END) == {"new_device": 2, "credential_stuffing": 1}
    assert metrics.privacy_changes(start=START, end=END) == {"consent_given": 1, "marketing_opt_in": 1}


def test_lockouts_and_recovery_time(administrator):
    user = UserFactory()
    Lockout.objects.create(user=user, identifier="a", failures=5, started_at=t(3, 3), until=t(3, 3, 10, 30))
    Lockout.objects.create(
        user=user,
        identifier="a",
        failures=5,
        started_at=t(3, 4),
        until=t(3, 4, 10, 30),
        released_at=t(3, 4, 10, 10),
        released_by=administrator,
    )
    result = metrics.lockouts(start=START, end=END)
    assert (result.count, result.accounts, result.released_by_admin) == (2, 1, 1)
    assert result.average_minutes == pytest.approx(20)

    PasswordReset.objects.create(user=user, requested_at=t(3, 3), completed_at=t(3, 3, 11))
    PasswordReset.objects.create(user=user, requested_at=t(3, 4), completed_at=t(3, 4, 13))
    PasswordReset.objects.create(user=user, requested_at=t(3, 5))
    PasswordReset.objects.create(user=user, requested_at=t(2, 5), completed_at=t(2, 5, 11))
    recovered = metrics.recovery(start=START, end=END)
    assert (recovered.requests, recovered.completed) == (3, 2)
    assert recovered.completion_rate == pytest.approx(2 / 3)
    assert recovered.average_hours == pytest.approx(2) and recovered.median_hours == pytest.approx(2)


def test_session_duration_and_activity_by_hour_and_weekday():
    """(The device mix is the report's, from the rollups: tests/reports/test_sign_in_rollups.py.)"""
    user = UserFactory()
    for started, minutes, device in ((t(3, 2), 30, "mobile"), (t(3, 3, 12), 10, "desktop"), (t(3, 4), 20, "mobile")):
        AccountSession.objects.create(
            user=user,
            channel="web",
            key=str(started),
            started_at=started,
            last_seen_at=started + timedelta(minutes=minutes),
            device_type=device,
        )
    assert metrics.average_session_minutes(start=START, end=END) == pytest.approx(20)

    for day, hour, actions in ((date(2026, 3, 2), 9, 5), (date(2026, 3, 2), 21, 3), (date(2026, 3, 9), 9, 2)):
        ActivityHour.objects.create(day=day, hour=hour, actions=actions)
    ActivityHour.objects.create(day=date(2026, 3, 20), hour=9, actions=100)
    by_hour = metrics.activity_by_hour(start=START, end=END)
    assert by_hour[9] == 7 and by_hour[21] == 3 and sum(by_hour) == 10
    assert metrics.activity_by_weekday(start=START, end=END) == [10, 0, 0, 0, 0, 0, 0]


def test_feedback_ratings():
    for score in (5, 4, 2):
        Feedback.objects.create(topic="registration", score=score, created_at=t(3, 4))
    Feedback.objects.create(topic="registration", score=1, created_at=t(4, 4))
    Feedback.objects.create(topic="nps", score=10, created_at=t(3, 5))
    ratings = metrics.feedback_ratings(start=START, end=END, topic="registration")
    assert (ratings.count, ratings.distribution) == (3, {1: 0, 2: 1, 3: 0, 4: 1, 5: 1})
    assert ratings.average == pytest.approx(11 / 3)
