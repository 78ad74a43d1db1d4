"""Decisions and their effects: keep, remove, strikes and the badge, recurrence, appeals, notices, deadlines."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from marketplace import services as market
from marketplace.models import ListingStatus
from moderation import badges, services
from moderation.models import Appeal, Case, CaseStatus, Decision, DetectionSignal, Fingerprint, Flag, Strike
from saypro.audit.models import AuditEntry
from saypro.errors import DomainError, InvalidInput
from saypro.sla.models import Clock
from saypro.sla.services import sla_sweep
from tests.factories import ListingFactory, UserFactory

pytestmark = pytest.mark.django_db

SCAM_TEXT = {
    "title": "Samsung Galaxy S23 Ultra 512GB brand new",
    "description": (
        "Brand new Samsung Galaxy S23 Ultra, 512GB, phantom black, sealed box with receipt. Selling because I "
        "got it as a gift. Serious buyers only, courier anywhere in the country after payment."
    ),
    "price": "9000",
    "currency": "ZAR",
    "category": "phones",
    "region": "Gauteng",
}


def flagged_listing(reporter, **kwargs):
    listing = ListingFactory(**kwargs)
    services.flag_create(reporter=reporter, kind="listing", object_id=listing.pk, reason="fraud", comment="Scam")
    return listing, Case.objects.get(object_id=listing.pk)


def test_reason_and_rule_are_required(moderator, reporter):
    _, case = flagged_listing(reporter)
    with pytest.raises(InvalidInput) as error:
        services.case_decide(case=case, by=moderator, action="remove", reason=" ")
    assert set(error.value.fields) == {"reason", "rule"}
    with pytest.raises(InvalidInput) as error:
        services.case_decide(case=case, by=moderator, action="delete", reason="x", rule="spam")
    assert set(error.value.fields) == {"action"}
    # Keeping breaks no rule: a reason is enough.
    services.case_decide(case=case, by=moderator, action="keep", reason="Nothing wrong.")


def test_keep_dismisses_the_flags_and_restores_held_content(moderator, reporter):
    listing, case = flagged_listing(reporter)
    market.listing_hide(obj=listing, by=None, reason="held")
    Case.objects.filter(pk=case.pk).update(hidden_at=timezone.now())
    decision = services.case_decide(case=case, by=moderator, action="keep", reason="Genuine seller, receipt shown.")
    listing.refresh_from_db()
    case.refresh_from_db()
    assert listing.status == ListingStatus.ACTIVE and case.hidden_at is None
    assert case.status == CaseStatus.DECIDED and case.decision_id == decision.pk and decision.rule == ""
    assert set(Flag.objects.values_list("outcome", flat=True)) == {"dismissed"}
    clock = Clock.objects.get(metric="moderation.decision", target_id=case.pk)
    assert clock.state == "stopped" and clock.met is True
    assert AuditEntry.objects.filter(action="case.keep", actor=moderator).exists()


def test_remove_takes_the_listing_down_and_fingerprints_it(moderator, reporter):
    listing, case = flagged_listing(reporter)
    services.content_submitted(obj=listing)
    services.case_decide(case=case, by=moderator, action="remove", rule="scam", reason="Advance-fee scam.")
    listing.refresh_from_db()
    assert listing.status == ListingStatus.REMOVED and "Advance-fee scam." in listing.status_reason
    assert set(Flag.objects.values_list("outcome", flat=True)) == {"upheld"}
    assert Fingerprint.objects.get(object_id=listing.pk).removed_at is not None
    assert not Strike.objects.exists()


def test_remove_and_warn_gives_a_strike_that_revokes_the_badge(moderator, reporter):
    now = timezone.now()
    seller = UserFactory(email_verified_at=now, phone_verified_at=now)
    assert badges.user_is_verified(seller)
    _, case = flagged_listing(reporter, seller=seller)
    decision = services.case_decide(case=case, by=moderator, action="remove_warn", rule="scam", reason="Scam.")
    strike = Strike.objects.get()
    assert strike.user_id == seller.pk and strike.decision_id == decision.pk and strike.rule == "scam"
    assert strike.expires_at == decision.at + services.STRIKE_DURATION
    assert not badges.user_is_verified(seller)
    assert AuditEntry.objects.filter(action="badge.revoke", target_id=str(seller.pk)).exists()
    # The badge comes back when the strike expires.
    with time_machine.travel(strike.expires_at + timedelta(minutes=1)):
        assert badges.user_is_verified(seller)


def test_the_badge_needs_the_id_document_verified_when_one_was_given():
    from accounts.models import Registration

    now = timezone.now()
    user = UserFactory(email_verified_at=now, phone_verified_at=now)
    Registration.objects.create(user=user, canonical_email=user.email, id_document="id-documents/1/id.pdf")
    assert not badges.user_is_verified(user)
    user.id_verified_at = now
    user.save(update_fields=["id_verified_at"])
    assert badges.user_is_verified(user)
    assert not badges.user_is_verified(UserFactory())  # nothing verified


def test_two_moderators_deciding_at_once_end_in_one_decision(moderator, reporter):
    other = UserFactory(email="second@saypro.example", roles=["Moderator"])
    _, case = flagged_listing(reporter)
    services.case_decide(case=case, by=moderator, action="remove", rule="scam", reason="Scam.")
    with pytest.raises(services.AlreadyDecided, match="already decided by"):
        services.case_decide(case=case, by=other, action="keep", reason="Looks fine.")
    # The same moderator clicking twice is not a conflict.
    services.case_decide(case=case, by=moderator, action="remove", rule="scam", reason="Scam.")
    assert Decision.objects.count() == 1


def test_reporters_are_told_the_outcome_and_the_author_the_action(
    moderator, reporter, django_capture_on_commit_callbacks
):
    listing, case = flagged_listing(reporter)
    with django_capture_on_commit_callbacks(execute=True):
        services.case_decide(case=case, by=moderator, action="remove_warn", rule="scam", reason="Asks for a deposit.")
    to_reporter = next(m for m in mail.outbox if m.to == [reporter.email])
    assert "the content was removed" in to_reporter.subject
    to_author = next(m for m in mail.outbox if m.to == [listing.seller.email])
    assert "was removed" in to_author.subject and "Asks for a deposit." in to_author.body
    assert "strike" in to_author.body and "appeal" in to_author.body
    assert Flag.objects.get().notified_at is not None


def test_removed_content_posted_again_is_held_for_review(moderator, reporter, django_capture_on_commit_callbacks):
    first_seller, second_seller = UserFactory(), UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        original = market.listing_create(seller=first_seller, **SCAM_TEXT)
    services.flag_create(reporter=reporter, kind="listing", object_id=original.pk, reason="fraud", comment="Scam")
    removal = services.case_decide(
        case=Case.objects.get(object_id=original.pk), by=moderator, action="remove", rule="scam", reason="Scam."
    )
    reworded = {**SCAM_TEXT, "description": SCAM_TEXT["description"].replace("got it as a gift", "won it")}
    with django_capture_on_commit_callbacks(execute=True):
        again = market.listing_create(seller=second_seller, **reworded)
    assert again.status == ListingStatus.PENDING_REVIEW
    case = Case.objects.get(object_id=again.pk)
    assert case.hidden_at is not None and case.source == "automatic" and case.reason == "fraud"
    signal = DetectionSignal.objects.get(detection__object_id=again.pk, code=DetectionSignal.Code.RECURRENCE)
    assert f"case #{removal.case_id}" in signal.detail
    removal.refresh_from_db()
    assert removal.recurred_at is not None


def test_removed_content_flagged_again_counts_as_recurrence(moderator, reporter):
    listing, case = flagged_listing(reporter)
    removal = services.case_decide(case=case, by=moderator, action="remove", rule="scam", reason="Scam.")
    services.flag_create(reporter=UserFactory(), kind="listing", object_id=listing.pk, reason="fraud")
    removal.refresh_from_db()
    assert removal.recurred_at is not None


def test_an_appeal_is_decided_by_another_moderator_and_can_reverse(moderator, reporter):
    second = UserFactory(email="second@saypro.example", roles=["Moderator"])
    listing, case = flagged_listing(reporter)
    decision = services.case_decide(
        case=case, by=moderator, action="remove_warn", rule="misleading", reason="Fake photos."
    )
    with pytest.raises(DomainError, match="Only the author"):
        services.appeal_file(case=case, by=reporter, statement="Not mine but unfair")
    appeal = services.appeal_file(case=case, by=listing.seller, statement="The photos are my own; here is the receipt.")
    with pytest.raises(DomainError, match="already been appealed"):
        services.appeal_file(case=case, by=listing.seller, statement="Again")
    with pytest.raises(DomainError, match="different moderator"):
        services.appeal_decide(appeal=appeal, by=moderator, reverse=True, reason="I was wrong.")
    services.appeal_decide(appeal=appeal, by=second, reverse=True, reason="The receipt matches the photos.")
    appeal.refresh_from_db()
    decision.refresh_from_db()
    listing.refresh_from_db()
    assert appeal.status == Appeal.Status.REVERSED and appeal.decided_by_id == second.pk
    assert decision.reversed_at is not None and listing.status == ListingStatus.ACTIVE
    assert Strike.objects.get().revoked_at is not None
    assert set(Flag.objects.values_list("outcome", flat=True)) == {"dismissed"}
    with pytest.raises(DomainError, match="already been decided"):
        services.appeal_decide(appeal=appeal, by=UserFactory(roles=["Moderator"]), reverse=False, reason="No.")


def test_an_upheld_appeal_changes_nothing_and_the_window_closes(moderator, reporter):
    second = UserFactory(email="second@saypro.example", roles=["Moderator"])
    listing, case = flagged_listing(reporter)
    services.case_decide(case=case, by=moderator, action="remove", rule="scam", reason="Scam.")
    appeal = services.appeal_file(case=case, by=listing.seller, statement="Please look again.")
    services.appeal_decide(appeal=appeal, by=second, reverse=False, reason="The deposit request is in the text.")
    listing.refresh_from_db()
    assert listing.status == ListingStatus.REMOVED
    other_listing, other_case = flagged_listing(reporter)
    services.case_decide(case=other_case, by=moderator, action="remove", rule="scam", reason="Scam.")
    with (
        time_machine.travel(timezone.now() + services.APPEAL_WINDOW + timedelta(hours=1)),
        pytest.raises(DomainError, match="14 days"),
    ):
        services.appeal_file(case=other_case, by=other_listing.seller, statement="Late")


def test_kept_cases_cannot_be_appealed(moderator, reporter):
    listing, case = flagged_listing(reporter)
    services.case_decide(case=case, by=moderator, action="keep", reason="Fine.")
    with pytest.raises(DomainError, match="no decision against"):
        services.appeal_file(case=case, by=listing.seller, statement="?")


def test_twelve_hours_later_an_undecided_case_is_breached_and_moderators_warned(
    moderator, administrator, reporter, django_capture_on_commit_callbacks
):
    _, case = flagged_listing(reporter)
    clock = Clock.objects.get(metric="moderation.decision", target_id=case.pk)
    with (
        time_machine.travel(clock.started_at + timedelta(hours=9, minutes=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert sla_sweep().warned == 1
    assert [m.to for m in mail.outbox] == [[moderator.email]]
    assert "75 % of the time used" in mail.outbox[0].subject
    with time_machine.travel(clock.started_at + timedelta(hours=12, minutes=1)):
        with django_capture_on_commit_callbacks(execute=True):
            assert sla_sweep().breached == 1
        decision = services.case_decide(case=case, by=moderator, action="remove", rule="scam", reason="Scam.")
    assert "Breached" in mail.outbox[-1].subject and administrator.email in mail.outbox[-1].to
    clock.refresh_from_db()
    assert clock.met is False and clock.elapsed_seconds > 12 * 3600
    assert decision.at > clock.due_at


def test_the_decision_clock_warns_at_75_and_90_percent_and_breaches_at_twelve_hours(
    moderator, administrator, reporter, django_capture_on_commit_callbacks
):
    _, case = flagged_listing(reporter)
    clock = Clock.objects.get(metric="moderation.decision", target_id=case.pk)
    assert clock.due_at - clock.started_at == timedelta(hours=12)

    def sweep_at(offset: timedelta):
        with (
            time_machine.travel(clock.started_at + offset, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            result = sla_sweep()
        clock.refresh_from_db()
        return result.warned, result.breached, clock.warned_percent

    minute = timedelta(minutes=1)
    assert sweep_at(timedelta(hours=9) - minute) == (0, 0, 0)
    assert sweep_at(timedelta(hours=9)) == (1, 0, 75)  # 75 % of 12 h
    assert [m.to for m in mail.outbox] == [[moderator.email]]
    assert sweep_at(timedelta(hours=10.8) - minute) == (0, 0, 75)
    assert sweep_at(timedelta(hours=10.8)) == (1, 0, 90)  # 90 % of 12 h: 10 h 48 min
    assert "90 % of the time used" in mail.outbox[-1].subject
    assert set(mail.outbox[-1].to) >= {moderator.email, administrator.email}
    assert sweep_at(timedelta(hours=12) - minute) == (0, 0, 90)
    assert sweep_at(timedelta(hours=12)) == (0, 1, 90)
    assert clock.breached_at == clock.due_at and "Breached" in mail.outbox[-1].subject
    assert sweep_at(timedelta(hours=13)) == (0, 0, 90)  # a later sweep neither warns nor breaches again
    assert len(mail.outbox) == 3


def test_suspending_the_user_removes_the_content_and_suspends_the_account(moderator, reporter):
    second = UserFactory(email="second@saypro.example", roles=["Moderator"])
    listing, case = flagged_listing(reporter)
    decision = services.case_decide(case=case, by=moderator, action="suspend_user", rule="scam", reason="Repeat scams.")
    seller = listing.seller
    seller.refresh_from_db()
    listing.refresh_from_db()
    assert seller.status == "suspended" and seller.suspended_until == decision.at + services.SUSPENSION
    assert f"case #{case.pk}" in seller.status_reason
    assert listing.status == ListingStatus.REMOVED and Strike.objects.filter(user=seller).exists()
    appeal = services.appeal_file(case=case, by=seller, statement="I am not a scammer.")
    services.appeal_decide(appeal=appeal, by=second, reverse=True, reason="The buyer confirmed delivery.")
    seller.refresh_from_db()
    assert seller.status == "active"


def test_banning_the_user_closes_the_account(moderator, reporter):
    listing, case = flagged_listing(reporter)
    services.case_decide(case=case, by=moderator, action="ban_user", rule="impersonation", reason="Fake bank.")
    listing.seller.refresh_from_db()
    assert listing.seller.status == "banned" and not listing.seller.is_active


def test_support_staff_file_the_appeal_of_a_suspended_author(moderator, reporter, agent):
    listing, case = flagged_listing(reporter)
    services.case_decide(case=case, by=moderator, action="suspend_user", rule="scam", reason="Scam.")
    appeal = services.appeal_file(case=case, by=agent, statement="Wrote to support: the buyer received the phone.")
    assert appeal.appellant_id == listing.seller_id and appeal.filed_by_id == agent.pk


def test_removing_held_content_releases_the_hold_and_removes_it(moderator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        listing = market.listing_create(
            seller=UserFactory(),
            **{
                **SCAM_TEXT,
                "description": "Pay a deposit via Western Union, my shipping agent delivers. Call 0711234567.",
            },
        )
    case = Case.objects.get(object_id=listing.pk)
    assert case.hidden_at is not None
    services.case_decide(case=case, by=moderator, action="remove", rule="scam", reason="Advance-fee scam.")
    case.refresh_from_db()
    listing.refresh_from_db()
    assert case.hidden_at is None and listing.status == ListingStatus.REMOVED
