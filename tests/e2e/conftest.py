"""Real-browser tests: Playwright drives Debian's Chromium headless shell against pytest-django's live server.

The shell is Chromium's engine (the same layout, scripts, sockets and downloads) without the browser application
around it: the 37 browser tests took 125 s of Chromium's CPU with the full browser run headless, 64 s with it."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.models import Registration, RegistrationSignal, RegistrationStatus
from saypro.sla.services import clock_start
from tests.factories import RegistrationFactory

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make there are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium-headless-shell",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1440, "height": 900}, "timezone_id": "Africa/Johannesburg"}


# Screenshots are for people to look at (`make screenshots`): each costs the browser about a tenth of a second of
# CPU, some ten seconds a run, and a run nobody looks at (CI's) takes none.
SCREENSHOTS = os.environ.get("SAYPRO_SCREENSHOTS", "") == "1"


@pytest.fixture
def screenshot():
    """Save what the user sees under test-artifacts/ (with SAYPRO_SCREENSHOTS=1), to look at after the run."""
    if SCREENSHOTS:
        ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name: str, *, full_page: bool = True) -> Path:
        path = ARTIFACTS / f"{name}.png"
        if SCREENSHOTS:
            page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.fixture
def submitted_registration():
    """A registration waiting for a reviewer, its 48-hour clock started `hours_ago` hours ago."""

    def make(
        *, hours_ago: float, email: str, full_name: str, risk: int = 35, signals: tuple[tuple[str, int], ...] = ()
    ) -> Registration:
        at = timezone.now() - timedelta(hours=hours_ago)
        registration = RegistrationFactory(
            status=RegistrationStatus.NEEDS_REVIEW,
            submitted_at=at,
            started_at=at - timedelta(minutes=4),
            risk_score=risk,
            user__email=email,
            user__full_name=full_name,
        )
        for code, weight in signals:
            RegistrationSignal.objects.create(registration=registration, code=code, weight=weight)
        clock_start(metric="registration.approval", target=registration, at=at)
        return registration

    return make
