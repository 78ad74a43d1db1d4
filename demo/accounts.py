"""The sign-ups demo phase: a quarter of marketplace sign-ups and what screening and the reviewers made of them.

The phase does not invent outcomes: it replays the product's own rules over simulated sign-ups
(accounts.screening's checks and weights, accounts.services' routing, the SLA kernel's clock replay), so every
row looks as if the running product had written it. Every later phase builds on the users it writes.
"""

from __future__ import annotations

import bisect
import functools
import ipaddress
import itertools
import math
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace
from typing import cast
from zoneinfo import ZoneInfo

from disposable_email_domains import blocklist as DISPOSABLE_DOMAINS
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from accounts import roles, screening
from accounts.identity import canonical_email, device_type, email_domain, fingerprint, subnet_of
from accounts.models import (
    BlockRule,
    DelayCause,
    IdentityFingerprint,
    Registration,
    RegistrationSignal,
    RegistrationStatus,
    User,
)
from demo.core import DemoContext, DemoUser, Weighted
from saypro.audit.models import AuditEntry
from saypro.audit.services import SYSTEM
from saypro.sla.models import Policy
from saypro.sla.replay import Replayed, clock_replay
from saypro.sla.services import spec_for

FRAUD_SHARE = 0.08
# The final campaign swamped the reviewers: most items queued this close to the end are still waiting.
BACKLOG_WINDOW = timedelta(hours=56)
BACKLOG_SHARE = 0.8
METRIC = "registration.approval"
Status = RegistrationStatus
Code = RegistrationSignal.Code


# --- Vocabulary -------------------------------------------------------------------------------------------


