"""Every write to support: tickets and their transitions, triage and routing, macros, surveys, points, help center.

Each ticket transition locks the row, guards the current state, records an audit entry and starts, pauses,
resumes, stops or re-targets the ticket's two clocks (`ticket.first_response`, `ticket.resolution`) through the
SLA kernel. E-mail, classification and assignment run after commit in Celery tasks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from accounts.routing import agent_pick
from saypro.audit.services import audit_record
from saypro.dispatch import after_commit
from saypro.errors import DomainError, InvalidInput
from saypro.localtime import local_text
from saypro.ml import services as ml
from saypro.sla import services as sla
from saypro.sla.models import Policy
from saypro.uploads import sniff, stored_name

from .models import (
    FIRST_RESPONSE,
    RESOLUTION,
    Article,
    ArticleVote,
    Category,
    Channel,
    Department,
    DepartmentTransfer,
    Guidance,
    KnownIssue,
    Macro,
    PointsEntry,
    Priority,
    Status,
    SupportPolicy,
    Survey,
    SurveyFollowUp,
    Ticket,
    TicketAttachment,
    TicketMessage,
    TriageRule,
    TriageSource,
)

TRIAGE_MODEL = "support.triage"
ANSWER_PERMISSION = "support.reply_ticket"
SUBJECT_MAX = 200
BODY_MAX = 20_000
ATTACHMENT_TYPES = {"application/pdf", "image/jpeg", "image/png", "image/gif", "text/plain"}
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENTS_PER_MESSAGE = 5
CC_MAX = 10
# "Report an issue": the client's log excerpt is kept up to this many characters (the end, where the error is).
CLIENT_LOG_MAX = 8_000
CONTEXT_FIELD_MAX = 200




def _lock(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update(of=("self",)).select_related("department", "requester").get(pk=ticket.pk)


def _department(value: Department | str | None, field: str = "department") -> Department | None:
    if value is None or value == "":
        return None
    if isinstance(value, Department):
        return value
    department = Department.objects.filter(slug=value, is_active=True).first()
    if department is None:
        raise InvalidInput("Unknown department.", fields={field: [f"No active department {value!r}."]})
    return department


# --- SLA policies ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyChoice:
    """The support policy that matched (None: the kernel's defaults) and the kernel policies it maps to."""

    support_policy: SupportPolicy | None
    first_response: Policy
    resolution: Policy


def policy_choose(*, priority: str, channel: str, department: Department | None) -> PolicyChoice:
    """The first active support policy, in position order, whose conditions all match and which has a target
    for the priority; without one, the kernel's default policies of both metrics."""
    policies = SupportPolicy.objects.filter(is_active=True).prefetch_related(
        "departments", "targets__first_response__calendar", "targets__resolution__calendar"
    )
    for policy in policies:
        if policy.priorities and priority not in policy.priorities:
            continue
        if policy.channels and channel not in policy.channels:
            continue
        departments = {d.pk for d in policy.departments.all()}
        if departments and (department is None or department.pk not in departments):
            continue
        target = next((t for t in policy.targets.all() if t.priority == priority), None)
        if target is None:
            continue
        return PolicyChoice(policy, target.first_response, target.resolution)
    return PolicyChoice(
        None,
        Policy.objects.select_related("calendar").get(metric=FIRST_RESPONSE, is_default=True),
        Policy.objects.select_related("calendar").get(metric=RESOLUTION, is_default=True),
    )


def _policy_for(ticket: Ticket) -> PolicyChoice:
    return policy_choose(priority=ticket.priority, channel=ticket.channel, department=ticket.department)


def _apply_policy(ticket: Ticket, at: datetime) -> None:
    """Re-check the policy after a change of priority, channel or department and move the open clocks to it."""
    choice = _policy_for(ticket)
    chosen = choice.support_policy.pk if choice.support_policy else None
    if ticket.support_policy_id != chosen:
        ticket.support_policy_id = chosen
        ticket.save(update_fields=["support_policy"])
    sla.clock_retarget(metric=FIRST_RESPONSE, target=ticket, policy=choice.first_response, at=at)
    sla.clock_retarget(metric=RESOLUTION, target=ticket, policy=choice.resolution, at=at)


def _start_resolution_clock(ticket: Ticket, at: datetime) -> None:
    sla.clock_start(metric=RESOLUTION, target=ticket, at=at, policy=_policy_for(ticket).resolution)


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
        sla.clock_start(metric=FIRST_RESPONSE, target=ticket, at=now, policy=choice.first_response)
        sla.clock_start(metric=RESOLUTION, target=ticket, at=now, policy=choice.resolution)
        audit_record(
            actor=by or requester,
            action="ticket.create",
            target=ticket,
            data={"channel": channel, "source": ticket.source} if ticket.source else {"channel": channel},
        )
        after_commit("support.tasks.send_ticket_acknowledgement", ticket.pk)
        after_commit("support.tasks.triage_ticket", ticket.pk)
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


# --- Triage and routing ------------------------------------------------------------------------------------------


def _words(text: str) -> str:
    return " " + " ".join(re.findall(r"[\w']+", text.lower())) + " "


def triage_rule_for(text: str) -> TriageRule | None:
    """The first active rule with a keyword (a whole word or phrase) in the text."""
    haystack = _words(text)
    for rule in TriageRule.objects.filter(is_active=True).select_related("department"):
        if any(_words(keyword) in haystack for keyword in rule.keywords if keyword.strip()):
            return rule
    return None


PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


def _apply_rules(ticket: Ticket) -> bool:
    """Let the first matching rule set the department (and raise the priority, set the category) in memory."""
    rule = triage_rule_for(f"{ticket.subject}\n{ticket.body}")
    if rule is None:
        return False
    if rule.department_id and ticket.department_id is None:
        ticket.department = rule.department
        ticket.triage_source = TriageSource.RULE
        ticket.triage_rule = rule
        ticket.needs_triage = False
    if rule.priority and PRIORITY_RANK[Priority(rule.priority)] > PRIORITY_RANK[Priority(ticket.priority)]:
        ticket.priority = rule.priority
    if rule.category and ticket.category == Category.QUESTION:
        ticket.category = rule.category
    return rule.department_id is not None


def ticket_triage(*, ticket: Ticket, again: bool = False) -> Ticket:
    """Give an untriaged ticket its department: rules first, then the classifier, whose version and calibrated
    confidence are kept; below the version's routing threshold (SUPPORT_TRIAGE_MIN_CONFIDENCE when it has none)
    the ticket waits in the triage view. Safe to run twice: a ticket already left in the triage view is triaged
    again only when asked (`again`, after a new model)."""
    with transaction.atomic():
        ticket = _lock(ticket)
        if ticket.department_id is not None or not ticket.is_open or (ticket.needs_triage and not again):
            return ticket
        before = (ticket.priority, ticket.category)
        if not _apply_rules(ticket):
            prediction = ml.classify(TRIAGE_MODEL, f"{ticket.subject}\n{ticket.body}")
            if prediction is None:
                ticket.needs_triage = True
            else:
                ticket.triage_model_version = prediction.version
                ticket.triage_confidence = prediction.confidence
                ticket.triage_label = prediction.label[:40]
                department = Department.objects.filter(slug=prediction.label, is_active=True).first()
                # The version's own threshold, chosen on its validation set to keep automatic routing 97 % right;
                # a version trained on too little to choose one falls back to the configured minimum.
                threshold = prediction.threshold(ml.AUTO, settings.SUPPORT_TRIAGE_MIN_CONFIDENCE)
                if department is not None and threshold is not None and prediction.confidence >= threshold:
                    ticket.department = department
                    ticket.triage_source = TriageSource.MODEL
                    ticket.needs_triage = False
                else:
                    ticket.needs_triage = True
        ticket.save(
            update_fields=[
                "department",
                "triage_source",
                "triage_rule",
                "triage_model_version",
                "triage_confidence",
                "triage_label",
                "needs_triage",
                "priority",
                "category",
            ]
        )
        if ticket.department_id is not None or (ticket.priority, ticket.category) != before:
            _apply_policy(ticket, timezone.now())
        audit_record(
            actor=None,
            action="ticket.triage",
            target=ticket,
            reason=triage_explanation(ticket),
        )
    return ticket


def triage_explanation(ticket: Ticket) -> str:
    """Why the ticket is in its department, in words an agent can check."""
    if ticket.triage_source == TriageSource.RULE and ticket.triage_rule is not None:
        return f"Rule “{ticket.triage_rule.name}” matched."
    if ticket.triage_source == TriageSource.MODEL and ticket.triage_confidence is not None:
        return f"Classifier v{ticket.triage_model_version}: {ticket.triage_label} ({ticket.triage_confidence:.0%})."
    if ticket.triage_source == TriageSource.AGENT:
        return "Set by an agent."
    if ticket.triage_source == TriageSource.CALLER:
        return "Given when the ticket was created."
    if ticket.triage_confidence is not None:
        return (
            f"Classifier v{ticket.triage_model_version} was unsure: {ticket.triage_label} "
            f"({ticket.triage_confidence:.0%}, below its threshold for routing on its own)."
        )
    if ticket.needs_triage:
        return "No rule matched and no classifier is trained yet."
    return "Not triaged yet."


def ticket_route(*, ticket: Ticket, at: datetime | None = None) -> Ticket:
    """Assign an unassigned, triaged ticket to the least-loaded available agent who speaks the requester's language
    and covers their region (members of the ticket's department, when it has members); else leave it queued."""
    with transaction.atomic():
        ticket = _lock(ticket)
        if ticket.assignee_id is not None or not ticket.is_open or ticket.needs_triage:
            return ticket
        exclude: list[int] = []
        if ticket.department is not None:
            members = set(ticket.department.members.values_list("pk", flat=True))
            if members:
                exclude = list(
                    User.objects.filter(agent_profile__isnull=False)
                    .exclude(pk__in=members)
                    .values_list("pk", flat=True)
                )
        agent = agent_pick(
            permission=ANSWER_PERMISSION, language=ticket.language, region=ticket.region, at=at, exclude=exclude
        )
        if agent is None:
            return ticket
        # Compare-and-set: an agent who took the ticket meanwhile keeps it.
        if Ticket.objects.filter(pk=ticket.pk, assignee__isnull=True).update(assignee=agent) == 1:
            ticket.assignee = agent
            audit_record(actor=None, action="ticket.assign", target=ticket, data={"assignee": agent.pk})
    return ticket


# --- Agents' actions ----------------------------------------------------------------------------------------------


class TicketClosed(DomainError):
    code = "ticket_closed"

    def __init__(self, ticket: Ticket):
        super().__init__(f"Ticket #{ticket.pk} is closed: open a new ticket instead.")


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
            sla.clock_stop(metric=FIRST_RESPONSE, target=ticket, at=now)
        if public and ticket.status == Status.NEW:
            ticket.status = Status.OPEN
            fields.append("status")
        if ticket.assignee_id is None and public:
            # Answering a ticket takes it.
            ticket.assignee = by
            fields.append("assignee")
        _touch(ticket, now, *fields)
        audit_record(actor=by, action="ticket.reply" if public else "ticket.note", target=ticket)
        if public:
            after_commit("support.tasks.send_ticket_reply", message.pk)
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
        sla.clock_stop(metric=FIRST_RESPONSE, target=ticket, at=at)
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
        ticket.department = target
        ticket.triage_source = TriageSource.AGENT
        ticket.needs_triage = False
        _touch(ticket, now, "department", "triage_source", "needs_triage")
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
        sla.clock_stop(metric=FIRST_RESPONSE, target=source, at=now)
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


# --- Known issues -------------------------------------------------------------------------------------------------


def known_issue_save(
    *,
    by: User,
    title: str,
    description: str = "",
    status: str = KnownIssue.State.INVESTIGATING,
    fix: str = "",
    known_issue: KnownIssue | None = None,
) -> KnownIssue:
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = ["Give the issue a title."]
    elif len(title) > 200:
        errors["title"] = ["Use at most 200 characters."]
    if status not in KnownIssue.State.values:
        errors["status"] = ["Choose a listed status."]
    if status == KnownIssue.State.FIXED and not (fix or "").strip():
        errors["fix"] = ["Say what fixed it: the transparency summary shows it."]
    if errors:
        raise InvalidInput("The known issue has invalid fields.", fields=errors)
    with transaction.atomic():
        issue = known_issue or KnownIssue(created_by=by)
        was_fixed = issue.status == KnownIssue.State.FIXED and issue.pk is not None
        issue.title, issue.description, issue.status, issue.fix = title, description.strip(), status, fix.strip()
        if status == KnownIssue.State.FIXED and not was_fixed:
            issue.fixed_at = timezone.now()
        elif status != KnownIssue.State.FIXED:
            issue.fixed_at = None
        issue.save()
        audit_record(actor=by, action="knownissue.save", target=issue, data={"status": status})
    return issue


# --- Canned responses (macros) --------------------------------------------------------------------------------------

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}")


