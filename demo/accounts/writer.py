"""The accounts phase: writing the simulated sign-ups as users, registrations, clocks and audit entries."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from accounts import roles, screening
from accounts.identity import device_type, fingerprint
from accounts.models import BlockRule, IdentityFingerprint, Registration, RegistrationSignal, User
from demo.accounts.planner import Signup
from demo.accounts.simulator import SignupSimulator
from demo.accounts.vocabulary import METRIC, REVIEWERS, Status
from demo.core import DemoContext
from saypro.audit.models import AuditEntry
from saypro.audit.services import SYSTEM
from saypro.sla.models import Policy

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
