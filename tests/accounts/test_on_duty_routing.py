"""Reviewers' and moderators' queues prefer the staff on duty: deadline warnings go to those on shift (everyone in
the role when nobody is), and a registration claimed by a reviewer who went off duty passes to one who is on."""

from __future__ import annotations

from datetime import time

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from accounts import roles, services
from accounts.models import AgentProfile, Registration, RegistrationStatus
from accounts.routing import staff_emails_on_duty
from saypro.audit.models import AuditEntry
from saypro.errors import DomainError
from saypro.sla.models import BusinessHours, Calendar
from saypro.sla.services import sla_sweep
from tests.accounts.helpers import submitted
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# Monday 2 March 2026.
START = "2026-03-02 08:00:00Z"


def shift(name: str, start: time, end: time) -> Calendar:
    """Every day from `start` to `end`, UTC."""
    calendar = Calendar.objects.create(name=name, kind=Calendar.Kind.BUSINESS, time_zone="UTC")
    BusinessHours.objects.bulk_create(
        BusinessHours(calendar=calendar, weekday=day, start=start, end=end) for day in range(7)
    )
    return calendar


@pytest.fixture
def shifts():
    return {"day": shift("Day", time(6), time(18)), "night": shift("Night", time(18), time(23, 59))}


def staff_member(email: str, role: str, calendar: Calendar | None, **profile):
    user = UserFactory(email=email, roles=[role])
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    AgentProfile.objects.create(user=user, working_hours=calendar, **profile)
    return user


def in_review() -> Registration:
    registration = submitted(email=f"applicant{Registration.objects.count()}@mailinator.com")
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.NEEDS_REVIEW
    return registration


def test_each_role_is_alerted_through_its_members_on_duty_or_all_of_them_when_none_is(shifts):
    day = staff_member("day@x.test", roles.REVIEWER, shifts["day"])
    night = staff_member("night@x.test", roles.REVIEWER, shifts["night"])
    always = UserFactory(email="moderator@x.test", roles=[roles.MODERATOR])  # no shift set: always on duty
    off = staff_member("off@x.test", roles.MODERATOR, shifts["day"], is_available=False)
    with time_machine.travel("2026-03-02 09:00:00Z", tick=False):
        assert staff_emails_on_duty(roles.REVIEWER, roles.MODERATOR) == [day.email, always.email]
    with time_machine.travel("2026-03-02 20:00:00Z", tick=False):
        assert staff_emails_on_duty(roles.REVIEWER) == [night.email]
    # 00:30: between the night shift's end and the day shift's start nobody is on, so every reviewer is told.
    with time_machine.travel("2026-03-03 00:30:00Z", tick=False):
        assert sorted(staff_emails_on_duty(roles.REVIEWER)) == [day.email, night.email]
    assert off.email not in staff_emails_on_duty(roles.MODERATOR)


def test_the_registration_deadline_warning_goes_to_the_reviewers_on_shift(shifts, django_capture_on_commit_callbacks):
    staff_member("day@x.test", roles.REVIEWER, shifts["day"])
    night = staff_member("night@x.test", roles.REVIEWER, shifts["night"])
    with time_machine.travel(START, tick=False):
        in_review()
    mail.outbox = []
    # 36 h later (75 %) is Tuesday 20:00: the night shift is on.
    with time_machine.travel("2026-03-03 20:00:00Z", tick=False), django_capture_on_commit_callbacks(execute=True):
        sla_sweep()
    assert [m.to for m in mail.outbox] == [[night.email]]


def test_a_claim_lapses_when_its_reviewer_goes_off_duty(shifts, client):
    day = staff_member("day@x.test", roles.REVIEWER, shifts["day"])
    night = staff_member("night@x.test", roles.REVIEWER, shifts["night"])
    with time_machine.travel("2026-03-02 10:00:00Z", tick=False):
        registration = in_review()
        services.registration_claim(registration=registration, by=day)
        with pytest.raises(DomainError) as caught:
            services.registration_claim(registration=registration, by=night)
        assert caught.value.code == "already_claimed"
    with time_machine.travel("2026-03-02 19:00:00Z", tick=False):
        client.force_login(night)
        page = client.get(reverse("accounts:registration", args=[registration.pk]))
        assert page.status_code == 200
        assert 'data-testid="claim-lapsed"' in page.content.decode()
        assert "Decide anyway" not in page.content.decode()
        services.registration_claim(registration=registration, by=night)
    registration.refresh_from_db()
    assert registration.claimed_by == night
    taken = AuditEntry.objects.filter(action="registration.claim").latest("at")
    assert taken.actor == night and taken.data == {"from": day.pk}


def test_a_claim_by_a_colleague_on_duty_still_asks_to_decide_anyway(shifts, client):
    day = staff_member("day@x.test", roles.REVIEWER, shifts["day"])
    other = staff_member("other@x.test", roles.REVIEWER, shifts["day"])
    with time_machine.travel("2026-03-02 10:00:00Z", tick=False):
        registration = in_review()
        services.registration_claim(registration=registration, by=day)
        client.force_login(other)
        page = client.get(reverse("accounts:registration", args=[registration.pk])).content.decode()
    assert "Decide anyway" in page and 'data-testid="claim-lapsed"' not in page


def test_an_administrator_sets_a_shift_in_the_admin(client, administrator, reviewer, shifts):
    reviewer.is_staff = True
    reviewer.save(update_fields=["is_staff"])
    client.force_login(administrator)
    response = client.post(
        reverse("admin:accounts_agentprofile_add"),
        {
            "user": reviewer.pk,
            "languages": "en, zu, en",
            "regions": "Gauteng",
            "working_hours": shifts["day"].pk,
            "is_available": "on",
            "max_open_items": "40",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    shift_row = AgentProfile.objects.get(user=reviewer)
    assert (shift_row.languages, shift_row.regions, shift_row.working_hours) == (
        ["en", "zu"],
        ["Gauteng"],
        shifts["day"],
    )
    listing = client.get(reverse("admin:accounts_agentprofile_changelist")).content.decode()
    assert "Registration reviewer" in listing and "Day" in listing
    # A marketplace user cannot be given a shift.
    outsider = UserFactory(email="member@x.test")
    response = client.post(
        reverse("admin:accounts_agentprofile_add"),
        {"user": outsider.pk, "languages": "", "regions": "", "max_open_items": "40"},
    )
    assert response.status_code == 200 and "Shifts are for staff accounts." in response.content.decode()
