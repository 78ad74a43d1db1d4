"""Planning the quarter's applicants: arrivals, identities, fraud schemes, the sign-up funnel and screening."""

from __future__ import annotations

import bisect
import ipaddress
import itertools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace
from typing import cast
from zoneinfo import ZoneInfo

from disposable_email_domains import blocklist as DISPOSABLE_DOMAINS
from django.conf import settings

from accounts import screening
from accounts.identity import canonical_email, email_domain
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
        self.signups: list[Signup] = []
        self.sequence = itertools.count()
        self.emails: set[str] = set()
        self.canonicals: set[str] = set()
        self.phones: set[str] = set()
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
        self.created: Callable[[], object] = lambda: None
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
            if number not in self.phones:
                self.phones.add(number)
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
        candidate, n = f"{local}@{domain}", 1
        while candidate in self.emails or canonical_email(candidate) in self.canonicals:
            n += 1
            candidate = f"{local}{n}@{domain}"
        self.emails.add(candidate)
        self.canonicals.add(canonical_email(candidate))
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
        self.created()
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

    def plan_legitimate(self, count: int) -> list[Signup]:
        rng, signups = self.rng, []
        for day, n in enumerate(_largest_remainder(count, self.traffic)):
            for _ in range(n):
                country = COUNTRY_PICK.pick(rng)
                signups.append(self.person(self.moment(day, country, HOUR_WEIGHTS), country=country))
        # A few families share one phone: genuine applicants that screening flags as duplicates.
        by_start = sorted(signups, key=lambda s: s.started_at)
        for index in rng.sample(range(1, len(by_start)), k=round(max(0, len(by_start) - 1) * 0.004)):
            earlier = by_start[rng.randrange(index)]
            if earlier.country is by_start[index].country:
                by_start[index].phone = earlier.phone
        return signups

    def plan_fraud(self, count: int, legit: list[Signup]) -> list[Signup]:
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
        fraud: list[Signup] = []
        # Abuse follows the traffic: campaigns draw fraudsters as well as genuine applicants.
        busy_day = Weighted(list(enumerate(self.traffic)))

        def bot_traits(signup: Signup, *, too_fast: bool, honeypot: bool) -> None:
            signup.user_agent = BOT_USER_AGENTS.pick(rng)
            signup.form_seconds = round(rng.uniform(0.4, 2.8) if too_fast else rng.uniform(4, 15), 1)
            signup.honeypot = honeypot

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
                signup = self.person(start + timedelta(minutes=offset), scheme="burst", country=country, domain=domain)
                signup.ip = rng.choice(addresses)
                bot_traits(signup, too_fast=too_fast, honeypot=rng.random() < 0.2)
                fraud.append(signup)
        for _ in range(counts["disposable"]):
            country = COUNTRY_PICK.pick(rng)
            fraud.append(
                self.person(
                    self.moment(busy_day.pick(rng), country, FRAUD_HOUR_WEIGHTS),
                    scheme="disposable",
                    country=country,
                    domain=FRAUD_DOMAINS.pick(rng),
                )
            )
        for _ in range(counts["bot"]):
            country = COUNTRY_PICK.pick(rng)
            signup = self.person(
                self.moment(busy_day.pick(rng), country, FRAUD_HOUR_WEIGHTS),
                scheme="bot",
                country=country,
                domain=rng.choice(("gmail.com", FRAUD_DOMAINS.pick(rng))),
            )
            signup.ip = f"{rng.choice(HOSTING_NETWORKS)}.{rng.randrange(2, 255)}"
            honeypot = rng.random() < 0.7
            bot_traits(signup, too_fast=not honeypot or rng.random() < 0.8, honeypot=honeypot)
            fraud.append(signup)
        # Second accounts: an existing applicant's phone, or their Gmail address written differently.
        pool = sorted(legit, key=lambda s: s.started_at)[: max(1, len(legit) * 9 // 10)]
        gmail = [s for s in pool if email_domain(s.email) == "gmail.com"]
        for scheme, sources in (("duplicate_phone", pool), ("duplicate_email", gmail or pool)):
            for _ in range(counts[scheme]):
                original = rng.choice(sources)
                fraud.append(self.second_account(original, scheme))
        # Returning offenders: the phone of an earlier fraudulent applicant, days later.
        offenders = [s for s in fraud if s.scheme in ("disposable", "bot", "burst")]
        for _ in range(counts["reregistration"]):
            original = rng.choice(offenders) if offenders else rng.choice(pool)
            fraud.append(self.second_account(original, "reregistration", after=timedelta(days=3)))
        return fraud

    def second_account(self, original: Signup, scheme: str, *, after: timedelta = timedelta()) -> Signup:
        rng = self.rng
        earliest = original.started_at + after + timedelta(minutes=10)
        latest = self.period.end - timedelta(minutes=30)
        started = earliest + (latest - earliest) * rng.random() if earliest < latest else latest
        signup = self.person(started, scheme=scheme, country=original.country)
        if scheme == "duplicate_email":
            # The same mailbox written differently: a +tag, or (at Gmail) a dot fewer.
            local, _, domain = original.email.partition("@")
            options = [f"{local}+{tag}@{domain}" for tag in ("deals", "shop", "new")]
            if "." in local and domain == "gmail.com":
                options.append(f"{local.replace('.', '', 1)}@{domain}")
            variant = next((v for v in rng.sample(options, len(options)) if v not in self.emails), "")
            variant = variant or f"{local}+{signup.seq}@{domain}"
            self.emails.add(variant)
            signup.email, signup.full_name = variant, original.full_name
        else:
            signup.phone = original.phone
        return signup

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

    def index(self) -> None:
        def times(key: Callable[[Signup], str]) -> dict[str, list[datetime]]:
            out: dict[str, list[datetime]] = {}
            for s in self.signups:
                if value := key(s):
                    out.setdefault(value, []).append(s.started_at)
            for moments in out.values():
                moments.sort()
            return out

        self.by_ip = times(lambda s: s.ip)
        self.by_subnet = times(lambda s: s.subnet)
        self.by_canonical = times(lambda s: s.canonical)
        self.by_phone = times(lambda s: s.phone)

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
        bursts = sorted((s for s in self.signups if s.scheme == "burst"), key=lambda s: s.started_at)
        if bursts:
            first = bursts[0]
            created = datetime.combine(
                first.started_at.astimezone(self.period.tz).date() + timedelta(days=1),
                time(10, 5),
                tzinfo=self.period.tz,
            ).astimezone(UTC)
            if created < self.period.end:
                self.block_rules.append(
                    BlockRule(
                        kind=BlockRule.Kind.IP_RANGE,
                        value=first.subnet,
                        reason="Sign-up burst from a hosting network",
                        created_by=rng.choice(reviewers),
                        created_at=created,
                        expires_at=created + timedelta(days=30),
                    )
                )

    def findings(self, s: Signup, at: datetime) -> list[tuple[str, str]]:
        def seen_before(index: dict[str, list[datetime]], value: str) -> bool:
            # Other registrations existing when screening ran (this one counts itself once).
            return bisect.bisect_right(index.get(value, []), at) > 1

        def in_last_hour(index: dict[str, list[datetime]], value: str) -> int:
            times = index[value]
            return bisect.bisect_right(times, s.started_at) - bisect.bisect_left(
                times, s.started_at - timedelta(hours=1)
            )

        out: list[tuple[str, str]] = []
        domain = email_domain(s.email)
        if domain in DISPOSABLE_DOMAINS:
            out.append((Code.DISPOSABLE_EMAIL, f"{domain} is a disposable e-mail provider"))
        if seen_before(self.by_canonical, s.canonical):
            out.append((Code.DUPLICATE_EMAIL, f"{s.canonical} is already registered"))
        if s.phone and seen_before(self.by_phone, s.phone):
            out.append((Code.DUPLICATE_PHONE, f"{s.phone} is already registered"))
        from_ip = in_last_hour(self.by_ip, s.ip)
        if from_ip > settings.REGISTRATION_IP_VELOCITY:
            out.append((Code.IP_VELOCITY, f"{from_ip} sign-ups from {s.ip} in an hour"))
        from_net = in_last_hour(self.by_subnet, s.subnet)
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
