"""Every write to conversations: users' messages, the team's replies and notes, categories, assignment,
escalation, resolution, and moderation's hide and restore.

Each transition locks the conversation, guards its state, records an audit entry, keeps the two SLA clocks in
step and adds an activity line to the thread. Classification, routing and e-mail run after commit in Celery
tasks. The clocks:

- `message.first_response` starts at the first user message nobody has answered yet and stops at the next
  human reply (the automatic acknowledgement does not stop it), or when a person resolves the conversation.
- `message.resolution` starts at the first user message, is measured against the policy of the conversation's
  category (retargeted when the category changes), pauses while waiting on the user and stops at resolution.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.routing import agent_pick, users_with_perm
from saypro import ratelimit
from saypro.audit.services import audit_record
from saypro.dispatch import after_commit
from saypro.errors import DomainError, InvalidInput
from saypro.mail import one_line
from saypro.sla import services as sla
from saypro.sla.models import Policy
from saypro.uploads import sniff, stored_name

from . import classification, integrations
from .models import (
    Attachment,
    Category,
    CategoryLabel,
    CategorySource,
    Conversation,
    Initiator,
    Message,
    MessageKind,
    ResolutionPolicy,
    Status,
    Team,
    TeamMembership,
)

FIRST_RESPONSE = "message.first_response"
RESOLUTION = "message.resolution"
REPLY_PERMISSION = "messaging.reply_conversation"

MAX_BODY = 5000
MAX_SUBJECT = 200
MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
# Complaints and policy reports go to the Classified Office when escalated, by hand or at the 48-hour breach.
ESCALATING_CATEGORIES = (Category.COMPLAINT, Category.POLICY)
CATEGORY_TEAMS: dict[str, str] = {
    Category.GENERAL: Team.GENERAL,
    Category.SUPPORT: Team.SUPPORT,
    Category.COMPLAINT: Team.CLASSIFIED_OFFICE,
    Category.RENEWAL: Team.RENEWALS,
    Category.POLICY: Team.CLASSIFIED_OFFICE,
    Category.MISC: Team.GENERAL,
}


class Then:
    """What happens to the conversation after a reply."""

    WAIT = "waiting"
    OPEN = "open"
    RESOLVE = "resolved"
    CHOICES = ((WAIT, "Wait for the user"), (OPEN, "Keep open"), (RESOLVE, "Resolve"))


def _lock(conversation: Conversation) -> Conversation:
    return (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("user", "assigned_to")
        .get(pk=conversation.pk)
    )


def _save(conversation: Conversation, *fields: str) -> None:
    conversation.save(update_fields=list(fields))


def _event(conversation: Conversation, text: str, *, by: User | None, at: datetime, **data: Any) -> Message:
    """An activity line in the thread (staff only): who assigned, categorised, escalated or resolved, and when."""
    return Message.objects.create(
        conversation=conversation, kind=MessageKind.EVENT, author=by, body=text, created_at=at, data=data
    )


# --- Input ----------------------------------------------------------------------------------------

# What messaging accepts of the types saypro.uploads detects (the declared type is not trusted).
ALLOWED_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf", "text/plain")
ALLOWED_TYPES_TEXT = "JPEG, PNG, GIF, WebP, PDF or plain text"


def clean_body(body: str | None, *, field: str = "body") -> str:
    text = (body or "").strip()
    if not text:
        raise InvalidInput("Write a message.", fields={field: ["The message is empty."]})
    if len(text) > MAX_BODY:
        raise InvalidInput(
            "The message is too long.", fields={field: [f"Use at most {MAX_BODY:,} characters ({len(text):,} now)."]}
        )
    return text


def clean_attachments(files: Sequence[UploadedFile]) -> list[tuple[UploadedFile, str]]:
    """The files with their sniffed types, or InvalidInput naming each file that is refused."""
    if len(files) > MAX_ATTACHMENTS:
        raise InvalidInput(
            "Too many attachments.", fields={"attachments": [f"Attach at most {MAX_ATTACHMENTS} files."]}
        )
    errors: list[str] = []
    cleaned = []
    for upload in files:
        name = upload.name or "file"
        if (upload.size or 0) > MAX_ATTACHMENT_BYTES:
            errors.append(f"{name}: larger than {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB.")
            continue
        if not upload.size:
            errors.append(f"{name}: the file is empty.")
            continue
        content_type = sniff(upload)
        if content_type not in ALLOWED_TYPES:
            errors.append(f"{name}: this type of file is not accepted; attach {ALLOWED_TYPES_TEXT}.")
            continue
        cleaned.append((upload, content_type))
    if errors:
        raise InvalidInput("Some attachments were refused.", fields={"attachments": errors})
    return cleaned


def _attach(message: Message, files: list[tuple[UploadedFile, str]]) -> None:
    for upload, content_type in files:
        name = stored_name(upload.name or "file", content_type)[-200:]
        attachment = Attachment(message=message, name=name, content_type=content_type, size=upload.size or 0)
        attachment.file.save(name, upload, save=False)
        attachment.save()


def _check_user_rate(user: User) -> None:
    ratelimit.check(
        f"message-send:{user.pk}",
        limit=settings.MESSAGING_USER_MESSAGES_PER_HOUR,
        window=3600,
        message="You have sent many messages in the last hour: wait a little before writing again.",
    )


# --- Clocks ---------------------------------------------------------------------------------------


def resolution_policy(category: str) -> Policy:
    """The resolution policy of a category; an uncategorised conversation is measured by the default one."""
    if category:
        row = ResolutionPolicy.objects.select_related("policy__calendar").filter(category=category).first()
        if row is not None:
            return row.policy
    return Policy.objects.select_related("calendar").get(metric=RESOLUTION, is_default=True)


def _user_message_arrived(conversation: Conversation, at: datetime) -> list[str]:
    """Keep the clocks and the status in step with a new user message; returns the changed fields."""
    fields = ["last_message_at"]
    conversation.last_message_at = at
    if conversation.awaiting_reply_since is None:
        conversation.awaiting_reply_since = at
        fields.append("awaiting_reply_since")
        sla.clock_start(metric=FIRST_RESPONSE, target=conversation, at=at)
    if conversation.status == Status.RESOLVED:
        conversation.status = Status.OPEN
        conversation.resolved_at = None
        conversation.resolved_by = None
        fields += ["status", "resolved_at", "resolved_by"]
        _event(conversation, "Reopened by the user's new message.", by=None, at=at)
    elif conversation.status == Status.WAITING:
        conversation.status = Status.OPEN
        fields.append("status")
        sla.clock_resume(metric=RESOLUTION, target=conversation, at=at)
    # Started here for a new conversation, a reopened one, or an outbound one the user now answers.
    sla.clock_start(metric=RESOLUTION, target=conversation, at=at, policy=resolution_policy(conversation.category))
    return fields


def _answered(conversation: Conversation, at: datetime, *, replied: bool) -> list[str]:
    """A person answered (or the conversation was resolved): the first-response clock stops."""
    if conversation.awaiting_reply_since is None:
        return []
    sla.clock_stop(metric=FIRST_RESPONSE, target=conversation, at=at)
    conversation.awaiting_reply_since = None
    fields = ["awaiting_reply_since"]
    if replied and conversation.first_response_at is None:
        conversation.first_response_at = at
        fields.append("first_response_at")
    return fields


# --- Users' messages ------------------------------------------------------------------------------


def conversation_start(
    *,
    user: User,
    body: str,
    subject: str = "",
    attachments: Sequence[UploadedFile] = (),
    ad_category: str = "",
    listing_ref: str = "",
) -> Conversation:
    """A user writes to the admin team: both clocks start, an acknowledgement goes back, triage follows."""
    text = clean_body(body)
    subject = one_line(subject, limit=MAX_SUBJECT + 1)
    if len(subject) > MAX_SUBJECT:
        raise InvalidInput("The subject is too long.", fields={"subject": [f"Use at most {MAX_SUBJECT} characters."]})
    files = clean_attachments(attachments)
    _check_user_rate(user)
    now = timezone.now()
    with transaction.atomic():
        conversation = Conversation.objects.create(
            user=user,
            subject=subject,
            initiated_by=Initiator.USER,
            status=Status.OPEN,
            language=user.language or "",
            region=user.region or "",
            ad_category=(ad_category or "").strip()[:60],
            listing_ref=(listing_ref or "").strip()[:60],
            created_at=now,
            last_message_at=now,
            user_read_at=now,
            triage_pending_since=now,
        )
        message = _store_user_message(conversation, text, files, now)
        _save(conversation, *_user_message_arrived(conversation, now))
        due = sla.clock_open_for(metric=FIRST_RESPONSE, target=conversation)
        Message.objects.create(
            conversation=conversation,
            kind=MessageKind.AUTO,
            body=acknowledgement_text(due.due_at if due else None),
            created_at=now,
        )
        audit_record(actor=user, action="conversation.start", target=conversation)
        after_commit("messaging.tasks.triage_conversation", conversation.pk)
        _submitted(message)
    return conversation


def acknowledgement_text(due: datetime | None) -> str:
    when = f" by {timezone.localtime(due):%A %d %B, %H:%M}" if due else ""
    return (
        "Thank you for your message: it is with our team, and you will have an answer within 24 hours"
        f"{when}. You can add to this conversation at any time."
    )


def _store_user_message(
    conversation: Conversation, text: str, files: list[tuple[UploadedFile, str]], at: datetime
) -> Message:
    message = Message.objects.create(
        conversation=conversation, kind=MessageKind.USER, author=conversation.user, body=text, created_at=at
    )
    _attach(message, files)
    return message


def _submitted(message: Message) -> None:
    """What follows every stored user message, inside its transaction: the moderation check and activity."""
    integrations.user_message_submitted(message)


def message_send(
    *, conversation: Conversation, user: User, body: str, attachments: Sequence[UploadedFile] = ()
) -> Message:
    """The user adds to their conversation (also reopens a resolved one)."""
    text = clean_body(body)
    files = clean_attachments(attachments)
    if conversation.user_id != user.pk:
        raise DomainError("This is not your conversation.", code="not_found")
    _check_user_rate(user)
    now = timezone.now()
    with transaction.atomic():
        conversation = _lock(conversation)
        message = _store_user_message(conversation, text, files, now)
        conversation.user_read_at = now
        fields = ["user_read_at", *_user_message_arrived(conversation, now)]
        if not conversation.category and conversation.triage_pending_since is None:
            conversation.triage_pending_since = now
            fields.append("triage_pending_since")
        _save(conversation, *fields)
        audit_record(actor=user, action="conversation.user_message", target=conversation)
        if not conversation.category:
            after_commit("messaging.tasks.triage_conversation", conversation.pk)
        elif conversation.assigned_to_id is None:
            after_commit("messaging.tasks.route_conversation", conversation.pk)
        _submitted(message)
    return message


# --- The team's messages --------------------------------------------------------------------------


def conversation_start_by_staff(
    *,
    by: User,
    user: User,
    body: str,
    subject: str,
    category: str = "",
    attachments: Sequence[UploadedFile] = (),
    listing_ref: str = "",
    ad_category: str = "",
) -> Conversation:
    """The team writes first (ad status, policy enforcement, a resolution): waiting on the user, no clock yet."""
    text = clean_body(body)
    errors: dict[str, list[str]] = {}
    subject = one_line(subject, limit=MAX_SUBJECT + 1)
    if not subject:
        errors["subject"] = ["Give the conversation a subject."]
    elif len(subject) > MAX_SUBJECT:
        errors["subject"] = [f"Use at most {MAX_SUBJECT} characters."]
    if category and category not in Category.values:
        errors["category"] = ["Choose one of the categories."]
    if user.is_staff:
        errors["user"] = ["Conversations are with marketplace users, not staff."]
    if not user.is_active:
        errors["user"] = ["This account is deactivated."]
    if errors:
        raise InvalidInput("The conversation has invalid fields.", fields=errors)
    files = clean_attachments(attachments)
    now = timezone.now()
    with transaction.atomic():
        conversation = Conversation.objects.create(
            user=user,
            subject=subject,
            initiated_by=Initiator.STAFF,
            started_by=by,
            status=Status.WAITING,
            category=category,
            category_source=CategorySource.AGENT if category else CategorySource.NONE,
            team=CATEGORY_TEAMS.get(category, ""),
            assigned_to=by,
            assigned_at=now,
            language=user.language or "",
            region=user.region or "",
            ad_category=(ad_category or "").strip()[:60],
            listing_ref=(listing_ref or "").strip()[:60],
            created_at=now,
            last_message_at=now,
            staff_read_at=now,
        )
        reply = Message.objects.create(
            conversation=conversation, kind=MessageKind.REPLY, author=by, body=text, created_at=now
        )
        _attach(reply, files)
        audit_record(actor=by, action="conversation.start_outbound", target=conversation)
        after_commit("messaging.tasks.send_reply_email", reply.pk)
    return conversation


def listing_notice_send(
    *,
    user: User,
    subject: str,
    body: str,
    listing_ref: str,
    ad_category: str = "",
    category: str = Category.RENEWAL,
) -> Message | None:
    """Tell a seller what happened to their listing (suspended, removed, expired, due for renewal) as a message
    from the team, e-mailed like any reply, so that they can answer it and it counts in message volume (004).

    The notice joins the listing's conversation while that one waits on the seller; otherwise (none yet, or the
    seller asked something the team has not answered) it starts a conversation of its own, so a notice never
    answers a question nobody read. Staff and deactivated accounts get none."""
    if user.is_staff or not user.is_active:
        return None
    text = clean_body(body)
    now = timezone.now()
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update()
            .filter(user=user, listing_ref=listing_ref, initiated_by=Initiator.STAFF, status=Status.WAITING)
            .order_by("-last_message_at")
            .first()
        )
        if conversation is None:
            conversation = Conversation.objects.create(
                user=user,
                subject=one_line(subject, limit=MAX_SUBJECT),
                initiated_by=Initiator.STAFF,
                status=Status.WAITING,
                category=category,
                category_source=CategorySource.RULE,
                team=CATEGORY_TEAMS.get(category, ""),
                language=user.language or "",
                region=user.region or "",
                ad_category=ad_category.strip()[:60],
                listing_ref=listing_ref[:60],
                created_at=now,
                last_message_at=now,
                staff_read_at=now,
            )
        else:
            conversation.last_message_at = conversation.staff_read_at = now
            _save(conversation, "last_message_at", "staff_read_at")
        notice = Message.objects.create(conversation=conversation, kind=MessageKind.REPLY, body=text, created_at=now)
        audit_record(
            actor=None, action="conversation.listing_notice", target=conversation, data={"listing": listing_ref}
        )
        after_commit("messaging.tasks.send_reply_email", notice.pk)
    return notice


def reply_send(
    *,
    conversation: Conversation,
    by: User,
    body: str,
    then: str = Then.WAIT,
    attachments: Sequence[UploadedFile] = (),
    canned_response_ref: str = "",
) -> Message:
    """A public reply: the first-response clock stops, the user is e-mailed, and the conversation waits on the
    user (the resolution clock pauses), stays open, or is resolved, as the agent chose."""
    text = clean_body(body)
    if then not in (Then.WAIT, Then.OPEN, Then.RESOLVE):
        raise InvalidInput("Choose what happens after the reply.", fields={"then": ["Wait, keep open or resolve."]})
    files = clean_attachments(attachments)
    now = timezone.now()
    with transaction.atomic():
        conversation = _lock(conversation)
        if conversation.status == Status.RESOLVED:
            raise DomainError("This conversation is resolved: reopen it to reply.", code="resolved")
        message = Message.objects.create(
            conversation=conversation,
            kind=MessageKind.REPLY,
            author=by,
            body=text,
            created_at=now,
            canned_response_ref=canned_response_ref[:40],
        )
        _attach(message, files)
        fields = ["last_message_at", "staff_read_at", *_answered(conversation, now, replied=True)]
        conversation.last_message_at = now
        conversation.staff_read_at = now
        if conversation.assigned_to_id is None:
            # Whoever answers an unassigned conversation owns it from now on.
            conversation.assigned_to, conversation.assigned_at = by, now
            fields += ["assigned_to", "assigned_at"]
        if then == Then.WAIT and conversation.status != Status.WAITING:
            conversation.status = Status.WAITING
            fields.append("status")
            sla.clock_pause(metric=RESOLUTION, target=conversation, at=now)
        elif then == Then.OPEN and conversation.status == Status.WAITING:
            conversation.status = Status.OPEN
            fields.append("status")
            sla.clock_resume(metric=RESOLUTION, target=conversation, at=now)
        _save(conversation, *fields)
        audit_record(actor=by, action="conversation.reply", target=conversation)
        after_commit("messaging.tasks.send_reply_email", message.pk)
        if then == Then.RESOLVE:
            _resolve(conversation, by=by, at=now, note="")
    return message


def note_add(*, conversation: Conversation, by: User, body: str) -> Message:
    """An internal note for the team: the user never sees it, and it answers nothing."""
    text = clean_body(body)
    with transaction.atomic():
        conversation = _lock(conversation)
        note = Message.objects.create(conversation=conversation, kind=MessageKind.NOTE, author=by, body=text)
        audit_record(actor=by, action="conversation.note", target=conversation)
    return note


# --- Category -------------------------------------------------------------------------------------


def classification_text(conversation: Conversation) -> str:
    """What the classifier reads: the subject and the user's messages, oldest first."""
    bodies = (
        Message.objects.filter(conversation=conversation, kind=MessageKind.USER, hidden_at__isnull=True)
        .order_by("created_at", "pk")
        .values_list("body", flat=True)[:5]
    )
    return "\n".join([conversation.subject, *bodies]).strip()


