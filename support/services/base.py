"""What every support service shares: limits, the ticket lock, department lookup."""

from __future__ import annotations

from saypro.errors import InvalidInput
from support.models import (
    Department,
    Ticket,
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
