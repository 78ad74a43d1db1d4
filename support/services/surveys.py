"""Satisfaction surveys: sending, answering, following up low ratings."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.db import models, transaction
from django.utils import timezone

from accounts.models import User
from saypro.audit.services import audit_record
from saypro.dispatch import after_commit
from saypro.errors import DomainError, InvalidInput
from support.models import (
    Channel,
    Department,
    Survey,
    SurveyFollowUp,
)
from support.services.base import _department
from support.services.points import points_credit

# --- Satisfaction surveys ---------------------------------------------------------------------------------------

SURVEY_SALT = "support.survey"


def survey_send(
    *,
    target: models.Model,
    requester: User,
    agent: User | None,
    department: Department | str | None,
    channel: str,
    resolved_at: datetime | None = None,
) -> Survey:
    """Record and e-mail the one-click 1–5 survey for one resolution of `target` (a ticket or a conversation).

    The agent, department and channel are recorded now. One survey per (target, resolved_at): a repeated call for
    the same resolution returns the existing survey and sends nothing more.
    """
    if channel not in Channel.values:
        raise InvalidInput("Unknown channel.", fields={"channel": [f"Choose one of: {', '.join(Channel.values)}."]})
    resolved_at = resolved_at or timezone.now()
    target_type = ContentType.objects.get_for_model(target)
    with transaction.atomic():
        survey, created = Survey.objects.get_or_create(
            target_type=target_type,
            target_id=target.pk,
            resolved_at=resolved_at,
            defaults={
                "requester": requester,
                "agent": agent,
                "department": _department(department),
                "channel": channel,
                "sent_at": timezone.now(),
            },
        )
        if created:
            after_commit("support.tasks.send_survey", survey.pk)
    return survey


def survey_token(survey: Survey) -> str:
    return signing.dumps({"s": survey.pk}, salt=SURVEY_SALT, compress=True)


def survey_from_token(token: str) -> Survey:
    """The survey a link was made for; InvalidInput for a forged, altered or expired link."""
    try:
        data = signing.loads(token, salt=SURVEY_SALT, max_age=timedelta(days=settings.SUPPORT_SURVEY_LINK_DAYS))
    except signing.SignatureExpired:
        raise InvalidInput("This survey link has expired.", code="expired_token") from None
    except signing.BadSignature:
        raise InvalidInput("This survey link is not valid.", code="invalid_token") from None
    survey = Survey.objects.select_related("requester", "agent", "department").filter(pk=data.get("s")).first()
    if survey is None:
        raise InvalidInput("This survey link is not valid.", code="invalid_token")
    return survey


class SurveyLocked(DomainError):
    code = "survey_locked"


def survey_answer(*, token: str, rating: int | None = None, comment: str | None = None) -> Survey:
    """Record a rating (1–5) and/or a comment. The first answer credits the points; the rating can be changed
    for SUPPORT_SURVEY_CHANGE_DAYS; a rating of 1 or 2 opens a follow-up for the team lead."""
    if rating is not None and rating not in range(1, 6):
        raise InvalidInput("Rate from 1 to 5.", fields={"rating": ["Choose 1, 2, 3, 4 or 5."]})
    if comment is not None and len(comment) > 2000:
        raise InvalidInput("The comment is too long.", fields={"comment": ["Use at most 2,000 characters."]})
    survey = survey_from_token(token)
    with transaction.atomic():
        survey = (
            Survey.objects.select_for_update(of=("self",)).select_related("department", "requester").get(pk=survey.pk)
        )
        now = timezone.now()
        if survey.answered_at is not None and now - survey.answered_at > timedelta(
            days=settings.SUPPORT_SURVEY_CHANGE_DAYS
        ):
            raise SurveyLocked("This rating was given more than a week ago and can no longer be changed.")
        if rating is None and survey.rating is None:
            raise InvalidInput("Choose a rating first.", fields={"rating": ["Choose a rating."]})
        fields = []
        if rating is not None and rating != survey.rating:
            survey.rating = rating
            fields.append("rating")
        if comment is not None:
            survey.comment = comment.strip()
            fields.append("comment")
        first = survey.answered_at is None
        if first:
            survey.answered_at = now
            fields.append("answered_at")
        elif fields:
            survey.changed_at = now
            fields.append("changed_at")
        if fields:
            survey.save(update_fields=fields)
        if first and settings.SUPPORT_SURVEY_POINTS:
            points_credit(
                user=survey.requester,
                points=settings.SUPPORT_SURVEY_POINTS,
                reason="Answered a satisfaction survey",
                key=f"survey:{survey.pk}",
            )
        if survey.rating is not None and survey.rating <= 2:
            _follow_up_open(survey, now)
    return survey


def _follow_up_open(survey: Survey, at: datetime) -> None:
    lead = survey.department.team_lead if survey.department else None
    follow_up, created = SurveyFollowUp.objects.get_or_create(
        survey=survey, defaults={"assigned_to": lead, "created_at": at}
    )
    if created:
        audit_record(actor=None, action="survey.follow_up", target=survey, data={"rating": survey.rating})
        after_commit("support.tasks.send_follow_up_notice", follow_up.pk)


def follow_up_close(*, follow_up: SurveyFollowUp, by: User, note: str) -> SurveyFollowUp:
    if not (note or "").strip():
        raise InvalidInput("Say what was done.", fields={"note": ["Say what was done."]})
    with transaction.atomic():
        follow_up = SurveyFollowUp.objects.select_for_update().get(pk=follow_up.pk)
        if follow_up.done_at is not None:
            return follow_up
        follow_up.done_at = timezone.now()
        follow_up.note = note.strip()
        follow_up.assigned_to = follow_up.assigned_to or by
        follow_up.save(update_fields=["done_at", "note", "assigned_to"])
        audit_record(actor=by, action="survey.follow_up_done", target=follow_up.survey, reason=follow_up.note)
    return follow_up
