"""`manage.py seed_demo`: deterministic, realistic demo data that the product's own rules would have produced."""

from __future__ import annotations

import random
import statistics
from collections import Counter
from datetime import date, datetime, time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import connection

from accounts import roles
from accounts.models import (
    DECIDED_STATUSES,
    PENDING_STATUSES,
    AccountEvent,
    ActivityDay,
    ActivityHour,
    BlockRule,
    IdentityFingerprint,
    Registration,
    RegistrationSignal,
    RegistrationStatus,
    User,
)
from demo import accounts as demo
from demo import core
from saypro.audit.models import AuditEntry
from saypro.sla.models import Clock, ClockEvent, ClockState, Policy
from tests.factories import UserFactory

END = date(2025, 7, 1)
TZ = ZoneInfo("Africa/Johannesburg")
AS_OF = datetime(2025, 7, 1, tzinfo=TZ)
USERS = 300
FRAUD_CODES = {
    RegistrationSignal.Code.DISPOSABLE_EMAIL,
    RegistrationSignal.Code.DUPLICATE_EMAIL,
    RegistrationSignal.Code.DUPLICATE_PHONE,
    RegistrationSignal.Code.IP_VELOCITY,
    RegistrationSignal.Code.SUBNET_VELOCITY,
    RegistrationSignal.Code.BLOCK_RULE,
    RegistrationSignal.Code.REREGISTRATION,
    RegistrationSignal.Code.HONEYPOT,
    RegistrationSignal.Code.TOO_FAST,
}


@pytest.fixture(autouse=True)
def _demo_mode(settings):
    settings.DEMO_MODE = True


def seed_demo(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=StringIO(), verbosity=0)
    return out.getvalue()


def seed(users: int = USERS, seed_value: int = 7, *extra: str) -> str:
    return seed_demo("--users", str(users), "--seed", str(seed_value), "--end", END.isoformat(), *extra)


# The accounts phases alone: other apps' phases are tested in their own folders (and their rows may protect the
# users that wipe() deletes).
ACCOUNTS_PHASES = [core.SIGNUPS, "demo.activity.activity_phase"]


def seed_accounts(users: int = USERS, seed_value: int = 7, batch_size: int = core.DEFAULT_BATCH_SIZE) -> None:
    core.seed(users=users, seed=seed_value, end=END, batch_size=batch_size, phases=ACCOUNTS_PHASES)


def snapshot() -> dict[str, object]:
    """Everything the demo wrote, without primary keys."""
    registrations = sorted(
        Registration.objects.values_list(
            "user__email",
            "status",
            "started_at",
            "submitted_at",
            "decided_at",
            "risk_score",
            "decided_by__email",
            "campaign",
            "ip_address",
            "delay_cause",
        )
    )
    emails = dict(Registration.objects.values_list("pk", "user__email"))
    clocks = sorted(
        (emails[target_id], *rest)
        for target_id, *rest in Clock.objects.values_list(
            "target_id", "state", "due_at", "met", "breached_at", "elapsed_seconds", "warned_percent"
        )
    )
    return {
        "registrations": registrations,
        "clocks": clocks,
        "signals": sorted(RegistrationSignal.objects.values_list("registration__user__email", "code", "created_at")),
        "events": Counter(ClockEvent.objects.values_list("kind", flat=True)),
        "audit": Counter(AuditEntry.objects.values_list("action", "actor_label")),
        "fingerprints": sorted(IdentityFingerprint.objects.values_list("kind", "digest")),
    }


def wipe() -> None:
    ClockEvent.objects.all().delete()
    Clock.objects.all().delete()
    AuditEntry.objects.all().delete()
    IdentityFingerprint.objects.all().delete()
    BlockRule.objects.all().delete()
    User.objects.filter(is_staff=False).delete()
    # What no user row holds: the hourly activity chart and the credential-stuffing attempts.
    ActivityHour.objects.all().delete()
    AccountEvent.objects.all().delete()