def _set_category(conversation: Conversation, category: str, at: datetime) -> list[str]:
    conversation.category = category
    fields = ["category", "team"]
    conversation.team = CATEGORY_TEAMS.get(category, "")
    sla.clock_retarget(metric=RESOLUTION, target=conversation, policy=resolution_policy(category), at=at)
    return fields


def conversation_triage(*, conversation: Conversation) -> Conversation:
    """Categorise on arrival (rules, then the classifier) and route to an agent, once per request for triage:
    a second delivery of the task finds `triage_pending_since` cleared and writes nothing (no second audit
    entry or "left for an agent" event, no second routing)."""
    if conversation.triage_pending_since is None:
        return conversation
    text = classification_text(conversation)
    decision = classification.categorise(text)
    now = timezone.now()
    with transaction.atomic():
        conversation = _lock(conversation)
        # Compare-and-set as well as the row lock (SQLite has no SELECT … FOR UPDATE): two deliveries running
        # at once, one triages.
        claimed = Conversation.objects.filter(
            pk=conversation.pk, triage_pending_since=conversation.triage_pending_since
        ).update(triage_pending_since=None)
        if conversation.triage_pending_since is None or claimed != 1:
            return conversation
        conversation.triage_pending_since = None
        if conversation.category_source == CategorySource.AGENT or conversation.category:
            # An agent (or an earlier run) decided already: never overwrite a decision with a guess.
            pass
        else:
            conversation.category_source = decision.source
            conversation.category_confidence = decision.confidence
            conversation.suggested_category = decision.suggestion
            conversation.category_model_version = decision.model_version
            fields = ["category_source", "category_confidence", "suggested_category", "category_model_version"]
            if decision.category:
                fields += _set_category(conversation, decision.category, now)
                how = "a keyword rule" if decision.source == CategorySource.RULE else "the classifier"
                confidence = f" ({decision.confidence:.0%} sure)" if decision.source == CategorySource.MODEL else ""
                label = Category(decision.category).label
                _event(conversation, f"Categorised as {label} by {how}{confidence}.", by=None, at=now)
            elif decision.suggestion:
                label = Category(decision.suggestion).label
                _event(
                    conversation,
                    f"Left for an agent to categorise: the classifier suggests {label} "
                    f"but is only {decision.confidence or 0:.0%} sure.",
                    by=None,
                    at=now,
                )
            _save(conversation, *fields)
            audit_record(
                actor=None,
                action="conversation.categorise",
                target=conversation,
                data={"category": decision.category, "source": decision.source, "confidence": decision.confidence},
            )
        _route(conversation, at=now)
    return conversation