def _spaced(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _words(text: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in text.split(",") if word.strip())


def _weighted(text: str) -> Weighted:
    """ "Gauteng:36, Western Cape:18" → a Weighted of the names."""
    pairs = [word.rsplit(":", 1) for word in _words(text)]
    return Weighted([(name, float(weight)) for name, weight in pairs])


@dataclass(frozen=True)
class Country:
    code: str
    weight: float
    tz: str
    dialling_code: str
    # Mobile prefixes after the country code, then subscriber digits: numbers valid for `phonenumbers`.
    mobile_prefixes: tuple[str, ...]
    subscriber_digits: int
    languages: Weighted
    regions: Weighted
    ipv4_blocks: tuple[str, ...]
    ipv6_blocks: tuple[str, ...]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    email_domains: Weighted

    @classmethod
    def from_text(
        cls,
        *,
        code: str,
        weight: float,
        tz: str,
        dialling_code: str,
        subscriber_digits: int,
        mobile_prefixes: str,
        languages: str,
        regions: str,
        ipv4_blocks: str,
        ipv6_blocks: str,
        first_names: str,
        last_names: str,
        email_domains: str,
    ) -> Country:
        """Lists as text: names separated by commas, prefixes and blocks by spaces, weights after a colon."""
        return cls(
            code=code,
            weight=weight,
            tz=tz,
            dialling_code=dialling_code,
            mobile_prefixes=_spaced(mobile_prefixes),
            subscriber_digits=subscriber_digits,
            languages=_weighted(languages),
            regions=_weighted(regions),
            ipv4_blocks=_spaced(ipv4_blocks),
            ipv6_blocks=_spaced(ipv6_blocks),
            first_names=_words(first_names),
            last_names=_words(last_names),
            email_domains=_weighted(email_domains),
        )


GLOBAL_MAIL = "gmail.com:55, yahoo.com:12, outlook.com:8, hotmail.com:6, icloud.com:4"

COUNTRIES = (
    Country.from_text(
        code="ZA",
        weight=34,
        tz="Africa/Johannesburg",
        dialling_code="27",
        subscriber_digits=7,
        mobile_prefixes="60 61 62 63 64 65 66 67 71 72 73 74 76 78 79 81 82 83 84",
        languages="en:55, zu:18, af:15, xh:12",
        regions=(
            "Gauteng:36, Western Cape:18, KwaZulu-Natal:18, Eastern Cape:9, Limpopo:5, Mpumalanga:5, Free State:4, "
            "North West:3, Northern Cape:2"
        ),
        ipv4_blocks="41.13 41.113 105.224 102.132 196.215 197.229",
        ipv6_blocks="2c0f:f4c0 2001:4200",
        first_names=(
            "Thabo, Sipho, Lerato, Naledi, Ayanda, Thandiwe, Bongani, Zanele, Mpho, Kagiso, Pieter, Johan, Annelie, "
            "Nomvula, Sibusiso, Lindiwe, Themba, Precious, Karabo, Refilwe, Tshepo, Busisiwe, Jacques, Michelle, "
            "Ruan, Nokuthula, Lwazi, Palesa"
        ),
        last_names=(
            "Nkosi, Dlamini, Khumalo, Mokoena, Ndlovu, Mahlangu, Botha, van der Merwe, Naidoo, Pillay, Molefe, "
            "Mthembu, Sithole, Zulu, Radebe, Maseko, Pretorius, Venter, Mabuza, Ngcobo, Govender, Jacobs, Petersen, "
            "Baloyi, Maluleke"
        ),
        email_domains=(
            f"{GLOBAL_MAIL}, mweb.co.za:5, webmail.co.za:4, telkomsa.net:3, vodamail.co.za:2, afrihost.co.za:1"
        ),
    ),
    Country.from_text(
        code="NG",
        weight=30,
        tz="Africa/Lagos",
        dialling_code="234",
        subscriber_digits=7,
        mobile_prefixes=(
            "701 703 706 707 708 802 803 805 806 807 808 809 810 812 813 814 815 816 817 818 903 905 906 913 916"
        ),
        languages="en:60, yo:15, ha:15, ig:10",
        regions=(
            "Lagos:35, Federal Capital Territory:12, Rivers:9, Kano:8, Oyo:8, Kaduna:6, Enugu:6, Delta:6, "
            "Anambra:5, Ogun:5"
        ),
        ipv4_blocks="102.89 105.112 197.210 41.184 129.205",
        ipv6_blocks="2c0f:f5c0",
        first_names=(
            "Chinedu, Ngozi, Emeka, Adaeze, Oluwaseun, Funmilayo, Tunde, Yetunde, Ibrahim, Aisha, Musa, Hauwa, "
            "Chiamaka, Obinna, Kelechi, Bukola, Segun, Folake, Uche, Amaka, Abubakar, Zainab, Damilola, Tobi, "
            "Ifeoma"
        ),
        last_names=(
            "Okafor, Adeyemi, Okonkwo, Bello, Abubakar, Eze, Ogunleye, Nwosu, Balogun, Adebayo, Ibrahim, Chukwu, "
            "Olatunji, Mohammed, Okeke, Afolabi, Nnamdi, Obi, Lawal, Usman, Akinola, Ezeh, Onyeka, Danjuma, "
            "Oyelaran"
        ),
        email_domains=f"{GLOBAL_MAIL}, yahoo.co.uk:4, ymail.com:3",
    ),
    Country.from_text(
        code="KE",
        weight=16,
        tz="Africa/Nairobi",
        dialling_code="254",
        subscriber_digits=6,
        mobile_prefixes=(
            "700 701 702 703 704 705 706 707 708 709 710 711 712 713 714 715 720 721 722 723 724 725 726 727 728 "
            "729 740 741 742 743 745 746 748 757 758 759 768 769 790 791 792 793 794 795 796 797 798 799 110 111 "
            "112 113 114 115"
        ),
        languages="en:55, sw:45",
        regions="Nairobi:40, Mombasa:13, Kiambu:12, Nakuru:10, Kisumu:9, Uasin Gishu:8, Machakos:8",
        ipv4_blocks="41.90 105.163 197.248 102.167",
        ipv6_blocks="2c0f:fe38",
        first_names=(
            "Wanjiru, Kamau, Otieno, Achieng, Mwangi, Njeri, Kiprop, Chebet, Wafula, Akinyi, Muthoni, Kibet, "
            "Nyambura, Omondi, Jepchirchir, Brian, Faith, Kevin, Mercy, Dennis, Cynthia, Collins, Sharon, Ian, "
            "Wairimu"
        ),
        last_names=(
            "Kamau, Otieno, Mwangi, Ochieng, Kiprotich, Wanjala, Njoroge, Mutua, Kariuki, Onyango, Cheruiyot, "
            "Wambui, Odhiambo, Kimani, Macharia, Barasa, Korir, Nyaga, Owino, Ruto, Maina, Muriuki, Gitau, "
            "Kipchumba, Awuor"
        ),
        email_domains=GLOBAL_MAIL,
    ),
    Country.from_text(
        code="GH",
        weight=12,
        tz="Africa/Accra",
        dialling_code="233",
        subscriber_digits=7,
        mobile_prefixes="20 23 24 26 27 50 53 54 55 56 57",
        languages="en:70, ak:30",
        regions="Greater Accra:40, Ashanti:25, Western:8, Central:8, Eastern:7, Northern:6, Volta:6",
        ipv4_blocks="41.66 154.160 197.251 102.176",
        ipv6_blocks="2c0f:f7a8",
        first_names=(
            "Kwame, Ama, Kofi, Akosua, Yaw, Abena, Kojo, Efua, Kwabena, Adwoa, Kwaku, Afua, Nana, Esi, Yaa, Fiifi, "
            "Akua, Kweku, Mawuli, Selasi, Dzifa, Elikem, Naa, Nii, Ekow"
        ),
        last_names=(
            "Mensah, Owusu, Boateng, Asante, Osei, Agyeman, Appiah, Addo, Amoah, Darko, Ofori, Quaye, Tetteh, "
            "Acheampong, Sarpong, Adjei, Ansah, Nkrumah, Bonsu, Frimpong, Quartey, Amankwah, Annan, Ampofo, Danso"
        ),
        email_domains=f"{GLOBAL_MAIL}, yahoo.co.uk:3",
    ),
    Country.from_text(
        code="EG",
        weight=8,
        tz="Africa/Cairo",
        dialling_code="20",
        subscriber_digits=8,
        mobile_prefixes="10 11 12 15",
        languages="ar:80, en:20",
        regions="Cairo:35, Giza:20, Alexandria:18, Dakahlia:7, Sharqia:7, Qalyubia:7, Gharbia:6",
        ipv4_blocks="41.33 156.197 197.46 102.40",
        ipv6_blocks="2c0f:fc89",
        first_names=(
            "Ahmed, Mohamed, Mahmoud, Mostafa, Omar, Youssef, Karim, Amr, Tarek, Hany, Fatma, Mariam, Nour, Salma, "
            "Yasmin, Aya, Heba, Dina, Rania, Mona, Sherif, Hossam, Reem, Laila, Khaled"
        ),
        last_names=(
            "Hassan, Ali, Ibrahim, Mahmoud, Abdelrahman, El-Sayed, Mostafa, Farouk, Saleh, Mansour, Fathy, Hamdy, "
            "Gamal, Nabil, Soliman, Abdallah, Ragab, Shaker, Hegazy, Khalil, Youssef, Zaki, Osman, Radwan, Naguib"
        ),
        email_domains=GLOBAL_MAIL,
    ),
)
COUNTRY_PICK = Weighted([(country, country.weight) for country in COUNTRIES])

# The device mix follows from the user agents (classified by accounts.identity, as for real sign-ups).
USER_AGENTS = Weighted(
    [
        (
            "Mozilla/5.0 (Linux; Android 13; SM-A145F) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/124.0.6367.82 Mobile Safari/537.36",
            14,
        ),
        (
            "Mozilla/5.0 (Linux; Android 12; TECNO KG5m) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/122.0.6261.105 Mobile Safari/537.36",
            12,
        ),
        (
            "Mozilla/5.0 (Linux; Android 13; Infinix X6833B) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/123.0.6312.99 Mobile Safari/537.36",
            11,
        ),
        (
            "Mozilla/5.0 (Linux; Android 11; itel A571W) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.6099.230 Mobile Safari/537.36",
            8,
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; SM-A245F) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/125.0.6422.53 Mobile Safari/537.36",
            9,
        ),
        (
            "Mozilla/5.0 (Linux; Android 12; Redmi Note 11) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/121.0.6167.178 Mobile Safari/537.36",
            7,
        ),
        (
            "Mozilla/5.0 (Linux; Android 10; HUAWEI Y6p) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/119.0.6045.193 Mobile Safari/537.36",
            4,
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.4.1 Mobile/15E148 Safari/604.1",
            8,
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 16_7_8 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/16.6 Mobile/15E148 Safari/604.1",
            4,
        ),
        ("Mozilla/5.0 (Mobile; Nokia 8110 4G; rv:48.0) Gecko/48.0 Firefox/48.0 KAIOS/2.5", 1),
        (
            "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/16.6 Mobile/15E148 Safari/604.1",
            2,
        ),
        (
            "Mozilla/5.0 (Linux; Android 12; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/121.0.6167.164 Safari/537.36",
            3,
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/124.0.0.0 Safari/537.36",
            8,
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
            3,
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.4 Safari/605.1.15",
            2,
        ),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", 1),
        (
            "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/124.0.0.0 Safari/537.36",
            1,
        ),
        (
            "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 "
            "Chrome/76.0.3809.146 TV Safari/537.36",
            1,
        ),
    ]
)
BOT_USER_AGENTS = Weighted(
    [
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.109 "
            "Safari/537.36",
            5,
        ),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/115.0", 3),
        ("python-requests/2.31.0", 2),
        ("curl/8.4.0", 1),
    ]
)
# Hosting networks (/24) that sign-up bursts and bots come from.
HOSTING_NETWORKS = _spaced("45.133.1 91.92.109 185.244.25 194.87.31 5.188.62 141.98.10 193.32.162 45.146.165")
FRAUD_DOMAINS = _weighted(
    "mailinator.com:6, yopmail.com:4, guerrillamail.com:3, 10minutemail.com:2, sharklasers.com:2, temp-mail.org:2, "
    "dispostable.com:1, maildrop.cc:1"
)
# AgeBand values with their weights.
AGE_BANDS = _weighted("18-24:25, 25-34:35, 35-44:20, 45-54:10, 55-64:5, 65+:2, na:3")
CAMPAIGN_CODES = ("PAYDAY-DEALS", "MEGA-WEEKEND", "FREE-LISTING", "BACK-TO-SCHOOL", "SELL-YOUR-STUFF", "REFER-A-FRIEND")
# Sign-ups per local hour (0–23): quiet at night, a lunch bump, the peak in the evening.
HOUR_WEIGHTS = tuple(
    map(float, _spaced("0.6 .35 .25 .2 .25 .5 1 1.6 2 2.2 2.3 2.3 2.6 2.5 2.2 2.1 2.3 2.7 3.2 3.8 4 3.6 2.6 1.4"))
)
FRAUD_HOUR_WEIGHTS = (1.6, 1.8, 1.8, 1.6, 1.4, 1.2, *([1.0] * 18))
WEEKDAY_WEIGHTS = (1.05, 1.0, 1.0, 0.97, 0.92, 0.85, 1.0)

