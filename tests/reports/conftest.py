"""A small fixed dataset of sign-ups and their 48-hour clocks, with every figure computable by hand."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from accounts.models import Registration, RegistrationStatus
from saypro.sla.services import clock_start, clock_stop
from tests.factories import RegistrationFactory

LOCAL = ZoneInfo("Africa/Johannesburg")
METRIC = "registration.approval"


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL)


def signup(
    started: datetime,
    *,
    submitted: bool = True,
    decided_after_hours: float | None = None,
    status: str = RegistrationStatus.APPROVED,
    auto: bool = False,
    email_verified: bool = True,
    phone_verified: bool = True,
    country: str = "ZA",
    region: str = "Gauteng",
    age_band: str = "25-34",
    device: str = "mobile",
    campaign: str = "",
    delay_cause: str = "",
) -> Registration:
    """One sign-up: submitted 10 minutes after it started (its clock starts then), decided after some hours."""
    submitted_at = started + timedelta(minutes=10) if submitted else None
    decided_at = submitted_at + timedelta(hours=decided_after_hours) if submitted_at and decided_after_hours else None
    registration = RegistrationFactory(
        status=(status if decided_at else RegistrationStatus.NEEDS_REVIEW) if submitted else RegistrationStatus.STARTED,
        started_at=started,
        email_verified_at=started + timedelta(minutes=2) if email_verified else None,
        phone_verified_at=started + timedelta(minutes=4) if phone_verified else None,
        profile_completed_at=started + timedelta(minutes=6) if submitted else None,
        submitted_at=submitted_at,
        decided_at=decided_at,
        auto_approved=auto,
        device_type=device,
        campaign=campaign,
        delay_cause=delay_cause,
        user__country=country,
        user__region=region,
        user__age_band=age_band,
    )
    if submitted_at:
        clock_start(metric=METRIC, target=registration, at=submitted_at)
        if decided_at:
            clock_stop(metric=METRIC, target=registration, at=decided_at)
    return registration


@pytest.fixture
def quarter_data(db):
    """Q1 2026 (and one sign-up in Q4 2025), seen on 2 April 2026 at noon, local time.

    Deadlines due in Q1: two met (R1 automatic after 1 min, R2 after 30 h), two breached (R3 decided after
    60 h, R4 still open since 20 March): achievement 2 ÷ 4 = 50 %. R5's deadline falls on 2 April (Q2); R6
    never submitted. Q4 2025 has one deadline, met: 100 %.
    """
    return {
        "r1": signup(local(2026, 1, 5, 10, 0), decided_after_hours=1 / 60, auto=True, campaign="NEWYEAR"),
        "r2": signup(local(2026, 1, 5, 11, 0), decided_after_hours=30, campaign="NEWYEAR", device="desktop"),
        "r3": signup(
            local(2026, 2, 10, 9, 0),
            decided_after_hours=60,
            country="NG",
            region="Lagos",
            age_band="18-24",
            delay_cause="review_backlog",
        ),
        "r4": signup(local(2026, 3, 20, 9, 0), phone_verified=False),
        "r5": signup(local(2026, 3, 31, 10, 0), phone_verified=False),
        "r6": signup(local(2026, 1, 20, 15, 0), submitted=False, email_verified=False, phone_verified=False),
        "r7": signup(local(2025, 12, 1, 9, 0), decided_after_hours=5),
    }


NOW = local(2026, 4, 2, 12, 0)
