"""Tickets: creating them (web, e-mail, issue reports) and the agents' and requesters' actions on them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from saypro.audit.services import audit_record
from saypro.dispatch import after_commit
from saypro.errors import DomainError, InvalidInput
from saypro.localtime import local_text
from saypro.sla import services as sla
from saypro.uploads import sniff, stored_name
from support.chat_events import queue_changed
from support.models import (
    MISROUTABLE,
    RESOLUTION,
    Category,
    Channel,
    Department,
    DepartmentTransfer,
    KnownIssue,
    Macro,
    Priority,
    Status,
    Ticket,
    TicketAttachment,
    TicketMessage,
    TriageSource,
)
from support.services.base import (
    ANSWER_PERMISSION,
    ATTACHMENT_MAX_BYTES,
    ATTACHMENT_TYPES,
    ATTACHMENTS_PER_MESSAGE,
    BODY_MAX,
    CC_MAX,
    CLIENT_LOG_MAX,
    CONTEXT_FIELD_MAX,
    SUBJECT_MAX,
    _department,
    _lock,
)
from support.services.policies import (
    _apply_policy,
    _policy_for,
    _start_first_response,
    _start_resolution_clock,
    _stop_first_response,
)
from support.services.surveys import survey_send
from support.services.triage import _apply_rules

# --- Creating tickets ------------------------------------------------------------------------------------------


def _clean_text(subject: str, body: str, errors: dict[str, list[str]]) -> tuple[str, str]:
    body = (body or "").strip()
    subject = " ".join((subject or "").split())
    if not body:
        errors["body"] = ["Describe the problem."]
    elif len(body) > BODY_MAX:
        errors["body"] = [f"Use at most {BODY_MAX:,} characters."]
    if not subject and body:
        # A chat or an e-mail without a subject: its first line stands in.
        subject = " ".join(body.splitlines()[0].split())[:SUBJECT_MAX]
    if len(subject) > SUBJECT_MAX:
        errors["subject"] = [f"Use at most {SUBJECT_MAX} characters."]
    return subject, body


def _clean_cc(cc: Iterable[str]) -> list[str]:
    addresses = []
    for raw in cc:
        address = (raw or "").strip().lower()
        if not address:
            continue
        try:
            validate_email(address)
        except Exception:
            raise InvalidInput(
                "A CC address is invalid.", fields={"cc": [f"{raw!r} is not an e-mail address."]}
            ) from None
        if address not in addresses:
            addresses.append(address)
    if len(addresses) > CC_MAX:
        raise InvalidInput("Too many CC addresses.", fields={"cc": [f"Copy at most {CC_MAX} addresses."]})
    return addresses


def _clean_attachments(files: Sequence[UploadedFile]) -> list[tuple[UploadedFile, str]]:
    """The files with their types as read from their first bytes (saypro.uploads), or InvalidInput."""
    if len(files) > ATTACHMENTS_PER_MESSAGE:
        raise InvalidInput(
            "Too many attachments.", fields={"attachments": [f"Attach at most {ATTACHMENTS_PER_MESSAGE} files."]}
        )
    cleaned = []
    for upload in files:
        if (upload.size or 0) > ATTACHMENT_MAX_BYTES:
            raise InvalidInput(
                "An attachment is too large.", fields={"attachments": [f"{upload.name}: at most 10 MB."]}
            )
        content_type = sniff(upload)
        if content_type not in ATTACHMENT_TYPES:
            raise InvalidInput(
                "Unsupported attachment type.",
                fields={"attachments": [f"{upload.name}: attach PDF, JPEG, PNG, GIF or plain text."]},
            )
        cleaned.append((upload, content_type))
    return cleaned


def _attach(message: TicketMessage, files: Sequence[tuple[UploadedFile, str]]) -> None:
    for upload, content_type in files:
        attachment = TicketAttachment(
            message=message,
            # The end is kept: it holds the extension that agrees with the type.
            name=stored_name(upload.name or "attachment", content_type)[-200:],
            content_type=content_type,
            size=upload.size or 0,
        )
        attachment.file.save(attachment.name, upload, save=False)
        attachment.save()


def ticket_create(
    *,
    requester: User,
    subject: str,
    body: str,
    channel: str,
    by: User | None = None,
    department: Department | str | None = None,
    priority: str | None = None,
    category: str | None = None,
    context: Mapping[str, Any] | None = None,
    source: str | None = None,
    cc: Iterable[str] = (),
    attachments: Sequence[UploadedFile] = (),
) -> Ticket:
    """Open a ticket for `requester` and start its first-response and resolution clocks.

    - `channel`: one of `support.models.Channel` ("web", "email", "chat", "social", "in_app", "conversation";
      the last for a messaging conversation converted into a ticket).
    - `by`: the staff member acting (converting a conversation, logging a phone call); None when the requester
      files it. Recorded in the audit trail.
    - `department`: a Department or its slug; given, triage keeps it. Otherwise triage rules run now and the
      classifier after commit.
    - `priority`: "urgent", "high", "normal" (default) or "low"; `category`: see `support.models.Category`.
    - `context`: JSON-serialisable facts about where it came from (e.g. {"conversation_id": 42}); `source`: a
      short reference such as "conversation:42".
    Raises InvalidInput (with field messages) for bad input.
    """
    errors: dict[str, list[str]] = {}
    subject, body = _clean_text(subject, body, errors)
    if channel not in Channel.values:
        errors["channel"] = [f"Choose one of: {', '.join(Channel.values)}."]
    if priority and priority not in Priority.values:
        errors["priority"] = [f"Choose one of: {', '.join(Priority.values)}."]
    if category and category not in Category.values:
        errors["category"] = [f"Choose one of: {', '.join(Category.values)}."]
    if errors:
        raise InvalidInput("The ticket has invalid fields.", fields=errors)
    chosen_department = _department(department)
    cc_emails = _clean_cc(cc)
    files = _clean_attachments(attachments)
    now = timezone.now()
    with transaction.atomic():
        ticket = Ticket(
            requester=requester,
            subject=subject,
            body=body,
            channel=channel,
            category=category or Category.QUESTION,
            department=chosen_department,
            priority=priority or Priority.NORMAL,
            cc_emails=cc_emails,
            language=(requester.language or "")[:10],
            region=(requester.region or "")[:100],
            created_at=now,
            updated_at=now,
            source=(source or "")[:100],
            context=dict(context or {}),
        )
        if chosen_department is not None:
            ticket.triage_source = TriageSource.CALLER
        else:
            _apply_rules(ticket)
        ticket.save()
        if attachments:
            message = TicketMessage.objects.create(
                ticket=ticket, author=requester, kind=TicketMessage.Kind.REQUESTER, body="(attachments)", created_at=now
            )
            _attach(message, files)
        choice = _policy_for(ticket)
        if choice.support_policy is not None:
            ticket.support_policy = choice.support_policy
            ticket.save(update_fields=["support_policy"])
        _start_first_response(ticket, now, choice.first_response)
        sla.clock_start(metric=RESOLUTION, target=ticket, at=now, policy=choice.resolution)
        audit_record(
            actor=by or requester,
            action="ticket.create",
            target=ticket,
            data={"channel": channel, "source": ticket.source} if ticket.source else {"channel": channel},
        )
        after_commit("support.tasks.send_ticket_acknowledgement", ticket.pk)
        after_commit("support.tasks.triage_ticket", ticket.pk)
        _chat_queue_changed(ticket)
    return ticket


def platform_issue_report(
    *,
    requester: User,
    description: str,
    subject: str = "",
    page: str = "",
    app_version: str = "",
    device: str = "",
    listing_id: str = "",
    transaction_id: str = "",
    log: str = "",
) -> Ticket:
    """The marketplace's "Report an issue" button: a platform-issue ticket carrying what the client captured."""
    context: dict[str, Any] = {
        name: str(value).strip()[:CONTEXT_FIELD_MAX]
        for name, value in {
            "page": page,
            "app_version": app_version,
            "device": device,
            "listing_id": listing_id,
            "transaction_id": transaction_id,
        }.items()
        if value
    }
    if log:
        # The end of a log is where the failure is.
        context["log"] = log[-CLIENT_LOG_MAX:]
        context["log_truncated"] = len(log) > CLIENT_LOG_MAX
    technical = Department.objects.filter(slug="technical", is_active=True).first()
    return ticket_create(
        requester=requester,
        subject=subject or f"Problem on {context.get('page') or 'the app'}",
        body=description,
        channel=Channel.IN_APP,
        category=Category.PLATFORM_ISSUE,
        department=technical,
        context=context,
        source="report-issue",
    )


