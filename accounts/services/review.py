"""Review decisions: approve, reject, ask for information, claim, undo, bulk decisions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.identity import fingerprint
from accounts.models import (
    DECIDED_STATUSES,
    PENDING_STATUSES,
    DelayCause,
    IdentityFingerprint,
    Registration,
    User,
)
from accounts.selectors import user_is_on_duty
from accounts.services.account_status import is_administrator
from accounts.services.base import (
    ID_DOCUMENT_MAX_BYTES,
    ID_DOCUMENT_TYPES,
    METRIC,
    AlreadyDecided,
    DelayCauseRequired,
    Status,
    _lock,
)
from saypro.audit.selectors import audit_for_object
from saypro.audit.services import audit_record
from saypro.dispatch import after_commit
from saypro.errors import DomainError, InvalidInput
from saypro.sla import services as sla
from saypro.uploads import sniff, stored_name

# --- Review decisions ---------------------------------------------------------------------------------


def _check_delay_cause(registration: Registration, delay_cause: str, delay_note: str) -> bool:
    """Deciding after the deadline requires a root cause, so that late decisions can be explained in reports.

    Returns whether the decision is late; a cause given for an on-time decision is not recorded."""
    clock = sla.clock_open_for(metric=METRIC, target=registration)
    late = clock is not None and (
        clock.breached_at is not None or (clock.state == "running" and timezone.now() >= clock.due_at)
    )
    if not late:
        return False
    if delay_cause not in DelayCause.values:
        raise DelayCauseRequired()
    if delay_cause == DelayCause.OTHER and not delay_note.strip():
        raise InvalidInput("Describe the cause of the delay.", fields={"delay_note": ["Describe the cause."]})
    return True


def _decide(
    registration: Registration,
    *,
    status: str,
    by: User | None,
    reason: str,
    automatic: bool = False,
    delay_cause: str = "",
    delay_note: str = "",
) -> Registration:
    """Record a decision on a locked registration. The caller holds the row lock."""
    if registration.status in DECIDED_STATUSES:
        raise AlreadyDecided(registration)
    if registration.escalated_at is not None and by is not None and not is_administrator(by):
        raise DomainError(
            f"Registration #{registration.pk} was escalated to the administrators: an administrator decides it.",
            code="escalated",
        )
    now = timezone.now()
    # Compare-and-set on the status as well as the row lock: SQLite has no SELECT … FOR UPDATE, and this
    # makes "exactly one decision" hold on every database.
    claimed = Registration.objects.filter(pk=registration.pk, status__in=PENDING_STATUSES).update(
        status=status,
        decided_at=now,
        decided_by=by,
        decision_reason=reason,
        auto_approved=automatic,
        delay_cause=delay_cause,
        delay_note=delay_note[:300],
    )
    if claimed != 1:
        registration.refresh_from_db()
        raise AlreadyDecided(registration)
    previous = registration.status
    registration.refresh_from_db()
    sla.clock_stop(metric=METRIC, target=registration, at=now)
    action = "registration.approve" if status == Status.APPROVED else "registration.reject"
    if automatic:
        action = "registration.auto_approve"
    # The status it had before, for an undo; the fingerprints it added, so that an undo removes only those.
    data: dict[str, Any] = {"from": previous}
    if delay_cause:
        data["delay_cause"] = delay_cause
    if status == Status.REJECTED:
        data["fingerprints"] = _keep_fingerprints(registration, reason="rejected")
    audit_record(actor=by, action=action, target=registration, reason=reason, data=data)
    # The applicant hears of the decision once it can no longer be undone; the task checks that it still stands.
    countdown = None if automatic else settings.REGISTRATION_UNDO_SECONDS
    after_commit(
        "accounts.tasks.send_registration_decision",
        registration.pk,
        decision_key(registration),
        countdown=countdown,
    )
    return registration


def decision_key(registration: Registration) -> str:
    """Names one decision: a decision undone and taken again is another one, with its own e-mail."""
    return f"{registration.status}:{registration.decided_at.isoformat() if registration.decided_at else ''}"


class UndoRefused(DomainError):
    code = "undo_refused"


def registration_decision_undo(*, registration: Registration, by: User) -> Registration:
    """Take back a decision its reviewer took moments ago (REGISTRATION_UNDO_SECONDS): the registration is pending
    again in the state it was in, its clock counts again, and the applicant is never told of the decision.

    Refused after the window, for someone else's decision, and when anyone acted on the registration since."""
    with transaction.atomic():
        registration = _lock(registration)
        if registration.status not in DECIDED_STATUSES:
            raise UndoRefused("This registration is not decided: there is nothing to undo.")
        if registration.decided_by_id != by.pk:
            raise UndoRefused("Only the reviewer who decided can undo the decision.")
        now = timezone.now()
        window = timedelta(seconds=settings.REGISTRATION_UNDO_SECONDS)
        if registration.decided_at is None or now > registration.decided_at + window:
            raise UndoRefused("Too late to undo: the decision stands and the applicant is being told.")
        decision = audit_for_object(registration).order_by("-at", "-pk").first()
        expected = "registration.approve" if registration.status == Status.APPROVED else "registration.reject"
        if decision is None or decision.action != expected or decision.actor_id != by.pk:
            raise UndoRefused("Someone acted on this registration since the decision: it can no longer be undone.")
        previous = decision.data.get("from") or Status.NEEDS_REVIEW
        if previous not in PENDING_STATUSES:
            previous = Status.NEEDS_REVIEW
        reverted = Registration.objects.filter(pk=registration.pk, status=registration.status).update(
            status=previous,
            decided_at=None,
            decided_by=None,
            decision_reason="",
            auto_approved=False,
            delay_cause="",
            delay_note="",
        )
        if reverted != 1:
            raise UndoRefused("Someone acted on this registration since the decision: it can no longer be undone.")
        registration.refresh_from_db()
        digests = decision.data.get("fingerprints") or []
        if digests:
            IdentityFingerprint.objects.filter(reason="rejected", digest__in=digests).delete()
        sla.clock_reopen(metric=METRIC, target=registration, at=now)
        audit_record(
            actor=by,
            action="registration.undo",
            target=registration,
            data={"undone": decision.action, "to": previous},
        )
    return registration


