"""Moderators see the pictures of what they judge, through an access-checked view, and appeals run on a deadline
of their own (the `moderation.appeal` SLA policy) shown like every other queue's."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.utils import timezone

from messaging import services as messaging
from messaging.models import Attachment
from moderation import services
from moderation.models import APPEAL_METRIC, Appeal
from saypro.sla.models import Clock, ClockState, Policy
from saypro.sla.services import sla_sweep
from support import services as support
from support.models import Channel, TicketAttachment
from tests.factories import UserFactory

from .conftest import flagged

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _stored(key: str, content: bytes) -> str:
    return default_storage.save(key, ContentFile(content))


def _image_url(case, index: int) -> str:
    return f"/dashboard/moderation/cases/{case.pk}/images/{index}/"


# --- Listing pictures on the case page --------------------------------------------------------------------------


def test_the_case_page_shows_the_listing_photos_as_thumbnails_that_open_full_size(as_):
    front = _stored("listings/7/front.jpg", JPEG)
    back = _stored("listings/7/back.png", PNG)
    _, case = flagged(images=[front, back, "https://img.example.com/side.jpg"])
    client = as_("moderator")

    page = client.get(f"/dashboard/moderation/cases/{case.pk}/").content.decode()

    for index in (0, 1):
        url = _image_url(case, index)
        assert f'<a href="{url}" target="_blank"' in page and f'<img src="{url}"' in page
    # An outside address is a link only: the page's CSP loads no image from another site.
    assert 'href="https://img.example.com/side.jpg"' in page
    assert '<img src="https://img.example.com' not in page
    assert front not in page.replace(_image_url(case, 0), "")  # no bare storage path left as a link

    first = client.get(_image_url(case, 0))
    assert first.status_code == 200
    assert first["Content-Type"] == "image/jpeg"
    assert first["X-Content-Type-Options"] == "nosniff"
    assert first["Content-Disposition"] == 'inline; filename="front.jpg"'
    assert b"".join(first.streaming_content) == JPEG
    second = client.get(_image_url(case, 1))
    assert second["Content-Type"] == "image/png" and b"".join(second.streaming_content) == PNG


def test_only_the_pictures_the_listing_names_are_served_and_only_to_the_case_s_moderators(as_):
    photo = _stored("listings/7/front.jpg", JPEG)
    _, case = flagged(images=[photo, "https://img.example.com/side.jpg"])
    _, other = flagged()
    assert as_("moderator").get(_image_url(case, 1)).status_code == 404  # an outside address is not proxied
    assert as_("moderator").get(_image_url(case, 2)).status_code == 404
    assert as_("moderator").get(_image_url(other, 0)).status_code == 404
    assert as_("administrator").get(_image_url(case, 0)).status_code == 200
    for persona in ("agent", "manager", "reviewer", "user"):
        assert as_(persona).get(_image_url(case, 0)).status_code == 403, persona


def test_a_reference_outside_the_listing_photos_folder_is_never_served(as_):
    """A seller cannot point moderators at someone else's private upload (an ID document) by naming its key."""
    secret = _stored("id_documents/42/passport.png", PNG)
    _, case = flagged(images=[secret])
    page = as_("moderator").get(f"/dashboard/moderation/cases/{case.pk}/").content.decode()
    assert "<img" not in page.split('data-testid="content-images"')[1].split("</ul>")[0]
    assert as_("moderator").get(_image_url(case, 0)).status_code == 404


def test_a_photo_missing_from_storage_is_a_404_not_an_error(as_):
    _, case = flagged(images=["listings/7/gone.jpg"])
    assert as_("moderator").get(_image_url(case, 0)).status_code == 404


# --- Attachments where staff read them --------------------------------------------------------------------------


def test_the_thread_page_shows_image_attachments_as_thumbnails_and_other_files_as_links(as_):
    member = UserFactory(email="member@example.com")
    with TestCase.captureOnCommitCallbacks(execute=True):
        conversation = messaging.conversation_start(
            user=member,
            body="Here are the photos of my ad and the invoice.",
            attachments=[
                SimpleUploadedFile("ad.png", PNG, content_type="image/png"),
                SimpleUploadedFile("invoice.pdf", b"%PDF-1.4 test", content_type="application/pdf"),
            ],
        )
    photo, invoice = Attachment.objects.filter(message__conversation=conversation).order_by("name")
    page = as_("agent").get(f"/dashboard/messages/{conversation.pk}/").content.decode()
    assert f'<img src="/dashboard/messages/attachments/{photo.pk}/"' in page
    assert f'href="/dashboard/messages/attachments/{invoice.pk}/"' in page
    assert f'<img src="/dashboard/messages/attachments/{invoice.pk}/"' not in page


