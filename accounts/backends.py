"""Authentication backend: Django's model backend, with each user's permissions kept in the shared cache.

Every page and API call checks a role's permission, and the model backend reads the user's own permissions and
their roles' with two queries on every request. The set is kept in the cache under a version that any change to a
role, a permission or a user's roles replaces (see `permissions_changed`), so a role taken away is refused on the
very next request. Without the cache (Redis unreachable) every check reads the database, as Django does.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save

VERSION_KEY = "permissions:version"
# A bound on how long a set can outlive a change the cache missed (Redis unreachable while a role was taken away).
TTL = 60


class RoleBackend(ModelBackend):
    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            version, new = _version()
            key = _key(version, user_obj)
            cached = cache.get(key) if version and not new else None
            if cached is None:
                cached = super().get_all_permissions(user_obj)
                if version:
                    cache.set(key, cached, TTL)
            user_obj._perm_cache = cached
        return user_obj._perm_cache


def _key(version: str | None, user: Any) -> str:
    # A superuser has every permission whatever their roles: the flag is part of the key.
    return f"permissions:{version}:{user.pk}:{int(user.is_superuser)}"


def _version() -> tuple[str | None, bool]:
    """The version in force, and whether this call started it (nothing is stored under a new one yet); None
    without a cache."""
    version = cache.get(VERSION_KEY)
    if version is not None:
        return version, False
    started = uuid.uuid4().hex
    if cache.add(VERSION_KEY, started, None):
        return started, True
    return cache.get(VERSION_KEY), False


def connect() -> None:
    """Any change to a role, a permission or a user's roles retires the cached sets (and so does `migrate`, which
    may grant roles new permissions). Each signal is taken from its models only: a model with delete signals
    loses Django's fast delete, which the purges of old rows rely on."""
    from django.contrib.auth.models import Group, Permission

    from .models import User

    uid = "accounts.permissions_changed"
    for model in (Group, Permission):
        post_save.connect(permissions_changed, sender=model, dispatch_uid=uid)
        post_delete.connect(permissions_changed, sender=model, dispatch_uid=uid)
    for through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(permissions_changed, sender=through, dispatch_uid=uid)
    post_migrate.connect(permissions_version_replace, dispatch_uid="accounts.permissions_migrated")


def permissions_changed(sender: Any, **kwargs: Any) -> None:
    """Replace the version now and again when the change commits: a request that read the old rows between the two
    stored them under the first new version, which the second retires."""
    if kwargs.get("action", "post_").startswith("pre_"):
        return
    permissions_version_replace()
    transaction.on_commit(permissions_version_replace, using=kwargs.get("using"))


def permissions_version_replace(**kwargs: Any) -> None:
    """Retire every cached set."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, None)
