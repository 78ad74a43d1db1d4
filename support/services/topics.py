"""The weekly refresh of comment topics: fit the topic model on the year's survey and feedback comments, keep the
topics found again, retire the others and record which topic each comment belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Feedback
from support.models import CommentTopic, Survey, TopicAssignment
from support.topics import topics_fit

# The comments the model reads: a year, so that a quarter and the same quarter a year before can be compared.
WINDOW = timedelta(days=366)
# Share of top terms two topics have in common (of all their top terms) for a refresh to call them the same.
SAME_TOPIC = 0.25


@dataclass(frozen=True)
class TopicRefresh:
    comments: int
    assigned: int
    topics: int
    new: int
    retired: int


def _comments(since: datetime, until: datetime) -> list[tuple[str, int, str, datetime]]:
    """(kind, id, text, given at) of every non-blank comment in [since, until], in a fixed order."""
    surveys = (
        Survey.objects.exclude(comment="")
        .annotate(given_at=Coalesce("answered_at", "sent_at"))
        .filter(given_at__gte=since, given_at__lte=until)
        .order_by("given_at", "pk")
        .values_list("pk", "comment", "given_at")
    )
    feedback = (
        Feedback.objects.exclude(comment="")
        .filter(created_at__gte=since, created_at__lte=until)
        .order_by("created_at", "pk")
        .values_list("pk", "comment", "created_at")
    )
    return [("survey", pk, text, at) for pk, text, at in surveys.iterator()] + [
        ("feedback", pk, text, at) for pk, text, at in feedback.iterator()
    ]


def _overlap(a: list[str], b: list[str]) -> float:
    union = set(a) | set(b)
    return len(set(a) & set(b)) / len(union) if union else 0.0


def _match(found: list[list[str]], known: list[CommentTopic]) -> dict[int, CommentTopic]:
    """Found topic index → the known topic it continues: greedily, most shared terms first, one to one."""
    pairs = sorted(
        ((_overlap(terms, topic.terms), index, topic.pk) for index, terms in enumerate(found) for topic in known),
        key=lambda pair: (-pair[0], pair[1], pair[2]),
    )
    by_pk = {topic.pk: topic for topic in known}
    matched: dict[int, CommentTopic] = {}
    for score, index, pk in pairs:
        if score < SAME_TOPIC:
            break
        if index in matched or pk not in by_pk:
            continue
        matched[index] = by_pk.pop(pk)
    return matched


def comment_topics_refresh(*, now: datetime | None = None) -> TopicRefresh:
    """Safe to run twice: the same comments give the same topics (fixed seed), matched to the same rows."""
    now = now or timezone.now()
    comments = _comments(now - WINDOW, now)
    fit = topics_fit([text for _, _, text, _ in comments])
    found = [topic.terms for topic in fit.topics]
    with transaction.atomic():
        # Locks the topics, so two refreshes at once run one after the other instead of mixing their results.
        known = list(CommentTopic.objects.select_for_update().order_by("pk"))
        matched = _match(found, known)
        rows: list[CommentTopic] = []
        new = 0
        for index, topic in enumerate(fit.topics):
            row = matched.get(index)
            if row is None:
                row = CommentTopic.objects.create(
                    label=topic.label, terms=topic.terms, created_at=now, refreshed_at=now
                )
                new += 1
            else:
                row.label, row.terms, row.is_active, row.refreshed_at = topic.label, topic.terms, True, now
                row.save(update_fields=["label", "terms", "is_active", "refreshed_at"])
            rows.append(row)
        kept = {row.pk for row in rows}
        retired = CommentTopic.objects.filter(is_active=True).exclude(pk__in=kept).update(is_active=False)
        TopicAssignment.objects.all().delete()
        TopicAssignment.objects.bulk_create(
            [
                TopicAssignment(
                    topic=rows[index],
                    survey_id=pk if kind == "survey" else None,
                    feedback_id=pk if kind == "feedback" else None,
                    commented_at=at,
                    closeness=closeness,
                )
                for (kind, pk, _, at), index, closeness in zip(comments, fit.assignments, fit.closeness, strict=True)
                if index is not None
            ],
            batch_size=1000,
        )
    return TopicRefresh(
        comments=len(comments),
        assigned=sum(1 for index in fit.assignments if index is not None),
        topics=len(rows),
        new=new,
        retired=retired,
    )
