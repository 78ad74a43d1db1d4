"""The support demo phase: a quarter of tickets as the running product would have recorded them.

Approved marketplace users file tickets over web, e-mail, chat, social, the app's "Report an issue" and converted
conversations, on a daily rhythm; triage (rules, the classifier, the triage view) picks departments and some are
corrected by agents; agents answer (first responses averaging well under 3 h, with a tail), sometimes wait on the
user, and solve most tickets inside their targets, some late. Clocks are replayed with saypro.sla.replay
under the policy the product would have chosen. Solved tickets get surveys, some answered (points credited, low
ratings followed up); platform reports link to known issues; the help center has articles, views, votes and
guidance answers, some of them deflections.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils.text import slugify

from accounts import roles
from accounts.models import AgentProfile, RegistrationStatus, User
from demo.accounts import HOUR_WEIGHTS, WEEKDAY_WEIGHTS
from demo.core import DemoContext, DemoUser, Weighted
from saypro.audit.models import AuditEntry
from saypro.sla.models import Policy
from saypro.sla.replay import Replayed, clock_replay
from saypro.sla.services import spec_for
from support.models import (
    CHAT_FIRST_RESPONSE,
    FIRST_RESPONSE,
    RESOLUTION,
    Article,
    ArticleCategory,
    Category,
    Channel,
    Department,
    DepartmentTransfer,
    Guidance,
    KnownIssue,
    PointsEntry,
    Priority,
    Status,
    Survey,
    SurveyFollowUp,
    Ticket,
    TicketMessage,
    TriageSource,
)
from support.services import comment_topics_refresh, policy_choose

# Tickets per approved user over the quarter.
TICKETS_PER_USER = 0.09
GUIDANCE_PER_TICKET = 1.6
AGENTS: tuple[tuple[str, str, list[str], list[str], list[str]], ...] = (
    ("support1@saypro.example", "Lerato Dube", ["en", "st"], ["Gauteng"], ["accounts", "general"]),
    ("support2@saypro.example", "Sipho Ndlovu", ["en", "zu"], [], ["billing"]),
    ("support3@saypro.example", "Amara Eze", ["en", "fr"], [], ["orders", "feedback"]),
    ("support4@saypro.example", "Johan van Wyk", ["en", "af"], ["Western Cape"], ["orders", "billing"]),
    ("support5@saypro.example", "Fatima Hassan", ["en", "sw"], [], ["technical", "general"]),
    ("support6@saypro.example", "Thabo Molefe", ["en", "tn", "zu"], [], ["accounts", "technical"]),
)
LEADS = (("supportlead@saypro.example", "Grace Mthembu"),)
CHANNELS = Weighted(
    [
        (Channel.WEB, 34),
        (Channel.EMAIL, 24),
        (Channel.CHAT, 20),
        (Channel.SOCIAL, 6),
        (Channel.IN_APP, 10),
        (Channel.CONVERSATION, 6),
    ]
)
PRIORITIES = Weighted([(Priority.URGENT, 4), (Priority.HIGH, 14), (Priority.NORMAL, 64), (Priority.LOW, 18)])
DEPARTMENTS = Weighted(
    [("billing", 30), ("orders", 28), ("accounts", 20), ("general", 9), ("feedback", 6), ("technical", 7)]
)
RATINGS = Weighted([(5, 62), (4, 24), (3, 7), (2, 4), (1, 3)])
LATE_RATINGS = Weighted([(5, 25), (4, 25), (3, 20), (2, 15), (1, 15)])
# What requesters write beside a rating, by how they rated: a few subjects, each in several wordings, so that the
# comment topics (support.topics) have something to find. Half of the ratings come with a comment.
COMMENT_SHARE = 0.5
COMMENTS: dict[str, tuple[str, ...]] = {
    "low": (
        "Still waiting for my refund after a week",
        "The refund took far too long to reach my account",
        "I was charged twice and nobody refunded the second payment",
        "It took two days before anyone answered my ticket",
        "Very slow response, I had to write three times",
        "Nobody replied for days and the problem is still there",
        "The app keeps crashing when I upload photos of my listing",
        "Photo upload in the app still fails on my phone",
        "The agent closed my ticket without solving the problem",
    ),
    "middle": (
        "Solved in the end but the answer was slow",
        "The refund arrived, but it took longer than promised",
        "Helpful answer, though I had to explain the problem twice",
        "Fine, but the app photo upload is still slow",
    ),
    "high": (
        "The agent was friendly and very helpful",
        "Quick answer and the problem was solved the same day",
        "Great support, friendly agent, thank you",
        "Solved within an hour, excellent service",
        "Clear explanation from a helpful agent",
        "My refund was sorted quickly, thanks",
    ),
}


SUBJECTS: dict[str, tuple[tuple[str, str], ...]] = {
    "billing": (
        ("Charged twice for one order", "My card was charged twice for the same purchase. Please refund one."),
        ("Refund not received", "The seller cancelled a week ago and I still have not got my money back."),
        ("Invoice for my listing fees", "I need an invoice with VAT for last month's featured listing fees."),
        ("Payout has not arrived", "I sold an item five days ago but the payout is not in my account."),
        ("Card payment declined", "My card keeps getting declined at checkout although it works elsewhere."),
    ),
    "orders": (
        ("Where is my order?", "The tracking has not moved for four days. Can you check with the courier?"),
        ("Change delivery address", "I moved last week; please send my order to my new address."),
        ("Item not as described", "The phone I received has a cracked screen, the ad said it was new."),
        ("Order cancelled by mistake", "I cancelled the wrong order. Can it be restored?"),
        ("Parcel marked delivered but missing", "The courier says delivered but nothing arrived."),
    ),
    "accounts": (
        ("Cannot sign in", "I reset my password twice and still get 'invalid credentials'."),
        ("Change my phone number", "I have a new number and cannot receive the verification code."),
        ("Delete my account", "Please close my account and remove my data."),
        ("Registration still pending", "I signed up two days ago and my account is not approved yet."),
        ("Someone else uses my e-mail", "I got a sign-up confirmation I did not ask for."),
    ),
    "general": (
        ("Stop the newsletter", "I keep getting the weekly newsletter although I unsubscribed."),
        ("Contact for business partnership", "We are a courier company and would like to partner with SayPro."),
        ("How do featured listings work?", "What do I get for a featured listing and how long does it run?"),
    ),
    "feedback": (
        ("Complaint about a seller", "The seller was rude and refused to honour the advertised price."),
        ("Suggestion for the search", "It would help to filter listings by distance from me."),
        ("Great service", "Just wanted to say thank you for the quick help last week."),
    ),
    "technical": (
        ("App crashes when uploading photos", "Every time I add a third photo to my ad the app closes."),
        ("Checkout page is blank", "After pressing Pay the page stays white on my phone."),
        ("Notifications not arriving", "I no longer get notified about new messages from buyers."),
        ("Map does not load", "The location map on listings shows a grey box."),
    ),
}
REPLIES = {
    "first": "Hello {name},\n\nThank you for contacting SayPro. I am looking into this for you now.",
    "ask": "Hello {name},\n\nCould you send us the order or transaction number so that we can check?",
    "answer": "Here it is, thank you.",
    "solve": "Hello {name},\n\nThis is sorted now. If anything else comes up, simply reply to this message.",
}
KNOWN_ISSUES = (
    (
        "Photo upload fails on Android 14",
        "Uploads of more than two photos crash the app.",
        "Image resizing fixed in 4.3.1.",
    ),
    ("Blank checkout page on older iPhones", "Safari 15 cannot run the new payment form.", "Payment form polyfilled."),
    ("Push notifications delayed", "Notifications arrive hours late for some users.", "Notification queue scaled."),
    ("Map tiles missing", "Listing maps show grey boxes.", ""),
    ("Search ignores price filter", "Listings above the maximum price still appear.", "Search query corrected."),
    ("Duplicate payout e-mails", "Sellers receive the payout confirmation twice.", ""),
)
ARTICLES = {
    "account": (
        (
            "Reset your password",
            "Forgot your password? On the sign-in page choose **Forgot password**, enter your "
            "e-mail address and follow the link we send. The link works for one hour.",
        ),
        (
            "Why is my registration pending?",
            "Most sign-ups are approved in minutes. When we need to check your "
            "details a reviewer decides within **48 hours**; we e-mail you the outcome.",
        ),
        ("Change your phone number", "Open **Profile → Phone**, enter the new number and confirm the 6-digit code."),
    ),
    "payments": (
        ("When will I get my refund?", "Approved refunds reach your bank account within **5–7 working days**."),
        (
            "I was charged twice",
            "A second charge is usually a pending authorisation that disappears within 3 days. "
            "If it stays, report it from the order page.",
        ),
        ("Getting an invoice", "Invoices for listing fees are under **Account → Billing**, downloadable as PDF."),
        ("When are payouts made?", "Payouts are sent 2 working days after the buyer confirms delivery."),
    ),
    "orders": (
        ("Track your order", "Open the order and choose **Track**: the courier's latest scan is shown."),
        ("Change the delivery address", "Until the seller ships, you can change the address on the order page."),
        ("Item not as described", "Open a dispute from the order within 7 days of delivery; add photos."),
    ),
    "selling": (
        ("Featured listings", "A featured listing stays at the top of its category for 7 days."),
        ("Adding photos to your ad", "Up to 10 photos, each at most 10 MB, in JPEG or PNG."),
    ),
    "safety": (
        ("Avoiding scams", "Never pay outside SayPro and never share verification codes. Report suspicious ads."),
        ("Reporting a user", "Use **Report** on the profile or message: our moderators decide within 12 hours."),
    ),
}


def _lognormal(rng: Any, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0, sigma))


def agents_ensure() -> tuple[list[User], User]:
    """The demo's support agents (with profiles and departments) and team lead, created once, without passwords."""
    agent_group = Group.objects.get(name=roles.SUPPORT_AGENT)
    manager_group = Group.objects.get(name=roles.MANAGER)
    departments = {d.slug: d for d in Department.objects.all()}
    password = make_password(None)
    agents = []
    for email, full_name, languages, regions, teams in AGENTS:
        agent, created = User.objects.get_or_create(
            email=email, defaults={"full_name": full_name, "is_staff": True, "password": password}
        )
        if created:
            agent.groups.add(agent_group)
            AgentProfile.objects.create(user=agent, languages=languages, regions=regions)
            for slug in teams:
                departments[slug].members.add(agent)
        agents.append(agent)
    email, full_name = LEADS[0]
    lead, created = User.objects.get_or_create(
        email=email, defaults={"full_name": full_name, "is_staff": True, "password": password}
    )
    if created:
        lead.groups.add(manager_group)
        Department.objects.filter(team_lead__isnull=True).update(team_lead=lead)
    return agents, lead


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
        self.users = sorted(
            (u for u in ctx.users if u.status == RegistrationStatus.APPROVED and u.decided_at is not None),
            key=lambda u: u.decided_at,  # type: ignore[arg-type,return-value]
        )
        self.approved_at = [u.decided_at for u in self.users]

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

    def moments(self, count: int) -> list[datetime]:
        rng, period = self.rng, self.ctx.period
        weights = [
            WEEKDAY_WEIGHTS[(period.first_day + timedelta(days=d)).weekday()] * (0.9 + 0.2 * d / period.days)
            for d in range(period.days)
        ]
        days = rng.choices(range(period.days), weights=weights, k=count)
        moments = []
        for day in days:
            hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
            local = datetime.combine(
                period.first_day + timedelta(days=day),
                time(hour, rng.randrange(60), rng.randrange(60)),
                tzinfo=period.tz,
            )
            moments.append(local)
        return sorted(moments)

    def requester(self, at: datetime) -> DemoUser | None:
        approved = bisect.bisect_right(self.approved_at, at)  # type: ignore[type-var]
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

    def run(self) -> list[DemoTicket]:
        count = int(len(self.users) * TICKETS_PER_USER)
        tickets = []
        with self.ctx.bar(total=count, desc="support: simulate", unit="tickets") as bar:
            for at in self.moments(count):
                ticket = self.ticket(at)
                if ticket is not None:
                    self.work(ticket)
                    tickets.append(ticket)
                bar.update()
        return tickets


