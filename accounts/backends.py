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

VERSION_KEY = "permissions:version"
# A bound on how long a set can outlive a change the cache missed (Redis unreachable while a role was taken away).
TTL = 60
# The tables that decide what a user may do: a change to any of them replaces the version.
TABLES = frozenset(
    {
        "auth_group",
        "auth_permission",
        "auth_group_permissions",
        "accounts_user_groups",
        "accounts_user_user_permissions",
    }
)


class RoleBackend(ModelBackend):
    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            key = _key(user_obj)
            cached = cache.get(key) if key else None
            if cached is None:
                cached = super().get_all_permissions(user_obj)
                if key:
                    cache.set(key, cached, TTL)
            user_obj._perm_cache = cached
        return user_obj._perm_cache


def _key(user: Any) -> str | None:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(VERSION_KEY)
    # A superuser has every permission whatever their roles: the flag is part of the key.
    return f"permissions:{version}:{user.pk}:{int(user.is_superuser)}" if version else None


def permissions_changed(sender: Any, **kwargs: Any) -> None:
    """Replace the version now and again when the change commits: a request that read the old rows between the two
    stored them under the first new version, which the second retires."""
    if sender._meta.db_table not in TABLES or kwargs.get("action", "post_").startswith("pre_"):
        return
    permissions_version_replace()
    transaction.on_commit(permissions_version_replace, using=kwargs.get("using"))


def permissions_version_replace(**kwargs: Any) -> None:
    """Retire every cached set (also after `migrate`, which may have granted roles new permissions)."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, None)
