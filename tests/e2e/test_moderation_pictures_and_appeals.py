"""A moderator in a real browser sees the photos of a flagged listing on its case page (a thumbnail that opens the
full picture) and works the appeals queue by its deadline, with the same countdown as every other queue."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import time_machine
from axe_playwright_python.sync_playwright import Axe
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.utils import timezone
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from messaging import services as messaging
from moderation import services
from moderation.models import Case
from support import services as support
from support.models import Channel
from tests.factories import PASSWORD, ListingFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# The width of the picture the browser decoded, once it has: a visible <img> may still be loading, and a broken one
# rejects (0), so a picture the view failed to serve can't pass.
DECODED_WIDTH = "img => img.decode().then(() => img.naturalWidth, () => 0)"


def photo(key: str, colour: str, size: tuple[int, int] = (640, 480)) -> str:
    """A real JPEG in storage: a phone-shaped block on a coloured background."""
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.rounded_rectangle(
        (width * 0.35, height * 0.12, width * 0.65, height * 0.88), radius=28, fill="#20242c", outline="#f4f4f4"
    )
    draw.rectangle((width * 0.38, height * 0.18, width * 0.62, height * 0.78), fill="#5b8def")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return default_storage.save(key, ContentFile(buffer.getvalue()))


def serious_violations(page) -> list[tuple[str, list[str]]]:
    return [
        (violation["id"], [str(node["target"]) for node in violation["nodes"]])
        for violation in Axe().run(page).response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def flag(listing, reporter, *, hours_ago: float) -> Case:
    with time_machine.travel(timezone.now() - timedelta(hours=hours_ago)):
        services.flag_create(
            reporter=reporter, kind="listing", object_id=listing.pk, reason="fraud", comment="Deposit before viewing."
        )
    return Case.objects.get(object_id=listing.pk, kind="listing")


def test_moderator_sees_listing_photos_on_a_case_and_an_appeal_with_its_countdown(
    page, live_server, moderator, settings, tmp_path, screenshot
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    reporter = UserFactory(email="naledi@example.com", full_name="Naledi Khumalo")
    front = photo("listings/phones/front.jpg", "#e9d8b4")
    back = photo("listings/phones/back.jpg", "#b9d7c9")
    scam = ListingFactory(
        title="iPhone 14 Pro Max, sealed, R2 500",
        description="Pay a deposit by e-wallet first and my courier brings it.",
        images=[front, back],
        seller__full_name="Quick Deals",
    )
    case = flag(scam, reporter, hours_ago=2)

    # A removal decided by a colleague yesterday, appealed 20 hours ago: at risk of its 24-hour deadline.
    colleague = UserFactory(email="thandiwe@saypro.example", full_name="Thandiwe Zulu", roles=["Moderator"])
    bike = ListingFactory(
        title="Mountain bike, 21 gears",
        description="Barely used. Pay by wire transfer to my agent.",
        seller__full_name="Sipho Ndlovu",
    )
    removed = flag(bike, reporter, hours_ago=30)
    with time_machine.travel(timezone.now() - timedelta(hours=20), tick=False):
        services.case_decide(
            case=removed, by=colleague, action="remove", rule="scam", reason="Asks for payment off the platform."
        )
        appeal = services.appeal_file(
            case=removed, by=bike.seller, statement="The buyer asked for a bank transfer; I never asked for one."
        )
    base = live_server.url

    page.goto(f"{base}/dashboard/moderation/cases/{case.pk}/")
    page.get_by_label("E-mail address").fill(moderator.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/dashboard/moderation/cases/{case.pk}/")

    pictures = page.get_by_test_id("content-images").locator("img")
    expect(pictures).to_have_count(2)
    for index in range(2):
        expect(pictures.nth(index)).to_be_visible()
        # Loaded, not a broken image: the browser decoded the picture the view served.
        assert pictures.nth(index).evaluate(DECODED_WIDTH) == 640
    screenshot(page, "moderation-case-pictures")
    assert serious_violations(page) == []

    with page.context.expect_page() as opened:
        page.get_by_role("link", name="Picture 1 of the listing").click()
    full = opened.value
    full.wait_for_load_state()
    expect(full).to_have_url(f"{base}/dashboard/moderation/cases/{case.pk}/images/0/")
    assert full.evaluate("() => document.contentType") == "image/jpeg"
    screenshot(full, "moderation-case-picture-full")
    full.close()

    page.get_by_role("link", name="open the listing").click()
    expect(page).to_have_url(f"{base}/dashboard/marketplace/listings/{scam.pk}/")
    listing_pictures = page.get_by_test_id("content-images").locator("img")
    expect(listing_pictures).to_have_count(2)
    assert listing_pictures.first.evaluate(DECODED_WIDTH) == 640
    screenshot(page, "marketplace-listing-pictures")

    page.goto(f"{base}/dashboard/moderation/appeals/")
    row = page.locator(f"[data-testid=appeals] tbody tr[data-appeal='{appeal.pk}']")
    expect(row).to_have_class(re.compile("is-at-risk"))
    countdown = row.get_by_test_id("appeal-deadline").locator(".deadline")
    expect(countdown).to_have_class(re.compile("at-risk"))
    expect(countdown).to_contain_text(re.compile(r"left"))
    expect(page.get_by_text("decided within 24 h of being filed")).to_be_visible()
    screenshot(page, "moderation-appeals-countdown")
    assert serious_violations(page) == []

    page.goto(f"{base}/dashboard/moderation/cases/{removed.pk}/")
    pending = page.get_by_test_id("case-appeal-deadline")
    expect(pending.locator(".deadline.at-risk")).to_contain_text("left")
    screenshot(page, "moderation-case-appeal-pending")

    page.goto(f"{base}/dashboard/moderation/appeals/")
    row.get_by_role("link", name="Decide").click()
    expect(page).to_have_url(f"{base}/dashboard/moderation/appeals/{appeal.pk}/")
    expect(page.get_by_test_id("appealed-content")).to_contain_text("Pay by wire transfer to my agent.")
    expect(page.get_by_test_id("original-decision")).to_contain_text("Asks for payment off the platform.")
    expect(page.get_by_test_id("appeal-deadline").locator(".deadline.at-risk")).to_be_visible()
    screenshot(page, "moderation-appeal-page")
    assert serious_violations(page) == []

    page.get_by_label("Uphold the decision").check()
    page.get_by_label("Reason").fill("The chat shows the seller asked for the transfer.")
    page.get_by_role("button", name="Decide the appeal").click()
    expect(page).to_have_url(f"{base}/dashboard/moderation/appeals/")
    expect(page.locator(f"tr[data-appeal='{appeal.pk}']")).to_have_count(0)
    page.goto(f"{base}/dashboard/moderation/appeals/?status=upheld")
    expect(page.locator(f"tr[data-appeal='{appeal.pk}']").get_by_test_id("appeal-deadline")).to_contain_text("Decided")


def test_agent_sees_image_attachments_as_thumbnails_on_a_thread_and_a_ticket(
    page, live_server, agent, settings, tmp_path, screenshot
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    member = UserFactory(email="lerato@example.com", full_name="Lerato Mokoena")
    picture = io.BytesIO()
    Image.new("RGB", (400, 300), "#c9b7e8").save(picture, format="PNG")

    def files():
        return [
            SimpleUploadedFile("scratched-screen.png", picture.getvalue(), content_type="image/png"),
            SimpleUploadedFile("receipt.pdf", b"%PDF-1.4 receipt", content_type="application/pdf"),
        ]

    with TestCase.captureOnCommitCallbacks(execute=True):
        conversation = messaging.conversation_start(
            user=member, body="The phone I bought arrived with a scratched screen.", attachments=files()
        )
        ticket = support.ticket_create(
            requester=member,
            subject="Refund for a scratched phone",
            body="Photo and receipt attached.",
            channel=Channel.WEB,
            attachments=files(),
        )
    base = live_server.url
    page.goto(f"{base}/dashboard/messages/{conversation.pk}/")
    page.get_by_label("E-mail address").fill(agent.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/dashboard/messages/{conversation.pk}/")

    thumbnail = page.get_by_role("img", name="scratched-screen.png")
    expect(thumbnail).to_be_visible()
    assert thumbnail.evaluate(DECODED_WIDTH) == 400
    expect(page.get_by_role("link", name="receipt.pdf")).to_be_visible()
    expect(page.get_by_role("img", name="receipt.pdf")).to_have_count(0)
    screenshot(page, "messaging-thread-attachments")

    page.goto(f"{base}/dashboard/support/tickets/{ticket.pk}/")
    thumbnail = page.get_by_role("img", name="scratched-screen.png")
    expect(thumbnail).to_be_visible()
    assert thumbnail.evaluate(DECODED_WIDTH) == 400
    expect(page.get_by_role("link", name="receipt.pdf")).to_be_visible()
    screenshot(page, "support-ticket-attachments")