# The demo's own reviewers, to spread decisions; `ensure_staff` owns reviewer@saypro.example.
REVIEWERS = (
    ("reviewer2@saypro.example", "Naledi Mokoena"),
    ("reviewer3@saypro.example", "Chinedu Okafor"),
    ("reviewer4@saypro.example", "Wanjiru Kamau"),
    ("reviewer5@saypro.example", "Kwame Mensah"),
)
REJECT_REASONS: dict[str, str] = {
    Code.BLOCK_RULE: "Matches a block rule for known abuse.",
    Code.HONEYPOT: "Automated sign-up.",
    Code.REREGISTRATION: "This identity was rejected before.",
    Code.DISPOSABLE_EMAIL: "Disposable e-mail address: sign up with a permanent address.",
    Code.DUPLICATE_EMAIL: "An account with this e-mail address already exists.",
    Code.DUPLICATE_PHONE: "This phone number belongs to another account.",
    Code.TOO_FAST: "Automated sign-up.",
    Code.IP_VELOCITY: "Part of a burst of automated sign-ups from one network.",
    Code.SUBNET_VELOCITY: "Part of a burst of automated sign-ups from one network.",
    Code.UNVERIFIED: "The phone number could not be verified.",
    Code.INCOMPLETE_PROFILE: "The profile is incomplete.",
}
APPROVE_REASONS: dict[str, str] = {
    Code.DUPLICATE_PHONE: "Shared family phone confirmed by the applicant.",
    Code.VERIFICATION_UNAVAILABLE: "Phone verified by a call after the SMS outage.",
    Code.UNVERIFIED: "Phone verified by a call.",
    Code.INCOMPLETE_PROFILE: "Profile completed on request.",
    Code.HONEYPOT: "The browser's autofill filled the hidden field; the applicant is genuine.",
}
INFO_REQUESTS: dict[str, tuple[str, str]] = {
    Code.DUPLICATE_PHONE: (
        "Another account uses this phone number. Who else uses it?",
        "It is my mother's phone; we share it.",
    ),
    Code.INCOMPLETE_PROFILE: ("Please add your region and age band to your profile.", "Done, profile updated."),
}
DEFAULT_INFO_REQUEST = ("Please upload a photo of your ID document.", "Uploaded my ID, thank you.")
OTHER_DELAY_NOTES = (
    "Reviewer off sick; the queue was reassigned late.",
    "Escalated to the compliance lead.",
    "Waited for a second opinion on the documents.",
)


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