def simulate(users: int, seed_value: int) -> tuple[demo.SignupSimulator, list[demo.Signup]]:
    """The accounts phase's simulation alone (no rows written), for proportions over a larger sample."""
    ctx = core.DemoContext(seed=seed_value, user_count=users, period=core.Period.ending(END))
    ctx.rng = random.Random(f"{seed_value}:{core.SIGNUPS}")
    policy = Policy.objects.select_related("calendar").get(metric=demo.METRIC, is_default=True)
    simulator = demo.SignupSimulator(ctx, policy=policy, reviewers=demo.reviewers_ensure())
    return simulator, list(simulator.run())


# --- The command --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_same_seed_gives_the_same_data_whatever_the_batch_size():
    seed_accounts()
    first = snapshot()
    wipe()
    seed_accounts(USERS, 7, batch_size=37)

    assert snapshot() == first
    assert len(first["registrations"]) == USERS


@pytest.mark.django_db
def test_a_different_seed_gives_different_data():
    seed_accounts(USERS, 7)
    first = snapshot()
    wipe()
    seed_accounts(USERS, 8)
    second = snapshot()

    first_emails = {row[0] for row in first["registrations"]}
    second_emails = {row[0] for row in second["registrations"]}
    assert len(first_emails & second_emails) < USERS // 4
    assert first["events"] != second["events"] or first["audit"] != second["audit"]


@pytest.mark.django_db
def test_if_empty_does_nothing_when_marketplace_users_exist():
    UserFactory()

    out = seed(USERS, 7, "--if-empty")

    assert "already exist" in out
    assert User.objects.filter(is_staff=False).count() == 1
    assert not Clock.objects.exists()


@pytest.mark.django_db
def test_if_empty_seeds_a_database_that_has_only_staff(reviewer, administrator):
    seed(50, 7, "--if-empty")

    assert User.objects.filter(is_staff=False).count() == 50


@pytest.mark.django_db
def test_a_second_run_without_if_empty_is_refused():
    seed(20)

    with pytest.raises(CommandError, match="already exist"):
        seed(20)
    assert User.objects.filter(is_staff=False).count() == 20


@pytest.mark.django_db
def test_demo_data_is_refused_outside_demo_mode(settings):
    settings.DEMO_MODE = False

    with pytest.raises(CommandError, match="SAYPRO_DEMO_MODE"):
        seed(20)
    assert not User.objects.filter(is_staff=False).exists()


@pytest.mark.django_db
def test_without_end_the_quarter_ends_at_the_start_of_today():
    with time_machine.travel(datetime(2025, 3, 15, 16, 30, tzinfo=TZ), tick=False):
        seed_demo("--users", "60", "--seed", "3")

    start_of_today = datetime(2025, 3, 15, tzinfo=TZ)
    started = Registration.objects.values_list("started_at", flat=True)
    assert max(started) < start_of_today
    assert min(started) >= start_of_today - timedelta(days=core.PERIOD_DAYS)


@pytest.mark.django_db
def test_inserts_in_batches_not_row_by_row(django_assert_max_num_queries):
    # SQLite splits a batch at its variable limit, so the bound is generous; one row at a time would be ~2,000.
    with django_assert_max_num_queries(150):
        seed_accounts(USERS, 7)


@pytest.mark.django_db
def test_progress_bars_are_written_to_stderr(capsys):
    out = StringIO()
    call_command("seed_demo", "--users", "30", "--seed", "1", "--end", END.isoformat(), stdout=out)

    assert "accounts: screening, review and write" in capsys.readouterr().err
    assert "accounts: screening, review and write" not in out.getvalue()
    assert "accounts.Registration" in out.getvalue()


# --- What the data looks like -------------------------------------------------------------------------


@pytest.mark.django_db
def test_fraud_and_pending_shares_are_roughly_right():
    _, signups = simulate(2000, 11)
    statuses = Counter(s.status for s in signups)
    submitted = [s for s in signups if s.submitted_at is not None]

    assert 0.07 <= sum(1 for s in signups if s.fraudulent) / len(signups) <= 0.09
    assert 0.002 <= sum(statuses[status] for status in PENDING_STATUSES) / len(signups) <= 0.04
    assert 0.6 <= len(submitted) / len(signups) <= 0.85
    # Most decisions are automatic; the reviewers see the risky rest.
    assert 0.7 <= sum(1 for s in submitted if s.auto_approved) / len(submitted) <= 0.92
    fraud_decided = [s for s in signups if s.fraudulent and s.status in DECIDED_STATUSES]
    assert sum(1 for s in fraud_decided if s.status == RegistrationStatus.REJECTED) / len(fraud_decided) >= 0.75