EMAIL_REFERENCE = re.compile(r"\[#(\d+)\]")


def ticket_from_email(*, sender: str, subject: str, body: str, message_id: str = "") -> Ticket:
    """An e-mail to the support address: an answer on the ticket its subject names ("[#123]", as our e-mails
    carry) when the sender is its requester and it is not closed, else a new e-mail ticket. A message id seen
    before returns its ticket again (mail servers retry)."""
    requester = User.objects.filter(email__iexact=(sender or "").strip(), is_active=True).first()
    if requester is None:
        raise InvalidInput("No account uses this address.", code="unknown_sender", fields={"sender": ["Unknown."]})
    source = f"email:{message_id}"[:100] if message_id else ""
    if source:
        seen = Ticket.objects.filter(source=source).first()
        if seen is not None:
            return seen
    reference = EMAIL_REFERENCE.search(subject or "")
    if reference:
        ticket = Ticket.objects.filter(pk=int(reference.group(1)), requester=requester).first()
        if ticket is not None:
            try:
                ticket_requester_reply(ticket=ticket, body=body)
                return ticket
            except TicketClosed:
                pass
    return ticket_create(
        requester=requester,
        subject=EMAIL_REFERENCE.sub("", subject or "").removeprefix("Re:").strip(),
        body=body,
        channel=Channel.EMAIL,
        source=source or None,
    )


