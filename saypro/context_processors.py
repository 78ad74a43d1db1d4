"""The staff navigation: one registry of areas, each shown to the users whose role grants it.

An app adds its area by naming its landing page and the permission that opens it, either in NAV_ENTRIES below or
with `nav_register()` from its AppConfig.ready(). An entry whose URL does not resolve (its app is not installed
yet) is left out, so the menu never links to a page that is not there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    # None: every staff member sees it.
    permission: str | None = None


NAV_ENTRIES: list[NavEntry] = [
    NavEntry("Dashboard", "dashboard:home"),
    NavEntry("Registrations", "accounts:queue", "accounts.review_registration"),
    NavEntry("Block rules", "accounts:block-rules", "accounts.manage_block_rules"),
    NavEntry("Messages", "messaging:home", "messaging.view_conversation"),
    NavEntry("Support", "support:home", "support.view_ticket"),
    NavEntry("Live chat", "support:chats", "support.reply_ticket"),
    NavEntry("Moderation", "moderation:home", "moderation.view_case"),
    NavEntry("Marketplace", "marketplace:home", "marketplace.view_listing"),
    NavEntry("Reports", "dashboard:reports", "sla.view_compliance"),
    NavEntry("Admin", "admin:index", "accounts.change_user"),
]


def nav_register(entry: NavEntry) -> None:
    """Add or replace (by URL name) an area of the staff navigation."""
    for index, existing in enumerate(NAV_ENTRIES):
        if existing.url_name == entry.url_name:
            NAV_ENTRIES[index] = entry
            return
    NAV_ENTRIES.append(entry)


def _visible_entries(request: HttpRequest) -> list[dict[str, Any]]:
    user = request.user
    entries: list[dict[str, Any]] = []
    for entry in NAV_ENTRIES:
        if entry.permission and not user.has_perm(entry.permission):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        entries.append({"label": entry.label, "url": url, "active": False})
    # The longest matching prefix wins, so /dashboard/registrations/ marks Registrations, not Dashboard.
    matches = [item for item in entries if request.path.startswith(item["url"])]
    if matches:
        max(matches, key=lambda item: len(item["url"]))["active"] = True
    return entries


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {"nav_entries": []}

    def staff_roles() -> str:
        # Called by the template only where the top bar shows it: a page that does not pays no query.
        names = list(user.groups.order_by("name").values_list("name", flat=True))
        if not names and user.is_superuser:
            return "Superuser"
        return ", ".join(names) or "No role"

    return {"nav_entries": _visible_entries(request), "staff_roles": staff_roles}