@pytest.mark.django_db
def test_the_queue_holds_the_last_two_days_with_some_at_risk_and_some_breached():
    simulator, signups = simulate(5000, 5)
    end = simulator.period.end
    pending = [s for s in signups if s.status in PENDING_STATUSES]
    clocks = [s.clock.clock for s in pending if s.clock is not None]

    assert pending
    assert all(s.submitted_at is not None for s in pending)
    recent = [s for s in pending if s.submitted_at is not None and s.submitted_at >= end - timedelta(days=2)]
    assert len(recent) >= len(pending) / 2
    assert any(c.risk_at is not None and c.risk_at <= end < c.due_at for c in clocks)
    assert any(c.breached_at is not None for c in clocks)


@pytest.mark.django_db
def test_campaigns_make_the_spikes_in_daily_sign_ups():
    seed_accounts()
    # The plan the seed wrote: the same seed draws the same campaigns and the same applicants.
    simulator, signups = simulate(USERS, 7)
    period = simulator.period
    launches = {campaign.code: campaign.day for campaign in simulator.campaigns}
    rows = sorted(Registration.objects.values_list("started_at", "campaign", "user__email"))

    first_seen: dict[str, int] = {}
    for started_at, campaign, _ in rows:
        if campaign:
            first_seen.setdefault(campaign, period.day_index(started_at))
    assert first_seen == launches

    def per_day(emails: set[str] | None = None) -> list[int]:
        days = Counter(period.day_index(at) for at, _, email in rows if emails is None or email in emails)
        return [days[day] for day in range(period.days)]

    every = per_day()
    median = statistics.median(every)
    assert median > 0
    for launch in launches.values():
        assert max(every[launch : launch + 2]) >= 2 * median

    # Fraud bursts are spikes of their own; among genuine applicants every day that reaches twice the median
    # lies in the first days of a campaign.
    genuine = per_day({s.email for s in signups if not s.fraudulent})
    genuine_median = statistics.median(genuine)
    spikes = [day for day, count in enumerate(genuine) if count >= 2 * genuine_median]
    assert all(any(0 <= day - launch <= 3 for launch in launches.values()) for day in spikes), spikes
    assert all(any(0 <= day - launch <= 3 for day in spikes) for launch in launches.values()), spikes


@pytest.mark.django_db
def test_sign_ups_peak_in_the_evening_and_are_rare_at_night():
    _, signups = simulate(1000, 2)
    hours = Counter(s.started_at.astimezone(ZoneInfo(s.country.tz)).hour for s in signups if not s.fraudulent)

    evening = sum(hours[h] for h in (18, 19, 20, 21))
    night = sum(hours[h] for h in (1, 2, 3, 4))
    assert evening > 5 * night


# --- SLA clocks ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_submitted_registration_has_one_consistent_48_hour_clock():
    seed(USERS, 6)
    registration_type = ContentType.objects.get_for_model(Registration)
    clocks = {c.target_id: c for c in Clock.objects.filter(metric=demo.METRIC, target_type=registration_type)}
    registrations = list(Registration.objects.all())

    assert len(clocks) == sum(1 for r in registrations if r.submitted_at is not None)
    for r in registrations:
        clock = clocks.get(r.pk)
        if r.submitted_at is None:
            assert clock is None
            continue
        assert clock is not None
        assert clock.started_at == r.submitted_at
        if clock.events.filter(kind=ClockEvent.Kind.PAUSE).exists():
            assert clock.due_at >= r.submitted_at + timedelta(hours=48)
        else:
            assert clock.due_at == r.submitted_at + timedelta(hours=48)
        if r.status in DECIDED_STATUSES:
            assert clock.state == ClockState.STOPPED
            assert clock.stopped_at == r.decided_at
            assert clock.met is not None and clock.elapsed_seconds is not None
            assert clock.next_check_at is None
            assert bool(r.delay_cause) == (clock.met is False)
        elif r.status == RegistrationStatus.INFO_REQUESTED:
            assert clock.state == ClockState.PAUSED
        else:
            assert clock.state == ClockState.RUNNING
            assert clock.met is None
            assert clock.next_check_at is not None or clock.breached_at is not None
        if not clock.paused_seconds and clock.state != ClockState.PAUSED:
            assert clock.risk_at == clock.started_at + timedelta(hours=36)
        if clock.breached_at is not None:
            assert clock.breached_at >= clock.due_at
            assert clock.events.filter(kind=ClockEvent.Kind.BREACH).count() == 1