@dataclass(frozen=True)
class RenderedMacro:
    text: str
    # Placeholders the context had no value for; they stay visible in the text as written.
    unknown: tuple[str, ...]


def _lookup(context: Mapping[str, Any], name: str) -> tuple[bool, Any]:
    if name in context:
        return True, context[name]
    value: Any = context
    for part in name.split("."):
        # Mappings only: a placeholder can never call a method or reach an attribute of a model.
        if not isinstance(value, Mapping) or part not in value:
            return False, None
        value = value[part]
    return True, value


def macro_render_checked(*, macro: Macro | str, context: Mapping[str, Any]) -> RenderedMacro:
    """Substitute `{{ name }}` / `{{ a.b }}` placeholders from `context` (plain values and nested dicts).

    Values are inserted as text (the result is plain text, escaped wherever it is shown as HTML); unknown
    placeholders are left as they are and reported."""
    text = macro.body if isinstance(macro, Macro) else str(macro)
    unknown: list[str] = []

    def substitute(match: re.Match[str]) -> str:
        found, value = _lookup(context, match.group(1))
        if not found or value is None:
            if match.group(1) not in unknown:
                unknown.append(match.group(1))
            return match.group(0)
        return str(value)

    return RenderedMacro(PLACEHOLDER.sub(substitute, text), tuple(unknown))