def test_the_ticket_page_shows_image_attachments_as_thumbnails_and_other_files_as_links(as_):
    member = UserFactory(email="member@example.com")
    with TestCase.captureOnCommitCallbacks(execute=True):
        ticket = support.ticket_create(
            requester=member,
            subject="The buyer sent a damaged item",
            body="Photo and the courier's note attached.",
            channel=Channel.WEB,
            attachments=[
                SimpleUploadedFile("damage.jpg", JPEG, content_type="image/jpeg"),
                SimpleUploadedFile("note.txt", b"Left at the gate.", content_type="text/plain"),
            ],
        )
    photo = TicketAttachment.objects.get(message__ticket=ticket, name="damage.jpg")
    note = TicketAttachment.objects.get(message__ticket=ticket, name="note.txt")
    page = as_("agent").get(f"/dashboard/support/tickets/{ticket.pk}/").content.decode()
    base = f"/dashboard/support/tickets/{ticket.pk}/attachments/"
    assert f'<img src="{base}{photo.pk}/"' in page
    assert f'href="{base}{note.pk}/"' in page and f'<img src="{base}{note.pk}/"' not in page


# --- Appeals on a deadline --------------------------------------------------------------------------------------


def _appealed(moderator, **listing_fields):
    listing, case = flagged(**listing_fields)
    services.case_decide(case=case, by=moderator, action="remove", rule="scam", reason="Asks for a deposit first.")
    appeal = services.appeal_file(case=case, by=listing.seller, statement="The buyer asked for my bank details.")
    return case, appeal


def _second_moderator():
    return UserFactory(email="second@saypro.example", roles=["Moderator"])


def test_filing_an_appeal_starts_its_24_hour_clock_and_deciding_it_stops_the_clock(moderator):
    _, appeal = _appealed(moderator)
    clock = Clock.objects.get(metric=APPEAL_METRIC, target_id=appeal.pk)
    assert clock.state == ClockState.RUNNING
    assert clock.started_at == appeal.created_at
    assert clock.due_at - clock.started_at == timedelta(hours=24)
    assert clock.policy.warn_percents == [75, 90]

    services.appeal_decide(appeal=appeal, by=_second_moderator(), reverse=False, reason="The chat shows it.")

    clock.refresh_from_db()
    assert clock.state == ClockState.STOPPED and clock.met is True


def test_administrators_change_the_appeal_deadline_through_its_policy(moderator):
    Policy.objects.filter(metric=APPEAL_METRIC, is_default=True).update(target=timedelta(hours=8))
    _, appeal = _appealed(moderator)
    clock = Clock.objects.get(metric=APPEAL_METRIC, target_id=appeal.pk)
    assert clock.due_at - clock.started_at == timedelta(hours=8)


def test_the_appeals_list_counts_down_and_marks_appeals_at_risk_and_breached(as_, moderator):
    now = timezone.now()
    with time_machine.travel(now - timedelta(hours=25), tick=False):
        _, late = _appealed(moderator)
    with time_machine.travel(now - timedelta(hours=20), tick=False):
        _, risky = _appealed(moderator)
    _, fresh = _appealed(moderator)
    client = as_("moderator")
    client.force_login(_second_moderator())

    response = client.get("/dashboard/moderation/appeals/")

    rows = list(response.context["page"].object_list)
    assert [row.pk for row in rows] == [late.pk, risky.pk, fresh.pk]  # soonest deadline first
    page = response.content.decode()
    assert f'class="is-breached" data-appeal="{late.pk}"' in page
    assert f'class="is-at-risk" data-appeal="{risky.pk}"' in page
    assert f'class="" data-appeal="{fresh.pk}"' in page
    assert "overdue" in page and "left" in page and "data-due=" in page
    assert "decided within 24 h of being filed" in page


@pytest.mark.parametrize("rows", [2, 12])
def test_appeals_list_query_count_does_not_grow_with_the_rows(as_, moderator, django_assert_max_num_queries, rows):
    for _ in range(rows):
        _appealed(moderator)
    client = as_("moderator")
    with django_assert_max_num_queries(12):
        assert client.get("/dashboard/moderation/appeals/").status_code == 200