def support_phase(ctx: DemoContext) -> None:
    with transaction.atomic():
        agents, lead = agents_ensure()
        issues = _known_issues(ctx, lead)
        articles = _help_center(ctx)
    tickets = _Simulator(ctx, agents).run()
    writer = _Writer(ctx, lead=lead, issues=issues)
    with ctx.bar(total=len(tickets), desc="support: write", unit="tickets") as bar:
        for batch in ctx.batches(tickets):
            with transaction.atomic():
                writer.write(batch)
            for t in batch:
                t.clocks = {}  # written: the guidance below needs the tickets, not their clock histories
            bar.update(len(batch))
    with transaction.atomic():
        _guidance(ctx, tickets, articles)


def _known_issues(ctx: DemoContext, lead: User) -> list[KnownIssue]:
    rng, period = ctx.rng, ctx.period
    rows = []
    for index, (title, description, fix) in enumerate(KNOWN_ISSUES):
        found = period.start + timedelta(
            days=6 + index * (period.days - 12) / len(KNOWN_ISSUES), hours=rng.random() * 8
        )
        fixed = found + timedelta(days=rng.uniform(2, 12)) if fix else None
        if fixed is not None and fixed > period.end:
            fixed = None
        rows.append(
            KnownIssue(
                title=title,
                description=description,
                status=KnownIssue.State.FIXED if fixed else KnownIssue.State.IDENTIFIED,
                fix=fix if fixed else "",
                found_at=found,
                fixed_at=fixed,
                created_by=lead,
            )
        )
    return ctx.insert(KnownIssue, rows)