def macro_render(*, macro: Macro | str, context: Mapping[str, Any]) -> str:
    """The macro's text with its placeholders filled; unknown ones stay visible (see macro_render_checked)."""
    return macro_render_checked(macro=macro, context=context).text


def macro_context(*, ticket: Ticket, agent: User) -> dict[str, Any]:
    """The placeholders a ticket offers."""
    requester = ticket.requester
    return {
        "requester_name": requester.get_short_name(),
        "requester_full_name": requester.get_full_name(),
        "requester_email": requester.email,
        "agent_name": agent.get_short_name(),
        "agent_full_name": agent.get_full_name(),
        "ticket_id": ticket.pk,
        "ticket_subject": ticket.subject,
        "department": ticket.department.name if ticket.department else "Support",
        "site_url": settings.SITE_URL,
        "help_url": f"{settings.SITE_URL}/help/",
    }


# --- Points ledger -----------------------------------------------------------------------------------------------


def points_credit(*, user: User, points: int, reason: str, key: str) -> PointsEntry | None:
    """Credit (or, negative, debit) points once per `key`; a repeated key returns None and changes nothing."""
    try:
        with transaction.atomic():
            return PointsEntry.objects.create(user=user, points=points, reason=reason[:200], key=key[:100])
    except IntegrityError:
        return None


