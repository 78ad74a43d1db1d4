"""Flags: one case per object, joining and reopening, reporter weights, rate limits, brigading, bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from moderation import services
from moderation.models import Case, CaseStatus, Flag, Source
from saypro.errors import DomainError, InvalidInput, RateLimited
from saypro.sla.models import Clock
from tests.factories import ListingFactory, UserFactory

pytestmark = pytest.mark.django_db


def flag(reporter, listing, reason="spam", comment=""):
    return services.flag_create(reporter=reporter, kind="listing", object_id=listing.pk, reason=reason, comment=comment)


def old_user(**kwargs):
    return UserFactory(date_joined=timezone.now() - timedelta(days=400), **kwargs)


def test_the_first_flag_opens_a_case_and_starts_the_twelve_hour_clock(reporter):
    listing = ListingFactory()
    first = flag(reporter, listing, reason="fraud", comment="Asks for a deposit by Western Union")
    case = first.case
    assert case.status == CaseStatus.OPEN and case.kind == "listing" and case.author_id == listing.seller_id
    assert case.source == Source.USER and case.reason == "fraud" and case.flag_count == 1
    assert case.content_title == f"Listing #{listing.pk}: {listing.title}"
    clock = Clock.objects.get(metric="moderation.decision", target_id=case.pk)
    assert clock.due_at - clock.started_at == timedelta(hours=12)
    assert clock.started_at == first.created_at


def test_further_flags_join_the_case_and_raise_its_severity():
    listing = ListingFactory()
    reporters = [old_user() for _ in range(3)]
    flag(reporters[0], listing, reason="spam")
    low = Case.objects.get().severity
    flag(reporters[1], listing, reason="fraud")
    flag(reporters[2], listing, reason="fraud")
    case = Case.objects.get()
    assert Case.objects.count() == 1 and case.flag_count == 3
    # Weights 1.0 each (no record): spam 1×2 + fraud 2×3 = 8 points × 8 = 64.
    assert (low, case.severity) == (16, 64)
    assert case.reason == "fraud"
    assert Clock.objects.filter(metric="moderation.decision").count() == 1


def test_a_reporter_flags_an_object_once_per_round(reporter):
    listing = ListingFactory()
    flag(reporter, listing)
    with pytest.raises(DomainError, match="already reported"):
        flag(reporter, listing, reason="fraud")
    assert Flag.objects.count() == 1


def test_nobody_reports_their_own_listing():
    listing = ListingFactory()
    with pytest.raises(InvalidInput, match="your own"):
        flag(listing.seller, listing)


def test_bad_input_names_each_field(reporter):
    with pytest.raises(InvalidInput) as error:
        services.flag_create(reporter=reporter, kind="poster", object_id=1, reason="ugly")
    assert set(error.value.fields) == {"kind", "reason"}
    listing = ListingFactory()
    with pytest.raises(InvalidInput) as error:
        flag(reporter, listing, reason="other")
    assert error.value.fields == {"comment": ["Say what is wrong."]}
    with pytest.raises(InvalidInput) as error:
        services.flag_create(reporter=reporter, kind="listing", object_id=999999, reason="spam")
    assert error.value.fields == {"object_id": ["Not found."]}


def test_reporters_are_rate_limited(reporter):
    listings = ListingFactory.create_batch(services.FLAGS_PER_HOUR + 1)
    for listing in listings[:-1]:
        flag(reporter, listing)
    with pytest.raises(RateLimited):
        flag(reporter, listings[-1])


def test_a_decided_case_reopens_when_new_flags_arrive(reporter, moderator):
    listing = ListingFactory()
    flag(reporter, listing)
    case = Case.objects.get()
    services.case_decide(case=case, by=moderator, action="keep", reason="An ordinary phone listing.")
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        second = flag(old_user(), listing, reason="fraud", comment="Now asks for payment by gift card")
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN and case.round == 2 and second.round == 2
    assert case.flag_count == 1 and case.reason == "fraud" and case.decided_at is not None
    clocks = Clock.objects.filter(metric="moderation.decision", target_id=case.pk).order_by("started_at")
    assert [c.state for c in clocks] == ["stopped", "running"]
    assert clocks[1].started_at == second.created_at
    # The same reporter may report again in the new round.
    assert flag(reporter, listing).round == 2


def test_flags_are_weighted_by_the_reporters_record(moderator):
    reliable, unreliable = old_user(), old_user()
    for _ in range(3):
        upheld, dismissed = ListingFactory(), ListingFactory()
        flag(reliable, upheld)
        flag(unreliable, dismissed)
        services.case_decide(
            case=Case.objects.get(object_id=upheld.pk), by=moderator, action="remove", rule="spam", reason="Spam."
        )
        services.case_decide(case=Case.objects.get(object_id=dismissed.pk), by=moderator, action="keep", reason="Fine.")
    # Laplace: (3 + 1) / (3 + 2) = 0.8 → 0.25 + 1.5 × 0.8 = 1.45; (0 + 1) / 5 = 0.2 → 0.55.
    assert services.reporter_weight(reliable) == 1.45
    assert services.reporter_weight(unreliable) == 0.55
    assert services.reporter_weight(old_user()) == 1.0
    target = ListingFactory()
    assert flag(reliable, target).weight == 1.45


def test_a_burst_of_flags_from_new_accounts_is_marked_as_possible_brigading():
    listing = ListingFactory()
    newcomers = [UserFactory(date_joined=timezone.now() - timedelta(days=2)) for _ in range(3)]
    flag(old_user(), listing)
    for newcomer in newcomers[:2]:
        flag(newcomer, listing)
    assert not Case.objects.get().brigading
    flag(newcomers[2], listing)
    case = Case.objects.get()
    assert case.brigading
    assert Flag.objects.filter(brigading=True).count() == 3
    # Brigading flags count half: 1 × 2 × 8 + 3 × (1 × 2 × 8 × 0.5) = 40.
    assert case.severity == 40


def test_profiles_can_be_flagged_by_the_users_id(reporter):
    target = UserFactory(full_name="Fake Bank Support")
    flagged = services.flag_create(
        reporter=reporter, kind="profile", object_id=target.pk, reason="fraud", comment="Poses as a bank"
    )
    assert (
        flagged.case.kind == "profile" and flagged.case.author_id == target.pk and flagged.case.object_id == target.pk
    )


def test_a_listing_is_public_so_any_signed_in_user_may_flag_it():
    listing = ListingFactory()
    stranger = UserFactory()
    client = APIClient()
    client.force_authenticate(stranger)
    response = client.post(
        "/api/v1/flags/", {"kind": "listing", "object_id": listing.pk, "reason": "fraud", "comment": "Deposit first"}
    )
    assert response.status_code == 201, response.json()
    assert Case.objects.get(kind="listing", object_id=listing.pk).flags.get().reporter == stranger
