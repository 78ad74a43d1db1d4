"""A backlog scenario: a busy operations team after a bad week, loaded fast with bulk inserts.

    .venv/bin/python bench/backlog.py [--database saypro_perf] [--scale 1.0] [--seed 1]

Drops and re-creates the database, migrates it and loads, at scale 1:

- 100,000 support tickets over 90 days, about 40 % open (new, open, pending, on hold), spread over the
  departments, priorities and channels, some assigned, some waiting for triage;
- 100,000 conversations with 20,000 unanswered (a first answer owed) and 10,000 more unresolved;
- 50,000 pending registrations (some waiting on the applicant);
- 20,000 open moderation cases.

Open items get their SLA clocks through the kernel (`saypro.sla.services.clock_build`: the same deadline and
check points clock_start computes), finished tickets and conversations stopped clocks. Deadlines that passed are
recorded as breached (as the sweep would have); warnings are left for the next sweep. Rows go in with
bulk_create in batches, not through the services one item at a time: the point is the shape of the tables,
not the history behind each row. `--scale 0.01` loads a hundredth of everything (the flat-cost comparison).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
BATCH = 5000

TICKETS = 100_000
TICKETS_OPEN = 0.40
CONVERSATIONS = 100_000
CONVERSATIONS_UNANSWERED = 20_000
CONVERSATIONS_UNRESOLVED_ANSWERED = 10_000
REGISTRATIONS = 50_000
CASES = 20_000
# Triage's choices (rule, classifier, given by the caller, none) and the share of rule and classifier choices that
# an agent later moved to another department (misroutes).
TRIAGE_WEIGHTS = {"rule": 0.25, "model": 0.5, "caller": 0.1, "none": 0.15}
MISROUTED = 0.08
REQUESTERS = 20_000
AGENTS = 40
DAYS = 90


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="saypro_perf")
    parser.add_argument("--scale", type=float, default=1.0, help="Share of the full backlog (0.01 = a hundredth).")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


def setup_django(database: str) -> None:
    os.environ["DATABASE_URL"] = f"{POSTGRES_URL}/{database}"
    os.environ.setdefault("SAYPRO_VAR_DIR", f"/tmp/backlog-{database}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saypro.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def recreate(database: str) -> None:
    import psycopg2

    connection = psycopg2.connect(f"{POSTGRES_URL}/postgres")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{database}"')
    finally:
        connection.close()


def chunks(items: list[Any], size: int = BATCH) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Loader:
    def __init__(self, scale: float, seed: int) -> None:
        from django.utils import timezone

        self.scale = scale
        self.random = random.Random(seed)
        # Triage draws from its own stream, so the rest of the backlog is the one earlier runs loaded.
        self.triage = random.Random(seed + 1)
        self.now = timezone.now()
        self.rows: dict[str, int] = {}

    def n(self, full: int) -> int:
        return max(1, round(full * self.scale))

    def when(self, *, days: float = DAYS, newest: timedelta = timedelta(0)) -> datetime:
        """An instant within the last `days`, no newer than `newest` ago."""
        span = days * 86400 - newest.total_seconds()
        return self.now - newest - timedelta(seconds=self.random.random() * span)

    def insert(self, model: type, objects: list[Any]) -> list[Any]:
        created = []
        for batch in chunks(objects):
            created.extend(model.objects.bulk_create(batch))
        self.rows[model._meta.label] = self.rows.get(model._meta.label, 0) + len(objects)
        return created

    # --- People -------------------------------------------------------------------------------------------

    def users(self, prefix: str, count: int, **fields: Any) -> list[Any]:
        from django.contrib.auth.hashers import make_password

        from accounts.models import User

        password = make_password(None)  # unusable: nobody signs in as these
        return self.insert(
            User,
            [
                User(
                    email=f"{prefix}{i}@backlog.example",
                    full_name=f"{prefix.title()} {i}",
                    password=password,
                    date_joined=self.when(),
                    country=self.random.choice(["ZA", "NG", "KE", "GH"]),
                    **fields,
                )
                for i in range(count)
            ],
        )

    def staff(self) -> None:
        from django.contrib.auth.models import Group

        from accounts import roles
        from support.models import Department

        self.agents = self.users("agent", AGENTS, is_staff=True)
        group = Group.objects.get(name=roles.SUPPORT_AGENT)
        group.user_set.add(*self.agents)
        self.departments = list(Department.objects.all())
        for index, agent in enumerate(self.agents):
            self.departments[index % len(self.departments)].members.add(agent)

    # --- Clocks ---------------------------------------------------------------------------------------------

    def clocks(self, model: type, metric: str, items: list[tuple[int, datetime]], *, stopped: bool = False) -> None:
        """One clock per (id, started) through the kernel; stopped ones met or missed by chance."""
        from django.contrib.contenttypes.models import ContentType

        from saypro.sla import handlers
        from saypro.sla.calendars import spec_for
        from saypro.sla.models import Clock, ClockState, Policy
        from saypro.sla.services import clock_build

        policy = Policy.objects.select_related("calendar").get(metric=metric, is_default=True)
        spec = spec_for(policy.calendar)
        target_type = ContentType.objects.get_for_model(model)
        rows = []
        for target_id, started in items:
            clock = clock_build(
                metric=metric, policy=policy, target_type=target_type, target_id=target_id, at=started, spec=spec
            )
            if stopped:
                took = policy.target * self.random.uniform(0.1, 1.3)
                clock.state = ClockState.STOPPED
                clock.stopped_at = min(started + took, self.now)
                clock.met = clock.stopped_at <= clock.due_at
                clock.elapsed_seconds = (clock.stopped_at - started).total_seconds()
                clock.next_check_at = None
                if not clock.met:
                    clock.breached_at = clock.due_at
            elif clock.due_at <= self.now:
                # What the sweep would have recorded by now; a later warning point is the sweep's to announce.
                clock.breached_at = clock.due_at
                clock.warned_percent = max(policy.warn_percents, default=0)
                clock.warned_at = clock.due_at
                clock.next_check_at = None
            rows.append(clock)
        self.insert(Clock, rows)
        if not stopped:
            # What clock_start tells the app in the same transaction (the inbox's sort key, say).
            handlers.clocks_changed(metric, [target_id for target_id, _ in items])

    # --- The queues ---------------------------------------------------------------------------------------

    def tickets(self) -> None:
        from support.models import (
            FIRST_RESPONSE,
            MISROUTABLE,
            RESOLUTION,
            Channel,
            DepartmentTransfer,
            Priority,
            Status,
            Ticket,
            TriageSource,
        )

        requesters = self.users("requester", self.n(REQUESTERS))
        count = self.n(TICKETS)
        open_statuses = [Status.NEW, Status.OPEN, Status.OPEN, Status.PENDING, Status.ON_HOLD]
        rows, corrected = [], {}
        for i in range(count):
            is_open = self.random.random() < TICKETS_OPEN
            # Open tickets lean recent: most of a backlog is the last fortnight's.
            created = self.when(days=14 if is_open and self.random.random() < 0.7 else DAYS)
            status = (
                self.random.choice(open_statuses) if is_open else self.random.choice([Status.SOLVED, Status.CLOSED])
            )
            finished = min(created + timedelta(hours=self.random.uniform(1, 40)), self.now)
            source = self.triage.choices(list(TRIAGE_WEIGHTS), weights=list(TRIAGE_WEIGHTS.values()))[0]
            moved = None
            if source in MISROUTABLE and self.triage.random() < MISROUTED:
                moved = min(created + timedelta(minutes=self.triage.uniform(3, 240)), self.now)
                corrected[i] = source
            rows.append(
                Ticket(
                    requester=self.random.choice(requesters),
                    subject=f"Backlog ticket {i}: order SP-{self.random.randrange(10**6):06d}",
                    body="The parcel has not arrived and the seller does not answer.",
                    channel=self.random.choice(Channel.values),
                    priority=self.random.choice(Priority.values),
                    department=None if self.random.random() < 0.1 else self.random.choice(self.departments),
                    needs_triage=is_open and self.random.random() < 0.05,
                    assignee=self.random.choice(self.agents) if self.random.random() < 0.6 else None,
                    status=status,
                    created_at=created,
                    updated_at=finished if not is_open else created,
                    first_responded_at=None if status == Status.NEW else finished,
                    solved_at=finished if status in (Status.SOLVED, Status.CLOSED) else None,
                    closed_at=finished if status == Status.CLOSED else None,
                    triage_source=TriageSource.AGENT if moved else source,
                    misrouted_at=moved,
                )
            )
        tickets = self.insert(Ticket, rows)
        # The transfers behind the misroutes, as ticket_set_department writes them.
        self.insert(
            DepartmentTransfer,
            [
                DepartmentTransfer(
                    ticket=tickets[i],
                    from_department=self.triage.choice(self.departments),
                    to_department=tickets[i].department or self.triage.choice(self.departments),
                    corrected_source=source,
                    text=f"{tickets[i].subject}\n{tickets[i].body}",
                    by=self.triage.choice(self.agents),
                    at=tickets[i].misrouted_at,
                )
                for i, source in corrected.items()
            ],
        )
        open_ = [(t.pk, t.created_at) for t in tickets if t.status in (Status.NEW, Status.OPEN, Status.ON_HOLD)]
        self.clocks(Ticket, RESOLUTION, open_)
        self.clocks(Ticket, FIRST_RESPONSE, [(t.pk, t.created_at) for t in tickets if t.status == Status.NEW])
        self.clocks(
            Ticket, RESOLUTION, [(t.pk, t.created_at) for t in tickets if t.solved_at is not None], stopped=True
        )
        self.paused(Ticket, RESOLUTION, [(t.pk, t.created_at) for t in tickets if t.status == Status.PENDING])

    def paused(self, model: type, metric: str, items: list[tuple[int, datetime]]) -> None:
        """Waiting on the user: a running clock paused an hour after it started, as clock_pause leaves it."""
        from django.contrib.contenttypes.models import ContentType

        from saypro.sla.models import Clock, ClockState

        self.clocks(model, metric, [(pk, started) for pk, started in items])
        target_type = ContentType.objects.get_for_model(model)
        for batch in chunks([pk for pk, _ in items]):
            for clock in Clock.objects.filter(metric=metric, target_type=target_type, target_id__in=batch).exclude(
                state=ClockState.STOPPED
            ):
                clock.state = ClockState.PAUSED
                clock.paused_at = clock.started_at + timedelta(hours=1)
                clock.remaining_seconds = max(0.0, (clock.due_at - clock.paused_at).total_seconds())
                clock.risk_at = None
                clock.next_check_at = None
                clock.save(update_fields=["state", "paused_at", "remaining_seconds", "risk_at", "next_check_at"])

    def conversations(self) -> None:
        from messaging.models import Category, Conversation, Initiator, Status
        from messaging.services import FIRST_RESPONSE, RESOLUTION

        users = self.users("member", self.n(REQUESTERS))
        unanswered = self.n(CONVERSATIONS_UNANSWERED)
        unresolved = unanswered + self.n(CONVERSATIONS_UNRESOLVED_ANSWERED)
        rows = []
        for i in range(self.n(CONVERSATIONS)):
            created = self.when(days=7 if i < unresolved else DAYS)
            status = (
                Status.RESOLVED
                if i >= unresolved
                else self.random.choice([Status.OPEN, Status.WAITING, Status.ESCALATED])
            )
            if i < unanswered:
                status = Status.OPEN
            rows.append(
                Conversation(
                    user=self.random.choice(users),
                    subject=f"Backlog conversation {i}",
                    initiated_by=Initiator.USER,
                    status=status,
                    category=self.random.choice(["", *Category.values]),
                    assigned_to=self.random.choice(self.agents) if self.random.random() < 0.5 else None,
                    created_at=created,
                    last_message_at=created,
                    awaiting_reply_since=created if i < unanswered else None,
                    first_response_at=None if i < unanswered else created + timedelta(hours=2),
                    resolved_at=created + timedelta(hours=20) if status == Status.RESOLVED else None,
                )
            )
        conversations = self.insert(Conversation, rows)
        self.clocks(Conversation, FIRST_RESPONSE, [(c.pk, c.created_at) for c in conversations[:unanswered]])
        self.clocks(Conversation, RESOLUTION, [(c.pk, c.created_at) for c in conversations[:unresolved]])
        self.clocks(Conversation, RESOLUTION, [(c.pk, c.created_at) for c in conversations[unresolved:]], stopped=True)

    def registrations(self) -> None:
        from accounts.models import Registration, RegistrationStatus
        from accounts.selectors import METRIC

        applicants = self.users("applicant", self.n(REGISTRATIONS))
        self.applicants = applicants
        rows = []
        for user in applicants:
            submitted = self.when(days=5)
            status = (
                RegistrationStatus.INFO_REQUESTED if self.random.random() < 0.1 else RegistrationStatus.NEEDS_REVIEW
            )
            rows.append(
                Registration(
                    user=user,
                    status=status,
                    started_at=submitted - timedelta(minutes=5),
                    email_verified_at=submitted - timedelta(minutes=3),
                    submitted_at=submitted,
                    canonical_email=user.email,
                    risk_score=self.random.randrange(100),
                    screened_at=submitted,
                )
            )
        registrations = self.insert(Registration, rows)
        waiting = [(r.pk, r.submitted_at) for r in registrations if r.status == RegistrationStatus.INFO_REQUESTED]
        self.clocks(
            Registration,
            METRIC,
            [(r.pk, r.submitted_at) for r in registrations if r.status == RegistrationStatus.NEEDS_REVIEW],
        )
        self.paused(Registration, METRIC, waiting)

    def cases(self) -> None:
        from django.contrib.contenttypes.models import ContentType

        from accounts.models import User
        from moderation.models import Case, Reason, Source
        from moderation.selectors import METRIC

        profile = ContentType.objects.get_for_model(User)
        rows = []
        for user in self.applicants[: self.n(CASES)]:
            opened = self.when(days=3)
            rows.append(
                Case(
                    content_type=profile,
                    object_id=user.pk,
                    kind="profile",
                    author=user,
                    source=self.random.choice(Source.values),
                    reason=self.random.choice(Reason.values),
                    severity=self.random.randrange(101),
                    flag_count=self.random.randrange(1, 6),
                    brigading=self.random.random() < 0.02,
                    created_at=opened,
                    opened_at=opened,
                    last_flag_at=opened,
                    content_title=f"Profile of {user.full_name}",
                    content_text="Selling cheap phones, message me on another app.",
                )
            )
        cases = self.insert(Case, rows)
        self.clocks(Case, METRIC, [(c.pk, c.opened_at) for c in cases])


def main() -> int:
    args = parse_args()
    recreate(args.database)
    setup_django(args.database)
    from django.core.management import call_command
    from django.db import connection

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter()
    loader = Loader(args.scale, args.seed)
    loader.staff()
    for phase in (loader.tickets, loader.conversations, loader.registrations, loader.cases):
        phase_started = time.perf_counter()
        phase()
        print(f"{phase.__name__:14} {time.perf_counter() - phase_started:7.1f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    total = sum(loader.rows.values())
    elapsed = time.perf_counter() - migrated
    print(
        f"migrate {migrated - started:.1f} s; loaded {total:,} rows in {elapsed:.1f} s ({total / elapsed:,.0f} rows/s)"
    )
    for label, count in sorted(loader.rows.items()):
        print(f"  {label:28} {count:>9,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