# --- Satisfaction surveys ---------------------------------------------------------------------------------------

SURVEY_SALT = "support.survey"


def survey_send(
    *,
    target: models.Model,
    requester: User,
    agent: User | None,
    department: Department | str | None,
    channel: str,
    resolved_at: datetime | None = None,
) -> Survey:
    """Record and e-mail the one-click 1–5 survey for one resolution of `target` (a ticket or a conversation).

    The agent, department and channel are recorded now. One survey per (target, resolved_at): a repeated call for
    the same resolution returns the existing survey and sends nothing more.
    """
    if channel not in Channel.values:
        raise InvalidInput("Unknown channel.", fields={"channel": [f"Choose one of: {', '.join(Channel.values)}."]})
    resolved_at = resolved_at or timezone.now()
    target_type = ContentType.objects.get_for_model(target)
    with transaction.atomic():
        survey, created = Survey.objects.get_or_create(
            target_type=target_type,
            target_id=target.pk,
            resolved_at=resolved_at,
            defaults={
                "requester": requester,
                "agent": agent,
                "department": _department(department),
                "channel": channel,
                "sent_at": timezone.now(),
            },
        )
        if created:
            after_commit("support.tasks.send_survey", survey.pk)
    return survey


def survey_token(survey: Survey) -> str:
    return signing.dumps({"s": survey.pk}, salt=SURVEY_SALT, compress=True)


