"""The help center: article views and votes, guidance answers, live chat status."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from saypro.errors import InvalidInput
from support.models import (
    Article,
    ArticleVote,
    Guidance,
    Ticket,
)

# --- Help center -----------------------------------------------------------------------------------------------


def article_view(*, article: Article) -> None:
    Article.objects.filter(pk=article.pk).update(views=F("views") + 1)


def article_vote(*, article: Article, voter: str, helpful: bool) -> Article:
    """One vote per voter (user id or session key); voting again changes the vote, never counts twice."""
    if not voter:
        raise InvalidInput("Voting needs a session.", code="no_voter")
    with transaction.atomic():
        vote = ArticleVote.objects.select_for_update().filter(article=article, voter=voter).first()
        if vote is not None and vote.helpful == helpful:
            return article
        yes = (1 if helpful else 0) - (1 if vote is not None and vote.helpful else 0)
        no = (0 if helpful else 1) - (1 if vote is not None and not vote.helpful else 0)
        if vote is None:
            try:
                with transaction.atomic():
                    ArticleVote.objects.create(article=article, voter=voter, helpful=helpful)
            except IntegrityError:
                # The same voter's other click won the race: that vote stands.
                return article
        else:
            vote.helpful = helpful
            vote.at = timezone.now()
            vote.save(update_fields=["helpful", "at"])
        Article.objects.filter(pk=article.pk).update(
            helpful_yes=F("helpful_yes") + yes, helpful_no=F("helpful_no") + no
        )
    article.refresh_from_db(fields=["helpful_yes", "helpful_no"])
    return article


def guidance_answer(*, question: str, user: User | None = None, limit: int = 3) -> Guidance:
    """Answer a question with the best matching published articles and a confidence (0–1), recorded so that a
    read without a ticket afterwards counts as a deflection."""
    from support.selectors import article_matches

    question = " ".join((question or "").split())
    if len(question) < 3:
        raise InvalidInput("Ask a question.", fields={"question": ["Write at least a few words."]})
    if len(question) > 1000:
        raise InvalidInput("The question is too long.", fields={"question": ["Use at most 1,000 characters."]})
    matches = article_matches(question, limit=limit)
    return Guidance.objects.create(
        user=user if user is not None and user.is_authenticated else None,
        question=question,
        suggested=[[article.pk, round(score, 4)] for article, score in matches],
        confidence=round(matches[0][1], 4) if matches else 0.0,
    )


def guidance_read(*, guidance: Guidance, article: Article) -> Guidance:
    if article.pk not in {pk for pk, _ in guidance.suggested}:
        raise InvalidInput("That article was not suggested.", fields={"article": ["Choose a suggested article."]})
    updated = Guidance.objects.filter(pk=guidance.pk, read_at__isnull=True).update(
        read_article=article, read_at=timezone.now()
    )
    if updated:
        article_view(article=article)
    guidance.refresh_from_db()
    return guidance


def guidance_link_ticket(*, guidance: Guidance, ticket: Ticket) -> None:
    """The user filed a ticket after all: this guidance did not deflect it."""
    Guidance.objects.filter(pk=guidance.pk, ticket__isnull=True).update(ticket=ticket)


def live_chat_status(*, at: datetime | None = None) -> dict[str, Any]:
    """Whether live chat is open at `at`, and when it next opens or closes (SUPPORT_LIVE_CHAT_HOURS, daily)."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(settings.SUPPORT_LIVE_CHAT_TIME_ZONE)
    local = (at or timezone.now()).astimezone(tz)
    opens_text, closes_text = (part.strip() for part in settings.SUPPORT_LIVE_CHAT_HOURS.split("-"))

    def at_time(day: datetime, text: str) -> datetime:
        hours, minutes = (int(part) for part in text.split(":"))
        midnight = datetime(day.year, day.month, day.day, tzinfo=tz)
        return (midnight + timedelta(hours=hours, minutes=minutes)).astimezone(tz)

    opens, closes = at_time(local, opens_text), at_time(local, closes_text)
    is_open = opens <= local < closes
    if local >= closes:
        opens = at_time(local + timedelta(days=1), opens_text)
    return {
        "open": is_open,
        "hours": settings.SUPPORT_LIVE_CHAT_HOURS,
        "time_zone": settings.SUPPORT_LIVE_CHAT_TIME_ZONE,
        "opens_at": None if is_open else opens,
        "closes_at": closes if is_open else None,
    }
