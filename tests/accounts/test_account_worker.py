"""Account work done by a real Celery worker on the configured broker: notices, the activity flush, expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts import activity, services, tasks
from accounts.models import AccountStatus, ActivityDay, User
from tests.conftest import wait_for
from tests.factories import UserFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_the_worker_tells_a_banned_user_and_flushes_activity(celery_worker_live, moderator):
    user = UserFactory(email="seller@example.com")
    services.user_ban(user=user, by=moderator, reason="Counterfeit goods")
    wait_for(lambda: any("closed" in m.subject and m.to == ["seller@example.com"] for m in mail.outbox))

    other = UserFactory()
    for _ in range(3):
        activity.activity_record(user_id=other.pk, feature=activity.MESSAGE_SENT)
    tasks.activity_flush.delay(settle_seconds=0)
    wait_for(lambda: ActivityDay.objects.filter(user=other, messages_sent=3).exists())


def test_the_worker_ends_a_suspension_whose_time_is_up(celery_worker_live, moderator):
    user = UserFactory()
    services.user_suspend(user=user, by=moderator, reason="Spam", until=timezone.now() + timedelta(seconds=1))

    def expired():
        tasks.suspensions_expire.delay()
        return User.objects.filter(pk=user.pk, status=AccountStatus.ACTIVE).exists()

    wait_for(expired, timeout=30, interval=0.25)