def survey_from_token(token: str) -> Survey:
    """The survey a link was made for; InvalidInput for a forged, altered or expired link."""
    try:
        data = signing.loads(token, salt=SURVEY_SALT, max_age=timedelta(days=settings.SUPPORT_SURVEY_LINK_DAYS))
    except signing.SignatureExpired:
        raise InvalidInput("This survey link has expired.", code="expired_token") from None
    except signing.BadSignature:
        raise InvalidInput("This survey link is not valid.", code="invalid_token") from None
    survey = Survey.objects.select_related("requester", "agent", "department").filter(pk=data.get("s")).first()
    if survey is None:
        raise InvalidInput("This survey link is not valid.", code="invalid_token")
    return survey


class SurveyLocked(DomainError):
    code = "survey_locked"


def survey_answer(*, token: str, rating: int | None = None, comment: str | None = None) -> Survey:
    """Record a rating (1–5) and/or a comment. The first answer credits the points; the rating can be changed
    for SUPPORT_SURVEY_CHANGE_DAYS; a rating of 1 or 2 opens a follow-up for the team lead."""
    if rating is not None and rating not in range(1, 6):
        raise InvalidInput("Rate from 1 to 5.", fields={"rating": ["Choose 1, 2, 3, 4 or 5."]})
    if comment is not None and len(comment) > 2000:
        raise InvalidInput("The comment is too long.", fields={"comment": ["Use at most 2,000 characters."]})
    survey = survey_from_token(token)
    with transaction.atomic():
        survey = (
            Survey.objects.select_for_update(of=("self",)).select_related("department", "requester").get(pk=survey.pk)
        )
        now = timezone.now()
        if survey.answered_at is not None and now - survey.answered_at > timedelta(
            days=settings.SUPPORT_SURVEY_CHANGE_DAYS
        ):
            raise SurveyLocked("This rating was given more than a week ago and can no longer be changed.")
        if rating is None and survey.rating is None:
            raise InvalidInput("Choose a rating first.", fields={"rating": ["Choose a rating."]})
        fields = []
        if rating is not None and rating != survey.rating:
            survey.rating = rating
            fields.append("rating")
        if comment is not None:
            survey.comment = comment.strip()
            fields.append("comment")
        first = survey.answered_at is None
        if first:
            survey.answered_at = now
            fields.append("answered_at")
        elif fields:
            survey.changed_at = now
            fields.append("changed_at")
        if fields:
            survey.save(update_fields=fields)
        if first and settings.SUPPORT_SURVEY_POINTS:
            points_credit(
                user=survey.requester,
                points=settings.SUPPORT_SURVEY_POINTS,
                reason="Answered a satisfaction survey",
                key=f"survey:{survey.pk}",
            )
        if survey.rating is not None and survey.rating <= 2:
            _follow_up_open(survey, now)
    return survey


def _follow_up_open(survey: Survey, at: datetime) -> None:
    lead = survey.department.team_lead if survey.department else None
    follow_up, created = SurveyFollowUp.objects.get_or_create(
        survey=survey, defaults={"assigned_to": lead, "created_at": at}
    )
    if created:
        audit_record(actor=None, action="survey.follow_up", target=survey, data={"rating": survey.rating})
        after_commit("support.tasks.send_follow_up_notice", follow_up.pk)


def follow_up_close(*, follow_up: SurveyFollowUp, by: User, note: str) -> SurveyFollowUp:
    if not (note or "").strip():
        raise InvalidInput("Say what was done.", fields={"note": ["Say what was done."]})
    with transaction.atomic():
        follow_up = SurveyFollowUp.objects.select_for_update().get(pk=follow_up.pk)
        if follow_up.done_at is not None:
            return follow_up
        follow_up.done_at = timezone.now()
        follow_up.note = note.strip()
        follow_up.assigned_to = follow_up.assigned_to or by
        follow_up.save(update_fields=["done_at", "note", "assigned_to"])
        audit_record(actor=by, action="survey.follow_up_done", target=follow_up.survey, reason=follow_up.note)
    return follow_up


