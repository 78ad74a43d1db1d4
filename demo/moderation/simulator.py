"""Replaying detection, flags, cases, decisions and appeals over the demo listings, in time order."""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any, NamedTuple, cast

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db.models import Count

from accounts import roles
from accounts.models import User
from demo.core import DemoContext, DemoUser, Weighted
from demo.marketplace import REPOST_WITHIN, MarketplacePlan
from marketplace.models import Listing
from moderation import detection, fingerprints
from moderation.models import Action, DetectionSignal, KeywordRule, Reason, Rule, Source
from moderation.registry import Finding
from moderation.services import APPEAL_WINDOW, AUTOMATIC_FLAG_WEIGHT, STRIKE_DURATION
from moderation.spam import MODEL_NAME, spam_model_train, training_csv
from saypro.ml import services as ml
from saypro.ml.models import TextModel

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
class PostedListing:
    """A listing the marketplace phase wrote, as read back for the replay, with its seller's facts at hand."""

    pk: int
    seller_id: int
    country: str
    joined_at: datetime
    verified_at: datetime | None  # when both the e-mail address and the phone number were verified
    category_slug: str
    title: str
    description: str
    price: Decimal
    currency: str
    created_at: datetime
    scheme: str
    repost_of: int | None

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.description}"


def posted_listings(ctx: DemoContext, plan: MarketplacePlan) -> Iterator[list[PostedListing]]:
    """The plan's listings in posting order (their ids follow it), read from the database a batch at a time."""
    after = plan.first_pk - 1
    while after < plan.last_pk:
        rows = list(
            Listing.objects.filter(pk__gt=after, pk__lte=plan.last_pk)
            .order_by("pk")
            .values_list(
                "pk",
                "seller_id",
                "seller__country",
                "seller__date_joined",
                "seller__email_verified_at",
                "seller__phone_verified_at",
                "category__slug",
                "title",
                "description",
                "price",
                "currency",
                "created_at",
            )[: ctx.batch_size]
        )
        if not rows:
            return
        yield [_posted(plan, row) for row in rows]
        after = rows[-1][0]


def _posted(plan: MarketplacePlan, row: tuple[Any, ...]) -> PostedListing:
    pk, seller_id, country, joined_at, email_at, phone_at, slug, title, description, price, currency, created_at = row
    return PostedListing(
        pk=pk,
        seller_id=seller_id,
        country=country,
        joined_at=joined_at,
        verified_at=max(email_at, phone_at) if email_at and phone_at else None,
        category_slug=slug,
        title=title,
        description=description,
        price=price,
        currency=currency,
        created_at=created_at,
        scheme=plan.schemes.get(pk, ""),
        repost_of=plan.reposts.get(pk),
    )


class Recent(NamedTuple):
    """What the near-duplicate look-up keeps of a listing for DUPLICATE_WINDOW."""

    at: datetime
    seller_id: int
    signature: array[int] | None


@dataclass(eq=False, slots=True)
class DemoFlag:
    at: datetime
    source: str
    reason: str
    weight: float
    reporter: DemoUser | None = None
    comment: str = ""
    brigading: bool = False
    detection: int | None = None  # the id of the listing whose detection raised it


@dataclass(eq=False, slots=True)
class DemoCase:
    listing: PostedListing
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
    appeal: tuple[datetime, str, datetime | None, User | None, bool] | None = None
    detections: list[int] = field(default_factory=list)

    @property
    def bad(self) -> bool:
        return bool(self.listing.scheme)


