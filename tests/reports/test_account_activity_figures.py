"""Document 001's engagement, account-issue and security figures, each checked on hand-built rows against the value
worked out here in plain Python over the same rows (never through the product's queries).

Q1 2026, read a week after it ended. Items on the quarter's last day (31 March, late evening) are Q1's; items a
few minutes into 1 April are Q2's and in none of the values. Users a and b live in Gauteng, c in the Western Cape,
d gave no region: the region filter is checked on the same rows.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import AccountEvent, AccountSession, ActivityDay, Lockout, PasswordReset
from reports.sections import context_for
from reports.sections.accounts import account_issues_section, engagement_section, security_section
from saypro import periods
from saypro.figures.registry import figure_read
from support.models import Category as TicketCategory
from support.models import Channel, Department, Survey, Ticket
from tests.factories import UserFactory

from .conftest import local

pytestmark = pytest.mark.django_db

Kind = AccountEvent.Kind
Q1 = periods.from_slug("2026-Q1")
START, END = Q1.start_at, Q1.end_at
AFTER_Q1 = local(2026, 4, 8, 12)
H = timedelta(hours=1)
LAST_EVENING = local(2026, 3, 31, 23, 30)
NEXT_MORNING = local(2026, 4, 1, 0, 10)


def read(key: str, **filters: str):
    return figure_read(key, Q1, now=AFTER_Q1, filters=filters).current


def in_q1(moment: datetime | None) -> bool:
    return moment is not None and START <= moment < END


@pytest.fixture
def world():
    a, b = UserFactory(region="Gauteng"), UserFactory(region="gauteng")
    c, d = UserFactory(region="Western Cape"), UserFactory(region="")
    admin = UserFactory(is_staff=True)
    events = [
        (a, Kind.SIGN_IN, "", local(2026, 1, 5, 9)),
        (a, Kind.SIGN_IN_FAILED, "bad_password", local(2026, 1, 5, 8)),
        (a, Kind.SIGN_IN_FAILED, "bad_password", local(2026, 1, 5, 8, 1)),
        (b, Kind.SIGN_IN_FAILED, "bad_password", LAST_EVENING),
        (c, Kind.SIGN_IN_FAILED, "locked", NEXT_MORNING),
        (c, Kind.SIGN_IN, "", local(2026, 2, 2, 9)),
        (d, Kind.SIGN_IN_FAILED, "unknown", local(2025, 12, 31, 23, 50)),
        (a, Kind.SUSPICIOUS, "new_device", local(2026, 2, 1, 9)),
        (c, Kind.SUSPICIOUS, "failure_burst", local(2026, 3, 31, 22)),
        (b, Kind.SUSPICIOUS, "new_device", NEXT_MORNING),
        (a, Kind.PRIVACY_CHANGED, "marketing_opt_out", local(2026, 1, 10, 9)),
        (c, Kind.PRIVACY_CHANGED, "consent_withdrawn", local(2026, 3, 31, 23, 59)),
        (b, Kind.PREFERENCES_CHANGED, "", local(2026, 2, 3, 9)),
        (a, Kind.PREFERENCES_CHANGED, "", local(2026, 4, 2, 9)),
    ]
    for user, kind, reason, at in events:
        AccountEvent.objects.create(user=user, kind=kind, reason=reason, at=at)
    lockouts = [
        (b, local(2026, 3, 31, 23, 40), admin),
        (c, local(2026, 1, 20, 9), None),
        (None, local(2026, 2, 5, 9), None),
        (a, local(2026, 4, 1, 0, 5), None),
    ]
    for user, started, released_by in lockouts:
        Lockout.objects.create(
            user=user,
            identifier=f"id-{started:%m%d%H%M}",
            failures=5,
            started_at=started,
            until=started + H,
            released_at=started + H / 2 if released_by else None,
            released_by=released_by,
        )
    resets = [
        (a, local(2026, 1, 7, 9), 3),
        (b, local(2026, 3, 31, 23), 2),
        (c, local(2026, 2, 1, 9), None),
        (d, NEXT_MORNING, 1),
    ]
    for user, requested, hours in resets:
        PasswordReset.objects.create(
            user=user, requested_at=requested, completed_at=None if hours is None else requested + hours * H
        )
    sessions = [
        (a, local(2026, 1, 5, 10), 30),
        (c, local(2026, 3, 31, 23), 50),
        (b, local(2026, 4, 1, 0, 1), 10),
    ]
    for user, started, minutes in sessions:
        AccountSession.objects.create(
            user=user,
            channel=AccountSession.Channel.WEB,
            key=f"k{user.pk}{started:%m%d}",
            started_at=started,
            last_seen_at=started + timedelta(minutes=minutes),
        )
    # Q1 has 90 days, so the period before it for churn is the 90 days from 3 October 2025.
    activity = [
        (a, date(2025, 12, 15)),
        (b, date(2025, 10, 10)),
        (c, date(2025, 11, 2)),
        (d, date(2025, 12, 31)),
        (a, date(2026, 3, 31)),
        (a, date(2026, 3, 28)),
        (c, date(2026, 1, 3)),
        (b, date(2026, 4, 1)),
        (UserFactory(region="Gauteng"), date(2025, 10, 2)),
    ]
    for user, day in activity:
        ActivityDay.objects.create(user=user, day=day, sign_ins=1)
    accounts, _ = Department.objects.get_or_create(slug="accounts", defaults={"name": "Accounts"})
    ticket_rows = [
        # (requester, category, department, created, first response after, solved after, rating)
        (a, TicketCategory.ACCOUNT, None, local(2026, 1, 10, 9), 2, 5, 5),
        (c, TicketCategory.QUESTION, accounts, local(2026, 3, 31, 23), 1, 26, 3),
        (b, TicketCategory.ACCOUNT, None, local(2026, 3, 3, 9), None, None, None),
        (a, TicketCategory.ACCOUNT, None, local(2026, 4, 1, 0, 30), 1, 2, 4),
        (b, TicketCategory.PAYMENT, None, local(2026, 2, 10, 9), 1, 1, 1),
    ]
    tickets = []
    kind = ContentType.objects.get_for_model(Ticket)
    for requester, category, department, created, responded, solved, rating in ticket_rows:
        ticket = Ticket.objects.create(
            requester=requester,
            subject="Account",
            body="Help",
            category=category,
            department=department,
            channel=Channel.WEB,
            created_at=created,
            first_responded_at=None if responded is None else created + responded * H,
            solved_at=None if solved is None else created + solved * H,
        )
        tickets.append(ticket)
        if rating is not None:
            Survey.objects.create(
                target_type=kind,
                target_id=ticket.pk,
                resolved_at=ticket.solved_at,
                requester=requester,
                channel=Channel.WEB,
                sent_at=ticket.solved_at,
                rating=rating,
            )
    # A duplicate merged into the first counts as that one.
    Ticket.objects.create(
        requester=a,
        subject="Again",
        body="Help",
        category=TicketCategory.ACCOUNT,
        created_at=local(2026, 1, 10, 10),
        merged_into=tickets[0],
    )
    return {
        "users": {"a": a, "b": b, "c": c, "d": d},
        "events": events,
        "lockouts": lockouts,
        "resets": resets,
        "sessions": sessions,
        "activity": activity,
        "tickets": ticket_rows,
    }


def gauteng(user) -> bool:
    return user is not None and user.region.lower() == "gauteng"


def test_sign_in_problems_lockouts_and_recovery_follow_the_definitions(world):
    for region, keep in ((None, lambda user: True), ("GAUTENG", gauteng)):
        filters = {"region": region} if region else {}
        events = [(u, k, r, at) for u, k, r, at in world["events"] if in_q1(at) and keep(u)]
        failed = [e for e in events if e[1] == Kind.SIGN_IN_FAILED]
        attempts = [e for e in events if e[1] in (Kind.SIGN_IN, Kind.SIGN_IN_FAILED)]
        reading = read("account_issues.failed_sign_ins", **filters)
        assert (reading.value, reading.n) == (len(failed), len(failed)), region
        assert reading.parts["users_affected"] == len({u.pk for u, *_ in failed})
        rate = read("account_issues.failure_rate", **filters)
        assert (rate.value, rate.n) == (pytest.approx(100 * len(failed) / len(attempts)), len(attempts))

        lockouts = [row for row in world["lockouts"] if in_q1(row[1]) and (region is None or keep(row[0]))]
        locks = read("account_issues.lockouts", **filters)
        assert (locks.value, locks.parts["released_by_admin"]) == (len(lockouts), sum(1 for r in lockouts if r[2]))

        resets = [row for row in world["resets"] if in_q1(row[1]) and keep(row[0])]
        done = [hours for _, _, hours in resets if hours is not None]
        assert read("account_issues.recovery_requests", **filters).value == len(resets)
        completion = read("account_issues.recovery_completion", **filters)
        assert completion.value == pytest.approx(100 * len(done) / len(resets))
        hours = read("account_issues.recovery_hours", **filters)
        assert (hours.value, hours.n) == (pytest.approx(sum(done) / len(done)), len(done))

        # Users facing a sign-in problem: a failure, a lockout or a reset request, each user once.
        facing = (
            {u.pk for u, *_ in failed}
            | {u.pk for u, *_ in lockouts if u is not None}
            | {u.pk for u, at, _ in resets if u is not None}
        )
        assert read("account_issues.login_problem_users", **filters).value == len(facing), region
    # The last evening's failure, lockout and reset are Q1's; the next morning's are not.
    assert read("account_issues.failed_sign_ins").value == 3
    assert read("account_issues.lockouts").value == 3
    assert read("account_issues.recovery_hours").value == pytest.approx(2.5)


def test_suspicious_activity_privacy_consent_and_preference_changes(world):
    events = [(u, k, r) for u, k, r, at in world["events"] if in_q1(at)]
    suspicious = read("security.suspicious")
    reasons = [r for _, k, r in events if k == Kind.SUSPICIOUS]
    assert suspicious.value == len(reasons) == 2
    assert dict(suspicious.parts) == {r: reasons.count(r) for r in set(reasons)}
    privacy = read("security.privacy_changes")
    changes = [r for _, k, r in events if k == Kind.PRIVACY_CHANGED]
    assert privacy.value == len(changes) == 2
    assert privacy.parts["consent_withdrawn"] == 1  # at 23:59 on the quarter's last day
    assert read("security.preference_changes").value == sum(1 for _, k, _ in events if k == Kind.PREFERENCES_CHANGED)
    assert read("security.suspicious", region="Western Cape").value == 1


def test_churn_retention_and_session_length(world):
    before_start, before_end = START.date() - timedelta(days=90), START.date()
    q1_days = {d for d in Q1.day_list()}
    before = {u.pk for u, day in world["activity"] if before_start <= day < before_end}
    active = {u.pk for u, day in world["activity"] if day in q1_days}
    churned = before - active
    churn = read("engagement.churn")
    assert (churn.value, churn.n) == (pytest.approx(100 * len(churned) / len(before)), len(before))
    assert churn.parts["churned"] == len(churned) == 2  # b came back on 1 April, in Q2; d never did
    retention = read("engagement.retention")
    assert retention.value == pytest.approx(100 * len(before & active) / len(before))
    sessions = [minutes for _, started, minutes in world["sessions"] if in_q1(started)]
    session = read("engagement.session_minutes")
    assert (session.value, session.n) == (pytest.approx(sum(sessions) / len(sessions)), len(sessions))
    # In Gauteng: a (retained) and b (churned).
    assert read("engagement.churn", region="Gauteng").value == pytest.approx(50.0)


def test_active_users_are_daily_trailing_7_and_30_day_counts_averaged_over_the_quarter(world):
    days = Q1.day_list()
    rows = [(u.pk, day) for u, day in world["activity"]]

    def distinct(first: date, last: date) -> int:
        return len({user for user, day in rows if first <= day <= last})

    dau = sum(distinct(day, day) for day in days) / len(days)
    wau = sum(distinct(day - timedelta(days=6), day) for day in days) / len(days)
    mau = sum(distinct(day - timedelta(days=29), day) for day in days) / len(days)
    assert (read("engagement.dau").value, read("engagement.dau").n) == (pytest.approx(dau), 90)
    assert read("engagement.wau").value == pytest.approx(wau)
    assert read("engagement.mau").value == pytest.approx(mau)
    assert read("engagement.stickiness").value == pytest.approx(100 * dau / mau)


def test_account_tickets_by_type_with_response_resolution_and_satisfaction(world):
    rows = [
        row for row in world["tickets"] if in_q1(row[3]) and (row[1] == TicketCategory.ACCOUNT or row[2] is not None)
    ]
    count = read("account_issues.tickets")
    assert count.value == len(rows) == 3  # the merged duplicate, the payment ticket and Q2's are out
    assert dict(count.parts) == {TicketCategory.ACCOUNT: 2, TicketCategory.QUESTION: 1}
    responded = [row[4] for row in rows if row[4] is not None]
    first = read("account_issues.ticket_first_response_hours")
    assert (first.value, first.n, first.pending) == (pytest.approx(sum(responded) / len(responded)), 2, 1)
    assert first.target == 3  # support's target for every inquiry, document 003
    solved = [row[5] for row in rows if row[5] is not None]
    resolution = read("account_issues.ticket_resolution_hours")
    assert resolution.value == pytest.approx(sum(solved) / len(solved))  # the last evening's ticket took 26 h
    ratings = [row[6] for row in rows if row[6] is not None]
    csat = read("account_issues.ticket_csat")
    assert (csat.value, csat.n, csat.target) == (pytest.approx(sum(ratings) / len(ratings)), 2, 4.5)
    assert csat.met is False
    assert read("account_issues.tickets", region="gauteng").value == 2


def test_the_sections_show_the_registry_figures_and_their_queries_do_not_grow_with_the_data(world):
    ctx = context_for(Q1, AFTER_Q1)
    builders = (engagement_section, account_issues_section, security_section)
    with CaptureQueriesContext(connection) as few:
        sections = [build(ctx) for build in builders]
    for section in sections:
        for figure in section.figures:
            reading = figure_read(figure.key, Q1, now=AFTER_Q1).current
            assert (figure.value, figure.n) == (reading.value, reading.n), figure.key
    keys = {f.key for s in sections for f in s.figures}
    assert {"engagement.dau", "engagement.churn", "account_issues.lockouts", "security.suspicious"} <= keys
    # Ten times the users, events, sessions, resets and tickets on the same days.
    for _ in range(10):
        user = UserFactory(region="Gauteng")
        for _, kind, reason, at in world["events"]:
            AccountEvent.objects.create(user=user, kind=kind, reason=reason, at=at)
        PasswordReset.objects.create(user=user, requested_at=local(2026, 2, 1, 9), completed_at=local(2026, 2, 1, 10))
        AccountSession.objects.create(
            user=user, channel="web", key=f"more{user.pk}", started_at=local(2026, 1, 5, 10), last_seen_at=AFTER_Q1
        )
        ActivityDay.objects.create(user=user, day=date(2026, 1, 3), sign_ins=1)
        Ticket.objects.create(
            requester=user, subject="s", body="b", category=TicketCategory.ACCOUNT, created_at=local(2026, 2, 2, 9)
        )
    ctx = context_for(Q1, AFTER_Q1)
    with CaptureQueriesContext(connection) as many:
        for build in builders:
            build(ctx)
    assert len(many.captured_queries) == len(few.captured_queries)