# --- Help center -----------------------------------------------------------------------------------------------


def article_view(*, article: Article) -> None:
    Article.objects.filter(pk=article.pk).update(views=F("views") + 1)


def article_vote(*, article: Article, voter: str, helpful: bool) -> Article:
    """One vote per voter (user id or session key); voting again changes the vote, never counts twice."""
    if not voter:
        raise InvalidInput("Voting needs a session.", code="no_voter")
    with transaction.atomic():
        vote = ArticleVote.objects.select_for_update().filter(article=article, voter=voter).first()
        if vote is not None and vote.helpful == helpful:
            return article
        yes = (1 if helpful else 0) - (1 if vote is not None and vote.helpful else 0)
        no = (0 if helpful else 1) - (1 if vote is not None and not vote.helpful else 0)
        if vote is None:
            try:
                with transaction.atomic():
                    ArticleVote.objects.create(article=article, voter=voter, helpful=helpful)
            except IntegrityError:
                # The same voter's other click won the race: that vote stands.
                return article
        else:
            vote.helpful = helpful
            vote.at = timezone.now()
            vote.save(update_fields=["helpful", "at"])
        Article.objects.filter(pk=article.pk).update(
            helpful_yes=F("helpful_yes") + yes, helpful_no=F("helpful_no") + no
        )
    article.refresh_from_db(fields=["helpful_yes", "helpful_no"])
    return article


def guidance_answer(*, question: str, user: User | None = None, limit: int = 3) -> Guidance:
    """Answer a question with the best matching published articles and a confidence (0–1), recorded so that a
    read without a ticket afterwards counts as a deflection."""
    from .selectors import article_matches

    question = " ".join((question or "").split())
    if len(question) < 3:
        raise InvalidInput("Ask a question.", fields={"question": ["Write at least a few words."]})
    if len(question) > 1000:
        raise InvalidInput("The question is too long.", fields={"question": ["Use at most 1,000 characters."]})
    matches = article_matches(question, limit=limit)
    return Guidance.objects.create(
        user=user if user is not None and user.is_authenticated else None,
        question=question,
        suggested=[[article.pk, round(score, 4)] for article, score in matches],
        confidence=round(matches[0][1], 4) if matches else 0.0,
    )


def guidance_read(*, guidance: Guidance, article: Article) -> Guidance:
    if article.pk not in {pk for pk, _ in guidance.suggested}:
        raise InvalidInput("That article was not suggested.", fields={"article": ["Choose a suggested article."]})
    updated = Guidance.objects.filter(pk=guidance.pk, read_at__isnull=True).update(
        read_article=article, read_at=timezone.now()
    )
    if updated:
        article_view(article=article)
    guidance.refresh_from_db()
    return guidance


def guidance_link_ticket(*, guidance: Guidance, ticket: Ticket) -> None:
    """The user filed a ticket after all: this guidance did not deflect it."""
    Guidance.objects.filter(pk=guidance.pk, ticket__isnull=True).update(ticket=ticket)


def live_chat_status(*, at: datetime | None = None) -> dict[str, Any]:
    """Whether live chat is open at `at`, and when it next opens or closes (SUPPORT_LIVE_CHAT_HOURS, daily)."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(settings.SUPPORT_LIVE_CHAT_TIME_ZONE)
    local = (at or timezone.now()).astimezone(tz)
    opens_text, closes_text = (part.strip() for part in settings.SUPPORT_LIVE_CHAT_HOURS.split("-"))

    def at_time(day: datetime, text: str) -> datetime:
        hours, minutes = (int(part) for part in text.split(":"))
        midnight = datetime(day.year, day.month, day.day, tzinfo=tz)
        return (midnight + timedelta(hours=hours, minutes=minutes)).astimezone(tz)

    opens, closes = at_time(local, opens_text), at_time(local, closes_text)
    is_open = opens <= local < closes
    if local >= closes:
        opens = at_time(local + timedelta(days=1), opens_text)
    return {
        "open": is_open,
        "hours": settings.SUPPORT_LIVE_CHAT_HOURS,
        "time_zone": settings.SUPPORT_LIVE_CHAT_TIME_ZONE,
        "opens_at": None if is_open else opens,
        "closes_at": closes if is_open else None,
    }
