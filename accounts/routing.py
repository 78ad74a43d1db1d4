"""Choosing the agent for new work: on duty, with the right role, speaking the language, covering the region,
least loaded first.

Every app that hands work to agents (conversations, tickets, …) registers a load counter, so an agent's load is
everything open on their desk across the product, and `max_open_items` caps the total.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import AgentProfile, User
from .selectors import agent_is_on_duty, user_is_on_duty, with_shifts

# Given agents' user ids, how many open items each has in one app.
LoadCounter = Callable[[Sequence[int]], Mapping[int, int]]
_load_counters: dict[str, LoadCounter] = {}


def load_register(name: str, counter: LoadCounter) -> None:
    """Register (or replace, by name) one app's count of open items per agent; called from AppConfig.ready()."""
    _load_counters[name] = counter


def agent_load(user_ids: Sequence[int]) -> Counter[int]:
    total: Counter[int] = Counter()
    for counter in _load_counters.values():
        total.update(counter(user_ids))
    return total


def users_with_perm(permission: str) -> QuerySet[User]:
    """Active users granted `permission` ("app_label.codename") through a role, directly, or as superusers."""
    app_label, codename = permission.split(".", 1)
    granted = {"content_type__app_label": app_label, "codename": codename}
    return User.objects.filter(
        Q(is_superuser=True)
        | Q(**{f"groups__permissions__{key}": value for key, value in granted.items()})
        | Q(**{f"user_permissions__{key}": value for key, value in granted.items()}),
        is_active=True,
    ).distinct()


def staff_emails_on_duty(*group_names: str, at: datetime | None = None) -> list[str]:
    """The addresses to alert in these roles: in each role, its members on duty; a role with nobody on duty is
    alerted whole, so that a deadline's warning always reaches someone who can act on it."""
    at = at or timezone.now()
    members = with_shifts(
        User.objects.filter(groups__name__in=group_names, is_active=True)
        .prefetch_related("groups")
        .distinct()
        .order_by("pk")
    )
    by_role: dict[str, list[User]] = {name: [] for name in group_names}
    for user in members:
        for group in user.groups.all():
            if group.name in by_role:
                by_role[group.name].append(user)
    chosen: dict[str, None] = {}
    for users in by_role.values():
        on_duty = [user for user in users if user_is_on_duty(user=user, at=at)]
        chosen.update(dict.fromkeys(user.email for user in on_duty or users))
    return list(chosen)


def _speaks(profile: AgentProfile, language: str) -> bool:
    return not language or language.lower() in {code.lower() for code in profile.languages}


def _covers(profile: AgentProfile, region: str) -> bool:
    return not region or not profile.regions or region.lower() in {name.lower() for name in profile.regions}


def agents_available(
    *, permission: str, language: str = "", region: str = "", at: datetime | None = None
) -> list[AgentProfile]:
    """Profiles of the agents who could take an item now, in no particular order."""
    at = at or timezone.now()
    profiles = (
        AgentProfile.objects.filter(is_available=True, user__in=users_with_perm(permission))
        .select_related("user", "working_hours")
        .prefetch_related("working_hours__hours", "working_hours__holidays")
    )
    # Languages and regions are short JSON lists, matched here: JSON containment is not portable to SQLite,
    # and a team has tens of agents, not thousands.
    return [
        profile
        for profile in profiles
        if _speaks(profile, language) and _covers(profile, region) and agent_is_on_duty(profile=profile, at=at)
    ]


def agent_pick(
    *,
    permission: str,
    language: str = "",
    region: str = "",
    at: datetime | None = None,
    exclude: Iterable[int] = (),
) -> User | None:
    """The least-loaded matching agent under their cap (ties: the lowest id), or None to leave the item queued."""
    excluded = set(exclude)
    profiles = [
        p
        for p in agents_available(permission=permission, language=language, region=region, at=at)
        if p.user_id not in excluded
    ]
    if not profiles:
        return None
    load = agent_load([p.user_id for p in profiles])
    open_to_more = [p for p in profiles if load[p.user_id] < p.max_open_items]
    if not open_to_more:
        return None
    chosen = min(open_to_more, key=lambda p: (load[p.user_id], p.user_id))
    return chosen.user
