"""Account status: suspension (with expiry), ban (with fingerprints), reinstatement, deactivation."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import OperationalError, close_old_connections, connection
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import selectors, services
from accounts.models import AccountEvent, AccountStatus, IdentityFingerprint, RegistrationSignal, User
from saypro.audit.models import AuditEntry
from saypro.errors import DomainError, InvalidInput
from tests.accounts.helpers import submitted
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_suspension_signs_the_user_out_refuses_the_token_and_tells_them(
    client, moderator, django_capture_on_commit_callbacks
):
    user = UserFactory(email="seller@example.com")
    token = Token.objects.create(user=user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/v1/registrations/me/").status_code == 404  # signed in, no registration
    client.force_login(user)
    until = timezone.now() + timedelta(days=3)

    with django_capture_on_commit_callbacks(execute=True):
        services.user_suspend(user=user, by=moderator, reason="Counterfeit goods", until=until)

    user.refresh_from_db()
    assert (user.status, user.is_active, user.suspended_until) == (AccountStatus.SUSPENDED, False, until)
    assert api.get("/api/v1/registrations/me/").status_code == 401
    assert not Token.objects.filter(user=user).exists()
    assert client.login(email="seller@example.com", password="correct-horse-battery-staple") is False
    event = AccountEvent.objects.get(user=user, kind=AccountEvent.Kind.SUSPENDED)
    assert event.actor == moderator and event.data["until"] == until.isoformat()
    entry = AuditEntry.objects.get(action="account.suspended")
    assert entry.actor == moderator and entry.reason == "Counterfeit goods"
    assert mail.outbox[-1].to == ["seller@example.com"]
    assert "suspended" in mail.outbox[-1].subject and "Counterfeit goods" in mail.outbox[-1].body
    status = selectors.user_status(user)
    assert status.is_restricted and not status.can_sign_in and status.until == until


def test_suspension_needs_a_reason_and_a_future_end(moderator):
    user = UserFactory()
    with pytest.raises(InvalidInput) as caught:
        services.user_suspend(user=user, by=moderator, reason=" ")
    assert "reason" in caught.value.fields
    with pytest.raises(InvalidInput):
        services.user_suspend(user=user, by=moderator, reason="spam", until=timezone.now() - timedelta(hours=1))
    with pytest.raises(DomainError):
        services.user_suspend(user=moderator, by=moderator, reason="testing")
    user.refresh_from_db()
    assert user.status == AccountStatus.ACTIVE


def test_suspending_twice_with_the_same_end_records_one_decision(moderator):
    user = UserFactory()
    services.user_suspend(user=user, by=moderator, reason="spam")
    services.user_suspend(user=user, by=moderator, reason="spam")
    assert AccountEvent.objects.filter(kind=AccountEvent.Kind.SUSPENDED).count() == 1


def test_a_suspension_ends_by_itself(moderator, django_capture_on_commit_callbacks):
    user = UserFactory()
    services.user_suspend(user=user, by=moderator, reason="spam", until=timezone.now() + timedelta(days=1))
    assert services.suspensions_expire() == 0
    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        assert selectors.user_status(user).status == AccountStatus.ACTIVE
        with django_capture_on_commit_callbacks(execute=True):
            from accounts import tasks

            assert tasks.suspensions_expire.delay().get() == 1
        assert services.suspensions_expire() == 0
    user.refresh_from_db()
    assert (user.status, user.is_active, user.suspended_until) == (AccountStatus.ACTIVE, True, None)
    event = AccountEvent.objects.get(kind=AccountEvent.Kind.REINSTATED)
    assert event.actor is None and event.reason == AccountStatus.SUSPENDED
    assert "active again" in mail.outbox[-1].subject


def test_a_ban_keeps_fingerprints_so_a_new_sign_up_is_caught(moderator):
    banned = submitted(email="fraudster@gmail.com", phone="+27 82 555 0199").user
    services.user_ban(user=banned, by=moderator, reason="Stolen cards")
    banned.refresh_from_db()
    assert banned.status == AccountStatus.BANNED and not banned.is_active
    assert IdentityFingerprint.objects.filter(reason="banned").count() == 2

    again = submitted(email="fraud.ster+new@gmail.com", phone="+27 82 555 0199")
    signal = again.signals.get(code=RegistrationSignal.Code.REREGISTRATION)
    assert "previously banned" in signal.detail
    with pytest.raises(DomainError):
        services.user_suspend(user=banned, by=moderator, reason="again")


def test_reinstating_a_ban_forgets_its_fingerprints(administrator, moderator):
    user = submitted(email="mistake@example.com", phone="+27 82 555 0177").user
    services.user_ban(user=user, by=moderator, reason="Wrong account")
    services.user_reinstate(user=user, by=administrator, reason="Banned by mistake")
    user.refresh_from_db()
    assert user.status == AccountStatus.ACTIVE and user.is_active
    assert not IdentityFingerprint.objects.filter(reason="banned").exists()
    assert list(AccountEvent.objects.filter(user=user).order_by("at", "pk").values_list("kind", flat=True)) == [
        "banned",
        "reinstated",
    ]


def test_deactivation_and_reactivation_are_recorded(django_capture_on_commit_callbacks):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.account_deactivate(user=user, reason="Taking a break")
    user.refresh_from_db()
    assert user.status == AccountStatus.DEACTIVATED and not user.is_active
    assert selectors.user_status(user).can_sign_in
    with pytest.raises(DomainError):
        services.user_reinstate(user=user, by=None, reason="no")
    services.account_reactivate(user=user, by=user)
    user.refresh_from_db()
    assert user.status == AccountStatus.ACTIVE
    kinds = list(AccountEvent.objects.filter(user=user).order_by("pk").values_list("kind", flat=True))
    assert kinds == ["deactivated", "reactivated"]
    assert "deactivated" in mail.outbox[0].subject


@pytest.mark.django_db(transaction=True)
def test_two_moderators_banning_at_once_end_in_one_ban(moderator, administrator):
    user = UserFactory()
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def ban(actor):
        barrier.wait()
        try:
            for _attempt in range(50):
                try:
                    services.user_ban(user=User.objects.get(pk=user.pk), by=actor, reason="fraud")
                    return
                except OperationalError:
                    # SQLite refuses a concurrent writer instead of waiting; PostgreSQL waits on the row lock.
                    assert connection.vendor == "sqlite"
                    time.sleep(0.01)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=ban, args=(actor,)) for actor in (moderator, administrator)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert AccountEvent.objects.filter(kind=AccountEvent.Kind.BANNED).count() == 1
    assert AuditEntry.objects.filter(action="account.banned").count() == 1