def conversation_categorise(*, conversation: Conversation, by: User, category: str) -> Conversation:
    """An agent sets or corrects the category: the resolution clock is retargeted and the text kept as a label."""
    if category not in Category.values:
        raise InvalidInput("Choose one of the categories.", fields={"category": ["Choose one of the categories."]})
    text = classification_text(conversation)
    now = timezone.now()
    with transaction.atomic():
        conversation = _lock(conversation)
        if conversation.category == category and conversation.category_source == CategorySource.AGENT:
            return conversation
        previous, previous_source = conversation.category, conversation.category_source
        fields = _set_category(conversation, category, now)
        conversation.category_source = CategorySource.AGENT
        conversation.category_confidence = None
        conversation.suggested_category = ""
        _save(conversation, "category_source", "category_confidence", "suggested_category", *fields)
        if text and conversation.initiated_by == Initiator.USER:
            CategoryLabel.objects.create(
                conversation=conversation,
                text=text,
                category=category,
                previous_category=previous,
                previous_source=previous_source,
                by=by,
                created_at=now,
            )
        label = Category(category).label
        change = f"from {Category(previous).label} " if previous else ""
        _event(conversation, f"Category changed {change}to {label}.", by=by, at=now)
        audit_record(
            actor=by,
            action="conversation.categorise",
            target=conversation,
            data={"category": category, "previous": previous, "source": CategorySource.AGENT},
        )
        if conversation.assigned_to_id is None:
            _route(conversation, at=now)
    return conversation