# --- Agents' actions ----------------------------------------------------------------------------------------------


class TicketClosed(DomainError):
    code = "ticket_closed"

    def __init__(self, ticket: Ticket):
        super().__init__(f"Ticket #{ticket.pk} is closed: open a new ticket instead.")


def _chat_queue_changed(ticket: Ticket) -> None:
    # Agents' chat panels refetch their queue: a chat arrived, was answered, taken or finished.
    if ticket.channel == Channel.CHAT:
        queue_changed()


def _touch(ticket: Ticket, at: datetime, *fields: str) -> None:
    ticket.updated_at = at
    ticket.save(update_fields=["updated_at", *fields])


def _check_open(ticket: Ticket) -> None:
    if ticket.status == Status.CLOSED:
        raise TicketClosed(ticket)


def ticket_reply(
    *,
    ticket: Ticket,
    by: User,
    body: str,
    public: bool = True,
    macro: Macro | None = None,
    status: str | None = None,
    attachments: Sequence[UploadedFile] = (),
) -> TicketMessage:
    """An agent's public reply (the first one stops the first-response clock) or internal note, optionally
    moving the ticket to `status` in the same step (e.g. reply and solve, reply and ask the user)."""
    body = (body or "").strip()
    if not body:
        raise InvalidInput("Write a reply.", fields={"body": ["Write a reply."]})
    if len(body) > BODY_MAX:
        raise InvalidInput("The reply is too long.", fields={"body": [f"Use at most {BODY_MAX:,} characters."]})
    if status and status not in Status.values:
        raise InvalidInput("Unknown status.", fields={"status": [f"Choose one of: {', '.join(Status.values)}."]})
    files = _clean_attachments(attachments)
    with transaction.atomic():
        ticket = _lock(ticket)
        _check_open(ticket)
        now = timezone.now()
        message = TicketMessage.objects.create(
            ticket=ticket,
            author=by,
            kind=TicketMessage.Kind.REPLY if public else TicketMessage.Kind.NOTE,
            body=body,
            created_at=now,
            macro=macro,
        )
        _attach(message, files)
        if macro is not None:
            Macro.objects.filter(pk=macro.pk).update(usage_count=F("usage_count") + 1)
            status = status or macro.set_status or None
        fields = []
        if public and ticket.first_responded_at is None:
            ticket.first_responded_at = now
            fields.append("first_responded_at")
            _stop_first_response(ticket, now)
        if public and ticket.status == Status.NEW:
            ticket.status = Status.OPEN
            fields.append("status")
        if ticket.assignee_id is None and public:
            # Answering a ticket takes it.
            ticket.assignee = by
            fields.append("assignee")
        _touch(ticket, now, *fields)
        audit_record(actor=by, action="ticket.reply" if public else "ticket.note", target=ticket)
        _chat_queue_changed(ticket)
        if public:
            # In a live chat the user is likely reading along: the e-mail waits, and goes only if they have not
            # read the reply by then (support.tasks.send_ticket_reply).
            live = ticket.channel == Channel.CHAT and ticket.chat_ended_at is None
            delay = settings.SUPPORT_CHAT_EMAIL_DELAY_SECONDS if live else 0
            after_commit("support.tasks.send_ticket_reply", message.pk, countdown=delay or None)
        if status and status != ticket.status:
            _set_status(ticket, by=by, status=status, at=now)
    return message


