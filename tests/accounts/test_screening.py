"""Each screening signal: its reason code, its weight, and where it sends the registration."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import services
from accounts.models import BlockRule, RegistrationSignal, RegistrationStatus
from accounts.screening import WEIGHTS
from saypro.errors import InvalidInput
from tests.accounts.helpers import submitted

pytestmark = pytest.mark.django_db

Code = RegistrationSignal.Code


def codes(registration) -> set[str]:
    return set(registration.signals.values_list("code", flat=True))


def screened(**overrides):
    registration = submitted(**overrides)
    registration.refresh_from_db()
    return registration


def test_a_clean_sign_up_has_no_signals_and_waits_for_verification():
    registration = screened()
    assert codes(registration) == set()
    assert registration.status == RegistrationStatus.VERIFYING
    assert registration.screened_at is not None


def test_disposable_email_domain_is_flagged_and_sent_to_review():
    registration = screened(email="someone@mailinator.com")
    assert codes(registration) == {Code.DISPOSABLE_EMAIL}
    assert registration.risk_score == WEIGHTS[Code.DISPOSABLE_EMAIL]
    assert registration.status == RegistrationStatus.NEEDS_REVIEW
    assert "mailinator.com" in registration.signals.get().detail


def test_duplicate_canonical_email_is_caught_through_dots_and_tags():
    screened(email="jane.doe@gmail.com", phone="+27825550102")
    second = screened(email="JaneDoe+market@googlemail.com", phone="+27825550103")
    assert Code.DUPLICATE_EMAIL in codes(second)
    assert second.status == RegistrationStatus.NEEDS_REVIEW


def test_duplicate_phone_is_caught_in_any_format():
    screened(email="one@example.com", phone="+27 82 555 0101")
    second = screened(email="two@example.com", phone="082 555 0101", country="ZA")
    assert Code.DUPLICATE_PHONE in codes(second)


def test_velocity_from_one_ip_and_one_subnet(settings):
    settings.REGISTRATION_IP_VELOCITY = 2
    settings.REGISTRATION_SUBNET_VELOCITY = 3
    for n in range(2):
        screened(email=f"a{n}@example.com", phone=f"+2782555020{n}", ip="198.51.100.7")
    third = screened(email="a3@example.com", phone="+27825550203", ip="198.51.100.7")
    assert Code.IP_VELOCITY in codes(third)
    fourth = screened(email="a4@example.com", phone="+27825550204", ip="198.51.100.99")
    assert codes(fourth) >= {Code.SUBNET_VELOCITY}
    assert Code.IP_VELOCITY not in codes(fourth)


@pytest.mark.parametrize(
    ("kind", "value", "overrides"),
    [
        (BlockRule.Kind.EMAIL_DOMAIN, "spam.example", {"email": "x@mail.spam.example"}),
        (BlockRule.Kind.IP_RANGE, "192.0.2.0/24", {"ip": "192.0.2.55"}),
        (BlockRule.Kind.KEYWORD, "cheapgold", {"full_name": "CheapGold Seller"}),
    ],
)
def test_block_rules_match_by_domain_range_and_keyword(reviewer, kind, value, overrides):
    services.block_rule_create(kind=kind, value=value, reason="known fraud ring", by=reviewer)
    registration = screened(**overrides)
    assert Code.BLOCK_RULE in codes(registration)
    assert registration.status == RegistrationStatus.NEEDS_REVIEW
    assert "known fraud ring" in registration.signals.get(code=Code.BLOCK_RULE).detail


def test_expired_or_inactive_block_rules_are_ignored(reviewer):
    rule = services.block_rule_create(
        kind=BlockRule.Kind.EMAIL_DOMAIN,
        value="example.com",
        reason="old",
        by=reviewer,
        expires_at=timezone.now() + timedelta(minutes=1),
    )
    BlockRule.objects.filter(pk=rule.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert Code.BLOCK_RULE not in codes(screened())


def test_block_rule_input_is_validated(reviewer):
    with pytest.raises(InvalidInput) as caught:
        services.block_rule_create(kind=BlockRule.Kind.IP_RANGE, value="not-a-range", reason="", by=reviewer)
    assert set(caught.value.fields) == {"value", "reason"}


def test_rejected_identity_returning_is_recognised_by_its_fingerprint(reviewer):
    first = screened(email="fraudster@example.com", phone="+27825550301")
    services.registration_reject(registration=first, by=reviewer, reason="Stolen identity")
    first.user.delete()  # the person's data is gone; the keyed hashes remain
    again = screened(email="Fraudster+2@example.com", phone="+27825550301")
    assert Code.REREGISTRATION in codes(again)
    assert again.status == RegistrationStatus.NEEDS_REVIEW


def test_honeypot_and_too_fast_forms_are_flagged(settings):
    settings.REGISTRATION_MIN_FORM_SECONDS = 3
    registration = screened(honeypot="http://spam.example", form_seconds=0.8)
    assert codes(registration) >= {Code.HONEYPOT, Code.TOO_FAST}
    assert registration.risk_score == WEIGHTS[Code.HONEYPOT] + WEIGHTS[Code.TOO_FAST]


def test_incomplete_profile_adds_weight_but_alone_does_not_block():
    registration = screened(region="", age_band="")
    assert codes(registration) == {Code.INCOMPLETE_PROFILE}
    assert registration.status == RegistrationStatus.VERIFYING


def test_screening_twice_replaces_findings_instead_of_adding_them():
    registration = screened(email="dup@mailinator.com")
    registration.status = RegistrationStatus.SCREENING
    registration.save(update_fields=["status"])
    services.registration_screen(registration=registration)
    registration.refresh_from_db()
    assert registration.signals.count() == 1
    assert registration.risk_score == WEIGHTS[Code.DISPOSABLE_EMAIL]