# --- Assignment -----------------------------------------------------------------------------------


def team_agents(team: str) -> list[int]:
    return list(TeamMembership.objects.filter(team=team).values_list("user_id", flat=True))


def _pick_agent(conversation: Conversation, *, team: str, exclude: Sequence[int] = ()) -> User | None:
    """The least-loaded on-duty agent of the team who speaks the user's language and covers the region.

    agent_pick knows roles, not teams: the agents outside the team are excluded. A team without members
    takes the whole pool; so does the search when nobody on the team speaks the language."""
    members = set(team_agents(team)) if team else set()
    excluded = set(exclude)
    if members:
        everyone = set(users_with_perm(REPLY_PERMISSION).values_list("pk", flat=True))
        excluded |= everyone - members
    for language in (conversation.language, ""):
        agent = agent_pick(permission=REPLY_PERMISSION, language=language, region=conversation.region, exclude=excluded)
        if agent is not None:
            return agent
    return None


def _route(conversation: Conversation, *, at: datetime) -> None:
    """Assign an unassigned, unresolved conversation to an agent of its team, or leave it in the unassigned view."""
    if conversation.assigned_to_id is not None or conversation.status == Status.RESOLVED:
        return
    agent = _pick_agent(conversation, team=conversation.team)
    if agent is None:
        return
    conversation.assigned_to, conversation.assigned_at = agent, at
    _save(conversation, "assigned_to", "assigned_at")
    _event(conversation, f"Assigned to {agent.get_full_name()} automatically.", by=None, at=at, agent=agent.pk)
    audit_record(actor=None, action="conversation.assign", target=conversation, data={"to": agent.pk})


