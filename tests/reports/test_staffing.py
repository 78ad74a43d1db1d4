"""Staffing at the peaks: the arrivals forecast from hand-built history (a campaign spike left out of the weekly
pattern, a running campaign added), the pace measured from the audit trail, the breach projection against the
shifts, the alert raised once per queue and shift window, and its dashboard banner."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from itertools import count

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.urls import reverse

from accounts import roles
from accounts.models import AgentProfile, Registration
from reports import services
from reports.models import StaffingAlert
from reports.staffing import HORIZON_HOURS, staffing_forecast
from saypro.audit.models import AuditEntry
from saypro.sla.models import BusinessHours, Calendar, Clock, ClockState, Policy
from tests.factories import RegistrationFactory, UserFactory

pytestmark = pytest.mark.django_db

METRIC = "registration.approval"
# Monday 9 March 2026, 08:00 UTC (10:00 in Johannesburg).
NOW = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
_ids = count(1_000_000)


def clocks(n: int, started_at: datetime, *, targets: list[int] | None = None, due_at: datetime | None = None) -> None:
    """`n` registration clocks started at one instant: stopped (history), or running when `due_at` is given."""
    policy = Policy.objects.get(metric=METRIC, is_default=True)
    kind = ContentType.objects.get_for_model(Registration)
    running = due_at is not None
    Clock.objects.bulk_create(
        Clock(
            metric=METRIC,
            policy=policy,
            target_type=kind,
            target_id=targets[i] if targets else next(_ids),
            state=ClockState.RUNNING if running else ClockState.STOPPED,
            started_at=started_at,
            due_at=due_at or started_at + timedelta(hours=48),
            stopped_at=None if running else started_at + timedelta(hours=2),
            met=None if running else True,
        )
        for i in range(n)
    )


def campaign_signups(n: int, started_at: datetime) -> None:
    ids = [RegistrationFactory(campaign="PAYDAY-DEALS").pk for _ in range(n)]
    clocks(n, started_at, targets=ids)


def decisions(actor, *moments: datetime, action: str = "registration.approve") -> None:
    kind = ContentType.objects.get_for_model(Registration)
    AuditEntry.objects.bulk_create(
        AuditEntry(
            at=moment,
            actor=actor,
            actor_label=actor.email if actor else "system",
            action=action,
            target_type=kind,
            target_id=str(next(_ids)),
            target_repr="Registration",
        )
        for moment in moments
    )


def shift(name: str, start: time, end: time) -> Calendar:
    calendar = Calendar.objects.create(name=name, kind=Calendar.Kind.BUSINESS, time_zone="UTC")
    BusinessHours.objects.bulk_create(
        BusinessHours(calendar=calendar, weekday=day, start=start, end=end) for day in range(7)
    )
    return calendar


def on_shift(email: str, role: str, calendar: Calendar | None):
    user = UserFactory(email=email, roles=[role])
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    AgentProfile.objects.create(user=user, working_hours=calendar)
    return user


@pytest.fixture
def history():
    """Two sign-ups every Monday at 10:00 UTC for four weeks, a campaign spike of 40 two weeks ago, one older week
    outside the window, and a campaign that brought 12 sign-ups yesterday evening."""
    for weeks in range(1, 5):
        clocks(2, NOW + timedelta(hours=2) - timedelta(weeks=weeks))
    campaign_signups(40, NOW + timedelta(hours=2, minutes=20) - timedelta(weeks=2))
    clocks(50, NOW + timedelta(hours=2) - timedelta(weeks=5))
    campaign_signups(12, NOW - timedelta(hours=12))


@pytest.fixture
def pace():
    """A reviewer who took 6 decisions in 2 person-hours: 3 per person-hour. Automatic approvals and claims are
    not decisions by a person."""
    reviewer = UserFactory(email="past.reviewer@x.test", roles=[roles.REVIEWER])
    day = NOW - timedelta(days=3)
    decisions(reviewer, day, day + timedelta(minutes=10), day + timedelta(minutes=20))
    decisions(
        reviewer, day + timedelta(hours=5), day + timedelta(hours=5, minutes=5), day + timedelta(hours=5, minutes=9)
    )
    decisions(None, day, day, action="registration.auto_approve")
    decisions(reviewer, day, action="registration.claim")


@pytest.fixture
def shifts():
    return {"day": shift("Day shift", time(6), time(18)), "night": shift("Night shift", time(18), time(23, 59))}


@pytest.fixture
def backlog():
    """30 registrations waiting, due at 12:30 today."""
    clocks(30, NOW - timedelta(hours=36), due_at=NOW + timedelta(hours=4, minutes=30))


def registrations(now: datetime = NOW):
    return next(f for f in staffing_forecast(now=now, with_people=True) if f.promise.metric == METRIC)


def test_the_forecast_averages_the_same_weekday_and_hour_leaving_campaign_spikes_out(history):
    forecast = registrations()
    assert len(forecast.hours) == HORIZON_HOURS and forecast.hours[0].start == NOW
    # 10:00: (2 × 4 weeks) / 4 = 2 from the weekly pattern (the 40-strong spike is left out, the 5th week too),
    # plus the running campaign's pace: 12 sign-ups in the last day = 0.5 an hour.
    ten = forecast.hours[2]
    assert ten.start == NOW + timedelta(hours=2)
    assert ten.arrivals == pytest.approx(2.5) and ten.campaign == pytest.approx(0.5)
    assert forecast.hours[0].arrivals == pytest.approx(0.5)
    # The same hour a week later (outside the horizon) is not in the forecast; the next Monday 10:00 would be.
    assert sum(hour.arrivals for hour in forecast.hours) == pytest.approx(2 + 0.5 * HORIZON_HOURS)


def test_without_a_running_campaign_only_the_weekly_pattern_is_expected():
    for weeks in range(1, 5):
        clocks(3, NOW + timedelta(hours=5) - timedelta(weeks=weeks))
    campaign_signups(8, NOW - timedelta(days=3))  # ended before yesterday: not running
    forecast = registrations()
    assert forecast.hours[5].arrivals == pytest.approx(3) and forecast.hours[5].campaign == 0
    assert forecast.hours[4].arrivals == 0


def test_the_pace_is_decisions_by_people_per_person_hour(pace):
    forecast = registrations()
    assert (forecast.decisions, forecast.person_hours) == (6, 2)
    assert forecast.rate == pytest.approx(3.0)


def test_the_backlog_breaches_before_the_night_shift_when_one_reviewer_is_on(pace, shifts, backlog, history):
    on_shift("day@x.test", roles.REVIEWER, shifts["day"])
    on_shift("night@x.test", roles.REVIEWER, shifts["night"])
    forecast = registrations()
    # One reviewer on the day shift decides 3 an hour: 08–11 serve 12 of the 30, still in time; at the end of the
    # 12:00 hour, in which they fall due, 30 − 15 = 15 are waiting past the deadline.
    assert [hour.staff for hour in forecast.hours[:3]] == [1, 1, 1]
    assert forecast.hours[3].backlog == pytest.approx(18 + sum(h.arrivals for h in forecast.hours[:4]))
    assert forecast.hours[3].breaching == 0
    assert forecast.hours[4].breaching == pytest.approx(15)
    assert forecast.breach_at == NOW + timedelta(hours=4)
    assert forecast.next_shift_at == NOW + timedelta(hours=10)  # 18:00: the night shift comes on
    assert forecast.breaches_before_next_shift
    assert sorted((p.email, p.on_duty) for p in forecast.people) == [("day@x.test", True), ("night@x.test", False)]


def test_two_reviewers_on_the_day_shift_keep_up(pace, shifts, backlog):
    on_shift("day@x.test", roles.REVIEWER, shifts["day"])
    on_shift("day2@x.test", roles.REVIEWER, shifts["day"])
    forecast = registrations()
    assert forecast.hours[4].capacity == pytest.approx(6)
    assert forecast.breach_at is None and not forecast.breaches_before_next_shift


def test_items_already_past_their_deadline_are_not_counted_as_new_breaches(pace, shifts):
    on_shift("day@x.test", roles.REVIEWER, shifts["day"])
    clocks(5, NOW - timedelta(hours=60), due_at=NOW - timedelta(hours=12))
    forecast = registrations()
    assert forecast.open_now == 5 and forecast.breach_at is None
    assert forecast.hours[0].backlog == pytest.approx(2) and forecast.hours[1].backlog == 0


def test_without_any_decision_recorded_nothing_is_projected(shifts, backlog):
    on_shift("day@x.test", roles.REVIEWER, shifts["day"])
    forecast = registrations()
    assert forecast.rate is None and forecast.breach_at is None


@pytest.fixture
def managers(shifts):
    return {
        "day": on_shift("day.manager@x.test", roles.MANAGER, shifts["day"]),
        "night": on_shift("night.manager@x.test", roles.MANAGER, shifts["night"]),
    }


def test_the_alert_is_raised_once_per_queue_and_shift_window_and_mails_the_managers_on_duty(
    pace, shifts, backlog, managers, django_capture_on_commit_callbacks
):
    on_shift("day@x.test", roles.REVIEWER, shifts["day"])
    on_shift("night@x.test", roles.REVIEWER, shifts["night"])
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        raised = services.staffing_alerts_raise()
    assert [alert.metric for alert in raised] == [METRIC]
    alert = StaffingAlert.objects.get()
    assert (alert.breach_at, alert.breaching, alert.open_items) == (NOW + timedelta(hours=4), 15, 30)
    assert alert.window_end == alert.next_shift_at == NOW + timedelta(hours=10)
    assert [m.to for m in mail.outbox] == [[managers["day"].email]]
    assert "Registrations decided within 48 h" in mail.outbox[0].subject
    assert "before the next shift starts" in mail.outbox[0].body
    # Every later run within the same window changes nothing: no second alert, no second e-mail.
    for later in ("2026-03-09 08:15:00Z", "2026-03-09 09:00:00Z", "2026-03-09 11:45:00Z"):
        with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
            assert services.staffing_alerts_raise() == []
    assert StaffingAlert.objects.count() == 1 and len(mail.outbox) == 1
    # Sending it again (a task delivered twice) sends nothing more.
    with time_machine.travel(NOW, tick=False):
        assert services.staffing_alert_send(alert_id=alert.pk) is False
    assert len(mail.outbox) == 1


def test_no_alert_when_the_breach_comes_after_the_next_shift_starts(pace, shifts, managers):
    on_shift("day@x.test", roles.REVIEWER, shifts["day"])
    on_shift("night@x.test", roles.REVIEWER, shifts["night"])
    # Due at 20:30: one reviewer cannot clear 60 by then, but the breach falls in the night shift's window.
    clocks(60, NOW - timedelta(hours=24), due_at=NOW + timedelta(hours=12, minutes=30))
    with time_machine.travel(NOW, tick=False):
        forecast = registrations()
        assert forecast.breach_at is not None and forecast.breach_at > forecast.next_shift_at
        assert services.staffing_alerts_raise() == []


def test_the_banner_shows_the_alert_to_its_queue_and_to_managers_until_the_window_ends(
    client, pace, shifts, backlog, managers, reviewer, agent, django_capture_on_commit_callbacks
):
    on_shift("day@x.test", roles.REVIEWER, shifts["day"])
    on_shift("night@x.test", roles.REVIEWER, shifts["night"])
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        services.staffing_alerts_raise()
    home = reverse("dashboard:home")
    with time_machine.travel("2026-03-09 09:00:00Z", tick=False):
        client.force_login(managers["night"])
        page = client.get(home).content.decode()
        assert page.count('data-testid="staffing-alert"') == 1
        assert "Registrations decided within 48 h of review time: short-staffed." in page
        assert reverse("dashboard:staffing") in page
        client.force_login(reviewer)
        page = client.get(home).content.decode()
        assert 'data-testid="staffing-alert"' in page and reverse("dashboard:staffing") not in page
        client.force_login(agent)
        assert 'data-testid="staffing-alert"' not in client.get(home).content.decode()
    # The alert speaks for the day shift: when the window ends, the banner goes.
    with time_machine.travel("2026-03-09 18:30:00Z", tick=False):
        client.force_login(managers["night"])
        assert 'data-testid="staffing-alert"' not in client.get(home).content.decode()


def test_the_staffing_page_shows_each_queue_with_a_bounded_number_of_queries(
    client, manager, pace, shifts, backlog, history, django_assert_max_num_queries
):
    on_shift("day@x.test", roles.REVIEWER, shifts["day"])
    for n in range(3):
        on_shift(f"night{n}@x.test", roles.REVIEWER, shifts["night"])
    on_shift("moderator@x.test", roles.MODERATOR, None)
    client.force_login(manager)
    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(20):
        response = client.get(reverse("dashboard:staffing"))
    assert response.status_code == 200
    page = response.content.decode()
    for key in ("registration-approval", "ticket-resolution", "message-first_response", "moderation-decision"):
        assert f'data-testid="staffing-{key}"' in page
    assert "<svg" in page
    assert 'data-testid="staffing-registration-approval-open">30<' in page
    assert "of which 24 from campaigns running now" in page
    assert "3.0 decisions per person-hour (6 in 2 person-hours)" in page
    assert "Breach before the next shift." in page
    assert "Night shift" in page and "Always on" in page and "On duty" in page


def test_beat_checks_the_staffing_forecast():
    from saypro.celery import app as celery_app

    schedule = {entry["task"] for entry in celery_app.conf.beat_schedule.values()}
    assert "reports.tasks.staffing_check" in schedule