def _help_center(ctx: DemoContext) -> list[Article]:
    rng, scale = ctx.rng, max(1, ctx.user_count // 100)
    categories = {c.slug: c for c in ArticleCategory.objects.all()}
    rows = []
    for slug, entries in ARTICLES.items():
        for title, body in entries:
            views = int(_lognormal(rng, 8, 0.8) * scale)
            yes = int(views * rng.uniform(0.05, 0.12))
            rows.append(
                Article(
                    category=categories[slug],
                    title=title,
                    slug=slugify(title)[:120],
                    body=f"{body}\n\nStill stuck? Open a ticket from the app and our team answers within 3 hours.",
                    created_at=ctx.period.start,
                    updated_at=ctx.period.start + timedelta(days=rng.randrange(ctx.period.days)),
                    views=views,
                    helpful_yes=yes,
                    helpful_no=int(yes * rng.uniform(0.05, 0.3)),
                )
            )
    return ctx.insert(Article, [row for row in rows if not Article.objects.filter(slug=row.slug).exists()])


class _Writer:
    def __init__(self, ctx: DemoContext, *, lead: User, issues: list[KnownIssue]):
        self.ctx, self.lead, self.issues = ctx, lead, issues
        self.departments = {d.slug: d for d in Department.objects.all()}
        self.ticket_type = ContentType.objects.get_for_model(Ticket)
        self.version = 1

    def issue_for(self, t: DemoTicket) -> KnownIssue | None:
        found = [
            i for i in self.issues if i.found_at <= t.created_at and (i.fixed_at is None or t.created_at < i.fixed_at)
        ]
        return self.ctx.rng.choice(found) if found and self.ctx.rng.random() < 0.7 else None

    def ticket(self, t: DemoTicket) -> Ticket:
        technical = t.department == "technical"
        issue = self.issue_for(t) if technical else None
        last = max(filter(None, [t.created_at, t.first_response_at, t.solved_at]))
        return Ticket(
            requester_id=t.requester.pk,
            subject=t.subject,
            body=t.body,
            channel=t.channel,
            category=Category.PLATFORM_ISSUE if technical else Category.PROBLEM,
            department=self.departments[t.department],
            priority=t.priority,
            status=t.status,
            assignee=t.agent if t.first_response_at else None,
            language=t.requester.language,
            created_at=t.created_at,
            updated_at=last,
            first_responded_at=t.first_response_at,
            solved_at=t.solved_at,
            closed_at=t.solved_at + timedelta(days=settings.SUPPORT_REOPEN_DAYS)
            if t.status == Status.CLOSED and t.solved_at
            else None,
            triage_source=TriageSource.AGENT if t.misrouted_from else t.triage_source,
            triage_model_version=self.version if t.confidence is not None else None,
            triage_confidence=t.confidence,
            triage_label=(t.misrouted_from or t.department) if t.confidence is not None else "",
            source="conversation" if t.channel == Channel.CONVERSATION else "",
            context={"app_version": "4.2.0", "device": "Android"} if t.channel == Channel.IN_APP else {},
            known_issue=issue,
        )

    def messages(self, t: DemoTicket, row: Ticket) -> list[TicketMessage]:
        name = t.requester.full_name.split(" ")[0] if t.requester.full_name else "there"
        rows = []
        if t.first_response_at:
            text = REPLIES["ask" if t.pending else "first"].format(name=name)
            rows.append(
                TicketMessage(ticket=row, author=t.agent, kind="reply", body=text, created_at=t.first_response_at)
            )
        if t.pending and t.pending[1]:
            rows.append(
                TicketMessage(
                    ticket=row,
                    author_id=t.requester.pk,
                    kind="requester",
                    body=REPLIES["answer"],
                    created_at=t.pending[1],
                )
            )
        if t.solved_at:
            rows.append(
                TicketMessage(
                    ticket=row,
                    author=t.agent,
                    kind="reply",
                    body=REPLIES["solve"].format(name=name),
                    created_at=t.solved_at,
                )
            )
        return rows

    def write(self, batch: Sequence[DemoTicket]) -> None:
        ctx = self.ctx
        rows = ctx.insert(Ticket, [self.ticket(t) for t in batch])
        for t, row in zip(batch, rows, strict=True):
            t.row = row
        ctx.insert(TicketMessage, [m for t in batch for m in self.messages(t, t.row)])  # type: ignore[arg-type]
        ctx.insert(
            DepartmentTransfer,
            [
                DepartmentTransfer(
                    ticket=t.row,
                    from_department=self.departments[t.misrouted_from],
                    to_department=self.departments[t.department],
                    corrected_source=TriageSource.MODEL,
                    text=f"{t.subject}\n{t.body}",
                    by=t.agent,
                    at=t.created_at + timedelta(minutes=ctx.rng.uniform(3, 40)),
                )
                for t in batch
                if t.misrouted_from
            ],
        )
        ctx.insert_clocks([(replayed, self.ticket_type, t.row.pk) for t in batch for replayed in t.clocks.values()])  # type: ignore[union-attr]
        ctx.insert(
            AuditEntry,
            [
                AuditEntry(
                    at=t.created_at,
                    actor_id=t.requester.pk,
                    actor_label=t.requester.email,
                    action="ticket.create",
                    target_type=self.ticket_type,
                    target_id=str(t.row.pk),  # type: ignore[union-attr]
                    target_repr=str(t.row)[:200],
                    data={"channel": t.channel},
                )
                for t in batch
            ],
        )
        self.surveys([t for t in batch if t.solved_at is not None])

    def survey(self, t: DemoTicket) -> Survey:
        assert t.solved_at is not None and t.row is not None
        return Survey(
            target_type=self.ticket_type,
            target_id=t.row.pk,
            resolved_at=t.solved_at,
            requester_id=t.requester.pk,
            agent=t.agent,
            department=self.departments[t.department],
            channel=t.channel,
            sent_at=t.solved_at + timedelta(seconds=self.ctx.rng.uniform(5, 60)),
            rating=t.rating,
            answered_at=t.rated_at,
            comment=self.comment(t),
        )

    def comment(self, t: DemoTicket) -> str:
        """A comment for some ratings, drawn from the ticket's own stream so the other draws stay as they were."""
        assert t.row is not None
        rng = random.Random(t.row.pk)
        if t.rating is None or rng.random() >= COMMENT_SHARE:
            return ""
        band = "low" if t.rating <= 2 else "middle" if t.rating == 3 else "high"
        return rng.choice(COMMENTS[band])

    def surveys(self, solved: list[DemoTicket]) -> None:
        ctx = self.ctx
        surveys = ctx.insert(Survey, [self.survey(t) for t in solved])
        answered = [(t, s) for t, s in zip(solved, surveys, strict=True) if t.rating is not None]
        ctx.insert(
            PointsEntry,
            [
                PointsEntry(
                    user_id=t.requester.pk,
                    points=settings.SUPPORT_SURVEY_POINTS,
                    reason="Answered a satisfaction survey",
                    key=f"survey:{s.pk}",
                    at=cast(datetime, t.rated_at),
                )
                for t, s in answered
            ],
        )
        follow_ups = []
        for t, survey in answered:
            if t.rating is None or t.rating > 2 or t.rated_at is None:
                continue
            done = t.rated_at + timedelta(hours=ctx.rng.uniform(2, 30))
            follow_ups.append(
                SurveyFollowUp(
                    survey=survey,
                    assigned_to=self.lead,
                    created_at=t.rated_at,
                    done_at=done if done < ctx.period.end else None,
                    note="Called the user and apologised; fixed the cause." if done < ctx.period.end else "",
                )
            )
        ctx.insert(SurveyFollowUp, follow_ups)


def _guidance(ctx: DemoContext, tickets: list[DemoTicket], articles: list[Article]) -> None:
    rng = ctx.rng
    if not articles or not tickets:
        return
    rows = []
    for _ in range(int(len(tickets) * GUIDANCE_PER_TICKET)):
        t = rng.choice(tickets)
        asked = t.created_at - timedelta(minutes=rng.uniform(2, 600))
        article = rng.choice(articles)
        read = rng.random() < 0.62
        rows.append(
            Guidance(
                user_id=t.requester.pk,
                question=t.subject,
                asked_at=asked,
                suggested=[[article.pk, round(rng.uniform(0.25, 0.9), 4)]],
                confidence=round(rng.uniform(0.25, 0.9), 4),
                read_article=article if read else None,
                read_at=asked + timedelta(minutes=1) if read else None,
                # Those who read and still filed link their ticket; most readers found their answer.
                ticket=t.row if (not read or rng.random() < 0.3) else None,
            )
        )
    for batch in ctx.batches(rows):
        ctx.insert(Guidance, list(batch))


def comment_topics_phase(ctx: DemoContext) -> None:
    """The weekly topic refresh, as beat would have run it at the quarter's end. It runs in the main process after
    the domains: k-means' thread pool must not start in a forked worker (it can hang there)."""
    ctx.created["support: comment topics"] += comment_topics_refresh(now=ctx.period.end).topics


def support_work_phase(ctx: DemoContext) -> None:
    """The demo agent's tickets (demo.work): requesters who wrote back on their solved tickets reopen
    them, as they would have this morning; some are the agent's own, the others wait unassigned."""
    from demo.work import demo_login, live_now, place
    from support.services import TicketClosed, ticket_requester_reply

    now = live_now(ctx)
    if now is None:
        return
    agent = demo_login(roles.SUPPORT_AGENT)
    for department in Department.objects.all():
        department.members.add(agent)
    for ticket in Ticket.objects.filter(status=Status.SOLVED).order_by("-solved_at", "-pk")[:4]:
        try:
            ticket_requester_reply(ticket=ticket, body="Sorry, it is happening again since this morning. Can you look?")
        except TicketClosed:
            continue  # solved too long ago to reopen (an --end in the past)
    # Not the pending or on-hold ones: their clocks stand still while they wait on someone else.
    reopened = list(Ticket.objects.filter(status__in=(Status.NEW, Status.OPEN)).order_by("-updated_at", "-pk")[:6])
    placed = place(reopened, metric=RESOLUTION, now=now)
    for index, (ticket, _state) in enumerate(placed):
        Ticket.objects.filter(pk=ticket.pk).update(assignee=agent if index % 2 == 0 else None)
    ctx.created["demo work: tickets"] += len(placed)
