"""Words, not codes: screening reasons, sign-in failures, decision actions, status changes and two-factor devices
read as words on pages and in the admin, in one date and time format; "open" counts say what they count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import formats, timezone

from accounts import services as accounts_services
from accounts.events import event_record
from accounts.models import AccountEvent, RegistrationSignal
from messaging import services as messaging_services
from moderation import services as moderation_services
from saypro.localtime import local_text
from tests.accounts.test_pages import pending
from tests.factories import UserFactory
from tests.moderation.conftest import flagged

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    return UserFactory(email="root@saypro.example", is_staff=True, is_superuser=True)


def test_one_date_and_time_format_in_the_site_time_zone(settings):
    moment = datetime(2026, 3, 4, 7, 5, tzinfo=UTC)
    local = timezone.localtime(moment)  # Africa/Johannesburg, UTC+2
    assert formats.date_format(local, "DATETIME_FORMAT") == "4 Mar 2026, 09:05"
    assert formats.date_format(local, "SHORT_DATETIME_FORMAT") == "4 Mar, 09:05"
    assert formats.date_format(local) == "4 Mar 2026"
    assert formats.time_format(local) == "09:05"


def test_screening_reasons_are_words_even_without_a_label(as_):
    registration = pending(signals=(("name_mismatch", 10), (RegistrationSignal.Code.TOO_FAST, 15)))
    detail = as_("reviewer").get(f"/dashboard/registrations/{registration.pk}/").content.decode()
    assert "<strong>Name mismatch</strong>" in detail
    assert "<strong>Form filled too fast</strong>" in detail
    assert "name_mismatch" not in detail and "too_fast</code>" not in detail
    queue = as_("reviewer").get("/dashboard/registrations/").content.decode()
    assert "Form filled too fast<br>Name mismatch" in queue


def test_the_registration_admin_shows_screening_reasons_and_dates_as_words(client, superuser):
    registration = pending(signals=(("name_mismatch", 10),))
    client.force_login(superuser)
    page = client.get(f"/admin/accounts/registration/{registration.pk}/change/").content.decode()
    assert "Name mismatch" in page
    submitted = formats.date_format(timezone.localtime(registration.submitted_at), "DATETIME_FORMAT")
    listing = client.get("/admin/accounts/registration/").content.decode()
    assert submitted in listing


def test_sign_in_failures_and_status_changes_are_words_in_the_admin(client, superuser, user, administrator):
    event_record(user=user, kind=AccountEvent.Kind.SIGN_IN_FAILED, reason="wrong_password")
    event_record(user=user, kind=AccountEvent.Kind.SIGN_IN_FAILED, reason="bad_second_factor")
    accounts_services.user_suspend(user=user, by=administrator, reason="Scam reports")
    client.force_login(superuser)
    timeline = client.get(f"/admin/accounts/user/{user.pk}/timeline/").content.decode()
    assert "Wrong password" in timeline and "Wrong two-factor code" in timeline
    assert "was active" in timeline and "From: Active" in timeline
    event_record(user=user, kind=AccountEvent.Kind.LOCKOUT, data={"until": "2026-03-04T07:05:00+00:00"})
    timeline = client.get(f"/admin/accounts/user/{user.pk}/timeline/").content.decode()
    assert "Until: 4 Mar 2026, 09:05" in timeline and "2026-03-04T07:05" not in timeline
    assert "wrong_password" not in timeline and "bad_second_factor" not in timeline
    events = client.get("/admin/accounts/accountevent/").content.decode()
    assert "Wrong password" in events and "was active" in events
    assert ">wrong_password<" not in events


def test_decision_actions_read_as_what_was_done(as_, moderator, client, superuser):
    listing, case = flagged()
    moderation_services.case_decide(case=case, by=moderator, action="remove_warn", rule="scam", reason="Scam.")
    page = as_("moderator").get(f"/dashboard/moderation/cases/{case.pk}/").content.decode()
    assert "<strong>Removed and warned (strike)</strong>" in page
    # The listing's facts give its time in the site's zone and format too, not UTC in ISO form.
    assert local_text(listing.created_at) in page and f"{listing.created_at:%Y-%m-%d %H:%M}" not in page
    decided = as_("moderator").get("/dashboard/moderation/?status=decided").content.decode()
    assert "Removed and warned (strike)" in decided
    client.force_login(superuser)
    admin_list = client.get("/admin/moderation/decision/").content.decode()
    assert "Removed and warned (strike)" in admin_list
    assert ">remove_warn<" not in admin_list


def test_the_decision_message_says_what_was_done(as_):
    _, case = flagged()
    response = as_("moderator").post(
        f"/dashboard/moderation/cases/{case.pk}/decide/",
        {"action": "remove", "rule": "spam", "reason": "Spam."},
        follow=True,
    )
    messages = [str(message) for message in response.context["messages"]]
    assert messages[0].startswith(f"Case #{case.pk}: removed. ")


def test_two_factor_devices_are_named_in_the_admin(client, superuser):
    client.force_login(superuser)
    index = client.get("/admin/").content.decode()
    assert "Two-factor sign-in: authenticator apps" in index
    assert "Two-factor sign-in: recovery codes" in index
    assert "TOTP devices" not in index and "Static devices" not in index


def test_the_dashboard_and_the_inbox_name_their_different_counts_differently(as_, user):
    answered = messaging_services.conversation_start(user=user, subject="Refund", body="Where is my refund?")
    messaging_services.conversation_start(user=user, subject="Login", body="I cannot sign in.")
    agent = UserFactory(email="agent2@saypro.example", roles=["Support agent"])
    messaging_services.reply_send(conversation=answered, by=agent, body="Looking into it.")
    dashboard = as_("manager").get("/dashboard/").content.decode()
    assert '<span class="label">Awaiting a first answer</span>' in dashboard
    assert '<span class="label">Open</span>' not in dashboard
    inbox = as_("agent").get("/dashboard/messages/").content.decode()
    assert '<div class="label">Unresolved</div>' in inbox and ">Backlog<" not in inbox
    items = as_("manager").get("/dashboard/promises/message.first_response/items/?state=open").content.decode()
    assert "Awaiting a first answer" in items


def test_the_already_decided_message_uses_the_site_format(reviewer, administrator):
    registration = pending()
    with_time = timezone.now() - timedelta(minutes=1)
    accounts_services.registration_approve(registration=registration, by=administrator)
    registration.refresh_from_db()
    with pytest.raises(accounts_services.AlreadyDecided) as refused:
        accounts_services.registration_reject(registration=registration, by=reviewer, reason="No")
    when = formats.date_format(timezone.localtime(registration.decided_at), "DATETIME_FORMAT")
    assert refused.value.message.endswith(f"at {when}.")
    assert registration.decided_at > with_time
