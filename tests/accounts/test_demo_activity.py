"""The demo's account-activity phase: every section of the user-account report has data."""

from __future__ import annotations

from datetime import date

import pytest
from django.db.models import Count, F

from accounts import metrics
from accounts.models import AccountSession, ActivityDay, Feedback
from demo import core as demo

END = date(2025, 7, 1)
PHASES = [demo.SIGNUPS, "demo.activity.activity_phase"]


@pytest.mark.django_db
def test_a_seeded_quarter_fills_every_account_report_section(settings):
    settings.DEMO_MODE = True
    ctx = demo.seed(users=1000, seed=5, end=END, phases=PHASES)
    start, end = ctx.period.start, ctx.period.end

    active = metrics.active_users(start=start, end=end)
    assert active.dau > 0 and active.mau >= active.wau >= active.dau and 0 < active.stickiness < 1
    assert metrics.churn(start=start + (end - start) / 2, end=end).previous_active > 0
    cohorts = metrics.retention_cohorts(start=start, end=end)
    assert cohorts and any(c.returned[0] for c in cohorts)
    assert metrics.registration_funnel(start=start, end=end)[-1].count > 0
    assert metrics.account_updates_by_type(start=start, end=end)
    assert metrics.login_issues(start=start, end=end).by_reason["wrong_password"] > 0
    assert metrics.suspicious_events(start=start, end=end).get("new_device", 0) > 0
    assert metrics.privacy_changes(start=start, end=end)["consent_given"] > 0
    assert metrics.recovery(start=start, end=end).requests > 0
    assert metrics.lockouts(start=start, end=end).count > 0
    assert 3 < metrics.average_session_minutes(start=start, end=end) < 60
    sessions = AccountSession.objects.filter(started_at__gte=start, started_at__lt=end)
    assert sessions.filter(device_type="mobile").count() > sessions.filter(device_type="desktop").count() > 0
    by_hour = metrics.activity_by_hour(start=start, end=end)
    assert by_hour.index(max(by_hour)) >= 17  # the evening peak, like the sign-ups
    assert all(metrics.activity_by_weekday(start=start, end=end))
    assert metrics.feedback_ratings(start=start, end=end, topic="registration").count > 0
    assert Feedback.objects.filter(topic=Feedback.Topic.NPS, created_at__gte=start, created_at__lt=end).exists()

    # As the product writes them: one row per user and day, sessions never end before they start.
    assert not ActivityDay.objects.values("user", "day").annotate(n=Count("pk")).filter(n__gt=1).exists()
    assert not AccountSession.objects.filter(last_seen_at__lt=F("started_at")).exists()
    assert ctx.created["accounts.AccountEvent"] > ctx.created["accounts.AccountSession"]


@pytest.mark.django_db
def test_the_activity_phase_is_deterministic(settings):
    settings.DEMO_MODE = True
    first = demo.seed(users=200, seed=9, end=END, phases=PHASES).created
    from accounts.models import AccountEvent, ActivityHour, User

    User.objects.filter(is_staff=False).delete()
    ActivityHour.objects.all().delete()
    AccountEvent.objects.all().delete()
    second = demo.seed(users=200, seed=9, end=END, phases=PHASES).created
    assert first == second