def ticket_requester_reply(*, ticket: Ticket, body: str, attachments: Sequence[UploadedFile] = ()) -> TicketMessage:
    """The requester answers: a pending ticket is open again (its clock resumes); a solved one reopens within
    SUPPORT_REOPEN_DAYS (a new resolution clock starts); a closed ticket takes no more answers."""
    body = (body or "").strip()
    if not body:
        raise InvalidInput("Write a message.", fields={"body": ["Write a message."]})
    if len(body) > BODY_MAX:
        raise InvalidInput("The message is too long.", fields={"body": [f"Use at most {BODY_MAX:,} characters."]})
    files = _clean_attachments(attachments)
    with transaction.atomic():
        ticket = _lock(ticket)
        now = timezone.now()
        _check_open(ticket)
        if ticket.status == Status.SOLVED and (
            ticket.solved_at is None or now - ticket.solved_at > timedelta(days=settings.SUPPORT_REOPEN_DAYS)
        ):
            # Past the reopen window (the beat has not closed it yet): the answer belongs in a new ticket.
            raise TicketClosed(ticket)
        message = TicketMessage.objects.create(
            ticket=ticket, author=ticket.requester, kind=TicketMessage.Kind.REQUESTER, body=body, created_at=now
        )
        _attach(message, files)
        if ticket.status == Status.PENDING:
            ticket.status = Status.OPEN
            sla.clock_resume(metric=RESOLUTION, target=ticket, at=now)
            _touch(ticket, now, "status")
        elif ticket.status == Status.SOLVED:
            ticket.status = Status.OPEN
            ticket.solved_at = None
            ticket.reopened_count += 1
            _touch(ticket, now, "status", "solved_at", "reopened_count")
            _start_resolution_clock(ticket, now)
            audit_record(actor=ticket.requester, action="ticket.reopen", target=ticket)
        else:
            _touch(ticket, now)
        audit_record(actor=ticket.requester, action="ticket.requester_reply", target=ticket)
        _chat_queue_changed(ticket)
    return message


ALLOWED_STATUS_CHANGES: dict[str, set[str]] = {
    Status.NEW: {Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED},
    Status.OPEN: {Status.PENDING, Status.ON_HOLD, Status.SOLVED},
    Status.PENDING: {Status.OPEN, Status.ON_HOLD, Status.SOLVED},
    Status.ON_HOLD: {Status.OPEN, Status.PENDING, Status.SOLVED},
    Status.SOLVED: {Status.OPEN, Status.CLOSED},
    Status.CLOSED: set(),
}


def _set_status(ticket: Ticket, *, by: User | None, status: str, at: datetime) -> None:
    """Move a locked ticket to `status` and keep its clocks in step."""
    old = ticket.status
    if status == old:
        return
    if status not in ALLOWED_STATUS_CHANGES[old]:
        if old == Status.CLOSED:
            raise TicketClosed(ticket)
        raise DomainError(
            f"A {Status(old).label.lower()} ticket cannot be set to {Status(status).label.lower()}.",
            fields={"status": ["Not possible from the current status."]},
        )
    fields = ["status"]
    if old == Status.PENDING:
        sla.clock_resume(metric=RESOLUTION, target=ticket, at=at)
    if status == Status.PENDING:
        sla.clock_pause(metric=RESOLUTION, target=ticket, at=at)
    if status == Status.SOLVED:
        ticket.solved_at = at
        fields.append("solved_at")
        _stop_first_response(ticket, at)
        sla.clock_stop(metric=RESOLUTION, target=ticket, at=at)
    if old == Status.SOLVED and status == Status.OPEN:
        ticket.solved_at = None
        ticket.reopened_count += 1
        fields += ["solved_at", "reopened_count"]
        _start_resolution_clock(ticket, at)
    if status == Status.CLOSED:
        ticket.closed_at = at
        fields.append("closed_at")
    ticket.status = status
    _touch(ticket, at, *fields)
    audit_record(actor=by, action="ticket.status", target=ticket, data={"from": old, "to": status})
    _chat_queue_changed(ticket)
    if status == Status.SOLVED and not ticket.requester.is_staff:
        ticket_id, solved_at = ticket.pk, at
        transaction.on_commit(lambda: _survey_for_ticket(ticket_id, solved_at))


