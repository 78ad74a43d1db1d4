"""One search across every state of every kind of record staff work on: tickets, conversations, registrations
and moderation cases, by number, e-mail, name, subject or text, from the box in every staff page's top bar.

Reports is the top layer, so this page may ask every app; each app searches its own records with its own
selector (bounded, one query each), and the page asks only the apps whose records the signed-in person may read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from accounts.models import User
from accounts.selectors import registration_search
from messaging.selectors import conversation_search
from moderation.selectors import case_search
from saypro.search import MAX_QUERY, MIN_TEXT, SearchHit, search_terms
from support.selectors import ticket_search

from .views import staff_required

# Hits shown per kind: a search is for finding one record, so a longer list means the query needs a word more.
PER_KIND = 10


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    # The permission that opens the record's page, and so lets its kind be searched.
    permission: str
    search: Callable[..., list[SearchHit]]
    url_name: str


KINDS = (
    Kind("tickets", "Tickets", "support.view_ticket", ticket_search, "support:ticket"),
    Kind("conversations", "Conversations", "messaging.view_conversation", conversation_search, "messaging:thread"),
    Kind("registrations", "Registrations", "accounts.view_registration", registration_search, "accounts:registration"),
    Kind("cases", "Moderation cases", "moderation.view_case", case_search, "moderation:case"),
)


def searchable_kinds(user: User | AnonymousUser) -> list[Kind]:
    return [kind for kind in KINDS if user.has_perm(kind.permission)]


def _listed(labels: list[str]) -> str:
    """ "Tickets, conversations and registrations"."""
    words = [labels[0]] + [label.lower() for label in labels[1:]]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


@require_GET
@staff_required
def search(request: HttpRequest) -> HttpResponse:
    """Results grouped by kind, each with its status; the kinds the person may not read are neither searched
    nor named."""
    kinds = searchable_kinds(request.user)
    if not kinds:
        raise PermissionDenied
    terms = search_terms(request.GET.get("q", ""))
    searched = terms.pk is not None or terms.searches_text
    groups: list[dict[str, Any]] = []
    found = 0
    if searched:
        for kind in kinds:
            # One more than shown: whether there are more costs no count query.
            hits = kind.search(q=terms.text, limit=PER_KIND + 1)
            found += len(hits[:PER_KIND])
            groups.append(
                {
                    "key": kind.key,
                    "label": kind.label,
                    "more": len(hits) > PER_KIND,
                    "hits": [{"hit": hit, "url": reverse(kind.url_name, args=[hit.pk])} for hit in hits[:PER_KIND]],
                }
            )
    return render(
        request,
        "reports/search.html",
        {
            "search_q": terms.text,
            "searched": searched,
            "too_short": bool(terms.text) and not searched,
            "groups": groups,
            "found": found,
            "kinds_text": _listed([kind.label for kind in kinds]),
            "per_kind": PER_KIND,
            "max_query": MAX_QUERY,
            "min_text": MIN_TEXT,
        },
    )
