"""Every write of moderation: submitted content, automatic detection, flags, cases, decisions, strikes, appeals.

The contract with the apps that own content (see moderation.registry):

- `content_submitted(*, obj)` inside the transaction that creates or edits `obj`;
- the owning app's hide / restore / remove services, which moderation calls and never re-implements.

A case is opened by the first flag on an object (by a user or by detection) and starts the 12-hour
`moderation.decision` clock; later flags join it, and a decided case reopens (a new round, a new clock) when new
flags arrive. Every transition locks its row, guards the state with compare-and-set, and records an audit entry.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import formats, timezone

from accounts import services as accounts_services
from accounts.models import User
from saypro import ratelimit
from saypro.audit.services import audit_record
from saypro.dispatch import after_commit
from saypro.errors import DomainError, InvalidInput
from saypro.sla import services as sla

from . import badges, detection, fingerprints
from .models import (
    APPEAL_METRIC,
    STRIKING_ACTIONS,
    Action,
    Appeal,
    Case,
    CaseStatus,
    Decision,
    Detection,
    DetectionSignal,
    Fingerprint,
    Flag,
    KeywordRule,
    Reason,
    Rule,
    Source,
    Strike,
)
from .registry import Finding, Moderatable, moderatable_for, moderatable_for_kind, moderatable_kinds

METRIC = "moderation.decision"

# How much each reason weighs toward a case's severity.
GRAVITY = {
    Reason.FRAUD: 3,
    Reason.PROHIBITED: 3,
    Reason.INAPPROPRIATE: 2,
    Reason.SPAM: 2,
    Reason.DUPLICATE: 1,
    Reason.OTHER: 1,
}
SEVERITY_PER_POINT = 8
# A detection scoring 100 weighs as much as three reports from reporters with an average record.
AUTOMATIC_FLAG_WEIGHT = 3.0
# Reporter weights run from 0.25 (every past flag dismissed) through 1.0 (no record) to 1.75.
WEIGHT_FLOOR = 0.25
WEIGHT_SPAN = 1.5
FLAGS_PER_HOUR = 20
BRIGADE_ACCOUNT_AGE = timedelta(days=7)
BRIGADE_WINDOW = timedelta(hours=1)
BRIGADE_MIN_FLAGS = 3
STRIKE_DURATION = timedelta(days=180)
SUSPENSION = timedelta(days=7)
APPEAL_WINDOW = timedelta(days=14)


class AlreadyDecided(DomainError):
    code = "already_decided"

    def __init__(self, case: Case):
        decision = case.decision
        who = decision.by.get_full_name() if decision is not None and decision.by is not None else "someone"
        when = formats.date_format(timezone.localtime(case.decided_at), "DATETIME_FORMAT") if case.decided_at else ""
        action = decision.action_done.lower() if decision is not None else "decided"
        super().__init__(f"Case #{case.pk} was already decided by {who} at {when}: {action}.")


def text_digest(text: str) -> str:
    return hashlib.sha1((text or "").encode(), usedforsecurity=False).hexdigest()


# --- Content submitted by its owning app ------------------------------------------------------------


def content_submitted(*, obj: Any) -> Fingerprint:
    """Call inside the transaction that creates or edits user content of a registered kind.

    Records the version's fingerprint. When it matches content a moderator removed, the content is held for
    review at once (hidden, a case opened). After commit the task `moderation.tasks.detect_content(kind,
    object_id)` runs the rules and the classifier: high confidence hides the content and opens a case, medium
    opens a case, and every detection keeps its signals and score. Returns the fingerprint row.
    """
    entry = moderatable_for(obj)
    text = entry.text(obj)
    author = entry.author(obj)
    fingerprint = fingerprints.fingerprint_record(obj=obj, kind=entry.kind, author=author, text=text)
    matches = fingerprints.near_matches(fingerprint, fingerprints.removed())
    if matches:
        _hold_recurrence(entry=entry, obj=obj, text=text, author=author, match=matches[0][0])
    after_commit("moderation.tasks.detect_content", entry.kind, obj.pk)
    return fingerprint


def _hold_recurrence(*, entry: Moderatable, obj: Any, text: str, author: Any, match: Fingerprint) -> None:
    removal = Decision.objects.select_related("case").filter(pk=match.removal_id).first() if match.removal_id else None
    reason = removal.case.reason if removal is not None else Reason.OTHER
    detail = f"matches {match.kind} #{match.object_id}, removed" + (
        f" on case #{removal.case_id} ({removal.get_rule_display()})" if removal is not None else ""
    )
    digest = text_digest(text)
    with transaction.atomic():
        found = Detection.objects.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk, digest=digest
        ).first()
        if found is not None:
            return
        verified = badges.user_is_verified(author)
        medium_at, high_at = detection.thresholds(verified)
        row = Detection.objects.create(
            content_type=ContentType.objects.get_for_model(obj),
            object_id=obj.pk,
            kind=entry.kind,
            author=author,
            digest=digest,
            score=detection.MAX_SCORE,
            level=Detection.Level.HIGH,
            medium_at=medium_at,
            high_at=high_at,
            author_verified=verified,
            hidden=True,
        )
        DetectionSignal.objects.create(
            detection=row,
            code=DetectionSignal.Code.RECURRENCE,
            reason=reason,
            weight=detection.MAX_SCORE,
            detail=detail[:300],
        )
        if removal is not None and removal.recurred_at is None:
            Decision.objects.filter(pk=removal.pk, recurred_at__isnull=True).update(recurred_at=timezone.now())
        case = _add_flag(
            entry=entry,
            obj=obj,
            text=text,
            source=Source.AUTOMATIC,
            reason=reason,
            detection=row,
            weight=AUTOMATIC_FLAG_WEIGHT,
        )
        _hide(case=case, entry=entry, obj=obj, reason="Held for review: matches removed content.")
        Detection.objects.filter(pk=row.pk).update(case=case)


def content_detect(*, kind: str, object_id: int) -> Detection | None:
    """Run automatic detection on the current version of one object, once per version (the task's body)."""
    entry = moderatable_for_kind(kind)
    if entry is None:
        raise DomainError(f"Unknown moderation kind {kind!r}.", code="unknown_kind")
    obj = entry.get(object_id)
    if obj is None:
        return None
    text = entry.text(obj)
    digest = text_digest(text)
    content_type = ContentType.objects.get_for_model(entry.model)
    existing = Detection.objects.filter(content_type=content_type, object_id=obj.pk, digest=digest).first()
    if existing is not None:
        return existing
    from .spam import spam_model_ensure

    spam_model_ensure()
    author = entry.author(obj)
    verified = badges.user_is_verified(author)
    fingerprint = (
        Fingerprint.objects.filter(content_type=content_type, object_id=obj.pk).order_by("-created_at", "-pk").first()
    )
    result = detection.detect(
        entry=entry, obj=obj, text=text, author=author, author_verified=verified, fingerprint=fingerprint
    )
    try:
        with transaction.atomic():
            row = Detection.objects.create(
                content_type=content_type,
                object_id=obj.pk,
                kind=kind,
                author=author,
                digest=digest,
                score=result.score,
                level=result.level,
                medium_at=result.medium_at,
                high_at=result.high_at,
                author_verified=verified,
                spam_probability=result.spam_probability,
                model_version=result.model_version,
                hidden=result.level == Detection.Level.HIGH,
            )
            DetectionSignal.objects.bulk_create(
                DetectionSignal(detection=row, code=f.code, reason=f.reason, weight=f.weight, detail=f.detail[:300])
                for f in result.findings
            )
            if result.level != Detection.Level.CLEAR:
                _open_automatic_case(entry=entry, obj=obj, text=text, row=row, findings=result.findings)
    except IntegrityError:
        # A second delivery of the task checked the same version meanwhile: that detection stands.
        return Detection.objects.filter(content_type=content_type, object_id=obj.pk, digest=digest).first()
    return row


def _open_automatic_case(*, entry: Moderatable, obj: Any, text: str, row: Detection, findings: list[Finding]) -> None:
    case = _add_flag(
        entry=entry,
        obj=obj,
        text=text,
        source=Source.AUTOMATIC,
        reason=detection.primary_reason(findings),
        detection=row,
        weight=round(AUTOMATIC_FLAG_WEIGHT * row.score / detection.MAX_SCORE, 3),
        auto_score=row.score,
    )
    Detection.objects.filter(pk=row.pk).update(case=case)
    if row.level == Detection.Level.HIGH:
        signals = ", ".join(f.detail or f.code for f in findings[:3])
        _hide(case=case, entry=entry, obj=obj, reason=f"Hidden automatically (score {row.score}): {signals}"[:300])


# --- Flags and cases --------------------------------------------------------------------------------------


def reporter_weight(reporter: User) -> float:
    """The weight of a reporter's next flag, from the share of their past flags that were upheld."""
    record = Flag.objects.filter(reporter=reporter).aggregate(
        upheld=Count("pk", filter=Q(outcome=Flag.Outcome.UPHELD)),
        decided=Count("pk", filter=Q(outcome__in=[Flag.Outcome.UPHELD, Flag.Outcome.DISMISSED])),
    )
    # Laplace's rule of succession: a reporter with no record counts as one in two upheld.
    share = (record["upheld"] + 1) / (record["decided"] + 2)
    return round(WEIGHT_FLOOR + WEIGHT_SPAN * share, 3)


def flag_create(*, reporter: User, kind: str, object_id: int, reason: str, comment: str = "") -> Flag:
    """A user reports an object. Returns the flag; its case is opened, joined, or reopened."""
    errors: dict[str, list[str]] = {}
    entry = moderatable_for_kind(kind)
    if entry is None:
        errors["kind"] = [f"Choose one of: {', '.join(k.kind for k in moderatable_kinds())}."]
    if reason not in Reason.values:
        errors["reason"] = ["Choose spam, fraud, prohibited, inappropriate, duplicate or other."]
    comment = (comment or "").strip()
    if len(comment) > 1000:
        errors["comment"] = ["Use at most 1,000 characters."]
    if reason == Reason.OTHER and not comment:
        errors["comment"] = ["Say what is wrong."]
    if errors:
        raise InvalidInput("The report has invalid fields.", fields=errors)
    assert entry is not None
    obj = entry.get_for_reporter(object_id, reporter)
    if obj is None:
        raise InvalidInput("There is nothing to report with this id.", fields={"object_id": ["Not found."]})
    author = entry.author(obj)
    if author is not None and author.pk == reporter.pk:
        raise InvalidInput("You cannot report your own content.", fields={"object_id": ["This is your own."]})
    ratelimit.check(
        f"moderation-flag:{reporter.pk}",
        limit=FLAGS_PER_HOUR,
        window=3600,
        message=f"You can send at most {FLAGS_PER_HOUR} reports an hour.",
    )
    with transaction.atomic():
        case = _add_flag(
            entry=entry,
            obj=obj,
            text=entry.text(obj),
            source=Source.USER,
            reason=reason,
            reporter=reporter,
            comment=comment,
            weight=reporter_weight(reporter),
        )
        flag = case.flags.filter(reporter=reporter, round=case.round).get()
    return flag


def _lock_case(entry: Moderatable, obj: Any, *, text: str, source: str, reason: str) -> tuple[Case, bool]:
    """The object's case, locked; created when there is none. Returns (case, created)."""
    content_type = ContentType.objects.get_for_model(entry.model)
    locked = Case.objects.select_for_update().filter(content_type=content_type, object_id=obj.pk)
    case = locked.first()
    if case is not None:
        return case, False
    author = entry.author(obj)
    now = timezone.now()
    try:
        # A savepoint: two first flags at once both find no case; the unique constraint admits one.
        with transaction.atomic():
            case = Case.objects.create(
                content_type=content_type,
                object_id=obj.pk,
                kind=entry.kind,
                author=author,
                source=source,
                reason=reason,
                created_at=now,
                opened_at=now,
                last_flag_at=now,
                content_title=entry.describe(obj)[:200],
                content_text=text,
            )
    except IntegrityError:
        return locked.get(), False
    return case, True


def _add_flag(
    *,
    entry: Moderatable,
    obj: Any,
    text: str,
    source: str,
    reason: str,
    weight: float,
    reporter: User | None = None,
    comment: str = "",
    detection: Detection | None = None,
    auto_score: int | None = None,
) -> Case:
    """Record one flag on the object's case (opening or reopening it) and start its clock. Needs a transaction."""
    now = timezone.now()
    case, created = _lock_case(entry, obj, text=text, source=source, reason=reason)
    new_round = created
    if not created and case.status == CaseStatus.DECIDED:
        # A decided case reopens: a new round with its own flags, decision and 12-hour clock.
        claimed = Case.objects.filter(pk=case.pk, status=CaseStatus.DECIDED, round=case.round).update(
            status=CaseStatus.OPEN,
            round=case.round + 1,
            source=source,
            reason=reason,
            opened_at=now,
            brigading=False,
            auto_score=None,
        )
        if claimed != 1:
            case.refresh_from_db()
        else:
            last = case.decision
            if last is not None and last.removes and last.reversed_at is None and last.recurred_at is None:
                # Removed content flagged again counts as recurrence.
                Decision.objects.filter(pk=last.pk, recurred_at__isnull=True).update(recurred_at=now)
            case.refresh_from_db()
            new_round = True
            audit_record(actor=reporter, action="case.reopen", target=case, data={"round": case.round})
    if reporter is not None and Flag.objects.filter(case=case, round=case.round, reporter=reporter).exists():
        raise DomainError("You have already reported this; moderators are looking at it.", code="already_reported")
    Flag.objects.create(
        case=case,
        round=case.round,
        source=source,
        reporter=reporter,
        detection=detection,
        reason=reason,
        comment=comment,
        weight=weight,
        created_at=now,
    )
    if new_round:
        sla.clock_start(metric=METRIC, target=case, at=now)
    if created:
        audit_record(actor=reporter, action="case.open", target=case, data={"source": source, "reason": reason})
    _refresh_case(case, text=text, title=entry.describe(obj), auto_score=auto_score, now=now)
    return case


def _refresh_case(case: Case, *, text: str, title: str, auto_score: int | None, now: Any) -> None:
    """Recompute the round's figures from its flags (not by increments, so concurrent flags converge)."""
    flags = list(
        Flag.objects.filter(case=case, round=case.round).select_related("reporter").order_by("created_at", "pk")
    )
    _mark_brigading(case, flags, now)
    totals: dict[str, float] = defaultdict(float)
    points = 0.0
    for flag in flags:
        contribution = flag.weight * GRAVITY[Reason(flag.reason)] * (0.5 if flag.brigading else 1.0)
        totals[flag.reason] += contribution
        points += contribution
    fields: dict[str, Any] = {
        "flag_count": len(flags),
        "reason": max(totals, key=lambda reason: totals[reason]),
        "severity": min(100, round(points * SEVERITY_PER_POINT)),
        "brigading": any(flag.brigading for flag in flags),
        "last_flag_at": now,
        "content_text": text,
        "content_title": title[:200],
    }
    if auto_score is not None:
        fields["auto_score"] = auto_score
    Case.objects.filter(pk=case.pk).update(**fields)
    for name, value in fields.items():
        setattr(case, name, value)


def _mark_brigading(case: Case, flags: list[Flag], now: Any) -> None:
    """A burst of flags from new accounts on one object is marked as possible brigading (and counts half)."""
    burst = [
        flag
        for flag in flags
        if flag.reporter is not None
        and flag.created_at >= now - BRIGADE_WINDOW
        and flag.created_at - flag.reporter.date_joined < BRIGADE_ACCOUNT_AGE
    ]
    if len(burst) < BRIGADE_MIN_FLAGS:
        return
    fresh = [flag.pk for flag in burst if not flag.brigading]
    if fresh:
        Flag.objects.filter(pk__in=fresh).update(brigading=True)
        for flag in burst:
            flag.brigading = True
        audit_record(actor=None, action="case.brigading", target=case, data={"flags": len(burst)})


def _hide(*, case: Case, entry: Moderatable, obj: Any, reason: str) -> None:
    entry.hide(obj=obj, by=None, reason=reason)
    Case.objects.filter(pk=case.pk).update(hidden_at=timezone.now())
    audit_record(actor=None, action="case.hide", target=case, reason=reason)


# --- Decisions ---------------------------------------------------------------------------------------


def _lock(case: Case) -> Case:
    # `of=("self",)`: the decision joined in for the messages is nullable, and PostgreSQL locks no outer join.
    return Case.objects.select_for_update(of=("self",)).select_related("decision__by").get(pk=case.pk)


def _check_decision(action: str, rule: str, reason: str) -> None:
    errors: dict[str, list[str]] = {}
    if action not in Action.values:
        errors["action"] = ["Choose keep, remove, remove and warn, suspend or ban."]
    if not (reason or "").strip():
        errors["reason"] = ["Give the reason; the user is told."]
    elif len(reason) > 2000:
        errors["reason"] = ["Use at most 2,000 characters."]
    if action != Action.KEEP and rule not in Rule.values:
        errors["rule"] = ["Choose the rule that was broken."]
    if errors:
        raise InvalidInput("The decision has invalid fields.", fields=errors)


def case_decide(*, case: Case, by: User, action: str, reason: str, rule: str = "") -> Decision:
    """Decide an open case: keep (flags dismissed), remove, remove and warn, suspend or ban the author.

    Two moderators deciding at once end in one decision: the second gets AlreadyDecided naming the first.
    """
    _check_decision(action, rule, reason)
    if action == Action.KEEP:
        rule = ""
    entry = moderatable_for_kind(case.kind)
    if entry is None:
        raise DomainError(f"Content of kind {case.kind!r} can no longer be moderated.", code="unknown_kind")
    with transaction.atomic():
        case = _lock(case)
        current = case.decision
        if case.status == CaseStatus.DECIDED:
            if current is not None and current.by_id == by.pk and current.action == action:
                return current
            raise AlreadyDecided(case)
        now = timezone.now()
        # Compare-and-set on the status as well as the lock: SQLite has no SELECT … FOR UPDATE.
        claimed = Case.objects.filter(pk=case.pk, status=CaseStatus.OPEN, round=case.round).update(
            status=CaseStatus.DECIDED, decided_at=now
        )
        if claimed != 1:
            raise AlreadyDecided(_lock(case))
        automatic = case.source == Source.AUTOMATIC
        decision = Decision.objects.create(
            case=case,
            round=case.round,
            action=action,
            rule=rule,
            reason=reason.strip(),
            by=by,
            at=now,
            automatic=automatic,
        )
        Case.objects.filter(pk=case.pk).update(decision=decision)
        case.status, case.decided_at, case.decision = CaseStatus.DECIDED, now, decision
        outcome = Flag.Outcome.DISMISSED if action == Action.KEEP else Flag.Outcome.UPHELD
        Flag.objects.filter(case=case, round=case.round, outcome=Flag.Outcome.PENDING).update(outcome=outcome)
        sla.clock_stop(metric=METRIC, target=case, at=now)
        restored = action == Action.KEEP and case.hidden_at is not None
        _apply(case=case, entry=entry, decision=decision, by=by)
        audit_record(
            actor=by,
            action=f"case.{action}",
            target=case,
            reason=decision.reason,
            data={"rule": rule, "round": case.round},
        )
        after_commit("moderation.tasks.notify_decision", decision.pk, restored)
    return decision


def _apply(*, case: Case, entry: Moderatable, decision: Decision, by: User) -> None:
    """The decision's effects on the content, the author's record and the author's account."""
    obj = entry.get(case.object_id)
    text = f"{decision.action_done}: {decision.reason}"[:300]
    # Held content is either back or removed now: the case no longer holds it.
    Case.objects.filter(pk=case.pk).update(hidden_at=None)
    if decision.action == Action.KEEP:
        if case.hidden_at is not None and obj is not None:
            entry.restore(obj=obj, by=by, reason=text)
        return
    if obj is not None:
        entry.remove(obj=obj, by=by, reason=text)
    Fingerprint.objects.filter(content_type=case.content_type_id, object_id=case.object_id).update(
        removed_at=decision.at, removal=decision
    )
    author = case.author
    if decision.action in STRIKING_ACTIONS and author is not None:
        strike_issue(user=author, decision=decision, by=by)
    if decision.action in (Action.SUSPEND_USER, Action.BAN_USER) and author is not None:
        _account_action(decision=decision, user=author, by=by)


def strike_issue(*, user: User, decision: Decision, by: User | None) -> Strike:
    """A strike on the user's record; it revokes the verified badge for as long as it is active."""
    had_badge = badges.user_is_verified(user, at=decision.at)
    strike, created = Strike.objects.get_or_create(
        decision=decision,
        defaults={
            "user": user,
            "rule": decision.rule,
            "issued_at": decision.at,
            "expires_at": decision.at + STRIKE_DURATION,
        },
    )
    if created:
        audit_record(actor=by, action="strike.issue", target=user, reason=decision.get_rule_display())
        if had_badge:
            audit_record(actor=None, action="badge.revoke", target=user, reason=f"Strike on case #{decision.case_id}")
    return strike


def _account_action(*, decision: Decision, user: User, by: User) -> None:
    reason = f"Moderation case #{decision.case_id}: {decision.get_rule_display()}. {decision.reason}"[:300]
    if decision.action == Action.SUSPEND_USER:
        accounts_services.user_suspend(user=user, by=by, reason=reason, until=decision.at + SUSPENSION)
    else:
        accounts_services.user_ban(user=user, by=by, reason=reason)


# --- Appeals -----------------------------------------------------------------------------------------


def appeal_file(*, case: Case, by: User, statement: str) -> Appeal:
    """The author appeals the case's latest decision, once, within APPEAL_WINDOW of it.

    Staff with moderation.file_appeal may file it for the author (a suspended account cannot sign in, so it
    writes to support instead); the appellant is then still the author.
    """
    statement = (statement or "").strip()
    if not statement:
        raise InvalidInput("Say why the decision is wrong.", fields={"statement": ["A statement is required."]})
    if len(statement) > 2000:
        raise InvalidInput("The statement is too long.", fields={"statement": ["Use at most 2,000 characters."]})
    with transaction.atomic():
        case = _lock(case)
        decision = case.decision
        on_behalf = case.author_id != by.pk
        if case.author is None or (on_behalf and not by.has_perm("moderation.file_appeal")):
            raise DomainError("Only the author of the content can appeal.", code="not_author")
        if decision is None or case.status != CaseStatus.DECIDED or decision.action == Action.KEEP:
            raise DomainError("There is no decision against this content to appeal.", code="nothing_to_appeal")
        if Appeal.objects.filter(decision=decision).exists():
            raise DomainError("This decision has already been appealed.", code="already_appealed")
        if timezone.now() > decision.at + APPEAL_WINDOW:
            raise DomainError(
                f"Appeals are possible for {APPEAL_WINDOW.days} days after the decision.", code="appeal_closed"
            )
        appeal = Appeal.objects.create(
            decision=decision,
            case=case,
            appellant=case.author,
            filed_by=by if on_behalf else None,
            statement=statement,
        )
        sla.clock_start(metric=APPEAL_METRIC, target=appeal, at=appeal.created_at)
        audit_record(actor=by, action="appeal.file", target=case, reason=statement)
    return appeal


def appeal_decide(*, appeal: Appeal, by: User, reverse: bool, reason: str) -> Appeal:
    """Another moderator than the one who decided upholds or reverses the decision; reversing undoes its effects."""
    if not (reason or "").strip():
        raise InvalidInput("Give the reason; the user is told.", fields={"reason": ["A reason is required."]})
    with transaction.atomic():
        appeal = Appeal.objects.select_for_update(of=("self",)).select_related("decision", "case").get(pk=appeal.pk)
        decision = appeal.decision
        if decision.by_id == by.pk:
            raise DomainError(
                "A different moderator must decide the appeal against your own decision.", code="own_decision"
            )
        status = Appeal.Status.REVERSED if reverse else Appeal.Status.UPHELD
        if appeal.status != Appeal.Status.PENDING:
            if appeal.status == status and appeal.decided_by_id == by.pk:
                return appeal
            raise DomainError("This appeal has already been decided.", code="already_decided")
        now = timezone.now()
        claimed = Appeal.objects.filter(pk=appeal.pk, status=Appeal.Status.PENDING).update(
            status=status, decided_by=by, decided_at=now, reason=reason.strip()
        )
        if claimed != 1:
            raise DomainError("This appeal has already been decided.", code="already_decided")
        appeal.refresh_from_db()
        sla.clock_stop(metric=APPEAL_METRIC, target=appeal, at=now)
        if reverse:
            _reverse(decision=decision, case=appeal.case, by=by, reason=reason.strip(), at=now)
        audit_record(
            actor=by,
            action="appeal.reverse" if reverse else "appeal.uphold",
            target=appeal.case,
            reason=reason.strip(),
        )
        after_commit("moderation.tasks.notify_appeal", appeal.pk)
    return appeal


def _reverse(*, decision: Decision, case: Case, by: User, reason: str, at: Any) -> None:
    Decision.objects.filter(pk=decision.pk).update(reversed_at=at)
    entry = moderatable_for_kind(case.kind)
    obj = entry.get(case.object_id) if entry is not None else None
    if entry is not None and obj is not None:
        entry.restore(obj=obj, by=by, reason=f"Appeal upheld: {reason}"[:300])
    Case.objects.filter(pk=case.pk).update(hidden_at=None)
    # Restored content is no longer a pattern to hold new posts against.
    Fingerprint.objects.filter(removal=decision).update(removed_at=None, removal=None)
    Strike.objects.filter(decision=decision, revoked_at__isnull=True).update(revoked_at=at)
    # The reports were wrong after all: they no longer count toward the reporters' records as upheld.
    Flag.objects.filter(case=case, round=decision.round, outcome=Flag.Outcome.UPHELD).update(
        outcome=Flag.Outcome.DISMISSED
    )
    if decision.action in (Action.SUSPEND_USER, Action.BAN_USER) and case.author is not None:
        accounts_services.user_reinstate(
            user=case.author, by=by, reason=f"Appeal on moderation case #{case.pk} upheld: {reason}"[:300]
        )


# --- Keyword rules -------------------------------------------------------------------------------------


def keyword_rule_create(*, phrase: str, reason: str, weight: int, by: User, note: str = "") -> KeywordRule:
    phrase = " ".join((phrase or "").split()).lower()
    errors: dict[str, list[str]] = {}
    if len(phrase) < 2:
        errors["phrase"] = ["Enter a word or phrase of at least two characters."]
    elif KeywordRule.objects.filter(phrase=phrase).exists():
        errors["phrase"] = ["This phrase is already a rule."]
    if reason not in Reason.values:
        errors["reason"] = ["Choose a reason."]
    if not 1 <= int(weight or 0) <= 100:
        errors["weight"] = ["Use 1 to 100 points."]
    if errors:
        raise InvalidInput("The keyword has invalid fields.", fields=errors)
    with transaction.atomic():
        rule = KeywordRule.objects.create(phrase=phrase, reason=reason, weight=weight, note=note[:300], created_by=by)
        audit_record(actor=by, action="keyword.create", target=rule, data={"weight": weight, "reason": reason})
    return rule


def keyword_rule_set_active(*, rule: KeywordRule, by: User, active: bool) -> KeywordRule:
    with transaction.atomic():
        rule = KeywordRule.objects.select_for_update().get(pk=rule.pk)
        if rule.is_active == active:
            return rule
        rule.is_active = active
        rule.save(update_fields=["is_active"])
        audit_record(actor=by, action="keyword.activate" if active else "keyword.deactivate", target=rule)
    return rule