def _survey_for_ticket(ticket_id: int, solved_at: datetime) -> None:
    ticket = Ticket.objects.select_related("requester", "assignee", "department").get(pk=ticket_id)
    survey_send(
        target=ticket,
        requester=ticket.requester,
        agent=ticket.assignee,
        department=ticket.department,
        channel=ticket.channel,
        resolved_at=solved_at,
    )


def ticket_set_status(*, ticket: Ticket, by: User | None, status: str) -> Ticket:
    if status not in Status.values:
        raise InvalidInput("Unknown status.", fields={"status": [f"Choose one of: {', '.join(Status.values)}."]})
    with transaction.atomic():
        ticket = _lock(ticket)
        _set_status(ticket, by=by, status=status, at=timezone.now())
    return ticket


def ticket_set_priority(*, ticket: Ticket, by: User, priority: str) -> Ticket:
    """A new priority can mean another policy: the clocks are measured against its targets from now on."""
    if priority not in Priority.values:
        raise InvalidInput("Unknown priority.", fields={"priority": [f"Choose one of: {', '.join(Priority.values)}."]})
    with transaction.atomic():
        ticket = _lock(ticket)
        _check_open(ticket)
        if ticket.priority == priority:
            return ticket
        old, now = ticket.priority, timezone.now()
        ticket.priority = priority
        _touch(ticket, now, "priority")
        _apply_policy(ticket, now)
        audit_record(actor=by, action="ticket.priority", target=ticket, data={"from": old, "to": priority})
    return ticket


def ticket_set_department(*, ticket: Ticket, by: User, department: Department | str) -> Ticket:
    """An agent's transfer, kept as a training label; when triage had chosen, it counts as a misroute."""
    target = _department(department)
    if target is None:
        raise InvalidInput("Choose a department.", fields={"department": ["Choose a department."]})
    with transaction.atomic():
        ticket = _lock(ticket)
        _check_open(ticket)
        if ticket.department_id == target.pk and not ticket.needs_triage:
            return ticket
        now = timezone.now()
        DepartmentTransfer.objects.create(
            ticket=ticket,
            from_department=ticket.department,
            to_department=target,
            corrected_source=ticket.triage_source,
            text=f"{ticket.subject}\n{ticket.body}",
            by=by,
            at=now,
        )
        old = ticket.department.slug if ticket.department else ""
        changed = ["department", "triage_source", "needs_triage"]
        if ticket.triage_source in MISROUTABLE and ticket.misrouted_at is None:
            ticket.misrouted_at = now
            changed.append("misrouted_at")
        ticket.department = target
        ticket.triage_source = TriageSource.AGENT
        ticket.needs_triage = False
        _touch(ticket, now, *changed)
        _apply_policy(ticket, now)
        audit_record(actor=by, action="ticket.department", target=ticket, data={"from": old, "to": target.slug})
        if ticket.assignee_id is None:
            after_commit("support.tasks.route_ticket", ticket.pk)
    return ticket


class AlreadyTaken(DomainError):
    code = "already_taken"


def ticket_assign(*, ticket: Ticket, by: User, assignee: User | None, take_over: bool = False) -> Ticket:
    """Assign (or, with None, release). Taking a ticket someone else holds needs `take_over`, so two agents
    clicking "Take" at once end with one owner and the other is told who."""
    if assignee is not None and not assignee.has_perm(ANSWER_PERMISSION):
        raise InvalidInput("This person cannot answer tickets.", fields={"assignee": ["Not a support agent."]})
    with transaction.atomic():
        ticket = _lock(ticket)
        _check_open(ticket)
        current = ticket.assignee_id
        new = assignee.pk if assignee else None
        if current == new:
            return ticket
        # Compare-and-set on the current owner as well as the lock (SQLite has no SELECT … FOR UPDATE).
        if current is not None and not take_over and new is not None:
            holder = User.objects.get(pk=current)
            raise AlreadyTaken(f"Ticket #{ticket.pk} is already assigned to {holder.get_full_name()}.")
        claimed = Ticket.objects.filter(pk=ticket.pk, assignee_id=current).update(assignee_id=new)
        if claimed != 1:
            raise AlreadyTaken(f"Ticket #{ticket.pk} was just assigned to someone else.")
        ticket.assignee = assignee
        _touch(ticket, timezone.now())
        audit_record(actor=by, action="ticket.assign", target=ticket, data={"from": current, "to": new})
        _chat_queue_changed(ticket)
    return ticket