class SignupSimulator:
    """Plans the quarter's applicants, then replays screening, verification and review over them in time order."""

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

    # -- review --

    def on_shift(self, moment: datetime) -> datetime:
        """The first moment from `moment` on when reviewers work: 07–22 on weekdays, 08–18 at weekends."""
        local = moment.astimezone(self.period.tz)
        for _ in range(3):
            weekend = local.weekday() >= 5
            opens, closes = (time(8), time(18)) if weekend else (time(7), time(22))
            if local.time() < opens:
                local = datetime.combine(local.date(), opens, tzinfo=self.period.tz)
                return (local + timedelta(minutes=self.rng.uniform(0, 40))).astimezone(UTC)
            if local.time() < closes:
                return local.astimezone(UTC)
            local = datetime.combine(local.date() + timedelta(days=1), time.min, tzinfo=self.period.tz)
        return local.astimezone(UTC)

    def reviewer_at(self, moment: datetime) -> User:
        local = moment.astimezone(self.period.tz)
        first, second, third, fourth = self.reviewers
        if local.weekday() == 5:
            on_duty = (first, third)
        elif local.weekday() == 6:
            on_duty = (second, fourth)
        else:
            on_duty = (
                (first, second) if local.hour < 14 or (local.hour == 14 and local.minute < 30) else (third, fourth)
            )
        return self.rng.choice(on_duty)

    def review_wait(self, moment: datetime, *, mean_hours: float) -> datetime:
        """When a reviewer gets to an item queued at `moment`: the next shift, then its turn in the queue."""
        load = 1 + 2 * self.intensity(moment)
        if moment.astimezone(self.period.tz).weekday() >= 5:
            load *= 1.6
        start = self.on_shift(moment)
        return self.on_shift(start + timedelta(hours=self.rng.expovariate(1 / (mean_hours * load))))

    def decide(self, s: Signup) -> None:
        """Replay accounts.services: screening, routing, verification grace, review, decision."""
        rng, end = self.rng, self.period.end
        if s.outage_at is not None:
            s.signals.append(
                (Code.VERIFICATION_UNAVAILABLE, "SMS gateway unavailable: connection timed out", s.outage_at)
            )
        if s.submitted_at is None:
            return
        if s.screened_at is None:
            s.status = Status.SCREENING
            self.finish_clock(s)
            return
        s.signals.extend((code, detail, s.screened_at) for code, detail in self.findings(s, s.screened_at))
        codes = {code for code, _, _ in s.signals}
        review_from: datetime | None = None
        if screening.needs_review(codes, self.score(s)):
            review_from = s.screened_at
        elif self.verified_by(s, s.screened_at):
            self.approve_automatically(s, s.screened_at)
        else:
            grace = s.submitted_at + timedelta(hours=settings.REGISTRATION_VERIFICATION_GRACE_HOURS)
            # The escalation task runs every ten minutes.
            escalate_at = grace + timedelta(minutes=10 - grace.minute % 10, seconds=rng.uniform(1, 20))
            if s.verified_later_at is not None and s.verified_later_at < escalate_at:
                self.verify_later(s)
                self.approve_automatically(s, s.verified_later_at)
            elif escalate_at > end:
                s.status = Status.VERIFYING
            else:
                self.verify_later(s)
                missing = [
                    step
                    for step, at in (("e-mail", s.email_verified_at), ("phone", s.phone_verified_at))
                    if at is None or at > escalate_at
                ]
                s.signals.append((Code.UNVERIFIED, f"{' and '.join(missing)} not verified in time", escalate_at))
                review_from = escalate_at
        if review_from is not None:
            self.review(s, review_from)
        self.finish_clock(s)

    def score(self, s: Signup) -> int:
        return sum(screening.WEIGHTS[code] for code, _, _ in s.signals)

    def verified_by(self, s: Signup, moment: datetime) -> bool:
        return all(at is not None and at <= moment for at in (s.email_verified_at, s.phone_verified_at))

    def verify_later(self, s: Signup) -> None:
        if s.verified_later_at is None:
            return
        s.email_verified_at = s.email_verified_at or s.verified_later_at
        s.phone_verified_at = s.phone_verified_at or s.verified_later_at

    def approve_automatically(self, s: Signup, at: datetime) -> None:
        s.status, s.decided_at, s.auto_approved = Status.APPROVED, at, True
        s.decision_reason = "Verified and low risk"

    def review(self, s: Signup, queued_at: datetime) -> None:
        rng, end = self.rng, self.period.end
        s.status = Status.NEEDS_REVIEW
        codes = {code for code, _, _ in s.signals}
        primary = max(s.signals, key=lambda signal: screening.WEIGHTS[signal[0]])[0] if s.signals else ""
        claimed_at = self.review_wait(queued_at, mean_hours=2.5)
        # The long tail: a campaign's backlog, the SMS outage's pile-up, a fraud ring under investigation.
        p_late = 0.012 + 0.1 * self.intensity(queued_at)
        if Code.VERIFICATION_UNAVAILABLE in codes:
            p_late += 0.45
        if s.fraudulent and rng.random() < 0.04:
            s.investigation = True
            p_late += 1
        if rng.random() < p_late:
            claimed_at = self.on_shift(claimed_at + timedelta(hours=rng.uniform(30, 70)))
        if queued_at >= end - BACKLOG_WINDOW and rng.random() < BACKLOG_SHARE:
            if claimed_at <= end and rng.random() < 0.3:
                s.claimed_by, s.claimed_at = self.reviewer_at(claimed_at), claimed_at
            return
        if claimed_at > end:
            return
        s.claimed_by, s.claimed_at = self.reviewer_at(claimed_at), claimed_at
        reject = rng.random() < (0.93 if s.fraudulent else 0.05)
        decided_at = claimed_at + _minutes(rng, 4, 0.6)
        asks = not s.fraudulent and rng.random() < (0.5 if primary in INFO_REQUESTS else 0.04)
        if asks and decided_at <= end:
            # Instead of deciding, the reviewer asks the applicant; the clock pauses until the answer.
            asked_at = decided_at
            s.info_request, answer = INFO_REQUESTS.get(primary, DEFAULT_INFO_REQUEST)
            answered_at = None if rng.random() < 0.12 else asked_at + timedelta(hours=rng.lognormvariate(1.8, 0.9))
            if answered_at is not None and answered_at <= end:
                s.pauses.append((asked_at, answered_at))
                s.info_response = answer
                if primary == Code.INCOMPLETE_PROFILE:
                    s.profile_completed_at = answered_at
                decided_at = self.review_wait(answered_at, mean_hours=1.5)
            else:
                s.pauses.append((asked_at, None))
                # A request left unanswered for a week is closed with a rejection.
                decided_at = self.on_shift(asked_at + timedelta(days=7))
                if answered_at is not None or decided_at > end:
                    s.status = Status.INFO_REQUESTED
                    return
                reject = True
                s.decision_reason = "No answer to our request for information."
        if decided_at > end:
            return
        s.status = Status.REJECTED if reject else Status.APPROVED
        s.decided_at, s.decided_by = decided_at, self.reviewer_at(decided_at)
        if reject:
            s.decision_reason = s.decision_reason or REJECT_REASONS.get(
                primary, "We could not confirm the applicant's identity."
            )
            for kind, value in (("email", s.canonical), ("phone", s.phone)):
                known = self.fingerprints.get((kind, value))
                if value and (known is None or decided_at < known):
                    self.fingerprints[(kind, value)] = decided_at
        else:
            s.decision_reason = APPROVE_REASONS.get(primary, rng.choice(("", "", "Identity and phone checked.")))

    def finish_clock(self, s: Signup) -> None:
        if s.submitted_at is None:
            return
        stopped = s.decided_at if s.status in (Status.APPROVED, Status.REJECTED) else None
        s.clock = clock_replay(
            policy=self.policy,
            spec=self.spec,
            started_at=s.submitted_at,
            as_of=self.period.end,
            rng=self.rng,
            pauses=s.pauses,
            stopped_at=stopped,
        )
        if s.clock.met is False and not s.auto_approved:
            s.delay_cause = self.delay_cause(s)
            if s.delay_cause == DelayCause.OTHER:
                s.delay_note = self.rng.choice(OTHER_DELAY_NOTES)

    def delay_cause(self, s: Signup) -> str:
        codes = {code for code, _, _ in s.signals}
        if Code.VERIFICATION_UNAVAILABLE in codes:
            return DelayCause.VERIFICATION_OUTAGE
        if s.investigation:
            return DelayCause.FRAUD_INVESTIGATION
        if s.pauses:
            return DelayCause.WAITING_ON_APPLICANT
        if s.submitted_at is not None and self.intensity(s.submitted_at) > 0.2:
            return DelayCause.REVIEW_BACKLOG
        return DelayCause.REVIEW_BACKLOG if self.rng.random() < 0.7 else DelayCause.OTHER

    # -- the whole quarter --

    def run(self) -> Iterator[Signup]:
        """Plan the quarter's applicants, then yield each one as soon as its outcome is final, in screening order,
        keeping nothing of it: the caller writes them in batches and memory holds the plan, not the outcomes."""
        rng, total = self.rng, self.ctx.user_count
        fraud_count = round(total * rng.uniform(FRAUD_SHARE - 0.005, FRAUD_SHARE + 0.005))
        with self.ctx.bar(total=total, desc="accounts: applicants", unit="sign-ups") as bar:
            self.created = bar.update
            legit = self.plan_legitimate(total - fraud_count)
            fraud = self.plan_fraud(fraud_count, legit)
        self.signups = sorted([*legit, *fraud], key=lambda s: (s.started_at, s.seq))
        del legit, fraud
        # Only the planning needs unique addresses and numbers.
        self.emails, self.canonicals, self.phones = set(), set(), set()
        for s in self.signups:
            s.canonical = canonical_email(s.email)
            s.subnet = subnet_of(s.ip)
            self.funnel(s)
        self.index()
        self.plan_block_rules()
        # Screening order: whoever was rejected before an applicant was screened is a known offender by then.
        waiting = sorted(self.signups, key=lambda s: (s.screened_at or s.started_at, s.seq), reverse=True)
        self.signups = []
        with self.ctx.bar(total=total, desc="accounts: screening, review and write", unit="sign-ups") as bar:
            while waiting:
                s = waiting.pop()
                self.decide(s)
                bar.update()
                yield s


