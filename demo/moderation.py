"""The moderation demo phase: detection, flags, cases, decisions, strikes and appeals over the demo listings.

It replays the product's own rules on the listings the marketplace phase planned (moderation.detection's keyword,
link, phone and price rules, near-duplicates by MinHash, new-account velocity and the spam classifier, trained
from MODERATION_SPAM_CSV when none exists), with the thresholds of the verified badge at the time. Medium and high
scores open automatic cases (high ones hide the listing); users flag what they meet, mostly real abuse and now and
then a legitimate listing, sometimes in a burst from new accounts. Moderators on shifts decide most cases within
the 12 hours, some late after a night or a backlog; removals strike the author, suspend or ban repeat scammers;
some authors appeal and a different moderator decides. Reposts of removed scams are held for review. Clocks are
replayed with saypro.sla.replay. The spam classifier is then retrained with the quarter's decisions.
"""

from __future__ import annotations

import bisect
import logging
from array import array
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import cast

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts import roles
from accounts.models import AccountEvent, AccountStatus, User
from demo.core import DemoContext, DemoUser, Weighted
from demo.marketplace import DemoListing, plan_for
from marketplace.models import Listing, ListingStatus
from moderation import detection, fingerprints
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
    KeywordRule,
    Reason,
    Rule,
    Source,
    Strike,
)
from moderation.registry import Finding
from moderation.services import (
    APPEAL_WINDOW,
    AUTOMATIC_FLAG_WEIGHT,
    GRAVITY,
    METRIC,
    SEVERITY_PER_POINT,
    STRIKE_DURATION,
    SUSPENSION,
    text_digest,
)
from moderation.spam import MODEL_NAME, spam_model_train, training_csv
from saypro.audit.models import AuditEntry
from saypro.errors import InvalidInput
from saypro.ml import services as ml
from saypro.ml.models import TextModel
from saypro.sla.models import Policy
from saypro.sla.replay import clock_replay
from saypro.sla.services import spec_for

logger = logging.getLogger(__name__)
Code = DetectionSignal.Code

MODERATORS = (
    ("moderator2@saypro.example", "Ayanda Dlamini"),
    ("moderator3@saypro.example", "Kelechi Obi"),
    ("moderator4@saypro.example", "Akinyi Otieno"),
    ("moderator5@saypro.example", "Yaw Boateng"),
)
# Who reports what they meet: the share of listings of each scheme that users flag, and with which reason.
FLAG_SHARE = {"scam": 0.45, "spam": 0.3, "prohibited": 0.5, "duplicate": 0.12, "": 0.003}
FLAG_REASON = {
    "scam": Weighted([(Reason.FRAUD, 80), (Reason.SPAM, 12), (Reason.OTHER, 8)]),
    "spam": Weighted([(Reason.SPAM, 85), (Reason.FRAUD, 10), (Reason.OTHER, 5)]),
    "prohibited": Weighted([(Reason.PROHIBITED, 75), (Reason.INAPPROPRIATE, 15), (Reason.FRAUD, 10)]),
    "duplicate": Weighted([(Reason.DUPLICATE, 85), (Reason.SPAM, 15)]),
    "": Weighted([(Reason.FRAUD, 30), (Reason.INAPPROPRIATE, 20), (Reason.DUPLICATE, 20), (Reason.OTHER, 30)]),
}
COMMENTS = {
    Reason.FRAUD: (
        "Asks for a deposit before viewing.",
        "Price is too good to be true.",
        "Wants payment outside the app.",
    ),
    Reason.SPAM: ("This is an advert, not an item.", "Same message everywhere.", ""),
    Reason.PROHIBITED: ("Selling fakes.", "This is not allowed.", ""),
    Reason.INAPPROPRIATE: ("Offensive wording.", ""),
    Reason.DUPLICATE: ("Posted five times.", "Same item again.", ""),
    Reason.OTHER: ("Something is off with this seller.", "The photos are taken from another site."),
}
BAD_ACTIONS = {
    "scam": Weighted([(Action.REMOVE_WARN, 45), (Action.SUSPEND_USER, 25), (Action.BAN_USER, 20), (Action.REMOVE, 10)]),
    "spam": Weighted([(Action.REMOVE_WARN, 50), (Action.REMOVE, 35), (Action.SUSPEND_USER, 15)]),
    "prohibited": Weighted([(Action.REMOVE_WARN, 60), (Action.REMOVE, 30), (Action.SUSPEND_USER, 10)]),
    "duplicate": Weighted([(Action.REMOVE, 85), (Action.REMOVE_WARN, 15)]),
}
RULES = {"scam": Rule.SCAM, "spam": Rule.SPAM, "prohibited": Rule.PROHIBITED, "duplicate": Rule.DUPLICATE}
DECISION_REASONS = {
    Rule.SCAM: "Asks for payment up front and outside the platform: an advance-fee scam.",
    Rule.SPAM: "Advertising, not an item for sale.",
    Rule.PROHIBITED: "Counterfeit or prescription-only goods may not be sold.",
    Rule.DUPLICATE: "The same item is already listed.",
    Rule.MISLEADING: "The price and photos do not match the item.",
}
KEEP_REASONS = (
    "An ordinary listing; nothing breaks the rules.",
    "Genuine seller, receipt seen.",
    "Price checked: fair.",
)
APPEAL_STATEMENTS = (
    "This is my own item and I have the receipt.",
    "I only posted it twice because the first one did not show.",
    "I did not know this was not allowed; it will not happen again.",
    "The price is low because I need the money urgently, it is not a scam.",
)
BACKLOG_DAYS = 2
# The demo opens on a working queue: most cases of the last hours are still waiting for a moderator.
OPEN_WINDOW = timedelta(hours=14)
OPEN_SHARE = 0.6
BACKLOG_SLOWDOWN = 4.0
NIGHT_ENDS = time(6)
NEW_ACCOUNT = timedelta(days=7)