def ticket_take(*, ticket: Ticket, by: User) -> Ticket:
    return ticket_assign(ticket=ticket, by=by, assignee=by)


def ticket_set_cc(*, ticket: Ticket, by: User, cc: Iterable[str]) -> Ticket:
    addresses = _clean_cc(cc)
    with transaction.atomic():
        ticket = _lock(ticket)
        ticket.cc_emails = addresses
        _touch(ticket, timezone.now(), "cc_emails")
        audit_record(actor=by, action="ticket.cc", target=ticket, data={"cc": addresses})
    return ticket


def ticket_merge(*, ticket: Ticket, into: Ticket, by: User) -> Ticket:
    """Merge a duplicate into another ticket: its text and messages become a note there, its requester is
    copied, and the duplicate closes (its clocks stop)."""
    if ticket.pk == into.pk:
        raise InvalidInput("A ticket cannot be merged into itself.", fields={"into": ["Choose another ticket."]})
    with transaction.atomic():
        # Lock both in id order, so two opposite merges at once cannot deadlock.
        first, second = sorted([ticket, into], key=lambda t: t.pk)
        locked = {t.pk: _lock(t) for t in (first, second)}
        source, target = locked[ticket.pk], locked[into.pk]
        if source.merged_into_id == target.pk:
            return target
        if not source.is_open:
            raise DomainError(f"Ticket #{source.pk} is {source.get_status_display().lower()}: it cannot be merged.")
        if not target.is_open:
            raise DomainError(f"Ticket #{target.pk} is {target.get_status_display().lower()}: merge into an open one.")
        now = timezone.now()
        history = "\n\n".join(
            f"{m.get_kind_display()} ({local_text(m.created_at)}): {m.body}" for m in source.messages.all()
        )
        TicketMessage.objects.create(
            ticket=target,
            author=by,
            kind=TicketMessage.Kind.NOTE,
            body=f"Merged ticket #{source.pk} “{source.subject}”:\n\n{source.body}"
            + (f"\n\n{history}" if history else ""),
            created_at=now,
        )
        if source.requester_id != target.requester_id and source.requester.email not in target.cc_emails:
            target.cc_emails = [*target.cc_emails, source.requester.email][:CC_MAX]
        _touch(target, now, "cc_emails")
        source.merged_into = target
        source.status = Status.CLOSED
        source.closed_at = now
        _touch(source, now, "merged_into", "status", "closed_at")
        _stop_first_response(source, now)
        sla.clock_stop(metric=RESOLUTION, target=source, at=now)
        audit_record(actor=by, action="ticket.merge", target=source, data={"into": target.pk})
        audit_record(actor=by, action="ticket.merged_in", target=target, data={"from": source.pk})
    return target


def ticket_link_known_issue(*, ticket: Ticket, by: User, known_issue: KnownIssue | None) -> Ticket:
    with transaction.atomic():
        ticket = _lock(ticket)
        ticket.known_issue = known_issue
        fields = ["known_issue"]
        if known_issue is not None and ticket.category != Category.PLATFORM_ISSUE:
            ticket.category = Category.PLATFORM_ISSUE
            fields.append("category")
        _touch(ticket, timezone.now(), *fields)
        audit_record(
            actor=by, action="ticket.known_issue", target=ticket, data={"known_issue": getattr(known_issue, "pk", None)}
        )
    return ticket


def tickets_close_solved(*, now: datetime | None = None) -> int:
    """Close tickets solved longer ago than the reopen window (the beat runs this); returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.SUPPORT_REOPEN_DAYS)
    return Ticket.objects.filter(status=Status.SOLVED, solved_at__lt=cutoff).update(
        status=Status.CLOSED, closed_at=now, updated_at=now
    )