# --- The accounts phase: writing ------------------------------------------------------------------------


def reviewers_ensure() -> list[User]:
    """The demo's extra reviewers, created once, without a usable password (nobody signs in as them)."""
    group = Group.objects.get(name=roles.REVIEWER)
    reviewers = []
    for email, full_name in REVIEWERS:
        user, created = User.objects.get_or_create(
            email=email, defaults={"full_name": full_name, "is_staff": True, "password": make_password(None)}
        )
        if created:
            user.groups.add(group)
        reviewers.append(user)
    return reviewers


def accounts_phase(ctx: DemoContext) -> None:
    policy = Policy.objects.select_related("calendar").get(metric=METRIC, is_default=True)
    with transaction.atomic():
        reviewers = reviewers_ensure()
    simulator = SignupSimulator(ctx, policy=policy, reviewers=reviewers)
    writer = _Writer(ctx, policy=policy)
    for batch in ctx.batches(simulator.run()):
        with transaction.atomic():
            writer.write(batch)
    with transaction.atomic():
        _write_block_rules(ctx, simulator.block_rules)
        # An identity rejected twice keeps one row, from its first rejection: known once every decision is made.
        ctx.insert(
            IdentityFingerprint,
            [
                IdentityFingerprint(kind=kind, digest=fingerprint(kind, value), reason="rejected", created_at=at)
                for (kind, value), at in simulator.fingerprints.items()
                if value
            ],
            ignore_conflicts=True,
        )