def conversation_route(*, conversation: Conversation) -> Conversation:
    with transaction.atomic():
        conversation = _lock(conversation)
        _route(conversation, at=timezone.now())
    return conversation


def conversation_claim(*, conversation: Conversation, by: User) -> Conversation:
    """Take an unassigned conversation. Two agents claiming at once: exactly one gets it."""
    with transaction.atomic():
        conversation = _lock(conversation)
        if conversation.assigned_to_id == by.pk:
            return conversation
        now = timezone.now()
        # Compare-and-set as well as the row lock: SQLite has no SELECT … FOR UPDATE.
        claimed = Conversation.objects.filter(pk=conversation.pk, assigned_to__isnull=True).update(
            assigned_to=by, assigned_at=now
        )
        if claimed != 1:
            conversation.refresh_from_db(fields=["assigned_to"])
            holder = conversation.assigned_to.get_full_name() if conversation.assigned_to else "someone else"
            raise DomainError(f"Already assigned to {holder}: ask them to transfer it.", code="already_assigned")
        conversation.assigned_to, conversation.assigned_at = by, now
        _event(conversation, f"Claimed by {by.get_full_name()}.", by=by, at=now)
        audit_record(actor=by, action="conversation.claim", target=conversation)
    return conversation


def conversation_transfer(*, conversation: Conversation, by: User, to: User | None, reason: str = "") -> Conversation:
    """Hand the conversation to another agent who may answer, or back to the unassigned view (`to=None`)."""
    if to is not None and not to.has_perm(REPLY_PERMISSION):
        raise InvalidInput("That person cannot answer messages.", fields={"to": ["Choose a support agent."]})
    reason = (reason or "").strip()[:300]
    with transaction.atomic():
        conversation = _lock(conversation)
        if conversation.assigned_to_id == (to.pk if to else None):
            return conversation
        now = timezone.now()
        conversation.assigned_to, conversation.assigned_at = to, now if to else None
        _save(conversation, "assigned_to", "assigned_at")
        who = to.get_full_name() if to else "the unassigned view"
        _event(conversation, f"Transferred to {who}." + (f" {reason}" if reason else ""), by=by, at=now)
        audit_record(
            actor=by,
            action="conversation.transfer",
            target=conversation,
            reason=reason,
            data={"to": to.pk if to else None},
        )
        if to is not None and to.pk != by.pk:
            after_commit("messaging.tasks.send_assignment_email", conversation.pk, to.pk)
    return conversation


