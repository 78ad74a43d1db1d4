"""The world the access table is checked against: one account per persona, and one real object of every kind a
URL names, created through the apps' services. The marketplace user owns the user-facing objects, so that
another marketplace user (and staff, who own none of them) must get a 404 on them."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from accounts import roles, self_service
from accounts import services as accounts
from accounts.models import User
from accounts.tokens import make_email_token
from marketplace import services as marketplace
from marketplace.models import Category
from messaging import services as messaging
from messaging.models import Attachment
from moderation import services as moderation
from moderation.models import Case, KeywordRule
from reports import links as report_links
from reports import services as reports
from support import selectors as support_selectors
from support import services as support
from support.models import Article, ArticleCategory, Channel, CommentTopic, TicketAttachment
from tests.accounts.helpers import SIGNUP, submitted
from tests.factories import UserFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 100

# The staff personas with the role each one holds (the same accounts as tests/conftest.py's fixtures).
STAFF_ROLES = {
    "reviewer": roles.REVIEWER,
    "agent": roles.SUPPORT_AGENT,
    "moderator": roles.MODERATOR,
    "manager": roles.MANAGER,
    "administrator": roles.ADMINISTRATOR,
}
PERSONAS = ("anonymous", "user", "other_user", "outsider", *STAFF_ROLES)


@dataclass
class World:
    people: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    # Each persona's signed-in session (the session cookie's value), made once: a sign-in costs more than most
    # requests. A request that changes or ends the session does so in its test's savepoint, undone after it.
    sessions: dict[str, str] = field(default_factory=dict)
    # URL arguments by name: object ids and link tokens.
    ids: dict[str, Any] = field(default_factory=dict)


def _png(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def _committed(work: Any) -> Any:
    """Run `work` with its after-commit side effects (triage, routing, screening) done, as a request would."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return work()


