"""Replaying the support agents' work over the quarter's tickets, in time order."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings

from accounts.models import User
from demo.accounts import HOUR_WEIGHTS, WEEKDAY_WEIGHTS
from demo.core import DemoContext, DemoUser, daily_counts
from demo.support.vocabulary import (
    CHANNELS,
    DEPARTMENTS,
    LATE_RATINGS,
    PRIORITIES,
    RATINGS,
    SUBJECTS,
    TICKETS_PER_USER,
    _lognormal,
)
from saypro.sla.models import Policy
from saypro.sla.replay import Replayed, clock_replay
from saypro.sla.services import spec_for
from support.models import (
    CHAT_FIRST_RESPONSE,
    FIRST_RESPONSE,
    RESOLUTION,
    Channel,
    Department,
    Status,
    Ticket,
    TriageSource,
)
from support.services import policy_choose


@dataclass(eq=False, slots=True)
class DemoTicket:
    requester: DemoUser
    created_at: datetime
    channel: str
    priority: str
    department: str
    subject: str
    body: str
    triage_source: str
    confidence: float | None
    agent: User
    misrouted_from: str = ""
    first_response_at: datetime | None = None
    pending: tuple[datetime, datetime | None] | None = None
    solved_at: datetime | None = None
    status: str = Status.NEW
    known_issue: int | None = None
    clocks: dict[str, Replayed] = field(default_factory=dict)
    rating: int | None = None
    rated_at: datetime | None = None
    row: Ticket | None = None


class _Simulator:
    def __init__(self, ctx: DemoContext, agents: list[User]):
        self.ctx, self.rng, self.agents = ctx, ctx.rng, agents
        self.end = ctx.period.end
        self.departments = {d.slug: d for d in Department.objects.all()}
        self.members: dict[str, list[User]] = {}
        for agent in agents:
            for department in agent.support_departments.all():
                self.members.setdefault(department.slug, []).append(agent)
        self.choices: dict[tuple[str, str, str], tuple[Policy, Policy]] = {}
        self.specs: dict[int, Any] = {}
        self.chat_policy = Policy.objects.select_related("calendar").get(metric=CHAT_FIRST_RESPONSE, is_default=True)
        self.users = ctx.roster()

    def policies(self, t: DemoTicket) -> tuple[Policy, Policy]:
        key = (t.priority, t.channel, t.department)
        if key not in self.choices:
            choice = policy_choose(priority=t.priority, channel=t.channel, department=self.departments[t.department])
            self.choices[key] = (choice.first_response, choice.resolution)
        return self.choices[key]

    def spec(self, policy: Policy) -> Any:
        if policy.calendar_id not in self.specs:
            self.specs[policy.calendar_id] = spec_for(policy.calendar)
        return self.specs[policy.calendar_id]

    def day_counts(self, count: int) -> list[int]:
        period = self.ctx.period
        weights = [
            WEEKDAY_WEIGHTS[(period.first_day + timedelta(days=d)).weekday()] * (0.9 + 0.2 * d / period.days)
            for d in range(period.days)
        ]
        return daily_counts(self.rng, count, weights)

    def moments(self, day: int, count: int) -> list[datetime]:
        rng, period = self.rng, self.ctx.period
        moments = []
        for _ in range(count):
            hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
            local = datetime.combine(
                period.first_day + timedelta(days=day),
                time(hour, rng.randrange(60), rng.randrange(60)),
                tzinfo=period.tz,
            )
            moments.append(local)
        return sorted(moments)

    def requester(self, at: datetime) -> DemoUser | None:
        approved = self.users.approved_by(at)
        return self.users[self.rng.randrange(approved)] if approved else None

    def ticket(self, at: datetime) -> DemoTicket | None:
        rng = self.rng
        requester = self.requester(at)
        if requester is None:
            return None
        channel = CHANNELS.pick(rng)
        department = "technical" if channel == Channel.IN_APP else DEPARTMENTS.pick(rng)
        subject, body = rng.choice(SUBJECTS[department])
        source, confidence = TriageSource.MODEL, None
        roll = rng.random()
        if channel in (Channel.IN_APP, Channel.CONVERSATION):
            source = TriageSource.CALLER
        elif roll < 0.15:
            source = TriageSource.RULE
        elif roll < 0.21:
            source = TriageSource.AGENT  # left to the triage view by low confidence, then set by an agent
            confidence = rng.uniform(0.3, 0.59)
        else:
            confidence = min(0.995, rng.betavariate(9, 1.3))
        misrouted_from = ""
        if source == TriageSource.MODEL and rng.random() < 0.05:
            misrouted_from = rng.choice([slug for slug in SUBJECTS if slug != department])
        members = self.members.get(department) or self.agents
        return DemoTicket(
            requester=requester,
            created_at=at,
            channel=channel,
            priority=PRIORITIES.pick(rng),
            department=department,
            subject=subject,
            body=body,
            triage_source=source,
            confidence=confidence,
            agent=rng.choice(members),
            misrouted_from=misrouted_from,
        )

    def work(self, t: DemoTicket) -> None:
        """When the agent answered, waited on the user and solved, relative to the targets that applied."""
        rng = self.rng
        first_policy, resolution_policy = self.policies(t)
        target = resolution_policy.target.total_seconds()
        # First answers: chat within a couple of minutes; elsewhere a median of about an hour with a long tail.
        median = 0.025 if t.channel == Channel.CHAT else {"urgent": 0.35, "high": 0.7}.get(t.priority, 1.05)
        first = t.created_at + timedelta(hours=_lognormal(rng, median, 0.85))
        t.first_response_at = first
        wait = timedelta()
        if rng.random() < 0.2:
            answered = first + timedelta(hours=_lognormal(rng, 3.0, 1.0))
            t.pending = (first, answered)
            wait = answered - first
        # Working time to the solution as a share of the target: about 4 % over it.
        share = _lognormal(rng, 0.3, 0.7)
        solved = t.created_at + timedelta(seconds=max(share * target, (first - t.created_at).total_seconds() + 60))
        t.solved_at = solved + wait
        for attribute in ("first_response_at", "solved_at"):
            if getattr(t, attribute) > self.end:
                setattr(t, attribute, None)
        if t.pending and t.pending[1] and t.pending[1] > self.end:
            t.pending = (t.pending[0], None) if t.pending[0] <= self.end else None
        if t.solved_at is None:
            t.status = (
                Status.PENDING
                if t.pending and t.pending[1] is None
                else (Status.OPEN if t.first_response_at else Status.NEW)
            )
        else:
            closed = t.solved_at < self.end - timedelta(days=settings.SUPPORT_REOPEN_DAYS)
            t.status = Status.CLOSED if closed else Status.SOLVED
        common: dict[str, Any] = {"started_at": t.created_at, "as_of": self.end, "rng": rng}
        t.clocks[FIRST_RESPONSE] = clock_replay(
            policy=first_policy, spec=self.spec(first_policy), stopped_at=t.first_response_at or t.solved_at, **common
        )
        if t.channel == Channel.CHAT:
            t.clocks[CHAT_FIRST_RESPONSE] = clock_replay(
                policy=self.chat_policy,
                spec=self.spec(self.chat_policy),
                stopped_at=t.first_response_at or t.solved_at,
                **common,
            )
        t.clocks[RESOLUTION] = clock_replay(
            policy=resolution_policy,
            spec=self.spec(resolution_policy),
            pauses=[t.pending] if t.pending else (),
            stopped_at=t.solved_at,
            **common,
        )
        if t.solved_at is not None and rng.random() < 0.36:
            late = t.clocks[RESOLUTION].met is False
            t.rating = (LATE_RATINGS if late else RATINGS).pick(rng)
            t.rated_at = t.solved_at + timedelta(hours=_lognormal(rng, 5, 1.2))
            if t.rated_at > self.end:
                t.rating = t.rated_at = None

    def run(self) -> Iterator[DemoTicket]:
        """The quarter's tickets in time order, drawn and worked a day at a time (never held all at once)."""
        count = int(len(self.users) * TICKETS_PER_USER)
        with self.ctx.bar(total=count, desc="support: simulate", unit="tickets") as bar:
            for day, on_day in enumerate(self.day_counts(count)):
                for at in self.moments(day, on_day):
                    ticket = self.ticket(at)
                    if ticket is not None:
                        self.work(ticket)
                        yield ticket
                bar.update(on_day)