@dataclass(slots=True)
class DemoDetection:
    listing: PostedListing
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
    def __init__(self, ctx: DemoContext, plan: MarketplacePlan, moderators: list[User]):
        self.ctx = ctx
        self.rng = ctx.rng
        self.end = ctx.period.end
        self.plan = plan
        self.moderators = moderators
        self.strikes: dict[int, list[datetime]] = defaultdict(list)
        self.reporters = ctx.roster()
        # Near-duplicate look-ups reach back DUPLICATE_WINDOW only: the signatures (machine integers) and band
        # buckets (of listing ids) of older listings are let go as the replay moves on (forget), so they do not
        # grow with the quarter.
        self.recent: dict[int, Recent] = {}
        self.buckets: dict[tuple[int, int], list[int]] = defaultdict(list)
        # Each seller's listings of the last VELOCITY_WINDOW, for the new-account velocity rule.
        self.posts: dict[int, list[datetime]] = defaultdict(list)
        # Listing id → when its removal was decided (for REPOST_WITHIN); the ids of removed listings reposted (first
        # repost's moment).
        self.removed_at: dict[int, datetime] = {}
        self.recurred: dict[int, datetime] = {}
        days = ctx.period.days
        self.backlog = {self.rng.randrange(days // 4, days - 2) for _ in range(BACKLOG_DAYS)}
        self.rules = list(KeywordRule.objects.filter(is_active=True))
        self.review_at, self.hide_at = detection.spam_thresholds({})
        self.version: int | None = None
        self.model = _spam_model()
        if self.model is not None:
            self.version = self.model.version
            self.review_at, self.hide_at = detection.spam_thresholds(self.model.thresholds)
        self.price_medians = self.medians()

    # -- detection --

    def verified(self, listing: PostedListing) -> bool:
        at, since = listing.created_at, listing.verified_at
        if since is None or since > at:
            return False
        return not any(issued <= at < issued + STRIKE_DURATION for issued in self.strikes.get(listing.seller_id, ()))

    def probabilities(self, batch: list[PostedListing]) -> list[float | None]:
        if self.model is None:
            return [None] * len(batch)
        model = self.model.pipeline
        spam_column = list(model.classes_).index("spam")
        return [float(row[spam_column]) for row in model.predict_proba([listing.text for listing in batch])]

    def detect(self, batch: list[PostedListing]) -> list[DemoDetection]:
        """Run the product's rules on a batch of listings, in posting order."""
        probabilities = self.probabilities(batch)
        posts, version = self.posts, self.version
        found = []
        for index, listing in enumerate(batch):
            text = listing.text
            findings = detection.keyword_findings(text, self.rules) + detection.link_findings(text)
            findings += detection.phone_findings(text, listing.country)
            findings += self.price_findings(listing, self.price_medians)
            signature = fingerprints.signature(text)
            findings += self.duplicate_findings(listing, signature, self.buckets)
            self.recent[listing.pk] = Recent(
                listing.created_at, listing.seller_id, array("q", signature) if signature is not None else None
            )
            seller = listing.seller_id
            window_start = listing.created_at - detection.VELOCITY_WINDOW
            posts[seller] = recent = [at for at in posts[seller] if at > window_start] + [listing.created_at]
            if listing.created_at - listing.joined_at < NEW_ACCOUNT and (len(recent) >= detection.VELOCITY_LIMIT):
                findings.append(
                    Finding(Code.VELOCITY, Reason.SPAM, detection.VELOCITY_WEIGHT, f"{len(recent)} listings in an hour")
                )
            verified = self.verified(listing)
            medium_at, high_at = detection.thresholds(verified)
            probability = probabilities[index]
            points = 0
            if probability is not None:
                points = detection.classifier_points(
                    probability, review_at=self.review_at, hide_at=self.hide_at, medium_at=medium_at, high_at=high_at
                )
            if points > 0:
                findings.append(
                    Finding(Code.CLASSIFIER, Reason.SPAM, points, f"P(spam) {probability:.0%} (model v{version})")
                )
            score = min(detection.MAX_SCORE, sum(f.weight for f in findings))
            found.append(
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
        return found

    def forget(self, now: datetime) -> None:
        """Let go of what no listing after `now` looks back to: near-duplicate state older than the window, the
        velocity rule's older posts, and removals too old for a repost."""
        before = now - detection.DUPLICATE_WINDOW
        self.recent = {pk: kept for pk, kept in self.recent.items() if kept.at >= before}
        kept_buckets = {}
        for key, pks in self.buckets.items():
            if recent := [pk for pk in pks if pk in self.recent]:
                kept_buckets[key] = recent
        self.buckets = defaultdict(list, kept_buckets)
        self.posts = defaultdict(list, {pk: at for pk, at in self.posts.items() if at[-1] >= before})
        # A repost comes at most REPOST_WITHIN after its original, which was posted before its removal.
        self.removed_at = {pk: at for pk, at in self.removed_at.items() if at >= now - REPOST_WITHIN}

    def medians(self) -> dict[tuple[str, str], Decimal]:
        """Each category's median price per currency over the plan's listings (where there are at least 8)."""
        listings = Listing.objects.filter(pk__gte=self.plan.first_pk, pk__lte=self.plan.last_pk)
        medians = {}
        for slug, currency, n in (
            listings.values_list("category__slug", "currency").annotate(n=Count("pk")).order_by().filter(n__gte=8)
        ):
            prices = listings.filter(category__slug=slug, currency=currency).order_by("price")
            medians[(slug, currency)] = prices.values_list("price", flat=True)[n // 2]
        return medians

    def price_findings(self, listing: PostedListing, medians: dict[tuple[str, str], Decimal]) -> list[Finding]:
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
        self, listing: PostedListing, signature: list[int] | None, buckets: dict[tuple[int, int], list[int]]
    ) -> list[Finding]:
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
                earlier = self.recent[other]
                other_signature = earlier.signature
                if earlier.at < since or len(compared) >= fingerprints.MAX_CANDIDATES:
                    break
                if other_signature is None or other in compared:
                    continue
                compared.add(other)
                share = fingerprints.similarity(signature, cast(list[int], other_signature))
                if share >= fingerprints.MIN_SIMILARITY and (best is None or share > best[0]):
                    best = (share, other)
        for band, value in enumerate(band_values):
            buckets[(band, value)].append(listing.pk)
        if best is None:
            return []
        share, other = best
        mine = self.recent[other].seller_id == listing.seller_id
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
        count = self.reporters.approved_by(at)
        for _ in range(3):
            if not count:
                return None
            user = self.reporters[self.rng.randrange(count)]
            if user.pk != exclude:
                return user
        return None

    def open_cases(self, found: list[DemoDetection]) -> list[DemoCase]:
        """Flags, cases and decisions for a batch of detections."""
        rng = self.rng
        cases = []
        for found_one in found:
            listing = found_one.listing
            original = listing.repost_of
            removed = self.removed_at.get(original) if original is not None else None
            at = listing.created_at + timedelta(seconds=rng.uniform(1, 8))
            case: DemoCase | None = None
            if original is not None and removed is not None and removed < listing.created_at:
                self.recurred.setdefault(original, at)
                found_one.score, found_one.level = detection.MAX_SCORE, "high"
                found_one.findings = [
                    Finding(Code.RECURRENCE, Reason.FRAUD, detection.MAX_SCORE, "matches a removed listing")
                ]
            if found_one.level != "clear":
                case = DemoCase(listing=listing, opened_at=at, source=Source.AUTOMATIC, auto_score=found_one.score)
                case.flags.append(
                    DemoFlag(
                        at=at,
                        source=Source.AUTOMATIC,
                        reason=detection.primary_reason(found_one.findings),
                        weight=round(AUTOMATIC_FLAG_WEIGHT * found_one.score / detection.MAX_SCORE, 3),
                        detection=listing.pk,
                    )
                )
                case.detections.append(listing.pk)
                if found_one.level == "high":
                    case.hidden_at = at
            if not (case and case.hidden_at) and rng.random() < FLAG_SHARE[listing.scheme]:
                case = self.user_flags(listing, case)
            if case is not None:
                self.decide(case)
                # Removed or kept, the listing is no longer in front of the reporters: later flags are not made.
                case.flags = [f for f in case.flags if case.decided_at is None or f.at <= case.decided_at]
                cases.append(case)
                if case.action and case.action != Action.KEEP and case.decided_at is not None:
                    self.removed_at[listing.pk] = case.decided_at
        return cases

    def user_flags(self, listing: PostedListing, case: DemoCase | None) -> DemoCase | None:
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
            reporter = self.reporter_at(at, exclude=listing.seller_id)
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
            self.strikes[case.listing.seller_id].append(decided)
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
