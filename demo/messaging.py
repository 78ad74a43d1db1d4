"""Demo data: a quarter of conversations between marketplace users and the admin team.

Users write in (about 20 conversations per 100 users a quarter, growing through the quarter, busiest in the
evening), the team writes out (ad status, policy enforcement). Categories follow the target mix, the team
answers mostly within 24 hours with some breaches at busy times, users answer or fall silent. Each conversation's
history is replayed through the same rules as messaging.services (waits for an answer, pauses while waiting on
the user, reopening), and its clocks are written as the SLA kernel would have run them (saypro.sla.
replay), so the inbox, the compliance tiles and the volume figures all agree.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from accounts import roles
from accounts.models import AgentProfile, User
from demo.core import DemoContext, DemoUser, Weighted, approved_users, daily_counts
from messaging.models import (
    Category,
    CategoryLabel,
    CategorySource,
    Conversation,
    Initiator,
    Message,
    MessageKind,
    ResolutionPolicy,
    Status,
    Team,
    TeamMembership,
)
from messaging.services import CATEGORY_TEAMS, ESCALATING_CATEGORIES, FIRST_RESPONSE, RESOLUTION, acknowledgement_text
from saypro.audit.models import AuditEntry
from saypro.sla import services as sla
from saypro.sla.calendars import CalendarSpec
from saypro.sla.models import Policy
from saypro.sla.replay import Replayed, clock_replay
from saypro.sla.services import spec_for

CONVERSATIONS_PER_USER = 0.2
OUTBOUND_SHARE = 0.12
# Arrivals grow through the quarter (about +12 % from its first week to its last).
GROWTH = 0.12
AUTO_RESOLVE = timedelta(days=7)
CATEGORY_MIX = Weighted(
    [
        (Category.GENERAL, 30),
        (Category.SUPPORT, 40),
        (Category.COMPLAINT, 6),
        (Category.POLICY, 4),
        (Category.RENEWAL, 15),
        (Category.MISC, 5),
    ]
)
HOUR_WEIGHTS = (
    0.4,
    0.2,
    0.15,
    0.1,
    0.15,
    0.4,
    1,
    1.8,
    2.6,
    3,
    3,
    2.8,
    2.7,
    2.6,
    2.5,
    2.4,
    2.5,
    2.7,
    3,
    3.2,
    3.1,
    2.6,
    1.8,
    0.9,
)
WEEKDAY_WEIGHTS = (1.15, 1.1, 1.05, 1.0, 0.95, 0.8, 0.75)
AGENTS = (
    ("agent2@saypro.example", "Lindiwe Mahlangu", (Team.GENERAL, Team.SUPPORT), ["en", "zu"]),
    ("agent3@saypro.example", "Emeka Okonkwo", (Team.SUPPORT,), ["en", "ig"]),
    ("agent4@saypro.example", "Achieng Otieno", (Team.SUPPORT, Team.GENERAL), ["en", "sw"]),
    ("agent5@saypro.example", "Kofi Asante", (Team.RENEWALS,), ["en", "ak"]),
    ("agent6@saypro.example", "Nour Hassan", (Team.GENERAL, Team.RENEWALS), ["ar", "en"]),
    ("agent7@saypro.example", "Pieter Botha", (Team.SUPPORT,), ["en", "af"]),
    ("office1@saypro.example", "Thandiwe Nkosi", (Team.CLASSIFIED_OFFICE,), ["en", "xh"]),
    ("office2@saypro.example", "Ibrahim Bello", (Team.CLASSIFIED_OFFICE,), ["en", "ha"]),
)
ITEMS = (
    "Toyota Corolla 2014",
    "iPhone 12 128 GB",
    "2-bedroom flat in Sandton",
    "Samsung 55-inch TV",
    "mountain bike",
    "leather sofa",
    "HP laptop",
    "baby pram",
    "PlayStation 5",
    "wedding dress",
    "gas stove",
    "Honda motorbike",
)
AD_CATEGORIES = Weighted(
    [("Vehicles", 22), ("Electronics", 24), ("Property", 14), ("Home & garden", 14), ("Fashion", 9), ("Jobs", 7)]
)
TEXTS: dict[str, tuple[tuple[str, str], ...]] = {
    Category.GENERAL: (
        ("Featured ads", "How much does it cost to make my {item} ad featured, and for how long?"),
        ("Payment methods", "Which payment methods can buyers use on SayPro? I am selling a {item}."),
        ("Photos", "How many photos can I add to an ad? My {item} needs more than five."),
        ("Delivery", "Does SayPro arrange delivery, or do I meet the buyer of my {item} myself?"),
        ("", "Can I post the same {item} in two categories?"),
    ),
    Category.SUPPORT: (
        ("Cannot log in", "I cannot log in since yesterday, the password reset e-mail never arrives."),
        ("Payment failed", "I paid R{amount} to promote my {item} ad but it still shows as not promoted."),
        ("Refund", "I was charged twice (R{amount}) for the same featured ad. Please refund one."),
        ("Cannot upload photos", "The app crashes every time I upload photos for my {item}."),
        ("Change phone number", "I have a new phone number, how do I change it on my account?"),
        ("", "My {item} ad disappeared from my list of ads, where is it?"),
    ),
    Category.COMPLAINT: (
        (
            "Complaint about a seller",
            "I want to file a complaint: the seller of the {item} took R{amount} and stopped answering.",
        ),
        ("Complaint", "This is unacceptable, my ad was removed without any explanation."),
        ("Very unhappy", "I am very disappointed with how my report was handled, nobody answered for days."),
    ),
    Category.POLICY: (
        ("Scam ad", "Please check this ad for a {item}: I think it is a scam, the price is far too low."),
        ("Fake listing", "Fake listing: the photos of this {item} are copied from another site."),
        ("Report a user", "I am reporting this seller, he asks for payment outside SayPro by gift card."),
    ),
    Category.RENEWAL: (
        ("Renew my ad", "My {item} ad expired yesterday, can you renew it? It is still for sale."),
        ("Ad pending approval", "My {item} ad has been pending approval for two days."),
        ("Account approval", "My account is not approved yet, I registered on Monday."),
        ("", "Please extend my listing for the {item} by another month."),
    ),
    Category.MISC: (
        ("Suggestion", "A suggestion: it would be great if I could save searches and get alerts."),
        ("Feedback", "Just some feedback: the new app is much faster, well done."),
        ("", "Would be nice if the map showed the distance to the seller."),
    ),
}
OUTBOUND = (
    (
        Category.POLICY,
        "Your ad was paused",
        "Your ad for a {item} was paused: the photos show a price in another currency. Please edit it.",
    ),
    (
        Category.RENEWAL,
        "Your ad expires soon",
        "Your ad for a {item} expires in three days. Reply if you want us to renew it.",
    ),
    (Category.POLICY, "About your report", "Thank you for your report. We removed the ad and warned the seller."),
    (Category.GENERAL, "Your verified badge", "Good news: your account now shows the verified seller badge."),
)
REPLIES = {
    Category.GENERAL: "Thank you for asking. {answer}",
    Category.SUPPORT: "Sorry for the trouble. {answer}",
    Category.COMPLAINT: "We are sorry to hear this and are looking into it. {answer}",
    Category.POLICY: "Thank you for the report. {answer}",
    Category.RENEWAL: "Thanks for your message. {answer}",
    Category.MISC: "Thank you for the feedback: we passed it on to the product team.",
}
ANSWERS = (
    "You will find it under My ads, then Edit.",
    "We fixed it on our side; please try again and let us know.",
    "It is done: you should see the change within a few minutes.",
    "Could you send us the ad number, so we can check?",
    "We refunded the amount; it reaches your account in 3–5 working days.",
)
USER_FOLLOW_UPS = ("Thanks, that worked.", "It is ad number {n}.", "Still not working, sorry.", "Here it is: {n}.")


@dataclass(slots=True)
class Script:
    """One simulated conversation: who wrote when, and what the replay made of it by the end of the period."""

    user: DemoUser
    initiated_by: str
    category: str
    started_at: datetime
    agent: User
    subject: str
    ad_category: str
    listing_ref: str
    events: list[tuple[datetime, str, str]] = field(default_factory=list)  # (at, kind, body or "then")
    # Replay results.
    status: str = Status.OPEN
    awaiting_since: datetime | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    resolved_by: User | None = None
    escalated_at: datetime | None = None
    waits: list[list[datetime | None]] = field(default_factory=list)
    cycles: list[dict[str, Any]] = field(default_factory=list)
    messages: list[tuple[datetime, str, User | None, str]] = field(default_factory=list)
    source: str = CategorySource.MODEL
    confidence: float | None = None
    region: str = ""
    clocks: list[tuple[Replayed, str, Policy]] = field(default_factory=list)
    labelled_at: datetime | None = None


def _lognormal(rng: random.Random, median_hours: float, sigma: float) -> timedelta:
    return timedelta(hours=median_hours * math.exp(rng.gauss(0, sigma)))


class Simulator:
    def __init__(self, ctx: DemoContext, *, agents: dict[str, list[User]]):
        self.ctx = ctx
        self.rng = ctx.rng
        self.agents = agents
        self.period = ctx.period
        self.users = ctx.roster()

    def day_counts(self, count: int) -> list[int]:
        """How many conversations start on each day: a density rising linearly by GROWTH across the quarter,
        weighted by the weekday."""
        period, busiest = self.period, max(WEEKDAY_WEIGHTS)

        def rising(x: float) -> float:  # the share of the rising density before the fraction x of the quarter
            return x + GROWTH * x * x / 2

        weights = [
            (rising((d + 1) / period.days) - rising(d / period.days))
            * WEEKDAY_WEIGHTS[(period.first_day + timedelta(days=d)).weekday()]
            / busiest
            for d in range(period.days)
        ]
        return daily_counts(self.rng, count, weights)

    def moment(self, day: int) -> datetime:
        """An arrival time on the quarter's `day`, by local hour."""
        rng, period = self.rng, self.period
        local = datetime.combine(period.first_day + timedelta(days=day), datetime.min.time(), tzinfo=period.tz)
        hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
        return (local + timedelta(hours=hour, seconds=rng.uniform(0, 3600))).astimezone(period.start.tzinfo)

    def user_at(self, at: datetime) -> DemoUser | None:
        """A user approved before `at`, chosen at random."""
        eligible = self.users.approved_by(at, inclusive=False)
        return self.users[self.rng.randrange(eligible)] if eligible else None

    def agent_for(self, category: str) -> User:
        return self.rng.choice(self.agents[CATEGORY_TEAMS[category]])

    def fill(self, text: str) -> str:
        return text.format(
            item=self.rng.choice(ITEMS),
            amount=self.rng.choice((49, 99, 150, 250, 399)),
            n=self.rng.randint(10_000, 99_999),
        )

    def first_wait(self, at: datetime) -> timedelta:
        """How long users wait for an answer: hours at best, longer overnight and at the end of the quarter."""
        local_hour = at.astimezone(self.period.tz).hour
        median = 2.5 if 8 <= local_hour < 20 else 6.0
        if self.period.end - at < timedelta(days=10):
            median *= 1.6  # the last campaign of the quarter swamped the team
        return _lognormal(self.rng, median, 1.15)

    def inbound(self, at: datetime) -> Script | None:
        rng = self.rng
        user = self.user_at(at)
        if user is None:
            return None
        category = CATEGORY_MIX.pick(rng)
        subject, body = rng.choice(TEXTS[category])
        script = Script(
            user=user,
            initiated_by=Initiator.USER,
            category=category,
            started_at=at,
            agent=self.agent_for(category),
            subject=self.fill(subject) if subject else "",
            ad_category=AD_CATEGORIES.pick(rng) if rng.random() < 0.7 else "",
            listing_ref=str(rng.randint(100_000, 999_999)) if rng.random() < 0.6 else "",
            region=user.region,
        )
        script.events.append((at, "user", self.fill(body)))
        reply_at = at + self.first_wait(at)
        answer = REPLIES[category].format(answer=rng.choice(ANSWERS))
        flow = rng.random()
        if flow < 0.5:
            script.events.append((reply_at, "reply:resolved", answer))
        elif flow < 0.9:
            script.events.append((reply_at, "reply:waiting", answer))
            follow_at = reply_at + _lognormal(rng, 5, 1.0)
            script.events.append((follow_at, "user", self.fill(rng.choice(USER_FOLLOW_UPS))))
            second = follow_at + self.first_wait(follow_at)
            script.events.append((second, "reply:resolved", "Thank you, we have sorted it out. " + rng.choice(ANSWERS)))
        else:
            script.events.append((reply_at, "reply:waiting", answer))
            script.events.append((reply_at + AUTO_RESOLVE, "auto_resolve", ""))
        if category in ESCALATING_CATEGORIES and rng.random() < 0.2:
            script.events.append(
                (at + _lognormal(rng, 8, 0.6), "escalate", "The seller has several reports against them.")
            )
        return script

    def outbound(self, at: datetime) -> Script | None:
        rng = self.rng
        user = self.user_at(at)
        if user is None:
            return None
        category, subject, body = rng.choice(OUTBOUND)
        script = Script(
            user=user,
            initiated_by=Initiator.STAFF,
            category=category,
            started_at=at,
            agent=self.agent_for(category),
            subject=subject,
            ad_category=AD_CATEGORIES.pick(rng),
            listing_ref=str(rng.randint(100_000, 999_999)),
            source=CategorySource.AGENT,
            region=user.region,
        )
        script.status = Status.WAITING
        script.events.append((at, "reply:waiting", self.fill(body)))
        if rng.random() < 0.45:
            answer_at = at + _lognormal(rng, 6, 1.0)
            script.events.append(
                (answer_at, "user", "Done, thank you." if rng.random() < 0.6 else "Why? I did nothing wrong.")
            )
            script.events.append((answer_at + self.first_wait(answer_at), "reply:resolved", "Thank you, all settled."))
        else:
            script.events.append((at + AUTO_RESOLVE, "auto_resolve", ""))
        return script

    def replay(self, s: Script) -> None:
        """The services' rules, applied to the scripted events up to the end of the period."""
        end = self.period.end
        for at, kind, text in sorted(s.events, key=lambda e: e[0]):
            if at >= end:
                break
            if kind == "user":
                s.messages.append((at, MessageKind.USER, None, text))
                if s.initiated_by == Initiator.USER and len(s.messages) == 1:
                    s.messages.append((at, MessageKind.AUTO, None, acknowledgement_text(at + timedelta(hours=24))))
                if s.awaiting_since is None:
                    s.awaiting_since = at
                    s.waits.append([at, None])
                if s.status == Status.RESOLVED:
                    s.status, s.resolved_at, s.resolved_by = Status.OPEN, None, None
                elif s.status == Status.WAITING and s.cycles:
                    s.cycles[-1]["pauses"][-1][1] = at
                    s.status = Status.OPEN
                elif s.status == Status.WAITING:
                    s.status = Status.OPEN
                if not s.cycles or s.cycles[-1]["stop"] is not None:
                    s.cycles.append({"start": at, "pauses": [], "stop": None})
            elif kind.startswith("reply"):
                s.messages.append((at, MessageKind.REPLY, s.agent, text))
                if s.awaiting_since is not None:
                    s.waits[-1][1] = at
                    s.awaiting_since = None
                    s.first_response_at = s.first_response_at or at
                then = kind.split(":")[1]
                if then == "waiting" and s.status != Status.WAITING:
                    s.status = Status.WAITING
                    if s.cycles and s.cycles[-1]["stop"] is None:
                        s.cycles[-1]["pauses"].append([at, None])
                elif then == "resolved":
                    self.resolve(s, at, s.agent)
            elif kind == "auto_resolve" and s.status == Status.WAITING:
                self.resolve(s, at, None)
            elif kind == "escalate" and s.status in (Status.OPEN, Status.WAITING):
                self.escalate(s, at)
                s.messages.append((at, MessageKind.EVENT, s.agent, f"Escalated to the Classified Office: {text}"))

    def escalate(self, s: Script, at: datetime) -> None:
        if s.status == Status.WAITING and s.cycles and s.cycles[-1]["stop"] is None:
            s.cycles[-1]["pauses"][-1][1] = at
        s.status, s.escalated_at = Status.ESCALATED, at

    def resolve(self, s: Script, at: datetime, by: User | None) -> None:
        if s.awaiting_since is not None:
            s.waits[-1][1] = at
            s.awaiting_since = None
        if s.cycles and s.cycles[-1]["stop"] is None:
            s.cycles[-1]["stop"] = at
        s.status, s.resolved_at, s.resolved_by = Status.RESOLVED, at, by
        who = f"Resolved by {by.get_full_name()}." if by else "Resolved automatically. No answer from the user."
        s.messages.append((at, MessageKind.EVENT, by, who))

    def classify(self, s: Script) -> None:
        if s.initiated_by == Initiator.STAFF:
            return
        rng, draw = self.rng, self.rng.random()
        if draw < 0.12:
            s.source, s.confidence = CategorySource.RULE, 1.0
        elif draw < 0.93:
            s.source, s.confidence = CategorySource.MODEL, round(rng.uniform(0.62, 0.99), 3)
        else:
            s.source, s.confidence = CategorySource.AGENT, None

    def run(self, count_in: int, count_out: int) -> Iterator[Script]:
        """The quarter's conversations in time order, drawn and replayed a day at a time (never held all at once).
        Each arrival is inbound or outbound in proportion to what is left of each, so the totals are as asked."""
        rng, left_in, left = self.rng, count_in, count_in + count_out
        with self.ctx.bar(total=left, desc="messaging: conversations", unit="conv") as bar:
            for day, on_day in enumerate(self.day_counts(left)):
                for at in sorted(self.moment(day) for _ in range(on_day)):
                    inbound = rng.random() * left < left_in
                    left, left_in = left - 1, left_in - inbound
                    script = self.inbound(at) if inbound else self.outbound(at)
                    bar.update()
                    if script is None:
                        continue
                    self.classify(script)
                    self.replay(script)
                    yield script


