"""The marketplace demo phase: a quarter of listings and transactions by the approved demo users.

Approved users post listings on the product's daily and weekly rhythm, in their country's currency, at prices
around each category's usual range; a small share are abusive (advance-fee scams, spam, prohibited items, the same
item posted again and again). Listings run 30 days, some are renewed; some sell, and the transactions move through
paid and completed, a few disputed or refunded. The moderation phase (which runs later) replays detection, flags
and decisions over the same listings: it reads them back from the database, with the few facts the rows do
not keep (which listings were abusive, which scam was a repost) from the plan this phase leaves in `plan_for(ctx)`.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction

from demo.accounts import HOUR_WEIGHTS, WEEKDAY_WEIGHTS
from demo.core import DemoContext, DemoUser, Roster, Weighted, daily_counts
from demo.photos import photo_key, photos_ensure
from marketplace.models import Category, Listing, ListingStatus, Transaction, TransactionStatus
from marketplace.services import LISTING_DURATION, RENEWAL_WINDOW

LISTINGS_PER_USER = 0.55
SALE_SHARE = 0.3
RENEWAL_SHARE = 0.25
# Scammers who post the same scam again days later (moderation holds it when the first was removed by then).
REPOST_SHARE = 0.012
REPOST_WITHIN = timedelta(days=12)
CURRENCY = {"ZA": ("ZAR", 1.0), "NG": ("NGN", 85.0), "KE": ("KES", 7.0), "GH": ("GHS", 0.8), "EG": ("EGP", 2.7)}
SCHEMES = Weighted([("", 946), ("scam", 22), ("spam", 16), ("prohibited", 6), ("duplicate", 10)])

# Per category: items (name, low, high price in rand) and a few phrases its sellers use.
CATALOGUE: dict[str, tuple[tuple[tuple[str, int, int], ...], tuple[str, ...]]] = {
    "phones": (
        (
            ("Samsung Galaxy A14", 1500, 3000),
            ("iPhone 11 64GB", 3500, 6000),
            ("iPhone 13 128GB", 7000, 11000),
            ("Huawei P30 Lite", 1200, 2500),
            ("Xiaomi Redmi Note 12", 2200, 3800),
            ("Nokia 105", 200, 400),
            ("Samsung Galaxy S22", 6500, 10000),
            ("Tecno Spark 10", 1300, 2400),
        ),
        (
            "Battery health {pct}%.",
            "Comes with charger and cover.",
            "Screen protector since day one.",
            "Unlocked for all networks.",
            "Minor scratches on the frame.",
            "Box and receipt included.",
        ),
    ),
    "electronics": (
        (
            ("Hisense 43 inch smart TV", 3000, 5500),
            ("JBL Flip 5 speaker", 900, 1600),
            ("PlayStation 4 Slim", 2800, 4200),
            ("Canon EOS 2000D camera", 4500, 7000),
            ("Defy microwave", 700, 1300),
            ("Russell Hobbs kettle", 150, 350),
        ),
        (
            "Works perfectly.",
            "Remote included.",
            "Selling because I upgraded.",
            "Original packaging.",
            "Tested and in good order.",
            "Collection only.",
        ),
    ),
    "computers": (
        (
            ("Lenovo IdeaPad 3 laptop", 4500, 8000),
            ("HP EliteBook 840 G5", 5000, 8500),
            ("MacBook Air M1", 11000, 15000),
            ("Dell 24 inch monitor", 1200, 2200),
            ("Logitech MX Keys keyboard", 900, 1500),
        ),
        (
            "SSD upgraded.",
            "Battery lasts about {hours} hours.",
            "Charger included.",
            "Windows 11 activated.",
            "Light signs of use.",
            "Ideal for students.",
        ),
    ),
    "vehicles": (
        (
            ("Toyota Corolla 1.6", 95000, 180000),
            ("VW Polo Vivo 1.4", 80000, 160000),
            ("Ford Ranger 2.2 TDCi", 180000, 320000),
            ("Suzuki Swift 1.2", 90000, 150000),
            ("Honda Fit 1.3", 70000, 120000),
        ),
        (
            "{km} 000 km.",
            "Full service history.",
            "Licence and roadworthy ready.",
            "One owner.",
            "New tyres fitted last month.",
            "Finance can be arranged through your bank.",
        ),
    ),
    "vehicle-parts": (
        (
            ("Set of 4 Bridgestone tyres 195/65 R15", 2000, 4000),
            ("Polo Vivo headlight", 600, 1200),
            ("Bakkie canopy", 3000, 7000),
            ("Car battery 652", 900, 1500),
        ),
        ("Used for one season.", "Fits 2012 to 2018 models.", "Can deliver locally.", "Still under warranty."),
    ),
    "property-rent": (
        (
            ("Two-bedroom flat", 5500, 12000),
            ("Room in a shared house", 2500, 4500),
            ("Bachelor flat", 3500, 6500),
            ("Three-bedroom house", 9000, 18000),
        ),
        (
            "Prepaid electricity.",
            "Secure parking.",
            "Close to the taxi rank and shops.",
            "Pets allowed.",
            "Available from the first of the month.",
            "Deposit of one month's rent.",
        ),
    ),
    "property-sale": (
        (
            ("Three-bedroom house", 850000, 2200000),
            ("Vacant stand 500 m²", 150000, 450000),
            ("Townhouse in a complex", 650000, 1400000),
        ),
        (
            "Title deeds available.",
            "Rates about R{rates} a month.",
            "Walking distance to schools.",
            "Viewing by appointment.",
        ),
    ),
    "home-garden": (
        (
            ("Lawnmower", 900, 2500),
            ("Set of garden chairs", 500, 1500),
            ("Bosch drill", 600, 1400),
            ("Gas braai", 1500, 4000),
        ),
        ("Hardly used.", "Moving house, must go.", "Good condition.", "Collect only."),
    ),
    "furniture": (
        (
            ("Three-seater couch", 1500, 5000),
            ("Double bed with mattress", 1800, 4500),
            ("Dining table with six chairs", 2000, 6000),
            ("Wardrobe", 900, 2500),
            ("Office chair", 400, 1200),
        ),
        ("Solid wood.", "No stains or tears.", "Smoke-free home.", "Can help with transport for a fee."),
    ),
    "fashion": (
        (
            ("Nike Air Force 1 size 8", 700, 1500),
            ("Leather jacket", 500, 1500),
            ("Wedding dress size 34", 2500, 7000),
            ("School blazer", 150, 400),
        ),
        ("Worn twice.", "Original, not a copy.", "From a smoke-free home.", "Size fits small."),
    ),
    "baby-kids": (
        (
            ("Pram and car seat combo", 1200, 3500),
            ("Baby cot", 800, 2000),
            ("Kids bicycle", 500, 1300),
            ("Box of toddler clothes", 200, 600),
        ),
        ("Clean and complete.", "All buckles work.", "From a pet-free home.", "Ages 2 to 4."),
    ),
    "sports": (
        (
            ("Mountain bike 29er", 3500, 9000),
            ("Treadmill", 3000, 8000),
            ("Set of dumbbells", 600, 1800),
            ("Golf clubs set", 2500, 7000),
        ),
        ("Serviced recently.", "Barely used.", "Collect in the evening.", "Comes with a bag."),
    ),
    "jobs": (
        (
            ("Experienced domestic worker available", 3500, 6500),
            ("Driver with PrDP wanted", 7000, 12000),
            ("Part-time bookkeeper", 6000, 10000),
        ),
        ("References available.", "Own transport.", "Send your CV through the app.", "Monday to Friday."),
    ),
    "services": (
        (
            ("Plumbing repairs", 300, 900),
            ("House cleaning", 250, 600),
            ("Maths tutoring", 150, 350),
            ("DJ for events", 1500, 4000),
        ),
        ("Same-day service.", "Free quotes.", "Ten years of experience.", "Weekends too."),
    ),
    "animals": (
        (("Boerboel puppies", 2500, 6000), ("Budgies with cage", 300, 800), ("Horse saddle", 1500, 4000)),
        ("Vaccinated and dewormed.", "Parents on site.", "Ready for a loving home."),
    ),
}
# What sellers add in their own words: reason, place, times, price, history.
PERSONAL = (
    "Reason for selling: {why}.",
    "Viewing in {suburb}.",
    "Available {when}.",
    "Price {firm}.",
    "Message me through the app.",
    "No time-wasters please.",
    "Can meet at {place}.",
    "Cash or EFT on collection.",
    "Bought {bought}.",
    "Colour: {colour}.",
    "Serious buyers only.",
    "Still in daily use until it sells.",
    "Ask for {name}.",
    "{condition}.",
    "Pictures show the actual {short}.",
    "Delivery within {suburb} possible.",
)
WORDS = {
    "why": (
        "moving house",
        "upgraded",
        "no longer needed",
        "emigrating",
        "got a new one",
        "clearing the garage",
        "need the space",
        "a gift I never used",
    ),
    "suburb": (
        "Sandton",
        "Soweto",
        "Midrand",
        "Umhlanga",
        "Bellville",
        "Centurion",
        "Ikeja",
        "Lekki",
        "Yaba",
        "Westlands",
        "Kilimani",
        "Karen",
        "East Legon",
        "Osu",
        "Nasr City",
        "Maadi",
        "Durbanville",
        "Rondebosch",
    ),
    "when": ("after 5 pm on weekdays", "on weekends", "any time", "from Monday", "in the mornings", "on Saturdays"),
    "firm": ("is negotiable", "is firm", "slightly negotiable", "open to offers", "is final"),
    "place": ("the mall", "a police station", "the petrol station", "the taxi rank", "my office"),
    "bought": ("last year", "in 2022", "two years ago", "new in March", "six months ago", "in December"),
    "colour": ("black", "white", "silver", "blue", "red", "grey", "gold", "green"),
    "condition": (
        "Hardly used",
        "In perfect working order",
        "Some wear, priced accordingly",
        "As good as new",
        "Well maintained",
        "Sold as is",
        "Never been repaired",
        "Looked after like new",
        "A few marks",
        "Kept indoors",
        "Lightly used",
        "Fully functional",
    ),
}
OPENINGS = (
    "Selling my {item}.",
    "{item} for sale.",
    "Good {item} at a fair price.",
    "Up for grabs: {item}.",
    "{item}, well looked after.",
)
SCAM_TEXTS = (
    (
        "Brand new {item} sealed, urgent sale",
        "Brand new {item}, still sealed. Price is low because I am relocating overseas. Pay a deposit via "
        "Western Union and my shipping agent delivers to your door. WhatsApp me on {phone}.",
    ),
    (
        "{item} for only a fraction of the price",
        "I am a soldier deployed abroad and must sell my {item} quickly. Send a deposit first by wire transfer and the "
        "courier brings it. Contact {phone}.",
    ),
    (
        "Cheap {item}, deposit secures it",
        "Many people interested, pay a deposit by e-wallet or gift card to secure the {item}. I will courier it. "
        "Call or WhatsApp {phone}.",
    ),
)
SPAM_TEXTS = (
    (
        "Earn R5000 a day from home",
        "EARN MONEY FAST working from home! Guaranteed income, no experience needed. "
        "Click here: bit.ly/{code} and register today. Free money for the first 100!",
    ),
    (
        "Loans for everyone, blacklisted welcome",
        "Instant loans, blacklisted welcome, no documents. 100% guaranteed "
        "approval. Apply at www.quick-cash-{code}.com or SMS LOAN to 31{code}.",
    ),
    (
        "Win a free iPhone now",
        "Congratulations! You have been selected to win a FREE iPhone. Txt WIN to 8{code} "
        "to claim your prize now, or visit t.me/prize{code}.",
    ),
)
PROHIBITED_TEXTS = (
    (
        "Replica Rolex watches, top quality",
        "Replica Rolex and Omega watches, AAA copies that look original. Bulk prices available.",
    ),
    (
        "Prescription slimming pills, no prescription",
        "Strong slimming pills, normally on prescription only. Delivered discreetly, no questions asked.",
    ),
    (
        "Copied Netflix accounts and cracked software",
        "Lifetime Netflix and Showmax accounts and cracked Office licences, instant delivery.",
    ),
)


@dataclass(eq=False, slots=True)
class DemoListing:
    seller: DemoUser
    scheme: str
    category_slug: str
    title: str
    description: str
    price: Decimal
    currency: str
    region: str
    created_at: datetime
    expires_at: datetime
    renewed_at: datetime | None = None
    renewal_count: int = 0
    pk: int = 0
    repost_of: DemoListing | None = None


@dataclass
class MarketplacePlan:
    """What the moderation phase needs besides the listing rows: which listings were abusive, and how.

    The listings themselves are read back from the database (ids `first_pk` to `last_pk`, in posting order):
    the plan keeps only the abusive few, so it does not grow with the texts of the quarter."""

    first_pk: int = 0
    last_pk: int = 0
    count: int = 0
    # Listing id → its scheme, for the abusive listings only (an ordinary one has none).
    schemes: dict[int, str] = field(default_factory=dict)
    # A scam posted again: the repost's id → the original's.
    reposts: dict[int, int] = field(default_factory=dict)

    def add(self, written: Sequence[DemoListing]) -> None:
        self.first_pk = self.first_pk or written[0].pk
        self.last_pk, self.count = written[-1].pk, self.count + len(written)
        for listing in written:
            if listing.scheme:
                self.schemes[listing.pk] = listing.scheme
            if listing.repost_of is not None:
                self.reposts[listing.pk] = listing.repost_of.pk


_plans: dict[int, MarketplacePlan] = {}


def plan_for(ctx: DemoContext) -> MarketplacePlan | None:
    """What this phase wrote for `ctx` (the moderation phase replays detection and moderation on it)."""
    return _plans.get(id(ctx))


class ListingSimulator:
    """The quarter's listings, planned a day at a time.

    A day's listings are drawn, written and let go; what they set off for later days (the copies of a duplicated
    item over the next hours, a scam posted again days later) waits in a small queue ordered by its moment."""

    def __init__(self, ctx: DemoContext):
        self.ctx = ctx
        self.rng = ctx.rng
        self.sellers = ctx.roster()
        self.total = round(len(self.sellers) * LISTINGS_PER_USER)
        # (moment, order of planning, listing): listings planned for a later day than the one being drawn.
        self.later: list[tuple[datetime, int, DemoListing]] = []
        self.order = itertools.count()

    def day_counts(self) -> list[int]:
        """How many new listings each day of the quarter gets: the weekly rhythm, rising through the quarter."""
        rng, period = self.rng, self.ctx.period
        weights = [
            WEEKDAY_WEIGHTS[(period.first_day + timedelta(days=d)).weekday()] * (0.85 + 0.3 * d / period.days)
            for d in range(period.days)
        ]
        return daily_counts(rng, self.total, weights)

    def moments(self, day: date, count: int) -> list[datetime]:
        rng, tz = self.rng, self.ctx.period.tz
        moments = []
        for _ in range(count):
            hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
            moments.append(datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=tz))
        return sorted(moments)

    def seller_at(self, at: datetime) -> DemoUser | None:
        approved = self.sellers.approved_by(at)
        if not approved:
            return None
        return self.sellers[self.rng.randrange(approved)]

    def phone(self, country: str) -> str:
        rng = self.rng
        prefix = {"ZA": "07", "NG": "080", "KE": "07", "GH": "024", "EG": "010"}.get(country, "07")
        digits = "".join(str(rng.randrange(10)) for _ in range(10 - len(prefix)))
        return f"{prefix}{digits[:1]} {digits[1:4]} {digits[4:]}"

    def price(self, low: int, high: int, factor: float) -> Decimal:
        value = self.rng.uniform(low, high) * factor
        # Sellers round: to 10 below a thousand, to 100 above.
        step = 10 if value < 1000 else 100
        return Decimal(max(step, round(value / step) * step))

    def listing(self, at: datetime, seller: DemoUser, scheme: str) -> DemoListing:
        rng = self.rng
        currency, factor = CURRENCY.get(seller.country, ("ZAR", 1.0))
        slug = rng.choice(list(CATALOGUE))
        items, phrases = CATALOGUE[slug]
        item, low, high = rng.choice(items)
        price = self.price(low, high, factor)
        values = {
            "pct": rng.randint(78, 100),
            "hours": rng.randint(3, 9),
            "km": rng.randint(40, 220),
            "rates": rng.randint(6, 30) * 100,
            "item": item,
            "phone": self.phone(seller.country),
            "code": rng.randint(100, 999),
            "name": seller.full_name.split(" ")[0] if seller.full_name else "me",
            "short": item.split(" ")[-1].lower(),
            **{name: rng.choice(choices) for name, choices in WORDS.items()},
        }
        if scheme == "scam":
            slug = rng.choice(("phones", "electronics", "computers", "vehicles"))
            items, _ = CATALOGUE[slug]
            item, low, high = rng.choice(items)
            values["item"] = item
            title, description = rng.choice(SCAM_TEXTS)
            price = self.price(low, high, factor * rng.uniform(0.08, 0.18))
        elif scheme == "spam":
            slug = rng.choice(("services", "jobs"))
            title, description = rng.choice(SPAM_TEXTS)
            price = Decimal(0)
        elif scheme == "prohibited":
            slug = rng.choice(("fashion", "services", "electronics"))
            title, description = rng.choice(PROHIBITED_TEXTS)
            price = self.price(300, 3000, factor)
        else:
            goods = slug not in ("jobs", "services", "property-rent", "property-sale")
            title = (
                f"{item}{rng.choice(('', '', ' – like new', ' in good condition', ', negotiable')) if goods else ''}"
            )
            chosen = rng.sample(phrases, k=min(len(phrases), rng.randint(1, 3)))
            description = " ".join([rng.choice(OPENINGS), *chosen, *rng.sample(PERSONAL, k=rng.randint(3, 6))])
        region = seller.region or "Gauteng"
        return DemoListing(
            seller=seller,
            scheme=scheme,
            category_slug=slug,
            title=title.format(**values)[:120],
            description=description.format(**values),
            price=price,
            currency=currency,
            region=region,
            created_at=at,
            expires_at=at + LISTING_DURATION,
        )

    def day(self, index: int, count: int) -> list[DemoListing]:
        """The listings posted on one day: its new ones, and the copies and reposts planned for it earlier."""
        rng = self.rng
        day = self.ctx.period.first_day + timedelta(days=index)
        for at in self.moments(day, count):
            seller = self.seller_at(at)
            if seller is None:
                continue
            scheme = SCHEMES.pick(rng)
            listing = self.listing(at, seller, "" if scheme == "duplicate" else scheme)
            self.plan_later(listing)
            self.renewal(listing)
            if scheme == "duplicate":
                # The same item posted again, a few times over the next hours.
                for copy in range(rng.randint(2, 4)):
                    self.post_again(listing, at + timedelta(minutes=rng.uniform(20, 300) * (copy + 1)), "duplicate")
            elif scheme == "scam" and rng.random() < REPOST_SHARE:
                # Copied and pasted days later: the same words, so the fingerprint matches.
                self.post_again(listing, at + timedelta(days=rng.uniform(1, REPOST_WITHIN.days)), "scam")
        next_day = datetime.combine(day + timedelta(days=1), time.min, tzinfo=self.ctx.period.tz)
        posted = []
        while self.later and self.later[0][0] < next_day:
            posted.append(heapq.heappop(self.later)[2])
        return posted

    def plan_later(self, listing: DemoListing) -> None:
        heapq.heappush(self.later, (listing.created_at, next(self.order), listing))

    def post_again(self, listing: DemoListing, at: datetime, scheme: str) -> None:
        """The same item, words and price posted again at `at` (a scam's repost remembers its original)."""
        again = replace(listing, scheme=scheme, created_at=at, expires_at=at + LISTING_DURATION)
        again.renewed_at, again.renewal_count = None, 0
        again.repost_of = listing if scheme == "scam" else None
        self.plan_later(again)

    def renewal(self, listing: DemoListing) -> None:
        """A quarter of the ordinary listings are renewed in their renewal window (if it opens in the quarter)."""
        rng = self.rng
        renew_at = listing.expires_at - timedelta(hours=rng.uniform(1, RENEWAL_WINDOW.total_seconds() / 3600))
        if not listing.scheme and renew_at < self.ctx.period.end and rng.random() < RENEWAL_SHARE:
            listing.renewed_at = renew_at
            listing.renewal_count = 1
            listing.expires_at = listing.expires_at + LISTING_DURATION

    def run(self) -> Iterator[DemoListing]:
        """The quarter's listings in posting order, day by day (copies planned past the quarter are dropped)."""
        for index, count in enumerate(self.day_counts()):
            yield from self.day(index, count)


def _status(listing: DemoListing, end: datetime) -> str:
    # Moderation (a later phase) changes the status of the listings it hides or removes.
    return ListingStatus.ACTIVE if listing.expires_at > end else ListingStatus.EXPIRED


def listing_row(listing: DemoListing, categories: dict[str, int], end: datetime) -> Listing:
    status = _status(listing, end)
    changed = listing.expires_at if status == ListingStatus.EXPIRED else listing.created_at
    return Listing(
        seller_id=listing.seller.pk,
        title=listing.title,
        description=listing.description,
        price=listing.price,
        currency=listing.currency,
        category_id=categories[listing.category_slug],
        region=listing.region,
        # Two of the category's demo pictures (demo.photos), chosen by the moment it was posted.
        images=[photo_key(listing.category_slug, int(listing.created_at.timestamp()) + i) for i in range(2)],
        status=status,
        status_changed_at=changed,
        created_at=listing.created_at,
        updated_at=listing.created_at,
        expires_at=listing.expires_at,
        renewed_at=listing.renewed_at,
        renewal_count=listing.renewal_count,
    )


def _transactions(ctx: DemoContext, listings: Sequence[DemoListing], buyers: Roster) -> Iterator[Transaction]:
    """Sales of ordinary listings: paid within hours, completed within days; a few disputed or refunded."""
    rng, end = ctx.rng, ctx.period.end
    for listing in listings:
        if listing.scheme or rng.random() > SALE_SHARE:
            continue
        buyer = rng.choice(buyers)
        if buyer.pk == listing.seller.pk:
            continue
        created = listing.created_at + timedelta(hours=rng.lognormvariate(3.0, 1.0))
        if created >= end:
            continue
        row = Transaction(
            listing_id=listing.pk,
            buyer_id=buyer.pk,
            seller_id=listing.seller.pk,
            amount=listing.price,
            currency=listing.currency,
            status=TransactionStatus.PENDING,
            created_at=created,
            updated_at=created,
        )
        paid = created + timedelta(minutes=rng.lognormvariate(3.5, 1.0))
        if rng.random() < 0.93 and paid < end:
            row.status, row.paid_at, row.updated_at = TransactionStatus.PAID, paid, paid
            done = paid + timedelta(hours=rng.lognormvariate(3.6, 0.8))
            roll = rng.random()
            if roll < 0.04 and done < end:
                row.status, row.disputed_at, row.updated_at = TransactionStatus.DISPUTED, done, done
                row.note = "Buyer says the item does not match the photos."
                refunded = done + timedelta(days=rng.uniform(1, 6))
                if rng.random() < 0.6 and refunded < end:
                    row.status, row.refunded_at, row.updated_at = TransactionStatus.REFUNDED, refunded, refunded
                    row.note = "Refunded after the seller agreed the item was not as described."
            elif roll < 0.06 and done < end:
                row.status, row.refunded_at, row.updated_at = TransactionStatus.REFUNDED, done, done
                row.note = "The seller cancelled the sale."
            elif done < end:
                row.status, row.completed_at, row.updated_at = TransactionStatus.COMPLETED, done, done
        elif paid < end and rng.random() < 0.5:
            row.status, row.refunded_at, row.updated_at = TransactionStatus.REFUNDED, paid, paid
            row.note = "Payment not completed: cancelled."
        yield row


def marketplace_phase(ctx: DemoContext) -> None:
    simulator = ListingSimulator(ctx)
    if not simulator.sellers:
        return
    categories = dict(Category.objects.values_list("slug", "pk"))
    ctx.created["demo photos"] += photos_ensure(CATALOGUE)
    plan = _plans[id(ctx)] = MarketplacePlan()
    end = ctx.period.end
    # Planned, written and let go a batch at a time, the batch's sales with it: the quarter is never held.
    with ctx.bar(total=simulator.total, desc="marketplace: listings", unit="listings") as bar:
        for batch in ctx.batches(simulator.run()):
            with transaction.atomic():
                rows = ctx.insert(Listing, [listing_row(listing, categories, end) for listing in batch])
                for listing, row in zip(batch, rows, strict=True):
                    listing.pk = row.pk
                ctx.insert(Transaction, list(_transactions(ctx, batch, simulator.sellers)))
            plan.add(batch)
            bar.update(len(batch))
