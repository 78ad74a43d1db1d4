"""The moderation phase: writing the simulated detections, flags, cases and decisions, then retraining."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import cast

from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from accounts.models import AccountEvent, AccountStatus, User
from demo.core import DemoContext
from demo.marketplace import plan_for
from demo.moderation.simulator import (
    DemoCase,
    DemoDetection,
    ModerationSimulator,
    PostedListing,
    moderators_ensure,
    posted_listings,
)
from marketplace.models import Listing, ListingStatus
from moderation import fingerprints
from moderation.models import (
    APPEAL_METRIC,
    Action,
    Appeal,
    Case,
    CaseStatus,
    Decision,
    Detection,
    DetectionSignal,
    Fingerprint,
    Flag,
    Reason,
    Rule,
    Source,
    Strike,
)
from moderation.services import GRAVITY, METRIC, SEVERITY_PER_POINT, STRIKE_DURATION, SUSPENSION, text_digest
from moderation.spam import spam_model_train, training_csv
from saypro.audit.models import AuditEntry
from saypro.errors import InvalidInput
from saypro.sla.models import Policy
from saypro.sla.replay import clock_replay
from saypro.sla.services import spec_for

logger = logging.getLogger(__name__)
# The retraining learns from the quarter's latest decisions only: its memory grows with its texts (about 24 KiB a
# decision measured), so all of a large quarter's decisions would take gigabytes in this worker.
RETRAIN_DECISIONS = 2_000
# --- Writing ----------------------------------------------------------------------------------------------


class _Writer:
    def __init__(self, ctx: DemoContext, sim: ModerationSimulator, policy: Policy):
        self.ctx = ctx
        self.sim = sim
        self.policy = policy
        self.spec = spec_for(policy.calendar)
        self.appeal_policy = Policy.objects.select_related("calendar").get(metric=APPEAL_METRIC, is_default=True)
        self.appeal_spec = spec_for(self.appeal_policy.calendar)
        self.appeal_type = ContentType.objects.get_for_model(Appeal)
        self.listing_type = ContentType.objects.get_for_model(Listing)
        self.case_type = ContentType.objects.get_for_model(Case)
        self.user_type = ContentType.objects.get_for_model(User)
        # Listing id → the decision that removed it (and stands).
        self.removals: dict[int, Decision] = {}

    def write(self, found: list[DemoDetection], cases: list[DemoCase]) -> None:
        """A batch of the replay: its detections, cases and fingerprints, and the removals reposted since."""
        end = self.ctx.period.end
        with transaction.atomic():
            detection_ids = self.detections(found)
            for batch in self.ctx.batches(cases):
                self.write_cases(batch, detection_ids, end)
            self.ctx.insert(Fingerprint, [self.fingerprint(d.listing) for d in found])
            self.recurrences()

    def detections(self, found: list[DemoDetection]) -> dict[int, int]:
        """Detection rows (signals included) for a batch; returns listing id → detection row id."""
        ctx = self.ctx
        rows = ctx.insert(
            Detection,
            [
                Detection(
                    content_type=self.listing_type,
                    object_id=d.listing.pk,
                    kind="listing",
                    author_id=d.listing.seller_id,
                    digest=text_digest(d.listing.text),
                    ran_at=d.listing.created_at + timedelta(seconds=1),
                    score=d.score,
                    level=d.level,
                    medium_at=d.medium_at,
                    high_at=d.high_at,
                    author_verified=d.verified,
                    spam_probability=d.probability,
                    model_version=d.version,
                    hidden=d.level == "high",
                )
                for d in found
            ],
        )
        ctx.insert(
            DetectionSignal,
            [
                DetectionSignal(detection=row, code=f.code, reason=f.reason, weight=f.weight, detail=f.detail[:300])
                for d, row in zip(found, rows, strict=True)
                for f in d.findings
            ],
        )
        return {d.listing.pk: row.pk for d, row in zip(found, rows, strict=True)}

    def fingerprint(self, listing: PostedListing) -> Fingerprint:
        """The listing's fingerprint, marked with its removal (decided, and so written, in the same batch)."""
        signature = self.sim.recent[listing.pk].signature
        removal = self.removals.pop(listing.pk, None)
        return Fingerprint(
            content_type=self.listing_type,
            object_id=listing.pk,
            kind="listing",
            author_id=listing.seller_id,
            signature=list(signature) if signature is not None else [],
            created_at=listing.created_at,
            removed_at=removal.at if removal is not None else None,
            removal=removal,
            **{
                f"band{band}": value for band, value in enumerate(fingerprints.bands(cast(list[int] | None, signature)))
            },
        )

    def recurrences(self) -> None:
        """Removed listings reposted: their decisions (already written) record when the copy came back."""
        recurred, self.sim.recurred = self.sim.recurred, {}
        if not recurred:
            return
        decisions = Decision.objects.filter(
            case__kind="listing", case__object_id__in=list(recurred), round=1
        ).values_list("pk", "case__object_id")
        Decision.objects.bulk_update(
            [Decision(pk=pk, recurred_at=recurred[listing]) for pk, listing in decisions], ["recurred_at"]
        )

    def write_cases(self, batch: list[DemoCase], detection_ids: dict[int, int], end: datetime) -> None:
        ctx = self.ctx
        case_rows = ctx.insert(Case, [self.case_row(c) for c in batch])
        decided = [(c, row) for c, row in zip(batch, case_rows, strict=True) if c.decided_at is not None]
        decision_rows = ctx.insert(
            Decision,
            [
                Decision(
                    case=row,
                    round=1,
                    action=c.action,
                    rule=c.rule,
                    reason=c.reason_text,
                    by=c.moderator,
                    at=c.decided_at or end,
                    automatic=c.source == Source.AUTOMATIC,
                    reversed_at=c.reversed_at,
                )
                for c, row in decided
            ],
        )
        for (_, row), decision in zip(decided, decision_rows, strict=True):
            row.decision = decision
        Case.objects.bulk_update([row for _, row in decided], ["decision"], batch_size=ctx.batch_size)
        ctx.insert(
            Flag,
            [
                Flag(
                    case=row,
                    round=1,
                    source=f.source,
                    reporter_id=f.reporter.pk if f.reporter else None,
                    detection_id=detection_ids.get(f.detection) if f.detection is not None else None,
                    reason=f.reason,
                    comment=f.comment,
                    weight=f.weight,
                    brigading=f.brigading,
                    created_at=f.at,
                    outcome=self.outcome(c),
                    notified_at=c.decided_at + timedelta(seconds=30) if c.decided_at and f.reporter else None,
                )
                for c, row in zip(batch, case_rows, strict=True)
                for f in c.flags
            ],
        )
        Detection.objects.bulk_update(
            [
                Detection(pk=detection_ids[i], case=row)
                for c, row in zip(batch, case_rows, strict=True)
                for i in c.detections
            ],
            ["case"],
            batch_size=ctx.batch_size,
        )
        ctx.insert_clocks(
            [
                (
                    clock_replay(
                        policy=self.policy,
                        spec=self.spec,
                        started_at=c.opened_at,
                        as_of=end,
                        rng=self.sim.rng,
                        stopped_at=c.decided_at,
                    ),
                    self.case_type,
                    row.pk,
                )
                for c, row in zip(batch, case_rows, strict=True)
            ]
        )
        strikes = [
            Strike(
                user_id=c.listing.seller_id,
                decision=decision,
                rule=c.rule,
                issued_at=decision.at,
                expires_at=decision.at + STRIKE_DURATION,
                revoked_at=c.reversed_at,
            )
            for (c, _), decision in zip(decided, decision_rows, strict=True)
            if c.action in (Action.REMOVE_WARN, Action.SUSPEND_USER, Action.BAN_USER)
        ]
        ctx.insert(Strike, strikes)
        appeals = ctx.insert(
            Appeal,
            [
                Appeal(
                    decision=decision,
                    case_id=decision.case_id,
                    appellant_id=c.listing.seller_id,
                    statement=c.appeal[1],
                    created_at=c.appeal[0],
                    status=(Appeal.Status.REVERSED if c.appeal[4] else Appeal.Status.UPHELD)
                    if c.appeal[2]
                    else Appeal.Status.PENDING,
                    decided_by=c.appeal[3],
                    decided_at=c.appeal[2],
                    reason="The receipt and photos check out."
                    if c.appeal[4]
                    else ("The decision stands." if c.appeal[2] else ""),
                )
                for (c, _), decision in zip(decided, decision_rows, strict=True)
                if c.appeal is not None
            ],
        )
        self.appeal_clocks(appeals, end)
        for (c, _), decision in zip(decided, decision_rows, strict=True):
            if c.action != Action.KEEP and not c.reversed_at:
                self.removals[c.listing.pk] = decision
        ctx.insert(AuditEntry, self.audit(decided, decision_rows))
        self.listing_statuses(batch, end)
        self.account_statuses(decided, end)

    def appeal_clocks(self, appeals: list[Appeal], end: datetime) -> None:
        """Each appeal's decision clock, as filing and deciding it through the services would have left it."""
        self.ctx.insert_clocks(
            [
                (
                    clock_replay(
                        policy=self.appeal_policy,
                        spec=self.appeal_spec,
                        started_at=appeal.created_at,
                        as_of=end,
                        rng=self.sim.rng,
                        stopped_at=appeal.decided_at,
                    ),
                    self.appeal_type,
                    appeal.pk,
                )
                for appeal in appeals
            ]
        )

    def case_row(self, c: DemoCase) -> Case:
        points = sum(f.weight * GRAVITY[Reason(f.reason)] * (0.5 if f.brigading else 1) for f in c.flags)
        totals: dict[str, float] = defaultdict(float)
        for f in c.flags:
            totals[f.reason] += f.weight * GRAVITY[Reason(f.reason)]
        listing = c.listing
        return Case(
            content_type=self.listing_type,
            object_id=listing.pk,
            kind="listing",
            author_id=listing.seller_id,
            status=CaseStatus.DECIDED if c.decided_at else CaseStatus.OPEN,
            source=c.source,
            reason=max(totals, key=lambda r: totals[r]),
            severity=min(100, round(points * SEVERITY_PER_POINT)),
            flag_count=len(c.flags),
            auto_score=c.auto_score,
            brigading=any(f.brigading for f in c.flags),
            created_at=c.opened_at,
            opened_at=c.opened_at,
            last_flag_at=max(f.at for f in c.flags),
            hidden_at=c.hidden_at if not c.decided_at else None,
            decided_at=c.decided_at,
            content_title=f"Listing #{listing.pk}: {listing.title}"[:200],
            content_text=listing.text,
        )

    def outcome(self, c: DemoCase) -> str:
        if c.decided_at is None:
            return Flag.Outcome.PENDING
        return Flag.Outcome.DISMISSED if c.action == Action.KEEP or c.reversed_at else Flag.Outcome.UPHELD

    def audit(self, decided: list[tuple[DemoCase, Case]], decisions: list[Decision]) -> list[AuditEntry]:
        entries = []
        for (c, row), decision in zip(decided, decisions, strict=True):
            entries.append(
                AuditEntry(
                    at=decision.at,
                    actor=c.moderator,
                    actor_label=c.moderator.email if c.moderator else "system",
                    action=f"case.{c.action}",
                    target_type=self.case_type,
                    target_id=str(row.pk),
                    target_repr=str(row)[:200],
                    reason=c.reason_text,
                    data={"rule": c.rule, "round": 1},
                )
            )
            if c.appeal is not None and c.appeal[2] is not None and c.appeal[3] is not None:
                entries.append(
                    AuditEntry(
                        at=c.appeal[2],
                        actor=c.appeal[3],
                        actor_label=c.appeal[3].email,
                        action="appeal.reverse" if c.appeal[4] else "appeal.uphold",
                        target_type=self.case_type,
                        target_id=str(row.pk),
                        target_repr=str(row)[:200],
                    )
                )
        return entries

    def listing_statuses(self, batch: list[DemoCase], end: datetime) -> None:
        changed = []
        for c in batch:
            listing = c.listing
            if c.decided_at is None:
                if c.hidden_at is None:
                    continue
                status, at, reason = ListingStatus.PENDING_REVIEW, c.hidden_at, "Hidden automatically, pending review"
            elif c.action == Action.KEEP or c.reversed_at:
                continue
            else:
                status, at, reason = ListingStatus.REMOVED, c.decided_at, f"{Action(c.action).label}: {c.reason_text}"
            changed.append(Listing(pk=listing.pk, status=status, status_changed_at=at, status_reason=reason[:300]))
        Listing.objects.bulk_update(
            changed, ["status", "status_changed_at", "status_reason"], batch_size=self.ctx.batch_size
        )

    def account_statuses(self, decided: list[tuple[DemoCase, Case]], end: datetime) -> None:
        """Suspensions still running and bans, as accounts.services would have recorded them."""
        events, entries = [], []
        # The simulated users carry no e-mail address (see demo.core.Roster): the entries name it from the rows.
        emails = dict(
            User.objects.filter(
                pk__in={c.listing.seller_id for c, _ in decided if c.action in (Action.SUSPEND_USER, Action.BAN_USER)}
            ).values_list("pk", "email")
        )
        for c, row in decided:
            if c.action not in (Action.SUSPEND_USER, Action.BAN_USER) or c.reversed_at or c.decided_at is None:
                continue
            banned = c.action == Action.BAN_USER
            until = None if banned else c.decided_at + SUSPENSION
            if until is not None and until <= end:
                continue  # the suspension has run out: the account is active again
            reason = f"Moderation case #{row.pk}: {Rule(c.rule).label}. {c.reason_text}"[:300]
            User.objects.filter(pk=c.listing.seller_id, status=AccountStatus.ACTIVE).update(
                status=AccountStatus.BANNED if banned else AccountStatus.SUSPENDED,
                is_active=False,
                status_reason=reason,
                status_changed_at=c.decided_at,
                suspended_until=until,
            )
            kind = AccountEvent.Kind.BANNED if banned else AccountEvent.Kind.SUSPENDED
            data = {"from": "active", "until": until.isoformat() if until else None}
            events.append(
                AccountEvent(
                    user_id=c.listing.seller_id,
                    kind=kind,
                    reason="active",
                    at=c.decided_at,
                    actor=c.moderator,
                    channel="web",
                    data=data,
                )
            )
            entries.append(
                AuditEntry(
                    at=c.decided_at,
                    actor=c.moderator,
                    actor_label=c.moderator.email if c.moderator else "system",
                    action=f"account.{kind}",
                    target_type=self.user_type,
                    target_id=str(c.listing.seller_id),
                    target_repr=emails[c.listing.seller_id],
                    reason=reason,
                    data=data,
                )
            )
        self.ctx.insert(AccountEvent, events)
        self.ctx.insert(AuditEntry, entries)


def moderation_phase(ctx: DemoContext) -> None:
    plan = plan_for(ctx)
    if plan is None or not plan.count:
        return
    with transaction.atomic():
        moderators = moderators_ensure()
    policy = Policy.objects.select_related("calendar").get(metric=METRIC, is_default=True)
    sim = ModerationSimulator(ctx, plan, moderators)
    writer = _Writer(ctx, sim, policy)
    # Batch by batch in posting order, read back from the database: detect, flag and decide, write, then let go of
    # what the later listings' look-ups no longer reach, so the replay's memory does not grow with the quarter.
    with ctx.bar(total=plan.count, desc="moderation: replay", unit="listings") as bar:
        for batch in posted_listings(ctx, plan):
            found = sim.detect(batch)
            writer.write(found, sim.open_cases(found))
            sim.forget(batch[-1].created_at)
            bar.update(len(batch))
    if training_csv() is not None:
        try:
            # What moderators decided this quarter teaches the classifier what listings look like.
            spam_model_train(folds=2, latest_decisions=RETRAIN_DECISIONS)
        except InvalidInput as exc:
            logger.warning("Spam model not retrained: %s", exc)
