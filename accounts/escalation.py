"""A reviewer who cannot decide a registration escalates it to the administrators, with a reason; the guidelines
say what makes a registration legitimate. The 48-hour clock keeps running: escalation hands the decision up, it
does not buy time (000: "always aim for resolution within the target timeframe")."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from saypro.audit.services import audit_record
from saypro.dispatch import after_commit
from saypro.errors import DomainError, InvalidInput

from .models import DECIDED_STATUSES, Registration, ReviewGuidelines, User

ESCALATE_ACTION = "registration.escalate_to_admins"
MIN_REASON = 10

DEFAULT_GUIDELINES = """\
A registration is legitimate when the person is who they say they are, may use the marketplace, and accepts its
terms. Approve it within 48 hours of submission; reject it only for a reason you can name to the applicant.

What to check
- The e-mail address and the phone number are confirmed (the evidence panel shows when).
- The name, country and age band are plausible together; applicants under 18 are refused at sign-up.
- The ID document, when one was uploaded, matches the name; tick "ID checked" once you looked.
- The applicant accepted the privacy notice and the terms in force.

Signs of fraud
- Several sign-ups from one address, network or phone in a short time (see "Other registrations sharing…").
- A disposable e-mail domain, a form filled in a few seconds, the hidden field filled.
- A phone or address already tied to a rejected or banned account.

When you cannot decide
- Missing or unclear information: request it from the applicant (the clock pauses while they answer).
- Anything else you cannot judge (a legal question, a possible impersonation, a partner's account): escalate
  to the administrators with what you found. Escalate early: the 48-hour deadline still applies.
"""


def registration_escalate(*, registration: Registration, by: User, reason: str) -> Registration:
    """Hand a pending registration to the administrators, once; they are e-mailed at once."""
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise InvalidInput(
            "Say why you escalate it.",
            fields={"reason": [f"Write at least {MIN_REASON} characters for the administrators."]},
        )
    with transaction.atomic():
        registration = Registration.objects.select_for_update().get(pk=registration.pk)
        if registration.status in DECIDED_STATUSES:
            raise DomainError(f"Registration #{registration.pk} is already decided.", code="already_decided")
        # Compare-and-set as well as the lock (SQLite has none): two reviewers escalating at once make one escalation.
        now = timezone.now()
        escalated = Registration.objects.filter(pk=registration.pk, escalated_at__isnull=True).update(
            escalated_at=now, escalated_by=by, escalation_reason=reason[:2000]
        )
        if escalated != 1:
            raise DomainError(f"Registration #{registration.pk} is already escalated.", code="already_escalated")
        registration.refresh_from_db()
        audit_record(actor=by, action=ESCALATE_ACTION, target=registration, reason=reason[:2000])
        after_commit("accounts.tasks.send_registration_escalation", registration.pk)
    return registration


def guidelines() -> ReviewGuidelines:
    """The one set of guidelines, written from the registration documents until an administrator edits it."""
    found, _ = ReviewGuidelines.objects.get_or_create(pk=1, defaults={"text": DEFAULT_GUIDELINES})
    return found


def guidelines_blocks(text: str) -> list[tuple[str, list[str]]]:
    """The guidelines as blocks for the page: a paragraph, or a bullet list (lines starting "-", continued by the
    lines under them) under an optional heading line. Plain text keeps the admin's editing simple and the page free
    of anyone's markup."""
    blocks: list[tuple[str, list[str]]] = []
    for chunk in text.replace("\r\n", "\n").split("\n\n"):
        lead: list[str] = []
        bullets: list[str] = []
        for line in (line.strip() for line in chunk.splitlines()):
            if line.startswith("-"):
                bullets.append(line.removeprefix("-").strip())
            elif line and bullets:
                bullets[-1] = f"{bullets[-1]} {line}"
            elif line:
                lead.append(line)
        if lead:
            blocks.append(("heading" if bullets else "paragraph", [" ".join(lead)]))
        if bullets:
            blocks.append(("list", bullets))
    return blocks
