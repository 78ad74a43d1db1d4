"""Planning the quarter's applicants: arrivals, identities, fraud schemes, the sign-up funnel and screening."""

from __future__ import annotations

import bisect
import hashlib
import heapq
import ipaddress
import itertools
import math
import random
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace
from typing import cast
from zoneinfo import ZoneInfo

from disposable_email_domains import blocklist as DISPOSABLE_DOMAINS
from django.conf import settings

from accounts import screening
from accounts.identity import canonical_email, email_domain, subnet_of
from accounts.models import BlockRule, Registration, User
from demo.accounts.vocabulary import (
    AGE_BANDS,
    BOT_USER_AGENTS,
    CAMPAIGN_CODES,
    COUNTRY_PICK,
    FRAUD_DOMAINS,
    FRAUD_HOUR_WEIGHTS,
    HOSTING_NETWORKS,
    HOUR_WEIGHTS,
    USER_AGENTS,
    WEEKDAY_WEIGHTS,
    Code,
    Country,
    Status,
)
from demo.core import DemoContext, Weighted
from saypro.sla.models import Policy
from saypro.sla.replay import Replayed
from saypro.sla.services import spec_for

# --- The accounts phase: sign-ups -----------------------------------------------------------------------


@dataclass(eq=False, slots=True)
class Signup:
    """One simulated applicant, from the first form to the state at the end of the period."""

    seq: int
    scheme: str  # "" for a legitimate applicant, else the kind of abuse
    country: Country
    email: str
    full_name: str
    phone: str
    language: str
    region: str
    age_band: str
    ip: str
    user_agent: str
    campaign: str
    form_seconds: float
    honeypot: bool
    started_at: datetime
    canonical: str = ""
    subnet: str = ""
    email_verified_at: datetime | None = None
    phone_verified_at: datetime | None = None
    profile_completed_at: datetime | None = None
    submitted_at: datetime | None = None
    screened_at: datetime | None = None
    # When an applicant who submitted unverified finishes verification afterwards.
    verified_later_at: datetime | None = None
    # When the SMS gateway was down during this applicant's phone step.
    outage_at: datetime | None = None
    investigation: bool = False
    signals: list[tuple[str, str, datetime]] = field(default_factory=list)
    status: str = Status.STARTED
    decided_at: datetime | None = None
    decided_by: User | None = None
    decision_reason: str = ""
    auto_approved: bool = False
    claimed_by: User | None = None
    claimed_at: datetime | None = None
    info_request: str = ""
    info_response: str = ""
    pauses: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    delay_cause: str = ""
    delay_note: str = ""
    clock: Replayed | None = None

    @property
    def fraudulent(self) -> bool:
        return bool(self.scheme)

    def profile_complete_at(self, moment: datetime) -> bool:
        # Name, phone and country come with the first form; region and age band are the profile step.
        return self.profile_completed_at is not None and self.profile_completed_at <= moment


@dataclass(slots=True)
class Arrival:
    """A fraudulent applicant planned ahead of its day: what shapes it; the person is drawn on the day."""

    started_at: datetime
    scheme: str
    country: Country
    domain: str | None = None
    ip: str | None = None
    bot: tuple[bool, bool] | None = None  # (too fast, honeypot filled)
    # A second account's original: its e-mail, name, phone and arrival.
    original: tuple[str, str, str, datetime] | None = None
    # Returning offenders who will reuse this one's phone.
    copies: int = 0


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOUR = 3600 * 1_000_000