# --- Escalation and resolution ----------------------------------------------------------------------


def conversation_escalate(*, conversation: Conversation, by: User | None, reason: str) -> Conversation:
    """To the Classified Office: the status says so, an office agent takes it over and the office is e-mailed.
    `by=None` is the automatic escalation of an unresolved complaint or policy report at its deadline."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why it is escalated.", fields={"reason": ["A reason is required."]})
    with transaction.atomic():
        conversation = _lock(conversation)
        if conversation.status == Status.ESCALATED:
            return conversation
        if conversation.status == Status.RESOLVED:
            raise DomainError("This conversation is resolved: reopen it first.", code="resolved")
        now = timezone.now()
        if conversation.status == Status.WAITING:
            sla.clock_resume(metric=RESOLUTION, target=conversation, at=now)
        conversation.status = Status.ESCALATED
        conversation.escalated_at = now
        conversation.escalation_reason = reason[:300]
        conversation.team = Team.CLASSIFIED_OFFICE
        fields = ["status", "escalated_at", "escalation_reason", "team"]
        office_agent = _pick_agent(conversation, team=Team.CLASSIFIED_OFFICE)
        if office_agent is not None or team_agents(Team.CLASSIFIED_OFFICE):
            # With an office but nobody on duty, it waits unassigned for the office rather than staying put.
            conversation.assigned_to = office_agent
            conversation.assigned_at = now if office_agent else None
            fields += ["assigned_to", "assigned_at"]
        _save(conversation, *fields)
        who = f" and assigned to {office_agent.get_full_name()}" if office_agent else ""
        _event(conversation, f"Escalated to the Classified Office{who}: {reason}", by=by, at=now)
        audit_record(actor=by, action="conversation.escalate", target=conversation, reason=reason)
        after_commit("messaging.tasks.send_escalation_email", conversation.pk)
    return conversation


def _resolve(conversation: Conversation, *, by: User | None, at: datetime, note: str, survey: bool = True) -> bool:
    """Resolve a locked conversation; False when someone else resolved it first."""
    # Compare-and-set on the status as well as the row lock, so that two resolutions end in one on any database.
    claimed = (
        Conversation.objects.filter(pk=conversation.pk)
        .exclude(status=Status.RESOLVED)
        .update(status=Status.RESOLVED, resolved_at=at, resolved_by=by)
    )
    if claimed != 1:
        return False
    conversation.status, conversation.resolved_at, conversation.resolved_by = Status.RESOLVED, at, by
    # Resolving closes the wait for an answer too: a clock must never outlive its conversation.
    fields = _answered(conversation, at, replied=False)
    if fields:
        _save(conversation, *fields)
    sla.clock_stop(metric=RESOLUTION, target=conversation, at=at)
    who = by.get_full_name() if by else "automatically"
    text = f"Resolved by {who}." if by else "Resolved automatically."
    _event(conversation, text + (f" {note}" if note else ""), by=by, at=at)
    audit_record(actor=by, action="conversation.resolve", target=conversation, reason=note)
    if survey and by is not None:
        after_commit("messaging.tasks.send_satisfaction_survey", conversation.pk)
    return True


def conversation_resolve(*, conversation: Conversation, by: User | None, note: str = "") -> Conversation:
    with transaction.atomic():
        conversation = _lock(conversation)
        if conversation.status == Status.RESOLVED:
            return conversation
        _resolve(conversation, by=by, at=timezone.now(), note=(note or "").strip()[:300])
    return conversation


def conversation_reopen(*, conversation: Conversation, by: User) -> Conversation:
    """Back to open: a new resolution clock starts now."""
    with transaction.atomic():
        conversation = _lock(conversation)
        if conversation.status != Status.RESOLVED:
            return conversation
        now = timezone.now()
        conversation.status = Status.OPEN
        conversation.resolved_at = None
        conversation.resolved_by = None
        _save(conversation, "status", "resolved_at", "resolved_by")
        sla.clock_start(metric=RESOLUTION, target=conversation, at=now, policy=resolution_policy(conversation.category))
        _event(conversation, f"Reopened by {by.get_full_name()}.", by=by, at=now)
        audit_record(actor=by, action="conversation.reopen", target=conversation)
    return conversation


def conversations_auto_resolve(*, now: datetime | None = None, limit: int = 500) -> int:
    """Resolve conversations left waiting on the user for MESSAGING_AUTO_RESOLVE_DAYS; returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.MESSAGING_AUTO_RESOLVE_DAYS)
    stale = Conversation.objects.filter(status=Status.WAITING, last_message_at__lte=cutoff).order_by("last_message_at")
    count = 0
    for conversation in stale[:limit]:
        with transaction.atomic():
            locked = _lock(conversation)
            # Re-checked under the lock: the user may have answered since the scan.
            if locked.status != Status.WAITING or locked.last_message_at > cutoff:
                continue
            count += _resolve(locked, by=None, at=now, note="No answer from the user.")
    return count