def agents_ensure() -> dict[str, list[User]]:
    """The demo's messaging agents with their teams and profiles, created once (nobody signs in as them)."""
    emails = [email for email, *_ in AGENTS]
    existing = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
    new = User.objects.bulk_create(
        [
            User(email=email, full_name=full_name, is_staff=True, password=make_password(None))
            for email, full_name, *_ in AGENTS
            if email not in existing
        ]
    )
    if new:
        Group.objects.get(name=roles.SUPPORT_AGENT).user_set.add(*new)
    users = {user.email: user for user in User.objects.filter(email__in=emails)}
    AgentProfile.objects.bulk_create(
        [AgentProfile(user=users[email], languages=languages) for email, _, _, languages in AGENTS],
        ignore_conflicts=True,
    )
    TeamMembership.objects.bulk_create(
        [TeamMembership(team=team, user=users[email]) for email, _, teams, _ in AGENTS for team in teams],
        ignore_conflicts=True,
    )
    teams: dict[str, list[User]] = {team: [] for team in Team.values}
    for email, _, memberships, _ in AGENTS:
        for team in memberships:
            teams[team].append(users[email])
    return teams


def messaging_phase(ctx: DemoContext) -> None:
    with transaction.atomic():
        agents = agents_ensure()
    inbound = round(ctx.user_count * CONVERSATIONS_PER_USER)
    scripts = Simulator(ctx, agents=agents).run(inbound, round(inbound * OUTBOUND_SHARE))
    writer = _Writer(ctx)
    for batch in ctx.batches(scripts):
        # Drawn conversation by conversation in time order, replayed and written batch by batch and let go once
        # written, so a quarter's histories are never held at once.
        for script in batch:
            script.clocks = writer.clocks(script, ctx.rng)
            script.labelled_at = script.started_at + timedelta(minutes=ctx.rng.uniform(5, 90))
        with transaction.atomic():
            writer.write(batch)


