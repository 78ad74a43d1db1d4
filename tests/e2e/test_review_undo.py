"""After a decision the reviewer goes on to the next registration and can take the decision back for a few seconds;
a registration a colleague claimed is decided only on purpose."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts import roles, services
from accounts.models import Registration, RegistrationStatus
from tests.e2e.test_review_flow import sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_decide_go_on_to_the_next_and_undo(page, live_server, reviewer, submitted_registration, screenshot, settings):
    first = submitted_registration(hours_ago=40, email="thabo@example.com", full_name="Thabo Dlamini")
    second = submitted_registration(hours_ago=10, email="naledi@example.com", full_name="Naledi Khumalo")
    base = live_server.url
    sign_in(page, base, reviewer.email)

    page.goto(f"{base}/dashboard/registrations/{first.pk}/")
    page.get_by_label("Note").fill("ID and phone match.")
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page).to_have_url(f"{base}/dashboard/registrations/{second.pk}/?undo={first.pk}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Naledi Khumalo")
    undo = page.get_by_test_id("undo")
    expect(undo).to_contain_text(f"You approved registration #{first.pk} (thabo@example.com).")
    screenshot(page, "registration-next-with-undo")

    undo.get_by_role("button", name="Undo").click()
    expect(page).to_have_url(f"{base}/dashboard/registrations/{first.pk}/")
    expect(page.locator(".messages")).to_contain_text(
        f"Decision on registration #{first.pk} undone: it is pending again, and the applicant was not told."
    )
    expect(page.get_by_test_id("status")).to_have_text("Needs review")
    screenshot(page, "registration-undone")
    assert Registration.objects.get(pk=first.pk).status == RegistrationStatus.NEEDS_REVIEW

    # The offer counts down and goes away when the decision can no longer be taken back.
    settings.REGISTRATION_UNDO_SECONDS = 2
    page.locator("summary", has_text="Reject").click()
    page.get_by_label("Reason").fill("Documents do not match.")
    page.get_by_role("button", name="Reject", exact=True).click()
    expect(page).to_have_url(f"{base}/dashboard/registrations/{second.pk}/?undo={first.pk}")
    expect(page.get_by_test_id("undo")).to_be_hidden(timeout=10_000)
    assert Registration.objects.get(pk=first.pk).status == RegistrationStatus.REJECTED


def test_deciding_a_colleagues_claim_asks_first(page, live_server, reviewer, submitted_registration, screenshot):
    colleague = UserFactory(email="cora@saypro.example", full_name="Cora Colleague", roles=[roles.REVIEWER])
    claimed = submitted_registration(hours_ago=5, email="sipho@example.com", full_name="Sipho Ndlovu")
    services.registration_claim(registration=claimed, by=colleague)
    base = live_server.url
    sign_in(page, base, reviewer.email)

    page.goto(f"{base}/dashboard/registrations/{claimed.pk}/")
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator(".errorlist")).to_contain_text(
        "Cora Colleague has claimed this registration: tick “Decide anyway” to decide it yourself."
    )
    screenshot(page, "registration-claimed-by-colleague")
    assert Registration.objects.get(pk=claimed.pk).status == RegistrationStatus.NEEDS_REVIEW
    page.locator("#approve-decide-anyway").check()
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator(".messages")).to_contain_text(f"Registration #{claimed.pk} approved.")
    assert Registration.objects.get(pk=claimed.pk).status == RegistrationStatus.APPROVED