def build_world() -> World:
    world = World()
    people = world.people
    for persona, role in STAFF_ROLES.items():
        people[persona] = UserFactory(email=f"{persona}@saypro.example", roles=[role])
    people["outsider"] = UserFactory(email="outsider@saypro.example", is_staff=True)
    # Staff accounts as the target of a status change: one per role, staff without a role, and a superuser (no
    # persona is one: an administrator's account is theirs alone to act on).
    for persona, role in STAFF_ROLES.items():
        world.ids[f"target_{persona}"] = UserFactory(email=f"target.{persona}@saypro.example", roles=[role]).pk
    world.ids["target_outsider"] = UserFactory(email="target.outsider@saypro.example", is_staff=True).pk
    world.ids["target_superuser"] = User.objects.create_superuser("target.superuser@saypro.example", "x" * 16).pk
    # The marketplace user signed up, was approved, and now sells, buys, writes to the team and files tickets.
    applicant = submitted(email="member@example.com", phone="+27 82 555 0111")
    accounts.registration_approve(registration=applicant, by=people["reviewer"], reason="Verified")
    people["user"] = User.objects.get(pk=applicant.user_id)
    people["other_user"] = UserFactory(email="other.member@example.com")
    for persona, person in people.items():
        world.tokens[persona] = Token.objects.create(user=person).key
    user, ids = people["user"], world.ids

    # A sign-up waiting in the review queue, with an ID document (the staff registration pages).
    waiting = submitted(email="applicant@example.com", phone="+27 82 555 0122", id_document=_id_document())
    ids["registration"] = waiting.pk
    ids["block_rule"] = accounts.block_rule_create(
        kind="email_domain", value="spam.example", reason="Throwaway addresses", by=people["reviewer"]
    ).pk
    ids["user"] = user.pk
    ids["email_token"] = make_email_token(waiting.user)
    change = self_service.email_change_request(
        user=user, new_email="member.new@example.com", password=SIGNUP["password"]
    )
    ids["email_change_token"] = signing.dumps(
        {"change": change.pk, "email": change.new_email}, salt=self_service.EMAIL_CHANGE_SALT
    )
    ids["totp_device"] = TOTPDevice.objects.create(user=people["administrator"], name="phone", confirmed=False).pk

    # Messaging: the user's conversation, with a photo attached.
    conversation = _committed(
        lambda: messaging.conversation_start(
            user=user, body="Hello, how do I change the photos of my ad?", attachments=[_png("ad.png")]
        )
    )
    ids["conversation"] = conversation.pk
    ids["attachment"] = Attachment.objects.get(message__conversation=conversation).pk

    # Support: the user's ticket, a survey on it, guidance the user asked for, a known issue, an article.
    ticket = _committed(
        lambda: support.ticket_create(
            requester=user,
            subject="My payout has not arrived",
            body="I sold a bike last week.",
            channel=Channel.WEB,
            attachments=[_png("receipt.png")],
        )
    )
    ids["ticket"] = ticket.pk
    # The user's live chat (its event stream).
    ids["own_chat"] = _committed(
        lambda: support.ticket_create(requester=user, subject="", body="Hello, anyone there?", channel=Channel.CHAT)
    ).pk
    ids["chat"] = _committed(
        lambda: support.ticket_create(
            requester=user, subject="Is my payout on its way?", body="Hello?", channel=Channel.CHAT
        )
    ).pk
    ids["ticket_attachment"] = TicketAttachment.objects.get(message__ticket=ticket).pk
    ids["macro"] = support_selectors.macros_usable(surface="ticket", department=ticket.department).first().pk
    ids["canned_response"] = support_selectors.macros_usable(surface="conversation").first().pk
    survey = support.survey_send(
        target=ticket, requester=user, agent=people["agent"], department=None, channel=Channel.WEB
    )
    ids["survey_token"] = support.survey_token(survey)
    ids["rating"] = 5
    ids["guidance"] = support.guidance_answer(question="When will my refund arrive?", user=user).pk
    ids["known_issue"] = support.known_issue_save(by=people["agent"], title="Photos fail to upload on Android").pk
    article = Article.objects.create(
        category=ArticleCategory.objects.get(slug="payments"),
        title="When will I get my refund?",
        slug="refund-timing",
        body="Refunds take **5–7 days**.",
    )
    ids["category"], ids["slug"] = article.category.slug, article.slug

    # Marketplace and moderation: two listings of the user (one flagged and open, one removed and appealed), and
    # a purchase from another seller.
    # The flagged listing has a photo in storage, which the case's moderators see through moderation's view.
    photo = default_storage.save(f"listings/{user.pk}/front.png", ContentFile(PNG))
    listing = _listing(user, "Samsung Galaxy A14 64 GB in good condition", images=[photo])
    ids["listing"] = listing.pk
    ids["image_index"] = 0
    reporter = UserFactory(email="reporter@example.com")
    ids["case"] = _flag(reporter, listing).pk
    removed = _listing(user, "Bicycle, 21 gears, hardly used")
    decided = _flag(reporter, removed)
    moderation.case_decide(
        case=decided, by=people["moderator"], action="remove", reason="Asks for payment off the platform", rule="scam"
    )
    ids["appeal"] = moderation.appeal_file(case=decided, by=user, statement="The buyer asked me to; I refused.").pk
    ids["keyword"] = KeywordRule.objects.order_by("pk").first().pk
    seller = UserFactory(email="seller@example.com")
    # A password-reset link of an account no persona signs in as (signing in changes what the token covers).
    ids["uidb64"] = urlsafe_base64_encode(force_bytes(seller.pk))
    ids["reset_token"] = default_token_generator.make_token(seller)
    bought = _listing(seller, "Wooden dining table with six chairs")
    ids["transaction"] = marketplace.transaction_start(listing=bought, buyer=user).pk

    # Reports: a generated weekly report, and one entry of the improvement log.
    period = reports.report_period(kind="weekly", day=timezone.localdate())
    run = reports.report_request(kind="weekly", period=period, by=people["manager"])
    reports.report_generate(run_id=run.pk)
    run.refresh_from_db()  # the link names the generation just made
    ids["report"], ids["fmt"] = run.pk, "csv"
    # The manager receives the weekly report: the signed link to its PDF that such an e-mail carries.
    reports.report_subscriptions_set(user=people["manager"], kinds=["weekly"])
    ids["report_link"] = report_links.report_link_token(run=run, user=people["manager"])
    ids["improvement"] = reports.improvement_create(
        by=people["administrator"],
        kind="optimisation",
        title="Second reviewer on the night shift",
        made_on=timezone.localdate(),
    ).pk
    ids["topic"] = CommentTopic.objects.create(label="Delivery, late, parcel", terms=["delivery", "late", "parcel"]).pk
    for persona, person in people.items():
        client = Client()
        client.force_login(person)
        world.sessions[persona] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return world


def signed_in_client(world: World, persona: str, **options: Any) -> Client:
    """A test client carrying the persona's session, as after `force_login`."""
    client = Client(**options)
    client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[persona]
    return client


def _id_document() -> SimpleUploadedFile:
    return SimpleUploadedFile("passport.png", PNG, content_type="image/png")


def _listing(seller: User, title: str, **fields: Any) -> Any:
    return _committed(
        lambda: marketplace.listing_create(
            seller=seller,
            title=title,
            description="Used for a year, no scratches, with the charger and the box. Collection in Sandton.",
            price=Decimal("2500.00"),
            currency="ZAR",
            category=Category.objects.get(slug="phones"),
            region="Gauteng",
            **fields,
        )
    )


def _flag(reporter: User, listing: Any) -> Case:
    _committed(
        lambda: moderation.flag_create(
            reporter=reporter, kind="listing", object_id=listing.pk, reason="fraud", comment="Looks off"
        )
    )
    return Case.objects.get(kind="listing", object_id=listing.pk)
