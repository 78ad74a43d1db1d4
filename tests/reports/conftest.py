"""A small fixed dataset of sign-ups and their 48-hour clocks, with every figure computable by hand."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

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
    return make_quarter_data()


def make_quarter_data() -> dict[str, Registration]:
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


def _at(moment: datetime):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def area_quarter(agent, moderator, django_capture_on_commit_callbacks):
    """Messaging, support and moderation in Q1 2026 (and a little of Q4 2025), local times:

    Messaging: M1 user-started 5 Jan 10:00 (a renewal request), answered 12:00 and resolved 13:00; M2 user-started
    11 Feb 00:30 (a complaint; 10 Feb in UTC), answered 09:00; M3 started by the team 3 Mar 10:00. Q4: M4
    user-started 1 Dec 2025. Messages in Q1: 2 from users, 3 from the team (two replies and M3's opening).
    Support: T1 web 6 Jan 10:00, answered after 1 h, solved after 5 h, rated 5; T2 chat 12 Feb 00:30, answered
    after 4 h, solved after 30 h, rated 2; T3 web 20 Mar 09:00, never answered, its survey unanswered. Q4: T4 web
    2 Dec 2025, answered after 2 h and solved after 3 h.
    Moderation: L1 flagged as fraud by a user 7 Jan 09:00, removed (scam) 2 h later; L2 flagged as spam by two
    users 15 Feb 23:00 and 23:30, kept 14 h after the first flag; a scam listing posted 4 Mar 10:00 is caught
    by automatic detection (fraud) and removed 1 h later; L3 flagged "other" 25 Mar 09:00, undecided. Q4: L4
    flagged as spam 3 Dec 2025, removed 1 h later.
    """
    from marketplace import services as market
    from messaging import services as messaging
    from moderation import services as moderation
    from moderation.models import Case
    from support import services as support
    from tests.factories import ListingFactory, UserFactory
    from tests.messaging.conftest import start

    def conversation(at: datetime, body: str, answer: float | None = None, resolve: float | None = None):
        with _at(at) as clock:
            started = start(UserFactory(), body=body)
            if answer is not None:
                clock.move_to(at + timedelta(hours=answer))
                messaging.reply_send(conversation=started, by=agent, body="On it.", then="open")
            if resolve is not None:
                clock.move_to(at + timedelta(hours=resolve))
                messaging.conversation_resolve(conversation=started, by=agent)

    conversation(local(2026, 1, 5, 10, 0), "Please renew my ad, it has expired", answer=2, resolve=3)
    conversation(local(2026, 2, 11, 0, 30), "I want to file a complaint about a seller", answer=8.5)
    with _at(local(2026, 3, 3, 10, 0)):
        messaging.conversation_start_by_staff(by=agent, user=UserFactory(), subject="Your ad", body="Fix the price.")
    conversation(local(2025, 12, 1, 10, 0), "Hello, a question about my account")

    def ticket(at: datetime, channel: str, answer: float | None = None, solve: float | None = None):
        with _at(at) as clock:
            created = support.ticket_create(
                requester=UserFactory(), subject="Q", body="?", channel=channel, department="billing"
            )
            if answer is not None:
                clock.move_to(at + timedelta(hours=answer))
                support.ticket_reply(ticket=created, by=agent, body="Answer")
            if solve is not None:
                clock.move_to(at + timedelta(hours=solve))
                support.ticket_set_status(ticket=created, by=agent, status="solved")
        return created

    t1 = ticket(local(2026, 1, 6, 10, 0), "web", answer=1, solve=5)
    t2 = ticket(local(2026, 2, 12, 0, 30), "chat", answer=4, solve=30)
    t3 = ticket(local(2026, 3, 20, 9, 0), "web")
    ticket(local(2025, 12, 2, 10, 0), "web", answer=2, solve=3)
    surveys = (
        (t1, local(2026, 1, 6, 16, 0), 5),
        (t2, local(2026, 2, 13, 8, 0), 2),
        (t3, local(2026, 3, 21, 9, 0), None),
    )
    for survey_ticket, sent, rating in surveys:
        with _at(sent):
            survey = support.survey_send(
                target=survey_ticket,
                requester=survey_ticket.requester,
                agent=agent,
                department=survey_ticket.department,
                channel=survey_ticket.channel,
            )
            if rating is not None:
                support.survey_answer(token=support.survey_token(survey), rating=rating)

    def flagged(at: datetime, reason: str, decide_after: float | None = None, action: str = "remove", rule="scam"):
        listing = ListingFactory()
        with _at(at) as clock:
            moderation.flag_create(
                reporter=UserFactory(), kind="listing", object_id=listing.pk, reason=reason, comment="Looks wrong"
            )
            if reason == "spam":
                clock.move_to(at + timedelta(minutes=30))
                moderation.flag_create(
                    reporter=UserFactory(), kind="listing", object_id=listing.pk, reason=reason, comment="Looks wrong"
                )
            if decide_after is not None:
                clock.move_to(at + timedelta(hours=decide_after))
                case = Case.objects.get(object_id=listing.pk, kind="listing")
                moderation.case_decide(case=case, by=moderator, action=action, rule=rule, reason="Checked.")

    flagged(local(2026, 1, 7, 9, 0), "fraud", decide_after=2)
    flagged(local(2026, 2, 15, 23, 0), "spam", decide_after=14, action="keep", rule="")
    with _at(local(2026, 3, 4, 10, 0)), django_capture_on_commit_callbacks(execute=True):
        scam = market.listing_create(
            seller=UserFactory(),
            title="Samsung S23 Ultra brand new",
            description="Pay a deposit via Western Union and my shipping agent delivers. Call 071 234 5678.",
            currency="ZAR",
            category="phones",
            region="Gauteng",
            price="3000",
        )
    with _at(local(2026, 3, 4, 11, 0)):
        case = Case.objects.get(object_id=scam.pk, kind="listing")
        moderation.case_decide(case=case, by=moderator, action="remove", rule="scam", reason="Checked.")
    flagged(local(2026, 3, 25, 9, 0), "other")
    flagged(local(2025, 12, 3, 10, 0), "spam", decide_after=1, rule="spam")