def test_the_appeal_page_shows_the_content_appealed_the_decision_and_the_countdown(as_, moderator):
    photo = _stored("listings/7/front.jpg", JPEG)
    case, appeal = _appealed(moderator, images=[photo], title="iPhone 13 128 GB, boxed")
    client = as_("moderator")
    client.force_login(_second_moderator())

    page = client.get(f"/dashboard/moderation/appeals/{appeal.pk}/").content.decode()

    content = page.split('data-testid="appealed-content"')[1].split("</section>")[0]
    assert "iPhone 13 128 GB, boxed" in content and f'<img src="{_image_url(case, 0)}"' in content
    decision = page.split('data-testid="original-decision"')[1].split("</section>")[0]
    assert "<strong>Removed</strong>" in decision
    assert "Asks for a deposit first." in decision
    deadline = page.split('data-testid="appeal-deadline"')[1].split("</section>")[0]
    assert "data-due=" in deadline and "left" in deadline


def test_the_case_page_shows_the_pending_appeal_s_deadline(as_, moderator):
    case, appeal = _appealed(moderator)
    page = as_("moderator").get(f"/dashboard/moderation/cases/{case.pk}/").content.decode()
    block = page.split('data-testid="case-appeal-deadline"')[1].split("</section>")[0]
    assert "data-due=" in block and f"/dashboard/moderation/appeals/{appeal.pk}/" in block

    services.appeal_decide(appeal=appeal, by=_second_moderator(), reverse=False, reason="Stands.")
    page = as_("moderator").get(f"/dashboard/moderation/cases/{case.pk}/").content.decode()
    assert 'data-testid="case-appeal-deadline"' not in page


def test_an_appeal_left_undecided_breaches_and_moderators_are_told(
    moderator, administrator, django_capture_on_commit_callbacks
):
    _, appeal = _appealed(moderator)
    clock = Clock.objects.get(metric=APPEAL_METRIC, target_id=appeal.pk)
    mail.outbox.clear()
    with (
        time_machine.travel(clock.started_at + timedelta(hours=24, minutes=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert sla_sweep().breached == 1
    # A sweep that finds the deadline passed catches up with one warning (90 %) and the breach.
    told = [m for m in mail.outbox if f"Appeal #{appeal.pk}" in m.subject and m.subject.startswith("Breached")]
    assert len(told) == 1
    assert moderator.email in told[0].to and administrator.email in told[0].to
    assert f"/dashboard/moderation/appeals/{appeal.pk}/" in told[0].body
    assert Appeal.objects.get(pk=appeal.pk).status == Appeal.Status.PENDING


def test_the_migration_gives_appeals_already_pending_a_deadline_without_a_flood_of_warnings(moderator):
    """Appeals filed before the deadline existed get a running clock; points already passed count as passed
    silently, so that the first sweep does not e-mail a warning and a breach for every old appeal."""
    from django.apps import apps

    migration = importlib.import_module("moderation.migrations.0005_appeal_deadline_policy")
    now = timezone.now()
    with time_machine.travel(now - timedelta(hours=30), tick=False):
        _, old = _appealed(moderator)
    with time_machine.travel(now - timedelta(hours=2), tick=False):
        _, recent = _appealed(moderator)
    Clock.objects.filter(metric=APPEAL_METRIC).delete()

    migration.create_policy_and_clocks(apps, None)
    migration.create_policy_and_clocks(apps, None)  # a second run adds nothing

    old_clock = Clock.objects.get(metric=APPEAL_METRIC, target_id=old.pk)
    recent_clock = Clock.objects.get(metric=APPEAL_METRIC, target_id=recent.pk)
    assert old_clock.due_at == old.created_at + timedelta(hours=24)
    assert old_clock.breached_at == old_clock.due_at and old_clock.next_check_at is None
    assert recent_clock.breached_at is None and recent_clock.warned_percent == 0
    assert recent_clock.next_check_at == recent.created_at + timedelta(hours=18)
    assert sla_sweep().breached == 0


def test_the_marketplace_listing_page_shows_the_same_photos_through_its_own_view(as_):
    photo = _stored("listings/7/front.jpg", JPEG)
    listing, _ = flagged(images=[photo, "id_documents/42/passport.png"])
    client = as_("agent")
    url = f"/dashboard/marketplace/listings/{listing.pk}/images/0/"
    page = client.get(f"/dashboard/marketplace/listings/{listing.pk}/").content.decode()
    assert f'<img src="{url}"' in page
    response = client.get(url)
    assert response["Content-Type"] == "image/jpeg" and response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == JPEG
    assert client.get(f"/dashboard/marketplace/listings/{listing.pk}/images/1/").status_code == 404
    assert as_("manager").get(url).status_code == 403
