"""Automatic detection: the rules and the spam classifier, combined into one score per version of some content.

Each rule adds points (a Finding) toward a score of 0–100. At MEDIUM a case is opened; at HIGH the content is
also hidden at once. Authors without the verified badge are held to lower thresholds. The rules:

- keywords: admin-managed words and phrases (KeywordRule), whole words, any case;
- links: web addresses in the text, more points for link shorteners and chat invitations;
- phone numbers: contact details that take a deal off the platform (the classic advance-fee pattern);
- near-duplicates: the same text (MinHash) posted recently as another object, by the author or by someone else;
- velocity: a new account posting many items in an hour;
- the spam classifier (moderation.spam), when one is trained: its calibrated P(spam) alone opens a case at the
  version's review threshold and hides at its auto-hide threshold, for verified and unverified authors alike;
- kind-specific detectors registered with the kind (e.g. the listing's price against its category's median).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import phonenumbers
from django.utils import timezone

from saypro.ml.services import AUTO, REVIEW

from . import fingerprints
from .models import DetectionSignal, Fingerprint, KeywordRule, Reason
from .registry import Finding, Moderatable
from .spam import spam_probability

Code = DetectionSignal.Code

# (medium, high) score thresholds: verified authors, and everyone else.
THRESHOLDS_VERIFIED = (50, 85)
THRESHOLDS_UNVERIFIED = (35, 70)
MAX_SCORE = 100

KEYWORD_CAP = 60
LINK_WEIGHT = 15
SHORT_LINK_WEIGHT = 25
PHONE_WEIGHT = 20
DUPLICATE_OWN_WEIGHT = 20
DUPLICATE_OTHER_WEIGHT = 30
VELOCITY_WEIGHT = 30
# The classifier's calibrated P(spam) is compared with the two thresholds its version chose on validation data:
# from the review threshold (recall >= 95 %) it alone opens a case, from the auto-hide threshold (precision >= 99 %)
# it alone hides the content, whatever the author's badge. These apply to a version trained on too little to
# choose its own.
DEFAULT_REVIEW_PROBABILITY = 0.5
DEFAULT_HIDE_PROBABILITY = 0.95

DUPLICATE_WINDOW = timedelta(days=14)
NEW_ACCOUNT_AGE = timedelta(days=7)
VELOCITY_WINDOW = timedelta(hours=1)
VELOCITY_LIMIT = 5

_LINK = re.compile(
    r"(?i)\b(?:https?://|www\.)[^\s<>]+|\b[a-z0-9][a-z0-9-]*\.(?:com|net|org|info|biz|xyz|top|site|online|ly|me|io|"
    r"co\.za|co\.ke|com\.ng|com\.gh|ng|ke|gh)\b(?:/[^\s<>]*)?"
)
SHORTENERS = ("bit.ly", "tinyurl.com", "t.co", "goo.gl", "is.gd", "cutt.ly", "rb.gy", "wa.me", "t.me", "chat.whatsapp")


@dataclass(frozen=True)
class Result:
    score: int
    level: str  # Detection.Level
    findings: list[Finding]
    medium_at: int
    high_at: int
    spam_probability: float | None
    model_version: int | None


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def keyword_findings(text: str, rules: list[KeywordRule]) -> list[Finding]:
    folded = _fold(text)
    found = []
    for rule in rules:
        if re.search(rf"(?<!\w){re.escape(_fold(rule.phrase))}(?!\w)", folded):
            found.append(Finding(Code.KEYWORD, rule.reason, rule.weight, f"“{rule.phrase}”"))
    # Many weak words must not add up to certainty on their own.
    total = 0
    capped = []
    for finding in sorted(found, key=lambda f: -f.weight):
        weight = min(finding.weight, KEYWORD_CAP - total)
        if weight <= 0:
            break
        total += weight
        capped.append(Finding(finding.code, finding.reason, weight, finding.detail))
    return capped


def link_findings(text: str) -> list[Finding]:
    links = _LINK.findall(text)
    if not links:
        return []
    short = [link for link in links if any(s in link.lower() for s in SHORTENERS)]
    shown = ", ".join(links[:3])[:250]
    if short:
        return [Finding(Code.LINK, Reason.SPAM, SHORT_LINK_WEIGHT, f"short or chat link: {shown}")]
    return [Finding(Code.LINK, Reason.SPAM, LINK_WEIGHT, shown)]


def phone_findings(text: str, region: str) -> list[Finding]:
    if sum(char.isdigit() for char in text) < 7:
        # No phone number has fewer digits; most texts stop here, before the slower matcher.
        return []
    # Spaced-out digits ("0 8 2 5 5 5 …") are a common disguise: match on a copy with the gaps closed too.
    squeezed = re.sub(r"(?<=\d)[\s.-](?=\d)", "", text)
    numbers = []
    for candidate in (text, squeezed):
        for match in phonenumbers.PhoneNumberMatcher(candidate, region or "ZA"):
            number = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            if number not in numbers:
                numbers.append(number)
    if not numbers:
        return []
    return [Finding(Code.PHONE, Reason.FRAUD, PHONE_WEIGHT, f"contact number in text: {', '.join(numbers[:3])}")]


def duplicate_findings(fingerprint: Fingerprint | None) -> list[Finding]:
    if fingerprint is None:
        return []
    matches = fingerprints.near_matches(fingerprint, fingerprints.recent(DUPLICATE_WINDOW))
    if not matches:
        return []
    others = [(m, s) for m, s in matches if m.author_id != fingerprint.author_id]
    match, share = (others or matches)[0]
    whose = "another user's" if others else "the author's"
    return [
        Finding(
            Code.DUPLICATE,
            Reason.DUPLICATE,
            DUPLICATE_OTHER_WEIGHT if others else DUPLICATE_OWN_WEIGHT,
            f"{share:.0%} like {whose} {match.kind} #{match.object_id}",
        )
    ]


def velocity_findings(*, kind: str, author: Any) -> list[Finding]:
    now = timezone.now()
    if author is None or author.date_joined < now - NEW_ACCOUNT_AGE:
        return []
    posted = (
        Fingerprint.objects.filter(author=author, kind=kind, created_at__gte=now - VELOCITY_WINDOW)
        .values("object_id")
        .distinct()
        .count()
    )
    if posted < VELOCITY_LIMIT:
        return []
    age = (now - author.date_joined).days
    return [
        Finding(
            Code.VELOCITY,
            Reason.SPAM,
            VELOCITY_WEIGHT,
            f"{posted} {kind}s in the last hour from an account {age} day{'s' if age != 1 else ''} old",
        )
    ]


def classifier_points(
    probability: float, *, review_at: float | None, hide_at: float | None, medium_at: int, high_at: int
) -> int:
    """Points for P(spam) such that the classifier alone reaches `medium_at` exactly at the review threshold and
    `high_at` exactly at the auto-hide threshold; in between, points rise toward (never to) `high_at`, so that a
    rule's points can still tip the content into hiding. None: the version found no threshold meeting its target."""
    if hide_at is not None and probability >= hide_at:
        return high_at
    if review_at is None or probability < review_at:
        return 0
    upper = hide_at if hide_at is not None else 1.0
    share = (probability - review_at) / (upper - review_at) if upper > review_at else 0.0
    return medium_at + math.floor(share * (high_at - 1 - medium_at))