def conversation_convert_to_ticket(*, conversation: Conversation, by: User) -> Any:
    """Move the conversation into a support ticket (e.g. it needs the support team's tools): the ticket carries
    the thread, and the conversation is resolved with a pointer to it."""
    with transaction.atomic():
        conversation = _lock(conversation)
        if conversation.ticket_ref:
            raise DomainError(f"Already converted to ticket #{conversation.ticket_ref}.", code="converted")
        if conversation.status == Status.RESOLVED:
            raise DomainError("This conversation is resolved: reopen it first.", code="resolved")
        lines = [
            f"{timezone.localtime(m.created_at):%Y-%m-%d %H:%M} {m.author.get_full_name() if m.author else 'SayPro'}:"
            f"\n{m.body}"
            for m in Message.objects.filter(
                conversation=conversation, kind__in=[MessageKind.USER, MessageKind.REPLY], hidden_at__isnull=True
            )
            .select_related("author")
            .order_by("created_at", "pk")
        ]
        body = f"Converted from conversation #{conversation.pk}.\n\n" + "\n\n".join(lines)
        ticket = integrations.ticket_create(conversation=conversation, by=by, body=body[:20_000])
        conversation.ticket_ref = str(ticket.pk)
        _save(conversation, "ticket_ref")
        now = timezone.now()
        _event(conversation, f"Converted to support ticket #{ticket.pk}.", by=by, at=now, ticket=ticket.pk)
        audit_record(actor=by, action="conversation.convert", target=conversation, data={"ticket": ticket.pk})
        _resolve(conversation, by=by, at=now, note=f"Continued in support ticket #{ticket.pk}.", survey=False)
    return ticket