@dataclass(eq=False, slots=True)
class DemoFlag:
    at: datetime
    source: str
    reason: str
    weight: float
    reporter: DemoUser | None = None
    comment: str = ""
    brigading: bool = False
    detection: int | None = None  # index into the phase's detections


@dataclass(eq=False, slots=True)
class DemoCase:
    listing: DemoListing
    opened_at: datetime
    source: str
    flags: list[DemoFlag] = field(default_factory=list)
    auto_score: int | None = None
    hidden_at: datetime | None = None
    decided_at: datetime | None = None
    action: str = ""
    rule: str = ""
    reason_text: str = ""
    moderator: User | None = None
    reversed_at: datetime | None = None
    recurred_at: datetime | None = None
    appeal: tuple[datetime, str, datetime | None, User | None, bool] | None = None
    detections: list[int] = field(default_factory=list)

    @property
    def bad(self) -> bool:
        return bool(self.listing.scheme)


@dataclass(slots=True)
class DemoDetection:
    listing: DemoListing
    score: int
    level: str
    medium_at: int
    high_at: int
    verified: bool
    probability: float | None
    version: int | None
    findings: list[Finding]


def moderators_ensure() -> list[User]:
    """The demo's moderators, created once, without a usable password (nobody signs in as them)."""
    group = Group.objects.get(name=roles.MODERATOR)
    team = []
    for email, full_name in MODERATORS:
        user, created = User.objects.get_or_create(
            email=email, defaults={"full_name": full_name, "is_staff": True, "password": make_password(None)}
        )
        if created:
            user.groups.add(group)
        team.append(user)
    return team


def _spam_model() -> ml.Loaded | None:
    if TextModel.objects.filter(name=MODEL_NAME, is_active=True).first() is None and training_csv() is not None:
        # No cross-validation: the phase retrains (and evaluates) with the quarter's decisions at its end.
        spam_model_train(with_decisions=False, folds=0)
    return ml.active_model(MODEL_NAME)


