"""The support phase: writing tickets, replies, clocks, surveys, known issues and the help center."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import cast

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils.text import slugify

from accounts.models import User
from demo.core import DemoContext
from demo.support.simulator import DemoTicket, _Simulator
from demo.support.vocabulary import (
    ARTICLES,
    COMMENT_SHARE,
    COMMENTS,
    GUIDANCE_PER_TICKET,
    KNOWN_ISSUES,
    REPLIES,
    _lognormal,
    agents_ensure,
)
from saypro.audit.models import AuditEntry
from support.models import (
    Article,
    ArticleCategory,
    Category,
    Channel,
    Department,
    DepartmentTransfer,
    Guidance,
    KnownIssue,
    PointsEntry,
    Status,
    Survey,
    SurveyFollowUp,
    Ticket,
    TicketMessage,
    TriageSource,
)


def support_phase(ctx: DemoContext) -> None:
    with transaction.atomic():
        agents, lead = agents_ensure()
        issues = _known_issues(ctx, lead)
        articles = _help_center(ctx)
    guidance = _Guidance(ctx, articles)
    writer = _Writer(ctx, lead=lead, issues=issues)
    # Drawn, written and let go a batch at a time, with the help-center questions asked before those tickets.
    for batch in ctx.batches(_Simulator(ctx, agents).run()):
        with transaction.atomic():
            writer.write(batch)
            guidance.write(batch)


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
        transfers = [
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
        ]
        ctx.insert(DepartmentTransfer, transfers)
        # What ticket_set_department records beside the transfer.
        for transfer in transfers:
            transfer.ticket.misrouted_at = transfer.at
        Ticket.objects.bulk_update([transfer.ticket for transfer in transfers], ["misrouted_at"], batch_size=1000)
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


class _Guidance:
    """Questions asked in the help center: GUIDANCE_PER_TICKET of them a ticket, each before a ticket drawn at
    random from a batch (the batches take their share in turn, so the quarter's total stays the same)."""

    def __init__(self, ctx: DemoContext, articles: list[Article]):
        self.ctx, self.articles = ctx, articles
        self.tickets = 0

    def write(self, tickets: list[DemoTicket]) -> None:
        rng = self.ctx.rng
        before, self.tickets = self.tickets, self.tickets + len(tickets)
        if not self.articles:
            return
        rows = []
        for _ in range(int(self.tickets * GUIDANCE_PER_TICKET) - int(before * GUIDANCE_PER_TICKET)):
            t = rng.choice(tickets)
            asked = t.created_at - timedelta(minutes=rng.uniform(2, 600))
            article = rng.choice(self.articles)
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
        self.ctx.insert(Guidance, rows)