# --- Work waiting for the demo logins -----------------------------------------------------------------


@pytest.mark.django_db
def test_after_make_seed_every_demo_login_has_work_waiting_now(monkeypatch):
    """What `make seed` runs (seed_demo, then ensure_staff), a morning after the quarter ended: the agent has
    conversations and tickets of their own and unassigned ones, the moderator open cases and a pending appeal,
    the reviewer registrations at risk and past due, and each of them can sign in."""
    from django.utils import timezone

    from messaging.models import Conversation
    from messaging.models import Status as ConversationStatus
    from moderation.models import Appeal, Case, CaseStatus
    from support.models import OPEN_STATUSES, Ticket

    monkeypatch.setenv("SAYPRO_DEMO_PASSWORD", "ops-demo-passphrase-42")
    with time_machine.travel(datetime.combine(END, time(9, 30), tzinfo=TZ), tick=False):
        seed_demo("--users", "1000", "--seed", "1", "--end", END.isoformat())
        call_command("ensure_staff", stdout=StringIO())
        now = timezone.now()

        agent = User.objects.get(email="agent@saypro.example")
        moderator = User.objects.get(email="moderator@saypro.example")
        reviewer = User.objects.get(email="reviewer@saypro.example")
        for login in (agent, moderator, reviewer):
            assert login.check_password("ops-demo-passphrase-42")
        unresolved = Conversation.objects.exclude(status=ConversationStatus.RESOLVED)
        assert unresolved.filter(assigned_to=agent).exists()
        assert unresolved.filter(assigned_to__isnull=True).exists()
        open_tickets = Ticket.objects.filter(status__in=OPEN_STATUSES)
        assert open_tickets.filter(assignee=agent).exists()
        assert open_tickets.filter(assignee__isnull=True).exists()
        assert Case.objects.filter(status=CaseStatus.OPEN).count() >= 2
        assert Appeal.objects.filter(status=Appeal.Status.PENDING).exists()
        assert moderator.groups.filter(name=roles.MODERATOR).exists()

        registrations = Clock.objects.filter(metric=demo.METRIC).exclude(state=ClockState.STOPPED)
        assert registrations.filter(due_at__lte=now).exists(), "past due"
        assert registrations.filter(risk_at__lte=now, due_at__gt=now).exists(), "at risk"
        assert registrations.filter(due_at__gt=now, risk_at__gt=now).exists(), "new"
        assert Registration.objects.filter(claimed_by=reviewer, status__in=PENDING_STATUSES).exists()
        for metric in ("message.first_response", "moderation.decision", "ticket.resolution"):
            clocks = Clock.objects.filter(metric=metric).exclude(state=ClockState.STOPPED)
            assert clocks.filter(due_at__lte=now).exists() and clocks.filter(due_at__gt=now).exists(), metric


@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="one SQLite file takes one writer: seeding runs in one process"
)
@pytest.mark.django_db(transaction=True)
def test_the_domains_seeded_side_by_side_in_two_processes_write_and_report_all_their_rows():
    from marketplace.models import Listing
    from messaging.models import Conversation
    from moderation.models import Detection
    from support.models import Ticket
    from tests.conftest import restore_reference_data

    try:
        ctx = core.seed(users=400, seed=3, end=END, jobs=2)

        # Each domain ran in a child process; the counts it reports came back to the parent.
        for model in (Listing, Detection, Conversation, Ticket, ActivityDay):
            assert model.objects.count() == ctx.created[model._meta.label] > 0, model
        if connection.vendor == "postgresql":
            # The tables were analysed once written: the planner knows their size.
            with connection.cursor() as cursor:
                cursor.execute("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'support_ticket'")
                assert cursor.fetchone()[0] is not None
    finally:
        restore_reference_data()