def _keep_fingerprints(registration: Registration, *, reason: str) -> list[str]:
    """Keep the identity's fingerprints; returns the digests that were new (an undo removes those only)."""
    rows = [IdentityFingerprint(kind="email", digest=fingerprint("email", registration.canonical_email), reason=reason)]
    if registration.phone_e164:
        rows.append(
            IdentityFingerprint(kind="phone", digest=fingerprint("phone", registration.phone_e164), reason=reason)
        )
    known = set(
        IdentityFingerprint.objects.filter(digest__in=[row.digest for row in rows]).values_list("digest", flat=True)
    )
    IdentityFingerprint.objects.bulk_create(rows, ignore_conflicts=True)
    return [row.digest for row in rows if row.digest not in known]


def _same_decision(registration: Registration, status: str, by: User | None) -> bool:
    """A repeated click by the same reviewer is not a conflict: the decision already stands."""
    return registration.status == status and registration.decided_by_id == (by.pk if by else None)


def registration_approve(
    *, registration: Registration, by: User, reason: str = "", delay_cause: str = "", delay_note: str = ""
) -> Registration:
    with transaction.atomic():
        registration = _lock(registration)
        if _same_decision(registration, Status.APPROVED, by):
            return registration
        if registration.status in DECIDED_STATUSES:
            raise AlreadyDecided(registration)
        if registration.status == Status.STARTED:
            raise DomainError("This registration has not been submitted yet.", code="not_submitted")
        late = _check_delay_cause(registration, delay_cause, delay_note)
        return _decide(
            registration,
            status=Status.APPROVED,
            by=by,
            reason=reason.strip(),
            delay_cause=delay_cause if late else "",
            delay_note=delay_note if late else "",
        )


def registration_reject(
    *, registration: Registration, by: User, reason: str, delay_cause: str = "", delay_note: str = ""
) -> Registration:
    if not (reason or "").strip():
        raise InvalidInput(
            "Give the reason for the rejection; it is sent to the applicant.",
            fields={"reason": ["A reason is required."]},
        )
    with transaction.atomic():
        registration = _lock(registration)
        if _same_decision(registration, Status.REJECTED, by):
            return registration
        if registration.status in DECIDED_STATUSES:
            raise AlreadyDecided(registration)
        late = _check_delay_cause(registration, delay_cause, delay_note)
        return _decide(
            registration,
            status=Status.REJECTED,
            by=by,
            reason=reason.strip(),
            delay_cause=delay_cause if late else "",
            delay_note=delay_note if late else "",
        )


def registration_request_info(*, registration: Registration, by: User, message: str) -> Registration:
    """Ask the applicant for more; the clock pauses while the applicant owes the answer."""
    if not (message or "").strip():
        raise InvalidInput("Say what the applicant should send.", fields={"message": ["A message is required."]})
    with transaction.atomic():
        registration = _lock(registration)
        if registration.status in DECIDED_STATUSES:
            raise AlreadyDecided(registration)
        if registration.status not in PENDING_STATUSES:
            raise DomainError("This registration has not been submitted yet.", code="not_submitted")
        registration.status = Status.INFO_REQUESTED
        registration.info_request = message.strip()
        registration.info_response = ""
        registration.save(update_fields=["status", "info_request", "info_response"])
        sla.clock_pause(metric=METRIC, target=registration)
        audit_record(actor=by, action="registration.request_info", target=registration, reason=message.strip())
        after_commit("accounts.tasks.send_registration_info_request", registration.pk, timezone.now().isoformat())
    return registration


