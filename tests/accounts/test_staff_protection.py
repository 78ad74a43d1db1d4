"""Who may change whose account status: a staff account only by an administrator, an administrator's account only
by another superuser, on every path (API, admin pages, lockout release, bulk actions, moderation decisions)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import roles, security, services
from accounts.models import AccountStatus, Lockout, User
from marketplace import services as market
from moderation import services as moderation
from moderation.models import Case
from saypro.audit.models import AuditEntry
from saypro.errors import DomainError
from tests.factories import ListingFactory, UserFactory

pytestmark = pytest.mark.django_db

ACTIONS = ("suspend", "ban", "reinstate")


def superuser(email: str = "root@saypro.example") -> User:
    return UserFactory(email=email, is_staff=True, is_superuser=True)


def api_as(user: User) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def post_status(actor: User, target: User, action: str):
    return api_as(actor).post(
        f"/api/v1/staff/users/{target.pk}/{action}/", {"reason": "Testing who may act on whom"}, format="json"
    )


def staff_targets() -> dict[str, User]:
    targets = {
        role: UserFactory(email=f"target.{i}@saypro.example", roles=[role]) for i, role in enumerate(roles.ROLES)
    }
    targets["staff without a role"] = UserFactory(email="target.bare@saypro.example", is_staff=True)
    return targets


@pytest.mark.parametrize("action", ["suspend", "ban"])
def test_a_moderator_cannot_suspend_or_ban_an_administrator_through_the_api(moderator, administrator, action):
    response = post_status(moderator, administrator, action)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "superuser" in response.json()["error"]["message"]
    administrator.refresh_from_db()
    assert administrator.status == AccountStatus.ACTIVE and administrator.is_active
    assert not AuditEntry.objects.filter(action__startswith="account.").exists()


@pytest.mark.parametrize("action", ACTIONS)
def test_no_one_but_an_administrator_changes_a_staff_accounts_status(moderator, administrator, action):
    for role, target in staff_targets().items():
        if role == roles.ADMINISTRATOR:
            continue
        if action == "reinstate":
            services.user_suspend(user=target, by=superuser(f"root.{target.pk}@saypro.example"), reason="Holiday")
        before = User.objects.get(pk=target.pk).status
        refused = post_status(moderator, target, action)
        assert refused.status_code == 403, role
        assert refused.json()["error"] == {
            "code": "permission_denied",
            "message": f"Only an administrator can {action} a staff account.",
            "fields": {},
        }
        assert User.objects.get(pk=target.pk).status == before
        allowed = post_status(administrator, target, action)
        assert allowed.status_code == 200, (role, allowed.json())


@pytest.mark.parametrize("action", ACTIONS)
def test_only_another_superuser_changes_an_administrators_status(administrator, action):
    colleague = UserFactory(email="second.admin@saypro.example", roles=[roles.ADMINISTRATOR])
    root = superuser()
    other_root = superuser("root2@saypro.example")
    for target in (colleague, other_root):
        if action == "reinstate":
            services.user_suspend(user=target, by=superuser(f"r{target.pk}@saypro.example"), reason="Holiday")
        refused = post_status(administrator, target, action)
        assert refused.status_code == 403
        assert refused.json()["error"]["message"] == f"Only a superuser can {action} an administrator's account."
        assert post_status(root, target, action).status_code == 200


def test_a_moderator_cannot_reinstate_an_administrator_a_superuser_suspended(moderator, administrator):
    services.user_suspend(user=administrator, by=superuser(), reason="Left the company")
    assert post_status(moderator, administrator, "reinstate").status_code == 403
    administrator.refresh_from_db()
    assert administrator.status == AccountStatus.SUSPENDED


def test_marketplace_users_are_still_suspended_by_moderators(moderator):
    seller = UserFactory(email="seller@example.com")
    assert post_status(moderator, seller, "suspend").status_code == 200
    assert post_status(moderator, seller, "reinstate").status_code == 200


def test_the_guard_covers_deactivation_and_reactivation_by_someone_else(moderator, administrator):
    manager = UserFactory(email="target.manager@saypro.example", roles=[roles.MANAGER])
    with pytest.raises(services.StatusChangeRefused):
        services.account_deactivate(user=manager, by=moderator)
    services.account_deactivate(user=manager)  # one's own account: stepping away is one's own call
    with pytest.raises(services.StatusChangeRefused):
        services.account_reactivate(user=manager, by=moderator)
    services.account_reactivate(user=manager, by=administrator)
    assert User.objects.get(pk=manager.pk).status == AccountStatus.ACTIVE


def test_a_suspension_of_an_administrator_still_runs_out(administrator):
    services.user_suspend(
        user=administrator, by=superuser(), reason="Cooling off", until=timezone.now() + timedelta(minutes=5)
    )
    assert services.suspensions_expire(now=timezone.now() + timedelta(minutes=6)) == 1
    administrator.refresh_from_db()
    assert administrator.status == AccountStatus.ACTIVE


def _lock_out(user: User) -> Lockout:
    now = timezone.now()
    return Lockout.objects.create(
        user=user, identifier=user.email, failures=5, started_at=now, until=now + timedelta(minutes=15)
    )


def test_an_administrators_lockout_is_released_only_by_another_superuser(administrator):
    colleague = UserFactory(email="second.admin@saypro.example", roles=[roles.ADMINISTRATOR])
    lockout = _lock_out(colleague)
    refused = api_as(administrator).post(f"/api/v1/staff/users/{colleague.pk}/unlock/")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    with pytest.raises(services.StatusChangeRefused):
        security.lockout_release(lockout=lockout, by=administrator)
    lockout.refresh_from_db()
    assert lockout.is_active()
    root = superuser()
    assert api_as(root).post(f"/api/v1/staff/users/{colleague.pk}/unlock/").json() == {"released": 1}


def test_no_one_releases_their_own_lockout(administrator):
    _lock_out(administrator)
    with pytest.raises(services.StatusChangeRefused):
        security.lockouts_release_for(user=administrator, by=administrator)


def test_the_admin_status_page_refuses_a_moderator_with_a_message(client, moderator, administrator):
    client.force_login(moderator)
    timeline = client.get(reverse("admin:accounts_user_timeline", args=[administrator.pk]))
    assert timeline.status_code == 200
    assert not timeline.context["can_change_status"]
    assert "Only a superuser" in timeline.context["status_refusal"]

    response = client.post(
        reverse("admin:accounts_user_status", args=[administrator.pk]), {"action": "ban", "reason": "Because"}
    )
    assert response.status_code == 403
    assert "Only a superuser can ban an administrator&#x27;s account." in response.content.decode()
    administrator.refresh_from_db()
    assert administrator.status == AccountStatus.ACTIVE


def test_the_admin_unlock_page_and_lockout_action_refuse_a_non_superuser(client, administrator):
    colleague = UserFactory(email="second.admin@saypro.example", roles=[roles.ADMINISTRATOR])
    lockout = _lock_out(colleague)
    client.force_login(administrator)
    response = client.post(reverse("admin:accounts_user_unlock", args=[colleague.pk]))
    assert response.status_code == 403 and "Only a superuser can unlock" in response.content.decode()
    action = client.post(
        reverse("admin:accounts_lockout_changelist"),
        {"action": "release_selected", "_selected_action": [lockout.pk]},
        follow=True,
    )
    assert "Only a superuser can unlock" in action.content.decode()
    lockout.refresh_from_db()
    assert lockout.is_active()


def test_bulk_actions_skip_staff_accounts(administrator):
    agent = UserFactory(email="target.agent@saypro.example", roles=[roles.SUPPORT_AGENT])
    seller = UserFactory(email="seller@example.com")
    result = market.users_bulk(ids=[agent.pk, seller.pk], by=administrator, action="ban", reason="Fraud ring")
    assert result.done == [seller.pk] and agent.pk in result.skipped
    assert User.objects.get(pk=agent.pk).status == AccountStatus.ACTIVE


def test_a_moderation_decision_cannot_suspend_a_staff_author(moderator):
    manager = UserFactory(email="target.manager@saypro.example", roles=[roles.MANAGER])
    reporter = UserFactory(email="reporter@example.com")
    listing = ListingFactory(seller=manager)
    moderation.flag_create(reporter=reporter, kind="listing", object_id=listing.pk, reason="fraud", comment="Scam")
    case = Case.objects.get(object_id=listing.pk)
    with pytest.raises(DomainError) as refused:
        moderation.case_decide(case=case, by=moderator, action="suspend_user", rule="scam", reason="Scam.")
    assert refused.value.message == "Only an administrator can suspend a staff account."
    assert User.objects.get(pk=manager.pk).status == AccountStatus.ACTIVE
    assert Case.objects.get(pk=case.pk).status != "decided"


def test_the_unchanged_refusal_of_acting_on_oneself(moderator):
    with pytest.raises(DomainError) as refused:
        services.user_suspend(user=moderator, by=moderator, reason="testing")
    assert refused.value.code == "self_action"