class _Writer:
    def __init__(self, ctx: DemoContext):
        self.ctx = ctx
        self.first_policy = Policy.objects.select_related("calendar").get(metric=FIRST_RESPONSE, is_default=True)
        self.policies = {
            row.category: row.policy for row in ResolutionPolicy.objects.select_related("policy__calendar")
        }
        self.specs: dict[int, CalendarSpec] = {}
        self.conversation_type = ContentType.objects.get_for_model(Conversation)

    def spec(self, policy: Policy) -> CalendarSpec:
        if policy.calendar_id not in self.specs:
            self.specs[policy.calendar_id] = spec_for(policy.calendar)
        return self.specs[policy.calendar_id]

    def conversation(self, s: Script) -> Conversation:
        last = max((m[0] for m in s.messages), default=s.started_at)
        return Conversation(
            user_id=s.user.pk,
            subject=s.subject,
            initiated_by=s.initiated_by,
            started_by=s.agent if s.initiated_by == Initiator.STAFF else None,
            status=s.status,
            category=s.category,
            category_source=s.source,
            category_confidence=s.confidence,
            category_model_version=1 if s.source == CategorySource.MODEL else None,
            team=Team.CLASSIFIED_OFFICE if s.escalated_at else CATEGORY_TEAMS[s.category],
            assigned_to=s.agent,
            assigned_at=s.started_at,
            language=s.user.language,
            region=s.region,
            ad_category=s.ad_category,
            listing_ref=s.listing_ref,
            created_at=s.started_at,
            last_message_at=last,
            awaiting_reply_since=s.awaiting_since,
            first_response_at=s.first_response_at,
            resolved_at=s.resolved_at,
            resolved_by=s.resolved_by,
            escalated_at=s.escalated_at,
            escalation_reason="The seller has several reports against them." if s.escalated_at else "",
            user_read_at=last,
            staff_read_at=last,
        )

    def clocks(self, s: Script, rng: random.Random) -> list[tuple[Replayed, str, Policy]]:
        end = self.ctx.period.end
        clocks: list[tuple[Replayed, str, Policy]] = []
        for start, stop in s.waits:
            assert start is not None
            simulated = clock_replay(
                policy=self.first_policy,
                spec=self.spec(self.first_policy),
                started_at=start,
                as_of=end,
                rng=rng,
                stopped_at=stop,
            )
            clocks.append((simulated, FIRST_RESPONSE, self.first_policy))
        policy = self.policies[s.category]
        for cycle in s.cycles:
            simulated = clock_replay(
                policy=policy,
                spec=self.spec(policy),
                started_at=cycle["start"],
                as_of=end,
                rng=rng,
                pauses=[(p, r) for p, r in cycle["pauses"]],
                stopped_at=cycle["stop"],
            )
            clocks.append((simulated, RESOLUTION, policy))
            breached = simulated.breached_at
            if breached is not None and s.category in ESCALATING_CATEGORIES and s.escalated_at is None:
                # The resolution clock's breach handler escalates an unresolved complaint or policy report.
                s.escalated_at = breached + timedelta(seconds=rng.uniform(1, 5))
                s.messages.append(
                    (
                        s.escalated_at,
                        MessageKind.EVENT,
                        None,
                        f"Escalated to the Classified Office: {Category(s.category).label} unresolved after "
                        f"{round(policy.target.total_seconds() / 3600)} hours.",
                    )
                )
                if s.status in (Status.OPEN, Status.WAITING):
                    s.status = Status.ESCALATED
        return clocks

    def write(self, batch: Any) -> None:
        ctx = self.ctx
        simulated_clocks = [s.clocks for s in batch]
        conversations = ctx.insert(Conversation, [self.conversation(s) for s in batch])
        ctx.insert(
            Message,
            [
                Message(
                    conversation=c,
                    kind=kind,
                    author_id=s.user.pk if kind == MessageKind.USER else (author.pk if author else None),
                    body=body,
                    created_at=at,
                )
                for s, c in zip(batch, conversations, strict=True)
                for at, kind, author, body in s.messages
            ],
        )
        ctx.insert_clocks(
            [
                (replayed, self.conversation_type, c.pk)
                for c, per_conversation in zip(conversations, simulated_clocks, strict=True)
                for replayed, _, _ in per_conversation
            ]
        )
        ctx.insert(
            CategoryLabel,
            [
                CategoryLabel(
                    conversation=c,
                    text="\n".join([s.subject, s.messages[0][3]]).strip(),
                    category=s.category,
                    by=s.agent,
                    created_at=s.labelled_at,
                )
                for s, c in zip(batch, conversations, strict=True)
                if s.source == CategorySource.AGENT and s.initiated_by == Initiator.USER and s.messages
            ],
        )
        ctx.insert(
            AuditEntry,
            [
                AuditEntry(
                    at=s.resolved_at,
                    actor=s.resolved_by,
                    actor_label=s.resolved_by.email if s.resolved_by else "system",
                    action="conversation.resolve",
                    target_type=self.conversation_type,
                    target_id=str(c.pk),
                    target_repr=f"Conversation #{c.pk}",
                )
                for s, c in zip(batch, conversations, strict=True)
                if s.resolved_at is not None
            ],
        )


