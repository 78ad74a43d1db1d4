"""Automated screening of a submitted registration: each finding is a reason code with a weight.

The weights add up to the risk score shown on the review screen. A registration at or above
REGISTRATION_REVIEW_THRESHOLD, or with any hard signal, always goes to a reviewer.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from disposable_email_domains import blocklist as DISPOSABLE_DOMAINS
from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from .identity import email_domain, fingerprint
from .models import BlockRule, IdentityFingerprint, Registration, RegistrationSignal, User

Code = RegistrationSignal.Code

WEIGHTS: dict[str, int] = {
    Code.DISPOSABLE_EMAIL: 60,
    Code.DUPLICATE_EMAIL: 50,
    Code.DUPLICATE_PHONE: 40,
    Code.IP_VELOCITY: 30,
    Code.SUBNET_VELOCITY: 20,
    Code.BLOCK_RULE: 100,
    Code.REREGISTRATION: 70,
    Code.HONEYPOT: 100,
    Code.TOO_FAST: 40,
    Code.INCOMPLETE_PROFILE: 15,
    Code.UNVERIFIED: 10,
    Code.VERIFICATION_UNAVAILABLE: 0,
}
# Signals that send a registration to a reviewer whatever the total score.
HARD_SIGNALS = {Code.BLOCK_RULE, Code.HONEYPOT, Code.REREGISTRATION, Code.VERIFICATION_UNAVAILABLE}
# Signals recorded outside screening (by verification); a re-screen keeps them.
VERIFICATION_SIGNALS = {Code.UNVERIFIED, Code.VERIFICATION_UNAVAILABLE}


@dataclass(frozen=True)
class Finding:
    code: str
    detail: str

    @property
    def weight(self) -> int:
        return WEIGHTS[self.code]


def active_block_rules() -> QuerySet[BlockRule]:
    now = timezone.now()
    return BlockRule.objects.filter(is_active=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def block_rule_matches(rule: BlockRule, registration: Registration) -> bool:
    value = rule.value.strip().lower()
    if rule.kind == BlockRule.Kind.EMAIL_DOMAIN:
        domain = email_domain(registration.user.email)
        return domain == value or domain.endswith("." + value)
    if rule.kind == BlockRule.Kind.IP_RANGE:
        if not registration.ip_address:
            return False
        try:
            return ipaddress.ip_address(registration.ip_address) in ipaddress.ip_network(value, strict=False)
        except ValueError:
            return False
    return value in registration.user.email.lower() or value in registration.user.full_name.lower()


def profile_is_complete(user: User) -> bool:
    return all([user.full_name, user.phone, user.country, user.region, user.age_band])


def screen(registration: Registration, *, rules: Iterable[BlockRule] | None = None) -> list[Finding]:
    """Every screening finding for one registration (reads only; the caller stores them)."""
    user = registration.user
    findings: list[Finding] = []
    others = Registration.objects.exclude(pk=registration.pk)
    hour_ago = registration.started_at - timedelta(hours=1)

    domain = email_domain(user.email)
    if domain in DISPOSABLE_DOMAINS:
        findings.append(Finding(Code.DISPOSABLE_EMAIL, f"{domain} is a disposable e-mail provider"))
    if others.filter(canonical_email=registration.canonical_email).exists():
        findings.append(Finding(Code.DUPLICATE_EMAIL, f"{registration.canonical_email} is already registered"))
    if registration.phone_e164 and others.filter(phone_e164=registration.phone_e164).exists():
        findings.append(Finding(Code.DUPLICATE_PHONE, f"{registration.phone_e164} is already registered"))
    if registration.ip_address:
        recent = Registration.objects.filter(started_at__gte=hour_ago, started_at__lte=registration.started_at)
        from_ip = recent.filter(ip_address=registration.ip_address).count()
        if from_ip > settings.REGISTRATION_IP_VELOCITY:
            findings.append(Finding(Code.IP_VELOCITY, f"{from_ip} sign-ups from {registration.ip_address} in an hour"))
        from_net = recent.filter(subnet=registration.subnet).count()
        if from_net > settings.REGISTRATION_SUBNET_VELOCITY:
            findings.append(Finding(Code.SUBNET_VELOCITY, f"{from_net} sign-ups from {registration.subnet} in an hour"))
    matched = [
        rule
        for rule in (rules if rules is not None else active_block_rules())
        if block_rule_matches(rule, registration)
    ]
    if matched:
        findings.append(Finding(Code.BLOCK_RULE, "; ".join(f"{rule} ({rule.reason})" for rule in matched)[:300]))
    digests = [fingerprint("email", registration.canonical_email)]
    if registration.phone_e164:
        digests.append(fingerprint("phone", registration.phone_e164))
    previous = list(IdentityFingerprint.objects.filter(digest__in=digests).values_list("kind", "reason"))
    if previous:
        findings.append(Finding(Code.REREGISTRATION, ", ".join(f"{kind} previously {why}" for kind, why in previous)))
    if registration.honeypot_filled:
        findings.append(Finding(Code.HONEYPOT, "the hidden form field was filled in"))
    if registration.form_seconds is not None and registration.form_seconds < settings.REGISTRATION_MIN_FORM_SECONDS:
        findings.append(Finding(Code.TOO_FAST, f"form sent {registration.form_seconds:.1f} s after it was served"))
    if not profile_is_complete(user):
        findings.append(Finding(Code.INCOMPLETE_PROFILE, "name, phone, country, region or age band missing"))
    return findings


def needs_review(codes: Iterable[str], score: int) -> bool:
    return score >= settings.REGISTRATION_REVIEW_THRESHOLD or bool(HARD_SIGNALS.intersection(codes))
