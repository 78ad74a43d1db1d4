"""`sync_roles` and `ensure_staff` can run on every start: a second run changes nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command

from accounts import roles
from accounts.management.commands.ensure_staff import DEFAULT_PASSWORD, STAFF_LOGINS
from accounts.models import User
from saypro.audit.models import AuditEntry


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo_password(monkeypatch):
    monkeypatch.setenv("SAYPRO_DEMO_PASSWORD", "ops-demo-passphrase-42")
    return "ops-demo-passphrase-42"


def run(command: str) -> str:
    out = StringIO()
    call_command(command, stdout=out)
    return out.getvalue()


def role_grants() -> dict[str, set[str]]:
    return {
        group.name: {
            f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
        }
        for group in Group.objects.all()
    }


def staff_state() -> dict[str, tuple]:
    return {
        user.email: (user.is_staff, user.is_superuser, user.is_active, tuple(g.name for g in user.groups.all()))
        for user in User.objects.filter(email__endswith="@saypro.example").prefetch_related("groups")
    }


def test_sync_roles_twice_grants_every_listed_permission_and_nothing_else(db):
    run("sync_roles")
    first = role_grants()
    output = run("sync_roles")

    assert role_grants() == first
    for role, codes in roles.role_permissions().items():
        assert first[role] == set(codes), role
        assert role in output


def test_sync_roles_keeps_a_permission_an_administrator_added_by_hand(db):
    extra = Permission.objects.get(content_type__app_label="accounts", codename="view_user")
    Group.objects.get(name=roles.MANAGER).permissions.add(extra)

    run("sync_roles")

    assert "accounts.view_user" in role_grants()[roles.MANAGER]


def test_sync_roles_leaves_the_app_registry_able_to_create_permissions_later(db):
    run("sync_roles")

    assert all(config.models_module is not None for config in apps.get_app_configs() if config.models)


def test_ensure_staff_creates_one_login_per_role_with_the_demo_password(db, demo_password):
    output = run("ensure_staff")

    state = staff_state()
    assert set(state) == {login.email for login in STAFF_LOGINS}
    for login in STAFF_LOGINS:
        assert state[login.email] == (True, login.superuser, True, (login.role,))
        assert User.objects.get(email=login.email).check_password(demo_password)
        assert login.email in output
    assert User.objects.get(email="admin@saypro.example").is_superuser
    assert demo_password not in output


def test_ensure_staff_twice_changes_nothing_the_second_time(db, demo_password):
    run("ensure_staff")
    state, grants, audited = staff_state(), role_grants(), AuditEntry.objects.count()
    hashes = dict(User.objects.values_list("email", "password"))

    output = run("ensure_staff")

    assert staff_state() == state
    assert role_grants() == grants
    assert dict(User.objects.values_list("email", "password")) == hashes
    assert AuditEntry.objects.count() == audited
    assert output.count("unchanged") == len(STAFF_LOGINS)


def test_ensure_staff_repairs_a_login_that_drifted_and_audits_it(db, demo_password):
    run("ensure_staff")
    reviewer = User.objects.get(email="reviewer@saypro.example")
    reviewer.is_active = False
    reviewer.is_superuser = True
    reviewer.set_password("something-else-entirely")
    reviewer.save()
    reviewer.groups.add(Group.objects.get(name=roles.MANAGER))

    run("ensure_staff")

    reviewer.refresh_from_db()
    assert (reviewer.is_active, reviewer.is_superuser) == (True, False)
    assert reviewer.check_password(demo_password)
    assert [g.name for g in reviewer.groups.all()] == [roles.REVIEWER]
    entry = AuditEntry.objects.filter(action="staff.updated").get()
    assert entry.actor is None
    assert entry.target_id == str(reviewer.pk)
    assert set(entry.data["fields"]) == {"is_active", "is_superuser", "password", "groups"}


def test_ensure_staff_refuses_the_published_password_when_debug_is_off(db, settings, monkeypatch):
    settings.DEBUG = False
    monkeypatch.delenv("SAYPRO_DEMO_PASSWORD", raising=False)

    with pytest.raises(CommandError, match="SAYPRO_DEMO_PASSWORD"):
        run("ensure_staff")
    assert not User.objects.exists()


def test_ensure_staff_uses_and_shows_the_published_password_in_debug(db, settings, monkeypatch):
    settings.DEBUG = True
    monkeypatch.delenv("SAYPRO_DEMO_PASSWORD", raising=False)

    output = run("ensure_staff")

    assert DEFAULT_PASSWORD in output
    assert User.objects.get(email="agent@saypro.example").check_password(DEFAULT_PASSWORD)


def test_ensure_staff_rejects_a_weak_password(db, monkeypatch):
    monkeypatch.setenv("SAYPRO_DEMO_PASSWORD", "12345678")

    with pytest.raises(CommandError, match="too weak"):
        run("ensure_staff")


def test_ensure_staff_asks_for_sync_roles_when_a_role_group_is_missing(db, demo_password):
    Group.objects.filter(name=roles.MODERATOR).delete()

    with pytest.raises(CommandError, match="sync_roles"):
        run("ensure_staff")


def test_ensure_staff_list_prints_every_login_and_writes_nothing(db, settings, monkeypatch):
    settings.DEBUG = True
    monkeypatch.delenv("SAYPRO_DEMO_PASSWORD", raising=False)
    out = StringIO()

    call_command("ensure_staff", "--list", stdout=out)

    for login in STAFF_LOGINS:
        assert login.email in out.getvalue()
    assert DEFAULT_PASSWORD in out.getvalue()
    assert "Administrator (superuser)" in out.getvalue()
    assert not User.objects.exists()
    assert not AuditEntry.objects.exists()