class ModerationSimulator:
    def __init__(self, ctx: DemoContext, listings: list[DemoListing], moderators: list[User]):
        self.ctx = ctx
        self.rng = ctx.rng
        self.end = ctx.period.end
        self.listings = listings
        self.moderators = moderators
        seller_ids = {listing.seller.pk for listing in listings}
        self.verified_at: dict[int, datetime] = {}
        for pk, email_at, phone_at in User.objects.filter(pk__in=seller_ids).values_list(
            "pk", "email_verified_at", "phone_verified_at"
        ):
            if email_at and phone_at:
                self.verified_at[pk] = max(email_at, phone_at)
        self.strikes: dict[int, list[datetime]] = defaultdict(list)
        self.reporters = sorted(
            (u for u in ctx.users if u.decided_at is not None and u.status == "approved"),
            key=lambda u: u.decided_at or ctx.period.end,
        )
        self.reporter_times = [u.decided_at for u in self.reporters]
        self.detections: list[DemoDetection] = []
        self.cases: list[DemoCase] = []
        # As machine integers: a list of Python ints costs four times as much, for every listing of the quarter.
        self.signatures: list[array[int] | None] = []
        days = ctx.period.days
        self.backlog = {self.rng.randrange(days // 4, days - 2) for _ in range(BACKLOG_DAYS)}

    # -- detection --

    def verified(self, user_id: int, at: datetime) -> bool:
        since = self.verified_at.get(user_id)
        if since is None or since > at:
            return False
        return not any(issued <= at < issued + STRIKE_DURATION for issued in self.strikes[user_id])

    def detect_all(self, progress: Callable[[], object]) -> None:
        """Run the product's rules on every listing, in the order they were posted."""
        rules = list(KeywordRule.objects.filter(is_active=True))
        probabilities: list[float | None] = [None] * len(self.listings)
        version = None
        review_at, hide_at = detection.spam_thresholds({})
        loaded = _spam_model()
        if loaded is not None:
            model, version = loaded.pipeline, loaded.version
            review_at, hide_at = detection.spam_thresholds(loaded.thresholds)
            spam_column = list(model.classes_).index("spam")
            # In batches: one matrix of every listing's features would be the phase's largest object.
            probabilities = []
            for batch in self.ctx.batches(listing.text for listing in self.listings):
                probabilities.extend(float(row[spam_column]) for row in model.predict_proba(batch))
        medians = self.medians()
        buckets: dict[tuple[int, int], list[int]] = defaultdict(list)
        posts: dict[int, list[datetime]] = defaultdict(list)
        joined = {u.pk: u.joined_at for u in self.ctx.users}
        for index, listing in enumerate(self.listings):
            progress()
            text = listing.text
            findings = detection.keyword_findings(text, rules) + detection.link_findings(text)
            findings += detection.phone_findings(text, listing.seller.country)
            findings += self.price_findings(listing, medians)
            signature = fingerprints.signature(text)
            self.signatures.append(array("q", signature) if signature is not None else None)
            findings += self.duplicate_findings(index, signature, buckets)
            posts[listing.seller.pk].append(listing.created_at)
            recent = [at for at in posts[listing.seller.pk] if at > listing.created_at - detection.VELOCITY_WINDOW]
            if listing.created_at - joined.get(listing.seller.pk, listing.created_at) < NEW_ACCOUNT and (
                len(recent) >= detection.VELOCITY_LIMIT
            ):
                findings.append(
                    Finding(Code.VELOCITY, Reason.SPAM, detection.VELOCITY_WEIGHT, f"{len(recent)} listings in an hour")
                )
            verified = self.verified(listing.seller.pk, listing.created_at)
            medium_at, high_at = detection.thresholds(verified)
            probability = probabilities[index]
            points = 0
            if probability is not None:
                points = detection.classifier_points(
                    probability, review_at=review_at, hide_at=hide_at, medium_at=medium_at, high_at=high_at
                )
            if points > 0:
                findings.append(
                    Finding(Code.CLASSIFIER, Reason.SPAM, points, f"P(spam) {probability:.0%} (model v{version})")
                )
            score = min(detection.MAX_SCORE, sum(f.weight for f in findings))
            self.detections.append(
                DemoDetection(
                    listing=listing,
                    score=score,
                    level=detection.level_for(score, medium_at, high_at),
                    medium_at=medium_at,
                    high_at=high_at,
                    verified=verified,
                    probability=probability,
                    version=version,
                    findings=sorted(findings, key=lambda f: -f.weight),
                )
            )

    def medians(self) -> dict[tuple[str, str], Decimal]:
        prices: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
        for listing in self.listings:
            prices[(listing.category_slug, listing.currency)].append(listing.price)
        return {key: sorted(values)[len(values) // 2] for key, values in prices.items() if len(values) >= 8}

    def price_findings(self, listing: DemoListing, medians: dict[tuple[str, str], Decimal]) -> list[Finding]:
        from marketplace.moderation import PRICE_HIGH_RATIO, PRICE_HIGH_WEIGHT, PRICE_LOW_RATIO, PRICE_LOW_WEIGHT

        median = medians.get((listing.category_slug, listing.currency))
        if median is None or median <= 0 or listing.price <= 0:
            return []
        ratio = listing.price / median
        detail = f"{listing.price:,.2f} {listing.currency} against a median of {median:,.2f} ({ratio:.0%})"
        if ratio < PRICE_LOW_RATIO:
            return [Finding(Code.PRICE, Reason.FRAUD, PRICE_LOW_WEIGHT, f"far below: {detail}")]
        if ratio > PRICE_HIGH_RATIO:
            return [Finding(Code.PRICE, Reason.OTHER, PRICE_HIGH_WEIGHT, f"far above: {detail}")]
        return []

    def duplicate_findings(
        self, index: int, signature: list[int] | None, buckets: dict[tuple[int, int], list[int]]
    ) -> list[Finding]:
        listing = self.listings[index]
        if signature is None:
            return []
        since = listing.created_at - detection.DUPLICATE_WINDOW
        best: tuple[float, int] | None = None
        band_values = fingerprints.bands(signature)
        # Like the live lookup, compare at most MAX_CANDIDATES earlier texts: templated demo listings fill whole
        # buckets, and comparing every one of them grows with the square of the listings.
        compared: set[int] = set()
        for band, value in enumerate(band_values):
            # Buckets fill in posting order: read back from the newest and stop at the window's start.
            for other in reversed(buckets[(band, value)]):
                earlier = self.listings[other]
                other_signature = self.signatures[other]
                if earlier.created_at < since or len(compared) >= fingerprints.MAX_CANDIDATES:
                    break
                if other_signature is None or other in compared:
                    continue
                compared.add(other)
                share = fingerprints.similarity(signature, cast(list[int], other_signature))
                if share >= fingerprints.MIN_SIMILARITY and (best is None or share > best[0]):
                    best = (share, other)
        for band, value in enumerate(band_values):
            buckets[(band, value)].append(index)
        if best is None:
            return []
        share, other = best
        mine = self.listings[other].seller.pk == listing.seller.pk
        return [
            Finding(
                Code.DUPLICATE,
                Reason.DUPLICATE,
                detection.DUPLICATE_OWN_WEIGHT if mine else detection.DUPLICATE_OTHER_WEIGHT,
                f"{share:.0%} like {'the author' if mine else 'another user'}'s listing",
            )
        ]

    # -- flags and cases --

    def reporter_at(self, at: datetime, exclude: int) -> DemoUser | None:
        count = bisect.bisect_right(self.reporter_times, at)  # type: ignore[type-var]
        for _ in range(3):
            if not count:
                return None
            user = self.reporters[self.rng.randrange(count)]
            if user.pk != exclude:
                return user
        return None

    def open_cases(self, progress: Callable[[], object]) -> None:
        rng = self.rng
        removed_at: dict[int, tuple[DemoCase, datetime]] = {}
        for index, found in enumerate(self.detections):
            progress()
            listing = found.listing
            original = listing.repost_of
            held = (
                original is not None and id(original) in removed_at and removed_at[id(original)][1] < listing.created_at
            )
            at = listing.created_at + timedelta(seconds=rng.uniform(1, 8))
            case: DemoCase | None = None
            if held:
                source_case, _ = removed_at[id(original)]
                source_case.recurred_at = source_case.recurred_at or at
                found.score, found.level = detection.MAX_SCORE, "high"
                found.findings = [
                    Finding(Code.RECURRENCE, Reason.FRAUD, detection.MAX_SCORE, "matches a removed listing")
                ]
            if found.level != "clear":
                case = DemoCase(listing=listing, opened_at=at, source=Source.AUTOMATIC, auto_score=found.score)
                case.flags.append(
                    DemoFlag(
                        at=at,
                        source=Source.AUTOMATIC,
                        reason=detection.primary_reason(found.findings),
                        weight=round(AUTOMATIC_FLAG_WEIGHT * found.score / detection.MAX_SCORE, 3),
                        detection=index,
                    )
                )
                case.detections.append(index)
                if found.level == "high":
                    case.hidden_at = at
            if not (case and case.hidden_at) and rng.random() < FLAG_SHARE[listing.scheme]:
                case = self.user_flags(listing, case)
            if case is not None:
                self.decide(case)
                # Removed or kept, the listing is no longer in front of the reporters: later flags are not made.
                case.flags = [f for f in case.flags if case.decided_at is None or f.at <= case.decided_at]
                self.cases.append(case)
                if case.action and case.action != Action.KEEP and case.decided_at is not None:
                    removed_at[id(listing)] = (case, case.decided_at)

    def user_flags(self, listing: DemoListing, case: DemoCase | None) -> DemoCase | None:
        rng = self.rng
        first = listing.created_at + timedelta(hours=rng.lognormvariate(1.2, 1.1))
        if first >= self.end:
            return case
        count = 1 + (rng.random() < 0.4) + (rng.random() < 0.15)
        brigade = not listing.scheme and rng.random() < 0.08
        if brigade:
            count = rng.randint(3, 6)
        for number in range(count):
            at = first + timedelta(minutes=rng.uniform(2, 50) if brigade else rng.uniform(10, 600) * number)
            if at >= self.end:
                break
            reporter = self.reporter_at(at, exclude=listing.seller.pk)
            if reporter is None:
                continue
            reason = FLAG_REASON[listing.scheme].pick(rng)
            if case is None:
                case = DemoCase(listing=listing, opened_at=at, source=Source.USER)
            new_account = brigade and at - reporter.joined_at < NEW_ACCOUNT
            case.flags.append(
                DemoFlag(
                    at=at,
                    source=Source.USER,
                    reason=reason,
                    weight=1.0,
                    reporter=reporter,
                    comment=rng.choice(COMMENTS[Reason(reason)]),
                    brigading=new_account,
                )
            )
        return case

    # -- decisions --

    def on_shift(self, moment: datetime) -> datetime:
        """Moderators work 06:00–24:00 every day: a flag at night waits for the morning shift."""
        local = moment.astimezone(self.ctx.period.tz)
        if local.time() < NIGHT_ENDS:
            start = datetime.combine(local.date(), NIGHT_ENDS, tzinfo=self.ctx.period.tz)
            return start + timedelta(minutes=self.rng.uniform(0, 45))
        return moment

    def decide(self, case: DemoCase) -> None:
        rng = self.rng
        day = self.ctx.period.day_index(case.opened_at)
        wait = timedelta(hours=rng.lognormvariate(0.6, 0.75))
        if day in self.backlog:
            wait *= BACKLOG_SLOWDOWN
        elif rng.random() < 0.008:
            wait += timedelta(hours=rng.uniform(10, 20))
        decided = self.on_shift(case.opened_at + wait)
        if decided >= self.end or (case.opened_at >= self.end - OPEN_WINDOW and rng.random() < OPEN_SHARE):
            return
        case.decided_at = decided
        case.moderator = rng.choice(self.moderators)
        scheme = case.listing.scheme
        if scheme:
            case.action = BAD_ACTIONS[scheme].pick(rng) if rng.random() > 0.03 else Action.KEEP
            case.rule = RULES[scheme] if case.action != Action.KEEP else ""
        else:
            case.action = Action.KEEP if rng.random() < 0.93 else Action.REMOVE
            case.rule = Rule.MISLEADING if case.action != Action.KEEP else ""
        case.reason_text = DECISION_REASONS[Rule(case.rule)] if case.rule else rng.choice(KEEP_REASONS)
        if case.action in (Action.REMOVE_WARN, Action.SUSPEND_USER, Action.BAN_USER):
            self.strikes[case.listing.seller.pk].append(decided)
        if case.action != Action.KEEP:
            self.appeal(case)

    def appeal(self, case: DemoCase) -> None:
        rng = self.rng
        assert case.decided_at is not None and case.moderator is not None
        wrongly = not case.bad
        if rng.random() > (0.7 if wrongly else 0.1):
            return
        filed = case.decided_at + timedelta(hours=rng.uniform(2, 72))
        if filed >= self.end or filed > case.decided_at + APPEAL_WINDOW:
            return
        others = [m for m in self.moderators if m.pk != case.moderator.pk]
        decided = self.on_shift(filed + timedelta(hours=rng.lognormvariate(2.0, 0.8)))
        reverse = rng.random() < (0.85 if wrongly else 0.04)
        if decided >= self.end:
            case.appeal = (filed, rng.choice(APPEAL_STATEMENTS), None, None, False)
            return
        case.appeal = (filed, rng.choice(APPEAL_STATEMENTS), decided, rng.choice(others), reverse)
        if reverse:
            case.reversed_at = decided


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

    def detections(self) -> dict[int, int]:
        """Detection rows for every listing (signals included); returns detection index → row id."""
        ctx, sim = self.ctx, self.sim
        ids: dict[int, int] = {}
        found = list(enumerate(sim.detections))
        with ctx.bar(total=len(found), desc="moderation: detections", unit="listings") as bar:
            for batch in ctx.batches(found):
                with transaction.atomic():
                    rows = ctx.insert(
                        Detection,
                        [
                            Detection(
                                content_type=self.listing_type,
                                object_id=d.listing.pk,
                                kind="listing",
                                author_id=d.listing.seller.pk,
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
                            for _, d in batch
                        ],
                    )
                    ctx.insert(
                        DetectionSignal,
                        [
                            DetectionSignal(
                                detection=row, code=f.code, reason=f.reason, weight=f.weight, detail=f.detail[:300]
                            )
                            for (_, d), row in zip(batch, rows, strict=True)
                            for f in d.findings
                        ],
                    )
                for (index, _), row in zip(batch, rows, strict=True):
                    ids[index] = row.pk
                bar.update(len(batch))
        return ids

    def fingerprints(self) -> None:
        """Every listing's fingerprint; those of removed listings marked with their removal."""
        ctx = self.ctx
        rows = list(enumerate(self.sim.listings))
        for batch in ctx.batches(rows):
            with transaction.atomic():
                ctx.insert(Fingerprint, [self.fingerprint(index, listing) for index, listing in batch])

    def fingerprint(self, index: int, listing: DemoListing) -> Fingerprint:
        signature = self.sim.signatures[index]
        removal = self.removals.get(listing.pk)
        return Fingerprint(
            content_type=self.listing_type,
            object_id=listing.pk,
            kind="listing",
            author_id=listing.seller.pk,
            signature=list(signature) if signature is not None else [],
            created_at=listing.created_at,
            removed_at=removal.at if removal is not None else None,
            removal=removal,
            **{
                f"band{band}": value for band, value in enumerate(fingerprints.bands(cast(list[int] | None, signature)))
            },
        )

    def cases(self, detection_ids: dict[int, int]) -> None:
        ctx, sim, end = self.ctx, self.sim, self.ctx.period.end
        with ctx.bar(total=len(sim.cases), desc="moderation: cases", unit="cases") as bar:
            for batch in ctx.batches(sim.cases):
                with transaction.atomic():
                    self.write_cases(list(batch), detection_ids, end)
                bar.update(len(batch))

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
                    recurred_at=c.recurred_at,
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
                user_id=c.listing.seller.pk,
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
                    appellant_id=c.listing.seller.pk,
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
            author_id=listing.seller.pk,
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
        for c, row in decided:
            if c.action not in (Action.SUSPEND_USER, Action.BAN_USER) or c.reversed_at or c.decided_at is None:
                continue
            banned = c.action == Action.BAN_USER
            until = None if banned else c.decided_at + SUSPENSION
            if until is not None and until <= end:
                continue  # the suspension has run out: the account is active again
            reason = f"Moderation case #{row.pk}: {Rule(c.rule).label}. {c.reason_text}"[:300]
            User.objects.filter(pk=c.listing.seller.pk, status=AccountStatus.ACTIVE).update(
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
                    user_id=c.listing.seller.pk,
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
                    target_id=str(c.listing.seller.pk),
                    target_repr=c.listing.seller.email,
                    reason=reason,
                    data=data,
                )
            )
        self.ctx.insert(AccountEvent, events)
        self.ctx.insert(AuditEntry, entries)


def moderation_phase(ctx: DemoContext) -> None:
    plan = plan_for(ctx)
    if plan is None or not plan.listings:
        return
    with transaction.atomic():
        moderators = moderators_ensure()
    policy = Policy.objects.select_related("calendar").get(metric=METRIC, is_default=True)
    sim = ModerationSimulator(ctx, plan.listings, moderators)
    with ctx.bar(total=len(plan.listings), desc="moderation: detection replay", unit="listings") as bar:
        sim.detect_all(progress=bar.update)
    with ctx.bar(total=len(plan.listings), desc="moderation: flags and decisions", unit="listings") as bar:
        sim.open_cases(progress=bar.update)
    writer = _Writer(ctx, sim, policy)
    writer.cases(writer.detections())
    writer.fingerprints()
    if training_csv() is not None:
        try:
            # What moderators decided this quarter teaches the classifier what listings look like.
            spam_model_train(folds=2)
        except InvalidInput as exc:
            logger.warning("Spam model not retrained: %s", exc)


WORK_REPORTS = (
    (Reason.SPAM, "Posted in every category with a link to another site."),
    (Reason.FRAUD, "The seller asks for payment by gift card before showing the item."),
    (Reason.PROHIBITED, "This looks like a replica sold as the real brand."),
    (Reason.SPAM, "The same ad is posted again every hour."),
)


def _appealable() -> QuerySet[Decision]:
    from moderation.models import REMOVING_ACTIONS

    return Decision.objects.filter(
        action__in=REMOVING_ACTIONS,
        case__status=CaseStatus.DECIDED,
        case__author__isnull=False,
        at__gte=timezone.now() - APPEAL_WINDOW,
        appeal__isnull=True,
    )


def moderation_work_phase(ctx: DemoContext) -> None:
    """The demo moderator's queue (demo.work): users reported a few live listings this morning, so the
    queue has open cases past due, at risk and new, and an author appealed a recent removal."""
    from accounts.models import RegistrationStatus
    from demo.work import demo_login, live_now, place
    from moderation.services import appeal_file, case_decide, flag_create

    now = live_now(ctx)
    if now is None:
        return
    moderator = demo_login(roles.MODERATOR)
    reporters = [u.pk for u in ctx.users if u.status == RegistrationStatus.APPROVED][:20]
    flagged = set(Case.objects.filter(kind="listing").values_list("object_id", flat=True))
    listings = Listing.objects.filter(status=ListingStatus.ACTIVE).exclude(pk__in=flagged).order_by("-pk")
    for listing, (reason, comment) in zip(listings[: len(WORK_REPORTS)], WORK_REPORTS, strict=False):
        reporter = next((pk for pk in reporters if pk != listing.seller_id), None)
        if reporter is not None:
            flag_create(
                reporter=User.objects.get(pk=reporter), kind="listing", object_id=listing.pk, reason=reason,
                comment=comment,
            )  # fmt: skip
    if not _appealable().exists():
        # No removal recent enough to appeal: the first of this morning's reports is decided, then appealed.
        first = Case.objects.filter(status=CaseStatus.OPEN).order_by("-pk")[len(WORK_REPORTS) - 1 :].first()
        if first is not None:
            case_decide(
                case=first, by=moderator, action=Action.REMOVE, rule=Rule.SPAM,
                reason="The same advertisement was posted in every category with a link away from SayPro.",
            )  # fmt: skip
    open_cases = list(Case.objects.filter(status=CaseStatus.OPEN).order_by("-pk")[:6])
    placed = place(open_cases, metric=METRIC, now=now)
    removed = _appealable().select_related("case__author").order_by("-at").first()
    if removed is not None and removed.case.decision_id == removed.pk and removed.case.author is not None:
        appeal_file(
            case=removed.case,
            by=removed.case.author,
            statement="The item is genuine and I have the receipt. Please look again: I can send a photo of it.",
        )
        ctx.created["demo work: appeals"] += 1
    ctx.created["demo work: cases"] += len(placed)