def _write_block_rules(ctx: DemoContext, rules: list[BlockRule]) -> None:
    rules = ctx.insert(BlockRule, rules)
    rule_type = ContentType.objects.get_for_model(BlockRule)
    ctx.insert(
        AuditEntry,
        [
            AuditEntry(
                at=rule.created_at,
                actor=rule.created_by,
                actor_label=rule.created_by.email,
                action="blockrule.create",
                target_type=rule_type,
                target_id=str(rule.pk),
                target_repr=str(rule)[:200],
                reason=rule.reason,
            )
            for rule in rules
            if rule.created_by is not None
        ],
    )


class _Writer:
    def __init__(self, ctx: DemoContext, *, policy: Policy):
        self.ctx = ctx
        self.policy = policy
        self.registration_type = ContentType.objects.get_for_model(Registration)
        # One hash for every demo user: hashing 100,000 passwords would take longer than everything else.
        self.password = make_password(None)

    def write(self, batch: Sequence[Signup]) -> None:
        ctx = self.ctx
        users = ctx.insert(User, [self.user(s) for s in batch])
        registrations = ctx.insert(Registration, [self.registration(s, u) for s, u in zip(batch, users, strict=True)])
        ctx.insert(
            RegistrationSignal,
            [
                RegistrationSignal(
                    registration=r, code=code, weight=screening.WEIGHTS[code], detail=detail[:300], created_at=at
                )
                for s, r in zip(batch, registrations, strict=True)
                for code, detail, at in s.signals
            ],
        )
        ctx.insert_clocks(
            [(s.clock, self.registration_type, r.pk) for s, r in zip(batch, registrations, strict=True) if s.clock]
        )
        ctx.insert(
            AuditEntry,
            [
                self.decision_entry(s, r, at)
                for s, r in zip(batch, registrations, strict=True)
                if (at := s.decided_at) is not None
            ],
        )
        ctx.users.extend(
            DemoUser(
                pk=u.pk,
                email=u.email,
                full_name=u.full_name,
                country=u.country,
                language=u.language,
                joined_at=s.started_at,
                status=s.status,
                decided_at=s.decided_at,
            )
            for s, u in zip(batch, users, strict=True)
        )

    def user(self, s: Signup) -> User:
        profile_done = s.profile_completed_at is not None
        return User(
            email=s.email,
            password=self.password,
            full_name=s.full_name,
            phone=s.phone,
            country=s.country.code,
            # Region and age band are the profile step: blank until the applicant completed it.
            region=s.region if profile_done else "",
            language=s.language,
            age_band=s.age_band if profile_done else "",
            date_joined=s.started_at,
            email_verified_at=s.email_verified_at,
            phone_verified_at=s.phone_verified_at,
        )

    def registration(self, s: Signup, user: User) -> Registration:
        return Registration(
            user=user,
            status=s.status,
            started_at=s.started_at,
            email_verified_at=s.email_verified_at,
            phone_verified_at=s.phone_verified_at,
            profile_completed_at=s.profile_completed_at,
            submitted_at=s.submitted_at,
            decided_at=s.decided_at,
            canonical_email=s.canonical,
            phone_e164=s.phone,
            ip_address=s.ip,
            subnet=s.subnet,
            user_agent=s.user_agent,
            device_type=_device_type(s.user_agent),
            form_seconds=s.form_seconds,
            honeypot_filled=s.honeypot,
            campaign=s.campaign,
            risk_score=sum(screening.WEIGHTS[code] for code, _, _ in s.signals),
            screened_at=s.screened_at,
            auto_approved=s.auto_approved,
            claimed_by=s.claimed_by,
            claimed_at=s.claimed_at,
            info_request=s.info_request,
            info_response=s.info_response,
            decided_by=s.decided_by,
            decision_reason=s.decision_reason,
            delay_cause=s.delay_cause,
            delay_note=s.delay_note,
        )

    def decision_entry(self, s: Signup, registration: Registration, at: datetime) -> AuditEntry:
        if s.auto_approved:
            action = "registration.auto_approve"
        else:
            action = "registration.approve" if s.status == Status.APPROVED else "registration.reject"
        actor = s.decided_by
        return AuditEntry(
            at=at,
            actor=actor,
            actor_label=actor.email if actor is not None else SYSTEM,
            action=action,
            target_type=self.registration_type,
            target_id=str(registration.pk),
            target_repr=str(registration)[:200],
            reason=s.decision_reason,
            data={"delay_cause": s.delay_cause} if s.delay_cause else {},
        )


@functools.cache
def _device_type(user_agent: str) -> str:
    # A few dozen distinct agents: classify each once, with the product's own classifier.
    return device_type(user_agent)
