"""Accepted work for the lost-task drills, and the tally: attempted, done, lost, doubled.

The drill process accepts work through the apps' services, as the API would: sign-ups (screening, the
acknowledgement and the verification e-mail follow after commit), conversations (triage, and detection of the
first message) and listings (detection). Each service publishes its tasks to the drill's Redis when its
transaction commits.

An item is done when every follow-up happened: a registration screened and acknowledged (its e-mail in the
mail folder), a conversation triaged and its first message checked, a listing checked. An effect counted
twice (two screening audit entries, two acknowledgement e-mails, two categorisations, two detections) counts
as doubled.
"""

from __future__ import annotations

import email
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

SEPARATOR = "-" * 79


@dataclass
class Accepted:
    registrations: list[int] = field(default_factory=list)
    conversations: list[int] = field(default_factory=list)
    listings: list[int] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return len(self.registrations) + len(self.conversations) + len(self.listings)


def accept(*, signups: int, conversations: int, listings: int, seed: int = 1) -> Accepted:
    from accounts import services as accounts
    from accounts.models import User
    from marketplace import services as marketplace
    from marketplace.models import Category
    from messaging import services as messaging

    rng = random.Random(seed)
    accepted = Accepted()
    for n in range(signups):
        registration = accounts.registration_start(
            email=f"applicant{n}@example.com",
            password="a-long-and-unusual-passphrase",
            full_name=f"Applicant {n}",
            phone=f"+27 82 {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}",
            country="ZA",
            region="Gauteng",
            age_band="25-34",
            ip=f"198.51.{n // 200}.{n % 200 + 1}",
            form_seconds=40.0,
        )
        accepted.registrations.append(accounts.registration_submit(registration=registration).pk)
    category = Category.objects.get(slug="phones")
    questions = [
        "My payment did not go through, the card was charged twice",
        "How do I change the photos of my ad?",
        "A buyer asked me to pay a deposit outside the platform",
        "asdf qwer",
    ]
    for n in range(conversations):
        user = User.objects.create_user(email=f"writer{n}@example.com", password=None, full_name=f"Writer {n}")
        conversation = messaging.conversation_start(user=user, subject=f"Question {n}", body=rng.choice(questions))
        accepted.conversations.append(conversation.pk)
    for n in range(listings):
        seller = User.objects.create_user(email=f"seller{n}@example.com", password=None, full_name=f"Seller {n}")
        listing = marketplace.listing_create(
            seller=seller,
            title=f"Samsung Galaxy A{n % 50 + 10}, 64 GB, good condition",
            description="Used for a year, no scratches, with the charger and the box. Collection in Sandton.",
            price=Decimal(1500 + n),
            currency="ZAR",
            category=category,
            region="Gauteng",
        )
        accepted.listings.append(listing.pk)
    return accepted


def sent_mail(mail_dir: Path) -> Counter[tuple[str, str]]:
    """(recipient, subject) of every e-mail the file backend wrote."""
    sent: Counter[tuple[str, str]] = Counter()
    for path in mail_dir.glob("*.log") if mail_dir.exists() else []:
        for chunk in path.read_text(errors="replace").split(SEPARATOR):
            if chunk.strip():
                message = email.message_from_string(chunk.strip())
                sent[(str(message["To"]), str(message["Subject"]))] += 1
    return sent


@dataclass
class Tally:
    attempted: int
    done: int
    doubled: int
    waiting: dict[str, int]

    @property
    def lost(self) -> int:
        return self.attempted - self.done

    def line(self) -> str:
        return f"attempted {self.attempted} / done {self.done} / lost {self.lost} / doubled {self.doubled}"


def tally(accepted: Accepted, mail_dir: Path) -> Tally:
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Count

    from accounts.models import Registration, RegistrationStatus
    from marketplace.models import Listing
    from messaging.models import Conversation, Message, MessageKind
    from moderation.models import Detection
    from saypro.audit.models import AuditEntry

    def audit_counts(action: str) -> dict[str, int]:
        return dict(AuditEntry.objects.filter(action=action).values_list("target_id").annotate(n=Count("pk")))

    def detections(model: type) -> dict[int, int]:
        kind = ContentType.objects.get_for_model(model)
        return dict(Detection.objects.filter(content_type=kind).values_list("object_id").annotate(n=Count("pk")))

    mail = sent_mail(mail_dir)
    doubled = sum(n - 1 for n in mail.values() if n > 1)
    waiting: Counter[str] = Counter()
    done = 0

    screened = audit_counts("registration.screen")
    for registration in Registration.objects.filter(pk__in=accepted.registrations).select_related("user"):
        acks = sum(n for (to, subject), n in mail.items() if to == registration.user.email and "received" in subject)
        doubled += max(screened.get(str(registration.pk), 0) - 1, 0)
        if registration.status == RegistrationStatus.SCREENING:
            waiting["screening"] += 1
        elif not acks:
            waiting["acknowledgement"] += 1
        else:
            done += 1

    categorised = audit_counts("conversation.categorise")
    message_checks = detections(Message)
    # One message from the user per conversation in these drills: the one detection must check.
    firsts = dict(
        Message.objects.filter(conversation_id__in=accepted.conversations, kind=MessageKind.USER).values_list(
            "conversation_id", "pk"
        )
    )
    for conversation in Conversation.objects.filter(pk__in=accepted.conversations):
        doubled += max(categorised.get(str(conversation.pk), 0) - 1, 0)
        doubled += max(message_checks.get(firsts[conversation.pk], 0) - 1, 0)
        if conversation.triage_pending_since is not None:
            waiting["triage"] += 1
        elif firsts[conversation.pk] not in message_checks:
            waiting["message detection"] += 1
        else:
            done += 1

    listing_checks = detections(Listing)
    for pk in accepted.listings:
        doubled += max(listing_checks.get(pk, 0) - 1, 0)
        if pk in listing_checks:
            done += 1
        else:
            waiting["listing detection"] += 1
    return Tally(attempted=accepted.attempted, done=done, doubled=doubled, waiting=dict(waiting))
