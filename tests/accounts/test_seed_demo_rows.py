"""What one `manage.py seed_demo` run wrote, read by several tests: the rows look like the product made them.

Seeding is the slow part, so the module seeds once, inside a transaction rolled back at its end; every test runs
in a savepoint of it and only reads.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterator

import phonenumbers
import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import override_settings

from accounts import roles, screening
from accounts.identity import canonical_email, fingerprint
from accounts.models import (
    DECIDED_STATUSES,
    AgeBand,
    IdentityFingerprint,
    Registration,
    RegistrationSignal,
    RegistrationStatus,
    User,
)
from demo import accounts as demo
from saypro.audit.models import AuditEntry
from saypro.celery import app as celery_app
from tests.accounts.test_seed_demo import AS_OF, FRAUD_CODES, USERS, seed

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker) -> Iterator[None]:
    # The function-scoped fixtures of tests/conftest.py are not in force yet: the same settings, set here.
    demo_run = override_settings(
        DEMO_MODE=True,
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        MODERATION_SPAM_CSV="",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    eager = celery_app.conf.task_always_eager
    with django_db_blocker.unblock(), demo_run:
        celery_app.conf.task_always_eager = True
        try:
            with transaction.atomic():
                seed()
                yield
                transaction.set_rollback(True)
        finally:
            celery_app.conf.task_always_eager = eager


def test_rows_look_like_a_marketplace_in_southern_west_and_east_africa(seeded):
    users = User.objects.filter(is_staff=False)
    registrations = Registration.objects.all()

    assert {country for (country,) in users.values_list("country").distinct()} <= {"ZA", "NG", "KE", "GH", "EG"}
    for phone in users.values_list("phone", flat=True):
        number = phonenumbers.parse(phone)
        assert phonenumbers.is_valid_number(number), phone
        assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == phone
    for email, canonical in registrations.values_list("user__email", "canonical_email"):
        assert canonical == canonical_email(email)
    assert set(users.exclude(age_band="").values_list("age_band", flat=True)) <= set(AgeBand.values)
    devices = Counter(registrations.values_list("device_type", flat=True))
    assert devices.most_common(1)[0][0] == "mobile"
    assert devices["mobile"] > USERS / 2
    assert 2 <= registrations.exclude(campaign="").values("campaign").distinct().count() <= 3


def test_funnel_steps_are_in_order_and_some_applicants_never_submit(seeded):
    registrations = list(Registration.objects.all())
    never_submitted = [r for r in registrations if r.submitted_at is None]

    assert never_submitted
    assert all(r.status == RegistrationStatus.STARTED for r in never_submitted)
    for r in registrations:
        steps = [r.email_verified_at, r.phone_verified_at, r.profile_completed_at, r.submitted_at]
        assert all(r.started_at <= at < AS_OF for at in steps if at is not None)
        assert r.screened_at is None or (r.submitted_at is not None and r.submitted_at <= r.screened_at)
        assert r.decided_at is None or (r.submitted_at is not None and r.submitted_at <= r.decided_at < AS_OF)


def test_signals_use_screening_weights_and_agree_with_screening(seeded):
    time_local = {
        RegistrationSignal.Code.DISPOSABLE_EMAIL,
        RegistrationSignal.Code.IP_VELOCITY,
        RegistrationSignal.Code.SUBNET_VELOCITY,
        RegistrationSignal.Code.HONEYPOT,
        RegistrationSignal.Code.TOO_FAST,
    }
    screened = Registration.objects.filter(screened_at__isnull=False).select_related("user").prefetch_related("signals")

    assert screened
    for registration in screened:
        signals = list(registration.signals.all())
        assert registration.risk_score == sum(signal.weight for signal in signals)
        assert all(signal.weight == screening.WEIGHTS[signal.code] for signal in signals)
        stored = {signal.code for signal in signals} & time_local
        found = {finding.code for finding in screening.screen(registration, rules=[])} & time_local
        assert stored == found, registration
    assert RegistrationSignal.objects.filter(code__in=FRAUD_CODES).exists()


def test_auto_approvals_are_fast_and_reviews_are_done_by_the_demo_reviewers(seeded):
    auto = Registration.objects.filter(auto_approved=True)
    reviewed = Registration.objects.filter(status__in=DECIDED_STATUSES, auto_approved=False)

    assert auto.count() > reviewed.count()
    assert not auto.exclude(decided_by=None).exists()
    delays = [(r.decided_at - r.submitted_at).total_seconds() for r in auto]
    assert statistics.median(delays) < 5 * 60
    reviewers = set(User.objects.filter(groups__name=roles.REVIEWER).values_list("pk", flat=True))
    assert {pk for pk in reviewed.values_list("decided_by", flat=True)} <= reviewers
    assert not Registration.objects.filter(status=RegistrationStatus.REJECTED, decision_reason="").exists()
    demo_reviewers = User.objects.filter(email__in=[email for email, _ in demo.REVIEWERS])
    assert demo_reviewers.count() == len(demo.REVIEWERS)
    assert not any(user.has_usable_password() for user in demo_reviewers)


def test_every_decision_has_one_audit_entry_with_its_actor(seeded):
    registration_type = ContentType.objects.get_for_model(Registration)
    entries = {
        int(entry.target_id): entry
        for entry in AuditEntry.objects.filter(target_type=registration_type).select_related("actor")
    }
    decided = Registration.objects.filter(status__in=DECIDED_STATUSES)

    assert len(entries) == decided.count() == AuditEntry.objects.filter(target_type=registration_type).count()
    for registration in decided:
        entry = entries[registration.pk]
        assert entry.at == registration.decided_at
        assert entry.actor_id == registration.decided_by_id
        if registration.auto_approved:
            assert (entry.action, entry.actor_label) == ("registration.auto_approve", "system")
        elif registration.status == RegistrationStatus.APPROVED:
            assert entry.action == "registration.approve"
        else:
            assert entry.action == "registration.reject"
            assert entry.reason == registration.decision_reason


def test_rejected_identities_leave_fingerprints(seeded):
    rejected = Registration.objects.filter(status=RegistrationStatus.REJECTED)
    digests = set(IdentityFingerprint.objects.values_list("kind", "digest"))

    assert rejected.exists()
    for registration in rejected:
        assert ("email", fingerprint("email", registration.canonical_email)) in digests
        assert ("phone", fingerprint("phone", registration.phone_e164)) in digests