def messaging_work_phase(ctx: DemoContext) -> None:
    """The demo agent's inbox (demo.work): conversations of their own, waiting and new, and unassigned
    ones, with first answers past due, at risk and just arrived."""
    from demo.work import demo_login, live_now, place

    now = live_now(ctx)
    if now is None:
        return
    agent = demo_login(roles.SUPPORT_AGENT)
    # On every team, so that whichever team a conversation went to, the agent sees it.
    for team in Team.values:
        TeamMembership.objects.get_or_create(team=team, user=agent)
    unanswered = Conversation.objects.filter(status=Status.OPEN, awaiting_reply_since__isnull=False)
    _morning_messages(ctx, now=now, count=max(0, 4 - unanswered.count()))
    placed = place(list(unanswered.order_by("-pk")[:6]), metric=FIRST_RESPONSE, now=now)
    waiting = list(Conversation.objects.filter(status=Status.WAITING).order_by("-pk")[:4])
    # Every other one is the agent's; the rest wait in the unassigned view for whoever claims them first.
    for index, conversation in enumerate([c for c, _state in placed] + waiting):
        owner = agent if index % 2 == 0 else None
        Conversation.objects.filter(pk=conversation.pk).update(assigned_to=owner, assigned_at=now if owner else None)
    ctx.created["demo work: conversations"] += len(placed)