def _clean_id_document(document: UploadedFile | None) -> None:
    if document is None:
        return
    if document.size is not None and document.size > ID_DOCUMENT_MAX_BYTES:
        raise InvalidInput("The document is too large.", fields={"id_document": ["Upload a file of at most 5 MB."]})
    # The type the client declares is its word only: the file's first bytes say what it is.
    content_type = sniff(document)
    if content_type not in ID_DOCUMENT_TYPES:
        raise InvalidInput("Unsupported document type.", fields={"id_document": ["Upload a PDF, JPEG or PNG file."]})
    # Reviewers are served the file with the type its name's extension gives, so the name must agree.
    document.name = stored_name(document.name or "id-document", content_type)


def registration_provide_info(
    *, registration: Registration, message: str, id_document: UploadedFile | None = None
) -> Registration:
    """The applicant answers a request for information: back to the reviewers, and the clock runs again."""
    if not (message or "").strip() and id_document is None:
        raise InvalidInput("Write an answer or attach a document.", fields={"message": ["Write an answer."]})
    if len(message or "") > 5000:
        raise InvalidInput("The answer is too long.", fields={"message": ["Use at most 5,000 characters."]})
    _clean_id_document(id_document)
    with transaction.atomic():
        registration = _lock(registration)
        if registration.status != Status.INFO_REQUESTED:
            raise DomainError("No information has been requested.", code="not_requested")
        registration.status = Status.NEEDS_REVIEW
        registration.info_response = (message or "").strip()
        fields = ["status", "info_response"]
        if id_document is not None:
            registration.id_document = id_document
            fields.append("id_document")
        registration.save(update_fields=fields)
        sla.clock_resume(metric=METRIC, target=registration)
        audit_record(actor=registration.user, action="registration.provide_info", target=registration)
    return registration


def registration_claim(*, registration: Registration, by: User) -> Registration:
    with transaction.atomic():
        registration = _lock(registration)
        if registration.status in DECIDED_STATUSES:
            raise AlreadyDecided(registration)
        if registration.claimed_by_id == by.pk:
            return registration
        previous = registration.claimed_by
        # A claim lapses when its holder goes off duty: the work goes to whoever is on shift.
        if previous is not None and user_is_on_duty(user=previous):
            raise DomainError(f"Already claimed by {previous}.", code="already_claimed")
        registration.claimed_by = by
        registration.claimed_at = timezone.now()
        registration.save(update_fields=["claimed_by", "claimed_at"])
        data = {"from": previous.pk} if previous is not None else {}
        audit_record(actor=by, action="registration.claim", target=registration, data=data)
    return registration


def registration_release(*, registration: Registration, by: User) -> Registration:
    with transaction.atomic():
        registration = _lock(registration)
        if registration.claimed_by_id is None:
            return registration
        registration.claimed_by = None
        registration.claimed_at = None
        registration.save(update_fields=["claimed_by", "claimed_at"])
        audit_record(actor=by, action="registration.release", target=registration)
    return registration


@dataclass
class BulkResult:
    decided: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)


def registrations_bulk_decide(
    *, ids: list[int], by: User, decision: str, reason: str = "", delay_cause: str = "", delay_note: str = ""
) -> BulkResult:
    """Decide many registrations; each is its own transaction, and one refusal does not stop the others."""
    if decision not in {"approve", "reject"}:
        raise InvalidInput("Choose approve or reject.", fields={"decision": ["Choose approve or reject."]})
    if decision == "reject" and not (reason or "").strip():
        raise InvalidInput("Give the reason for the rejection.", fields={"reason": ["A reason is required."]})
    result = BulkResult()
    registrations = Registration.objects.in_bulk(ids)
    for pk in ids:
        registration = registrations.get(pk)
        if registration is None:
            result.skipped[pk] = "not found"
            continue
        try:
            if decision == "approve":
                registration_approve(
                    registration=registration, by=by, reason=reason, delay_cause=delay_cause, delay_note=delay_note
                )
            else:
                registration_reject(
                    registration=registration, by=by, reason=reason, delay_cause=delay_cause, delay_note=delay_note
                )
        except DomainError as exc:
            result.skipped[pk] = exc.message
        else:
            result.decided.append(pk)
    return result
