"""What users' comments are about (document 003: analyse recurring feedback): the survey and feedback comments the
weekly topic model grouped into a topic, placed by the moment each comment was given."""

from __future__ import annotations

from django.db.models import Count

from saypro.figures.registry import COUNT, UP, FigureSpec, Measure, Span, figure_register

from .figures import DOC
from .models import TopicAssignment

AREA = "comment_topics"


def comments(span: Span) -> Measure:
    row = TopicAssignment.objects.filter(commented_at__gte=span.start, commented_at__lt=span.end).aggregate(
        n=Count("pk"), topics=Count("topic", distinct=True)
    )
    return Measure(value=float(row["n"]), n=row["n"], parts={"topics": row["topics"]})


def register() -> None:
    figure_register(
        FigureSpec(
            key="comment_topics.comments",
            label="Survey and feedback comments with a topic",
            unit=COUNT,
            definition="Comments left on satisfaction surveys and on registration, account and recommendation "
            "feedback that the weekly topic model placed in a topic (each comment in one topic, a retired topic's "
            "included); comments the model has not grouped yet are not counted.",
            population="survey and feedback comments given in the period",
            placed_by="the moment the comment was given",
            direction=UP,
            query=comments,
            area=AREA,
            source=DOC,
        )
    )