MORNING_MESSAGES = (
    ("My ad is not showing", "I posted an ad for my {item} yesterday and I still cannot find it in the search."),
    ("Payment taken twice", "I paid for the premium listing of my {item} and the money left my account twice."),
    ("Buyer stopped answering", "A buyer agreed to take my {item} and now does not answer my messages."),
    ("How do I renew?", "My ad for the {item} runs out on Friday. How do I keep it online for another month?"),
)


def _morning_messages(ctx: DemoContext, *, now: datetime, count: int) -> None:
    """New messages that arrived since the quarter ended, written as conversation_start would (the rows and both
    clocks, started at `now`; place() moves the clocks back), without queuing the triage and routing tasks:
    routing them to an agent later would empty the unassigned view the demo means to show."""
    from messaging.services import resolution_policy

    # Every third of the last users to sign up and be approved.
    senders = list(approved_users(ctx, latest=count * 3))[::3] if count else []
    for index, user in enumerate(senders):
        subject, body = MORNING_MESSAGES[index % len(MORNING_MESSAGES)]
        category = Category.GENERAL if index % 2 else Category.SUPPORT
        conversation = Conversation.objects.create(
            user_id=user.pk,
            subject=subject,
            initiated_by=Initiator.USER,
            status=Status.OPEN,
            category=category,
            category_source=CategorySource.RULE,
            team=CATEGORY_TEAMS[category],
            language=user.language,
            created_at=now,
            last_message_at=now,
            awaiting_reply_since=now,
            user_read_at=now,
        )
        Message.objects.create(
            conversation=conversation,
            kind=MessageKind.USER,
            author_id=user.pk,
            body=body.format(item=ctx.rng.choice(("bicycle", "fridge", "laptop", "sofa"))),
            created_at=now,
        )
        first = sla.clock_start(metric=FIRST_RESPONSE, target=conversation, at=now)
        Message.objects.create(
            conversation=conversation, kind=MessageKind.AUTO, body=acknowledgement_text(first.due_at), created_at=now
        )
        sla.clock_start(metric=RESOLUTION, target=conversation, at=now, policy=resolution_policy(category))
        ctx.created["messaging.Conversation"] += 1
