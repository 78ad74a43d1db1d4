"""The staff dashboard: live tiles from the SLA clocks, shown by role, refreshed in place every 30 seconds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timeuntil
from django.views.decorators.http import require_GET

from accounts.selectors import registration_tiles

REFRESH_SECONDS = 30
# The promise is 100 % of legitimate registrations within 48 h; these bands say how far off it a period is.
COMPLIANCE_GREEN = 95.0
COMPLIANCE_AMBER = 90.0

ViewFunc = Callable[..., HttpResponse]


def staff_required(view: ViewFunc) -> ViewFunc:
    """Any staff role may open the dashboard; a marketplace user gets a 403, an anonymous visitor the sign-in."""

    @wraps(view)
    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_staff:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def compliance_grade(percent: float | None) -> str:
    if percent is None:
        return "neutral"
    if percent >= COMPLIANCE_GREEN:
        return "ok"
    if percent >= COMPLIANCE_AMBER:
        return "warn"
    return "bad"


def _duration(seconds: float | None, now: datetime) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return "under a minute"
    return timeuntil(now + timedelta(seconds=seconds), now, depth=2)


def _queue_url(**filters: str) -> str:
    url = reverse("accounts:queue")
    return f"{url}?{urlencode(filters)}" if filters else url


def _tile(key: str, label: str, value: str, note: str = "", grade: str = "neutral", url: str = "") -> dict[str, str]:
    return {"key": key, "label": label, "value": value, "note": note, "grade": grade, "url": url}


def registration_sections(*, can_review: bool, can_see_compliance: bool, now: datetime) -> list[dict[str, Any]]:
    """The tile sections the user's roles grant: reviewers the live queue, managers the compliance figures."""
    if not (can_review or can_see_compliance):
        return []
    figures = registration_tiles(now=now)
    # Only reviewers can open the queue; for anyone else a tile links nowhere rather than to a 403.
    link = _queue_url if can_review else (lambda **_: "")
    sections = []
    if can_review:
        pending, at_risk, breached = figures["pending"], figures["at_risk"], figures["breached"]
        sections.append(
            {
                "key": "registrations",
                "title": "Registration queue",
                "note": "waiting for a decision now",
                "tiles": [
                    _tile("pending", "Pending", str(pending), "submitted, not yet decided", "neutral", link()),
                    _tile(
                        "at_risk",
                        "At risk",
                        str(at_risk),
                        "under 12 h left",
                        "warn" if at_risk else "ok",
                        link(at_risk="on"),
                    ),
                    _tile(
                        "breached",
                        "Breached",
                        str(breached),
                        "past the 48 h deadline",
                        "bad" if breached else "ok",
                        link(breached="on"),
                    ),
                ],
            }
        )
    if can_see_compliance:
        tiles = []
        for period, label in (("week", "This week"), ("month", "This month"), ("quarter", "This quarter")):
            result = figures["compliance"][period]
            percent = None if result.rate is None else result.rate * 100
            decided = result.achieved + result.breached
            tiles.append(
                _tile(
                    f"compliance_{period}",
                    label,
                    "—" if percent is None else f"{percent:.1f} %",
                    f"{result.achieved} of {decided} decided within 48 h" if decided else "no deadline reached yet",
                    compliance_grade(percent),
                    link(status="approved"),
                )
            )
        stats = figures["decision_time"]
        decisions = f"{stats.count} decision{'s' if stats.count != 1 else ''} this quarter"
        tiles.append(
            _tile(
                "median",
                "Median decision time",
                _duration(stats.median, now),
                decisions,
                "neutral",
                link(status="approved"),
            )
        )
        tiles.append(
            _tile(
                "p90", "90 % decided within", _duration(stats.p90, now), decisions, "neutral", link(status="approved")
            )
        )
        rate = figures["auto_approval_rate"]
        tiles.append(
            _tile(
                "auto_approval",
                "Automatic approvals",
                "—" if rate is None else f"{rate * 100:.0f} %",
                f"of {figures['approved_this_quarter']} approvals this quarter",
                "neutral",
                link(status="approved"),
            )
        )
        sections.append(
            {
                "key": "compliance",
                "title": "Registration compliance",
                "note": f"target 100 %: green from {COMPLIANCE_GREEN:.0f} %, amber from {COMPLIANCE_AMBER:.0f} %",
                "tiles": tiles,
            }
        )
    return sections


def _context(request: HttpRequest) -> dict[str, Any]:
    now = timezone.now()
    user = request.user
    return {
        "sections": registration_sections(
            can_review=user.has_perm("accounts.review_registration"),
            can_see_compliance=user.has_perm("sla.view_compliance"),
            now=now,
        ),
        "now": now,
        "refresh_seconds": REFRESH_SECONDS,
    }


@require_GET
@staff_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/home.html", _context(request))


@require_GET
@staff_required
def tiles(request: HttpRequest) -> HttpResponse:
    """The tile block alone, fetched by the dashboard every REFRESH_SECONDS to swap in place."""
    return render(request, "dashboard/_tiles.html", _context(request))