def satisfaction_survey_send(*, conversation: Conversation) -> None:
    """After a resolution by a person, the user rates it 1–5 (not after automatic closing or a conversion)."""
    if conversation.status != Status.RESOLVED or conversation.resolved_by_id is None or conversation.ticket_ref:
        return
    integrations.survey_send(conversation=conversation)


# --- Read state -----------------------------------------------------------------------------------


def conversation_mark_read(*, conversation: Conversation, by: User) -> None:
    """The user, or someone of the team, has seen everything up to now."""
    field = "user_read_at" if conversation.user_id == by.pk else "staff_read_at"
    Conversation.objects.filter(pk=conversation.pk).update(**{field: timezone.now()})


# --- Moderation -----------------------------------------------------------------------------------


def message_hide(*, message: Message, reason: str, by: User | None = None) -> Message:
    """Moderation hides a user's message (spam, fraud). A conversation that has nothing else from the user is
    resolved, so that nobody is asked to answer spam; the clocks stop with it."""
    with transaction.atomic():
        conversation = _lock(message.conversation)
        message = Message.objects.select_for_update().get(pk=message.pk)
        if message.hidden_at is not None:
            return message
        now = timezone.now()
        message.hidden_at = now
        message.hidden_reason = (reason or "")[:300]
        message.save(update_fields=["hidden_at", "hidden_reason"])
        _event(conversation, f"A message of the user was hidden by moderation: {reason}", by=by, at=now)
        audit_record(actor=by, action="message.hide", target=conversation, reason=reason, data={"message": message.pk})
        visible = Message.objects.filter(conversation=conversation, kind=MessageKind.USER, hidden_at__isnull=True)
        if conversation.status != Status.RESOLVED and not visible.exists():
            _resolve(conversation, by=None, at=now, note="Everything the user wrote was hidden by moderation.")
    return message


def message_restore(*, message: Message, by: User | None = None) -> Message:
    """Moderation restores a message it hid: visible again and, if that had closed the conversation, waiting
    for an answer once more (the clocks start now: the team could not answer while it was hidden)."""
    with transaction.atomic():
        conversation = _lock(message.conversation)
        message = Message.objects.select_for_update().get(pk=message.pk)
        if message.hidden_at is None:
            return message
        now = timezone.now()
        message.hidden_at = None
        message.hidden_reason = ""
        message.save(update_fields=["hidden_at", "hidden_reason"])
        _event(conversation, "A hidden message of the user was restored by moderation.", by=by, at=now)
        audit_record(actor=by, action="message.restore", target=conversation, data={"message": message.pk})
        if conversation.status == Status.RESOLVED and conversation.resolved_by_id is None:
            _save(conversation, *_user_message_arrived(conversation, now))
            _route(conversation, at=now)
    return message