def spam_thresholds(thresholds: Mapping[str, float | None]) -> tuple[float | None, float | None]:
    """(review, hide) probabilities of a version's thresholds, the defaults for a version that chose none."""
    review = thresholds.get(REVIEW, DEFAULT_REVIEW_PROBABILITY)
    hide = thresholds.get(AUTO, DEFAULT_HIDE_PROBABILITY)
    return review, hide


def classifier_findings(text: str, *, medium_at: int, high_at: int) -> tuple[list[Finding], float | None, int | None]:
    scored = spam_probability(text)
    if scored is None:
        return [], None, None
    probability, version, chosen = scored
    review_at, hide_at = spam_thresholds(chosen)
    weight = classifier_points(probability, review_at=review_at, hide_at=hide_at, medium_at=medium_at, high_at=high_at)
    if weight <= 0:
        return [], probability, version
    limits = ", ".join(
        f"{what} from {value:.0%}" for what, value in (("review", review_at), ("hide", hide_at)) if value is not None
    )
    return (
        [Finding(Code.CLASSIFIER, Reason.SPAM, weight, f"P(spam) {probability:.0%} (model v{version}; {limits})")],
        probability,
        version,
    )


def thresholds(author_verified: bool) -> tuple[int, int]:
    return THRESHOLDS_VERIFIED if author_verified else THRESHOLDS_UNVERIFIED


def level_for(score: int, medium_at: int, high_at: int) -> str:
    if score >= high_at:
        return "high"
    if score >= medium_at:
        return "medium"
    return "clear"


def detect(
    *, entry: Moderatable, obj: Any, text: str, author: Any, author_verified: bool, fingerprint: Fingerprint | None
) -> Result:
    """Run every rule and the classifier on one version of some content."""
    skip = entry.skip_signals
    findings: list[Finding] = []
    if Code.KEYWORD not in skip:
        findings += keyword_findings(text, list(KeywordRule.objects.filter(is_active=True)))
    if Code.LINK not in skip:
        findings += link_findings(text)
    if Code.PHONE not in skip:
        findings += phone_findings(text, getattr(author, "country", "") or "ZA")
    if Code.DUPLICATE not in skip:
        findings += duplicate_findings(fingerprint)
    if Code.VELOCITY not in skip:
        findings += velocity_findings(kind=entry.kind, author=author)
    for detector in entry.detectors:
        findings += detector(obj, text)
    probability: float | None = None
    version: int | None = None
    medium_at, high_at = thresholds(author_verified)
    if Code.CLASSIFIER not in skip:
        found, probability, version = classifier_findings(text, medium_at=medium_at, high_at=high_at)
        findings += found
    score = min(MAX_SCORE, sum(f.weight for f in findings))
    return Result(
        score=score,
        level=level_for(score, medium_at, high_at),
        findings=sorted(findings, key=lambda f: -f.weight),
        medium_at=medium_at,
        high_at=high_at,
        spam_probability=probability,
        model_version=version,
    )


def primary_reason(findings: list[Finding]) -> str:
    """The reason the findings point to most strongly."""
    totals: dict[str, int] = {}
    for finding in findings:
        totals[finding.reason] = totals.get(finding.reason, 0) + finding.weight
    return max(totals, key=lambda reason: totals[reason]) if totals else Reason.OTHER
