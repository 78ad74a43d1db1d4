"""The moderation queue prefers the moderators on duty: a case's deadline warning goes to those on shift."""

from __future__ import annotations

from datetime import time

import pytest
import time_machine
from django.core import mail

from accounts import roles
from accounts.models import AgentProfile
from moderation import services
from moderation.models import Case
from saypro.sla.models import BusinessHours, Calendar
from saypro.sla.services import sla_sweep
from tests.factories import ListingFactory, UserFactory

pytestmark = pytest.mark.django_db


def moderator_on(email: str, start: time, end: time):
    calendar = Calendar.objects.create(name=f"{email} shift", kind=Calendar.Kind.BUSINESS, time_zone="UTC")
    BusinessHours.objects.bulk_create(
        BusinessHours(calendar=calendar, weekday=day, start=start, end=end) for day in range(7)
    )
    user = UserFactory(email=email, roles=[roles.MODERATOR])
    AgentProfile.objects.create(user=user, working_hours=calendar)
    return user


def test_the_case_warning_goes_to_the_moderators_on_shift(reporter, django_capture_on_commit_callbacks):
    moderator_on("early@x.test", time(0), time(12))
    late = moderator_on("late@x.test", time(12), time(23, 59))
    with time_machine.travel("2026-03-02 08:00:00Z", tick=False):
        listing = ListingFactory()
        services.flag_create(reporter=reporter, kind="listing", object_id=listing.pk, reason="fraud", comment="Scam")
    assert Case.objects.filter(object_id=listing.pk).exists()
    mail.outbox = []
    # 9 h of 12 (75 %) is 17:00: the late shift is on.
    with time_machine.travel("2026-03-02 17:01:00Z", tick=False), django_capture_on_commit_callbacks(execute=True):
        assert sla_sweep().warned == 1
    assert [m.to for m in mail.outbox] == [[late.email]]