def _micros(moment: datetime) -> int:
    """A moment as a machine integer (microseconds): the screening look-ups keep these, not datetimes."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _key(value: str) -> int:
    """A stable 64-bit digest: the uniqueness sets hold these rather than the strings (and, unlike hash(), the
    same in every process)."""
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=8).digest(), "little")


class Digests:
    """A set of 64-bit digests at 8 bytes an entry (a Python set of ints takes about 60): the newest in a set, the
    rest in a sorted array that they are merged into a slice at a time."""

    MERGE_AT = 65_536

    def __init__(self) -> None:
        self.merged = array("Q")
        self.newest: set[int] = set()

    def __contains__(self, key: int) -> bool:
        if key in self.newest:
            return True
        i = bisect.bisect_left(self.merged, key)
        return i < len(self.merged) and self.merged[i] == key

    def add(self, key: int) -> None:
        self.newest.add(key)
        if len(self.newest) >= self.MERGE_AT:
            self.merged = array("Q", heapq.merge(self.merged, sorted(self.newest)))
            self.newest.clear()


@dataclass(frozen=True)
class Campaign:
    code: str
    day: int
    boost: float

    def intensity(self, day: int) -> float:
        """1 on launch day, fading over the following days."""
        return math.exp(-(day - self.day) / 1.5) if day >= self.day else 0.0


def _minutes(rng: random.Random, median: float, sigma: float = 1.0) -> timedelta:
    return timedelta(minutes=rng.lognormvariate(math.log(median), sigma))


def _largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    scale = total / sum(weights)
    exact = [w * scale for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _ascii_slug(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


class SignupPlanner:
    """The quarter's applicants: arrivals, identities, fraud schemes, the sign-up funnel and screening's findings."""

    def __init__(self, ctx: DemoContext, *, policy: Policy, reviewers: list[User]):
        self.ctx = ctx
        self.rng = ctx.rng
        self.period = ctx.period
        self.policy = policy
        self.spec = spec_for(policy.calendar)
        self.reviewers = reviewers
        self.sequence = itertools.count()
        # Addresses and numbers handed out, as digests: an applicant's must be new.
        self.canonicals = Digests()
        self.phones = Digests()
        # +tag and dotless variants of second accounts (their canonical form is the original's).
        self.variants: set[str] = set()
        # Arrivals planned ahead (fraud, second accounts), by day; originals picked from the genuine applicants.
        self.day = 0
        self.arrivals: dict[int, list[Arrival]] = {}
        self.picks: dict[int, list[tuple[str, timedelta]]] = {}
        self.legit_seq = itertools.count()
        self.pool = 1
        self.gmail_wanted = 0
        self.first_burst: Arrival | None = None
        # A uniform sample of earlier genuine applicants (country, phone, arrival) for families sharing a phone.
        self.family: list[tuple[Country, str, datetime]] = []
        self.family_seen = 0
        # Screening's look-ups: duplicates (only values held by two applicants or more) over the quarter, and the
        # arrivals by address and network within the hours still being screened.
        self.shared: dict[int, list[int]] = {}
        self.recent: dict[str, list[int]] = {}
        days = self.period.days
        rng = self.rng
        codes = rng.sample(CAMPAIGN_CODES, 3)
        # The last campaign launched a few days before the end, so the review queue is busy when the demo opens.
        self.campaigns = (
            Campaign(codes[0], rng.randint(days // 8, days // 3), rng.uniform(1.8, 3.0)),
            Campaign(codes[1], rng.randint(days // 3 + 5, 2 * days // 3), rng.uniform(1.8, 3.0)),
            Campaign(codes[2], days - rng.randint(3, 4), rng.uniform(2.0, 3.0)),
        )
        outage_day = rng.randint(days // 3, 3 * days // 4)
        outage_start = datetime.combine(
            self.period.first_day + timedelta(days=outage_day),
            time(rng.randint(9, 13), rng.choice((0, 15, 30, 45))),
            tzinfo=self.period.tz,
        )
        self.outage = (
            outage_start.astimezone(UTC),
            (outage_start + timedelta(hours=rng.uniform(6, 11))).astimezone(UTC),
        )
        self.traffic = self.day_weights()
        self.block_rules: list[BlockRule] = []
        self.fingerprints: dict[tuple[str, str], datetime] = {}

    # -- arrivals --

    def intensity(self, moment: datetime) -> float:
        day = self.period.day_index(moment)
        return sum(campaign.intensity(day) for campaign in self.campaigns)

    def day_weights(self) -> list[float]:
        rng, weights = self.rng, []
        for day in range(self.period.days):
            weekday = (self.period.first_day + timedelta(days=day)).weekday()
            growth = 0.85 + 0.3 * day / max(1, self.period.days - 1)
            boost = 1 + sum(c.boost * c.intensity(day) for c in self.campaigns)
            payday = 1.1 if (self.period.first_day + timedelta(days=day)).day in (25, 26, 27, 28) else 1.0
            weights.append(WEEKDAY_WEIGHTS[weekday] * growth * boost * payday * rng.gauss(1, 0.07))
        return weights

    def moment(self, day: int, country: Country, hours: Sequence[float]) -> datetime:
        rng = self.rng
        hour = rng.choices(range(24), weights=hours)[0]
        local = datetime.combine(
            self.period.first_day + timedelta(days=day),
            time(hour, rng.randrange(60), rng.randrange(60)),
            tzinfo=ZoneInfo(country.tz),
        )
        moment = local.astimezone(UTC)
        # Countries west or east of TIME_ZONE can spill over an edge of the period: fold back inside.
        if moment >= self.period.end:
            moment -= timedelta(days=1)
        if moment < self.period.start:
            moment += timedelta(days=1)
        return moment

    def phone(self, country: Country) -> str:
        rng = self.rng
        while True:
            digits = "".join(rng.choices("0123456789", k=country.subscriber_digits))
            number = f"+{country.dialling_code}{rng.choice(country.mobile_prefixes)}{digits}"
            if (key := _key(number)) not in self.phones:
                self.phones.add(key)
                return number

    def ip(self, country: Country) -> str:
        rng = self.rng
        if rng.random() < 0.08:
            block = rng.choice(country.ipv6_blocks)
            # Written the way the database returns it, so that re-reading a row compares equal.
            address = f"{block}:{rng.randrange(65536):x}:{rng.randrange(65536):x}::{rng.randrange(1, 65536):x}"
            return str(ipaddress.ip_address(address))
        return f"{rng.choice(country.ipv4_blocks)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"

    def email(self, first: str, last: str, domain: str) -> str:
        rng = self.rng
        first, last = _ascii_slug(first), _ascii_slug(last)
        pattern = rng.randrange(5)
        local = (
            f"{first}.{last}",
            f"{first}{last}{rng.randrange(10, 99)}",
            f"{first[0]}{last}",
            f"{first}_{last}{rng.randrange(70, 100):02d}",
            f"{last}.{first}",
        )[pattern]
        # A variant's canonical form is its original's, already taken: checking the canonical forms suffices.
        candidate, n = f"{local}@{domain}", 1
        while (key := _key(canonical_email(candidate))) in self.canonicals:
            n += 1
            candidate = f"{local}{n}@{domain}"
        self.canonicals.add(key)
        return candidate

    def person(
        self,
        started_at: datetime,
        *,
        scheme: str = "",
        country: Country | None = None,
        domain: str | None = None,
    ) -> Signup:
        rng = self.rng
        country = country or COUNTRY_PICK.pick(rng)
        first, last = rng.choice(country.first_names), rng.choice(country.last_names)
        intensity = self.intensity(started_at)
        campaign = ""
        if intensity and rng.random() < intensity / (1 + intensity):
            day = self.period.day_index(started_at)
            campaign = max(self.campaigns, key=lambda c: c.intensity(day)).code
        return Signup(
            seq=next(self.sequence),
            scheme=scheme,
            country=country,
            email=self.email(first, last, domain or country.email_domains.pick(rng)),
            full_name=f"{first} {last}",
            phone=self.phone(country),
            language=country.languages.pick(rng),
            region=country.regions.pick(rng),
            age_band=AGE_BANDS.pick(rng),
            ip=self.ip(country),
            user_agent=USER_AGENTS.pick(rng),
            campaign=campaign,
            form_seconds=round(max(4.0, rng.lognormvariate(math.log(75), 0.5)), 1),
            # Now and then a browser's autofill fills the hidden field of a genuine applicant.
            honeypot=not scheme and rng.random() < 0.002,
            started_at=started_at,
        )

    # -- arrivals, day by day --

    def plan_fraud(self, count: int, legit_count: int) -> None:
        """Plan the quarter's abuse ahead of its days, compactly: each scheme's day, network and traits are drawn
        now, the person on the day (arrive). Second accounts are drawn when their original arrives (copy_later)."""
        rng = self.rng
        shares = {
            "burst": 34,
            "disposable": 20,
            "bot": 14,
            "duplicate_phone": 12,
            "duplicate_email": 10,
            "reregistration": 10,
        }
        counts = dict(zip(shares, _largest_remainder(count, list(shares.values())), strict=True))
        # Abuse follows the traffic: campaigns draw fraudsters as well as genuine applicants.
        busy_day = Weighted(list(enumerate(self.traffic)))
        offenders: list[Arrival] = []

        left = counts["burst"]
        while left > 0:
            size = min(left, rng.randint(6, 18))
            left -= size
            country = COUNTRY_PICK.pick(rng)
            start = self.moment(busy_day.pick(rng), country, FRAUD_HOUR_WEIGHTS)
            start = min(start, self.period.end - timedelta(hours=1))
            network = rng.choice(HOSTING_NETWORKS)
            addresses = [f"{network}.{rng.randrange(2, 255)}" for _ in range(rng.randint(2, 4))]
            domain = FRAUD_DOMAINS.pick(rng) if rng.random() < 0.6 else "gmail.com"
            too_fast = rng.random() < 0.6
            for offset in sorted(rng.uniform(0, 50) for _ in range(size)):
                offenders.append(
                    Arrival(
                        start + timedelta(minutes=offset),
                        "burst",
                        country,
                        domain=domain,
                        ip=rng.choice(addresses),
                        bot=(too_fast, rng.random() < 0.2),
                    )
                )
        for _ in range(counts["disposable"]):
            country = COUNTRY_PICK.pick(rng)
            moment = self.moment(busy_day.pick(rng), country, FRAUD_HOUR_WEIGHTS)
            offenders.append(Arrival(moment, "disposable", country, domain=FRAUD_DOMAINS.pick(rng)))
        for _ in range(counts["bot"]):
            country = COUNTRY_PICK.pick(rng)
            moment = self.moment(busy_day.pick(rng), country, FRAUD_HOUR_WEIGHTS)
            domain = rng.choice(("gmail.com", FRAUD_DOMAINS.pick(rng)))
            honeypot = rng.random() < 0.7
            offenders.append(
                Arrival(
                    moment,
                    "bot",
                    country,
                    domain=domain,
                    ip=f"{rng.choice(HOSTING_NETWORKS)}.{rng.randrange(2, 255)}",
                    bot=(not honeypot or rng.random() < 0.8, honeypot),
                )
            )
        bursts = [a for a in offenders if a.scheme == "burst"]
        self.first_burst = min(bursts, key=lambda a: a.started_at) if bursts else None
        # Second accounts: an existing applicant's phone, or their Gmail address written differently. The
        # original is the pool's n-th genuine applicant (the first nine tenths of them, in order of arrival).
        pool = max(1, legit_count * 9 // 10)
        self.pool = pool
        for scheme in ("duplicate_phone", "duplicate_email"):
            for _ in range(counts[scheme]):
                self.picks.setdefault(rng.randrange(pool), []).append((scheme, timedelta()))
        # Returning offenders: the phone of an earlier fraudulent applicant, days later.
        for _ in range(counts["reregistration"]):
            if offenders:
                rng.choice(offenders).copies += 1
            else:
                self.picks.setdefault(rng.randrange(pool), []).append(("reregistration", timedelta(days=3)))
        for arrival in offenders:
            self.schedule(arrival)

    def schedule(self, arrival: Arrival) -> None:
        # Never into a day already planned: an arrival due earlier joins the day being planned.
        day = max(self.period.day_index(arrival.started_at), self.day)
        self.arrivals.setdefault(day, []).append(arrival)

    def legitimate(self, day: int) -> Signup:
        rng = self.rng
        country = COUNTRY_PICK.pick(rng)
        signup = self.person(self.moment(day, country, HOUR_WEIGHTS), country=country)
        # A few families share one phone: genuine applicants that screening flags as duplicates. The earlier
        # applicant is drawn from a uniform sample of the days before (a reservoir of bounded size).
        if self.family and rng.random() < 0.004:
            earlier_country, phone, earlier_at = rng.choice(self.family)
            if earlier_country is country:
                signup.phone = phone
                self.share(f"p:{phone}", earlier_at, signup.started_at)
        index = next(self.legit_seq)
        for scheme, after in self.picks.pop(index, ()):
            if scheme == "duplicate_email":
                self.gmail_wanted += 1
            else:
                self.copy_later(signup, scheme, after)
        # Past the pool any applicant will do, as when the pool holds no Gmail address at all.
        while self.gmail_wanted and (index >= self.pool or email_domain(signup.email) == "gmail.com"):
            self.gmail_wanted -= 1
            self.copy_later(signup, "duplicate_email", timedelta())
        return signup

    def arrive(self, arrival: Arrival) -> Signup:
        rng = self.rng
        if arrival.original is not None:
            signup = self.second_account(arrival)
        else:
            signup = self.person(
                arrival.started_at, scheme=arrival.scheme, country=arrival.country, domain=arrival.domain
            )
        if arrival.ip:
            signup.ip = arrival.ip
        if arrival.bot is not None:
            too_fast, honeypot = arrival.bot
            signup.user_agent = BOT_USER_AGENTS.pick(rng)
            signup.form_seconds = round(rng.uniform(0.4, 2.8) if too_fast else rng.uniform(4, 15), 1)
            signup.honeypot = honeypot
        for _ in range(arrival.copies):
            self.copy_later(signup, "reregistration", timedelta(days=3))
        return signup

    def copy_later(self, original: Signup, scheme: str, after: timedelta) -> None:
        """Plan a second account of `original`, some time after it, keeping only what the copy reuses."""
        earliest = original.started_at + after + timedelta(minutes=10)
        latest = self.period.end - timedelta(minutes=30)
        started = earliest + (latest - earliest) * self.rng.random() if earliest < latest else latest
        source = (original.email, original.full_name, original.phone, original.started_at)
        self.schedule(Arrival(started, scheme, original.country, original=source))

    def second_account(self, arrival: Arrival) -> Signup:
        rng = self.rng
        assert arrival.original is not None
        email, full_name, phone, original_at = arrival.original
        signup = self.person(arrival.started_at, scheme=arrival.scheme, country=arrival.country)
        if arrival.scheme == "duplicate_email":
            # The same mailbox written differently: a +tag, or (at Gmail) a dot fewer.
            local, _, domain = email.partition("@")
            options = [f"{local}+{tag}@{domain}" for tag in ("deals", "shop", "new")]
            if "." in local and domain == "gmail.com":
                options.append(f"{local.replace('.', '', 1)}@{domain}")
            variant = next((v for v in rng.sample(options, len(options)) if v not in self.variants), "")
            variant = variant or f"{local}+{signup.seq}@{domain}"
            self.variants.add(variant)
            signup.email, signup.full_name = variant, full_name
            # Screening finds the original only when the variant reads as the same mailbox.
            if (canonical := canonical_email(variant)) == canonical_email(email):
                self.share(f"c:{canonical}", original_at, signup.started_at)
        else:
            signup.phone = phone
            self.share(f"p:{phone}", original_at, signup.started_at)
        return signup

    def share(self, value: str, first_at: datetime, copy_at: datetime) -> None:
        """Record a second holder of an e-mail or phone: only shared values need the duplicate look-up."""
        starts = self.shared.setdefault(_key(value), [])
        if not starts:
            starts.append(_micros(first_at))
        starts.append(_micros(copy_at))

    # -- funnel --

    def funnel(self, signup: Signup) -> None:
        """Walk one applicant through the sign-up steps; a step after the end of the period has not happened."""
        rng, end = self.rng, self.period.end
        legit = not signup.fraudulent
        owns_phone = signup.scheme in ("duplicate_phone", "reregistration", "duplicate_email")
        t = signup.started_at
        t_email = t + _minutes(rng, 4 if legit else 1.5, 1.2)
        if rng.random() < (0.88 if legit else 0.7):
            signup.email_verified_at = t = t_email
        elif rng.random() < (0.95 if legit else 0.1):
            return
        t_phone = t + _minutes(rng, 3 if legit else 1, 0.9)
        if rng.random() > (0.93 if legit else 0.98):
            return
        if self.outage[0] <= t_phone < self.outage[1]:
            signup.outage_at = t = t_phone
            if legit and rng.random() < 0.15:
                return
        elif rng.random() < (0.89 if legit else (0.95 if owns_phone else 0.45)):
            # The rest submit without the SMS code (it often arrives late or not at all).
            signup.phone_verified_at = t = t_phone
        t_profile = t + _minutes(rng, 5 if legit else 1, 0.8)
        if rng.random() < (0.94 if legit else 0.6):
            signup.profile_completed_at = t = t_profile
        elif rng.random() > (0.35 if legit else 0.9):
            return
        if rng.random() > (0.95 if legit else 0.96):
            return
        signup.submitted_at = t + _minutes(rng, 2 if legit else 0.5, 0.7)
        # Screening runs in a task seconds after the submission.
        signup.screened_at = signup.submitted_at + timedelta(seconds=min(900.0, rng.lognormvariate(math.log(25), 1)))
        unverified = signup.email_verified_at is None or signup.phone_verified_at is None
        if unverified and signup.outage_at is None and rng.random() < (0.5 if legit else 0.1):
            signup.verified_later_at = signup.submitted_at + timedelta(hours=rng.lognormvariate(math.log(2), 1.1))
        for name in (
            "email_verified_at",
            "phone_verified_at",
            "profile_completed_at",
            "submitted_at",
            "screened_at",
            "verified_later_at",
        ):
            moment = getattr(signup, name)
            if moment is not None and moment > end:
                setattr(signup, name, None)
        if signup.outage_at is not None and signup.outage_at > end:
            signup.outage_at = None

    # -- screening, exactly as accounts.screening.screen() would have seen it --

    def index(self, s: Signup) -> None:
        """Note a planned applicant's arrival by address and network, for the velocity checks."""
        at = _micros(s.started_at)
        for value in (f"ip:{s.ip}", f"net:{s.subnet}"):
            bisect.insort(self.recent.setdefault(value, []), at)

    def forget_before(self, moment: datetime) -> None:
        """Let go of arrivals no screening still to come looks at (an hour before the earliest one waiting)."""
        cutoff = _micros(moment) - HOUR
        for value in list(self.recent):
            times = self.recent[value]
            if times[-1] < cutoff:
                del self.recent[value]
            elif times[0] < cutoff:
                del times[: bisect.bisect_left(times, cutoff)]

    def plan_block_rules(self) -> None:
        """The reviewers' reaction to abuse: a rule on the favourite disposable domain, one on a burst's network."""
        rng, reviewers = self.rng, self.reviewers
        first_day = self.period.first_day
        domain_rule_at = datetime.combine(
            first_day + timedelta(days=self.period.days // 4), time(14, 10), tzinfo=self.period.tz
        ).astimezone(UTC)
        self.block_rules.append(
            BlockRule(
                kind=BlockRule.Kind.EMAIL_DOMAIN,
                value=FRAUD_DOMAINS.values[0],
                reason="Disposable addresses used in repeated abuse",
                created_by=rng.choice(reviewers),
                created_at=domain_rule_at,
            )
        )
        if (first := self.first_burst) is not None:
            assert first.ip is not None
            created = datetime.combine(
                first.started_at.astimezone(self.period.tz).date() + timedelta(days=1),
                time(10, 5),
                tzinfo=self.period.tz,
            ).astimezone(UTC)
            if created < self.period.end:
                self.block_rules.append(
                    BlockRule(
                        kind=BlockRule.Kind.IP_RANGE,
                        value=subnet_of(first.ip),
                        reason="Sign-up burst from a hosting network",
                        created_by=rng.choice(reviewers),
                        created_at=created,
                        expires_at=created + timedelta(days=30),
                    )
                )

    def findings(self, s: Signup, at: datetime) -> list[tuple[str, str]]:
        at_micros, started = _micros(at), _micros(s.started_at)

        def seen_before(value: str) -> bool:
            # Other registrations existing when screening ran (this one counts itself once).
            return sum(1 for t in self.shared.get(_key(value), ()) if t <= at_micros) > 1

        def in_last_hour(value: str) -> int:
            times = self.recent[value]
            return bisect.bisect_right(times, started) - bisect.bisect_left(times, started - HOUR)

        out: list[tuple[str, str]] = []
        domain = email_domain(s.email)
        if domain in DISPOSABLE_DOMAINS:
            out.append((Code.DISPOSABLE_EMAIL, f"{domain} is a disposable e-mail provider"))
        if seen_before(f"c:{s.canonical}"):
            out.append((Code.DUPLICATE_EMAIL, f"{s.canonical} is already registered"))
        if s.phone and seen_before(f"p:{s.phone}"):
            out.append((Code.DUPLICATE_PHONE, f"{s.phone} is already registered"))
        from_ip = in_last_hour(f"ip:{s.ip}")
        if from_ip > settings.REGISTRATION_IP_VELOCITY:
            out.append((Code.IP_VELOCITY, f"{from_ip} sign-ups from {s.ip} in an hour"))
        from_net = in_last_hour(f"net:{s.subnet}")
        if from_net > settings.REGISTRATION_SUBNET_VELOCITY:
            out.append((Code.SUBNET_VELOCITY, f"{from_net} sign-ups from {s.subnet} in an hour"))
        active = [r for r in self.block_rules if r.created_at <= at and (r.expires_at is None or r.expires_at > at)]
        # block_rule_matches reads the e-mail, the name and the address: a stand-in is enough, and far cheaper
        # than building two model instances per applicant.
        probe = cast(
            Registration, SimpleNamespace(user=SimpleNamespace(email=s.email, full_name=s.full_name), ip_address=s.ip)
        )
        matched = [rule for rule in active if screening.block_rule_matches(rule, probe)]
        if matched:
            out.append((Code.BLOCK_RULE, "; ".join(f"{rule} ({rule.reason})" for rule in matched)[:300]))
        previous = [
            (kind, "rejected")
            for kind, value in (("email", s.canonical), ("phone", s.phone))
            if (rejected_at := self.fingerprints.get((kind, value))) is not None and rejected_at <= at
        ]
        if previous:
            out.append((Code.REREGISTRATION, ", ".join(f"{kind} previously {why}" for kind, why in previous)))
        if s.honeypot:
            out.append((Code.HONEYPOT, "the hidden form field was filled in"))
        if s.form_seconds < settings.REGISTRATION_MIN_FORM_SECONDS:
            out.append((Code.TOO_FAST, f"form sent {s.form_seconds:.1f} s after it was served"))
        if not s.profile_complete_at(at):
            out.append((Code.INCOMPLETE_PROFILE, "name, phone, country, region or age band missing"))
        return out
