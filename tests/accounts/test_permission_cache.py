"""Each user's permissions are read once and kept in the cache (accounts.backends): later requests check roles
without reading them again, and any change to a role, its permissions or a user's roles is seen on the very next
request."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.deletion import Collector
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from accounts import roles
from accounts.backends import TTL, RoleBackend, _key, _version
from accounts.models import User
from saypro.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

QUEUE = "/api/v1/staff/registrations/"


def _get(client, user: User):
    token, _ = Token.objects.get_or_create(user=user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(QUEUE, headers={"Authorization": f"Token {token.key}"})
    return response.status_code, [q["sql"] for q in queries.captured_queries]


def _reads_permissions(sql: list[str]) -> bool:
    return any('"auth_permission"' in statement for statement in sql)


def test_a_second_request_checks_the_role_without_reading_its_permissions(client, reviewer):
    status, first = _get(client, reviewer)
    assert status == 200 and _reads_permissions(first)
    status, second = _get(client, reviewer)
    assert status == 200 and not _reads_permissions(second)
    assert len(second) <= len(first) - 2


@pytest.mark.parametrize("change", ["role taken away", "permission taken from the role", "roles cleared"])
def test_a_change_to_roles_is_refused_on_the_next_request(client, reviewer, change):
    assert _get(client, reviewer)[0] == 200
    group = Group.objects.get(name=roles.REVIEWER)
    if change == "role taken away":
        reviewer.groups.remove(group)
    elif change == "permission taken from the role":
        group.permissions.remove(Permission.objects.get(codename="review_registration"))
    else:
        reviewer.groups.clear()
    status, sql = _get(client, reviewer)
    assert status == 403 and _reads_permissions(sql)


def test_a_role_given_is_allowed_on_the_next_request(client, user):
    assert _get(client, user)[0] == 403
    user.groups.add(Group.objects.get(name=roles.REVIEWER))
    assert _get(client, user)[0] == 200


def test_a_superuser_made_ordinary_loses_what_only_the_flag_gave(client, outsider):
    outsider.is_superuser = True
    outsider.save(update_fields=["is_superuser"])
    assert _get(client, outsider)[0] == 200
    outsider.is_superuser = False
    outsider.save(update_fields=["is_superuser"])
    assert _get(client, outsider)[0] == 403


def test_a_set_read_while_a_change_was_uncommitted_is_retired_when_it_commits(
    reviewer, django_capture_on_commit_callbacks
):
    """Another request may read the rows of before the change (not yet committed) after the change retired the
    cached sets, and store them again under the new version: the commit retires that version too."""
    had = RoleBackend().get_all_permissions(User.objects.get(pk=reviewer.pk))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        reviewer.groups.remove(Group.objects.get(name=roles.REVIEWER))
        cache.set(_key(_version()[0], reviewer), had, TTL)  # what the other request stored
        assert RoleBackend().has_perm(User.objects.get(pk=reviewer.pk), "accounts.review_registration")
    assert not RoleBackend().has_perm(User.objects.get(pk=reviewer.pk), "accounts.review_registration")


def test_without_a_cache_every_check_reads_the_database(client, reviewer, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    for _ in range(2):
        status, sql = _get(client, reviewer)
        assert status == 200 and _reads_permissions(sql)
    reviewer.groups.clear()
    assert _get(client, reviewer)[0] == 403


def test_only_the_role_tables_carry_the_signals():
    # A model with delete signals loses Django's fast delete, which purging old rows relies on.
    assert Collector(using="default").can_fast_delete(AuditEntry.objects.none())
    assert not post_save.has_listeners(AuditEntry) and not post_delete.has_listeners(AuditEntry)
    assert post_delete.has_listeners(Permission) and m2m_changed.has_listeners(User.groups.through)
