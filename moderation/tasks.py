"""Celery tasks of moderation. Each takes ids, loads rows, calls a service, and is safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from saypro.errors import InvalidInput
from saypro.mail import send_template
from saypro.ml.models import TextModel

from . import services
from .models import REMOVING_ACTIONS, Action, Appeal, Decision, Flag, Strike
from .registry import moderatable_for_kind

logger = logging.getLogger(__name__)

# Retrain once this many decisions were taken since the active model was trained.
RETRAIN_MIN_NEW_DECISIONS = 50


@shared_task
def detect_content(kind: str, object_id: int) -> None:
    services.content_detect(kind=kind, object_id=object_id)


@shared_task
def notify_decision(decision_id: int, restored: bool = False) -> None:
    """Tell the reporters the outcome, and the author the action and how to appeal (or, after a "keep", that
    their held content is back: `restored`)."""
    decision = Decision.objects.select_related("case__author").filter(pk=decision_id).first()
    if decision is None:
        return
    case = decision.case
    entry = moderatable_for_kind(case.kind)
    kind = entry.kind if entry is not None else case.kind
    upheld = decision.action in REMOVING_ACTIONS
    flags = Flag.objects.filter(
        case=case, round=decision.round, reporter__isnull=False, notified_at__isnull=True
    ).select_related("reporter")
    for flag in flags:
        reporter = flag.reporter
        assert reporter is not None
        send_template(
            to=[reporter.email],
            kind="moderation.reporter_outcome",
            template="moderation/email/reporter_outcome.txt",
            context={
                "name": reporter.get_short_name(),
                "title": case.content_title,
                "reason": flag.get_reason_display().lower(),
                "reported_at": timezone.localtime(flag.created_at),
                "upheld": upheld,
                "rule": decision.get_rule_display(),
            },
            once_key=f"moderation-flag-outcome:{flag.pk}",
        )
        Flag.objects.filter(pk=flag.pk, notified_at__isnull=True).update(notified_at=timezone.now())
    author = case.author
    if author is None or (decision.action == Action.KEEP and not restored):
        return
    strike = Strike.objects.filter(decision=decision).first()
    send_template(
        to=[author.email],
        kind="moderation.author_decision",
        template="moderation/email/author_decision.txt",
        context={
            "name": author.get_short_name(),
            "kind": kind,
            "title": case.content_title,
            "kept": decision.action == Action.KEEP,
            "rule": decision.get_rule_display(),
            "reason": decision.reason,
            "strike": strike is not None,
            "strike_expires": timezone.localtime(strike.expires_at) if strike else None,
            "suspended": decision.action == Action.SUSPEND_USER,
            "suspended_until": timezone.localtime(decision.at + services.SUSPENSION),
            "banned": decision.action == Action.BAN_USER,
            "appeal_until": timezone.localtime(decision.at + services.APPEAL_WINDOW),
            "case_id": case.pk,
        },
        once_key=f"moderation-decision:{decision.pk}",
    )


@shared_task
def notify_appeal(appeal_id: int) -> None:
    appeal = Appeal.objects.select_related("case", "decision", "appellant").filter(pk=appeal_id).first()
    if appeal is None or appeal.status == Appeal.Status.PENDING:
        return
    decision = appeal.decision
    send_template(
        to=[appeal.appellant.email],
        kind="moderation.appeal_outcome",
        template="moderation/email/appeal_outcome.txt",
        context={
            "name": appeal.appellant.get_short_name(),
            "case_id": appeal.case_id,
            "kind": appeal.case.kind,
            "title": appeal.case.content_title,
            "reversed": appeal.status == Appeal.Status.REVERSED,
            "strike": decision.action in (Action.REMOVE_WARN, Action.SUSPEND_USER, Action.BAN_USER),
            "account": decision.action in (Action.SUSPEND_USER, Action.BAN_USER),
            "reason": appeal.reason,
        },
        once_key=f"moderation-appeal:{appeal.pk}",
    )


@shared_task
def spam_model_retrain() -> int | None:
    """Retrain the spam classifier with moderators' decisions once enough new ones came in; returns the version
    (active only if it did at least as well on the validation set as the active one)."""
    from .spam import MODEL_NAME, spam_model_train

    active = TextModel.objects.filter(name=MODEL_NAME, is_active=True).first()
    since = Decision.objects.all() if active is None else Decision.objects.filter(at__gt=active.created_at)
    if since.count() < RETRAIN_MIN_NEW_DECISIONS:
        return None
    try:
        model = spam_model_train(only_if_not_worse=True)
    except InvalidInput as exc:
        logger.warning("Spam model not retrained: %s", exc)
        return None
    return model.version
