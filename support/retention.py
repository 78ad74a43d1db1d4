"""Ticket attachments and deleted accounts' words: kept for their period, then purged (saypro.retention)."""

from __future__ import annotations

from datetime import datetime

from accounts.models import AccountStatus
from saypro.retention.registry import REMOVED_TEXT, retention_register
from saypro.retention.services import batch_delete_with_files, batch_update

from .models import TicketAttachment, TicketMessage


def attachments_purge(cutoff: datetime, limit: int) -> int:
    return batch_delete_with_files(
        TicketAttachment.objects.filter(message__ticket__closed_at__lt=cutoff), limit, "file"
    )


def deleted_accounts_purge(cutoff: datetime, limit: int) -> int:
    deleted = {"author__status": AccountStatus.DELETED, "author__status_changed_at__lt": cutoff}
    return batch_delete_with_files(
        TicketAttachment.objects.filter(**{f"message__{key}": value for key, value in deleted.items()}), limit, "file"
    ) + batch_update(TicketMessage.objects.filter(**deleted).exclude(body=REMOVED_TEXT), limit, body=REMOVED_TEXT)


def register() -> None:
    retention_register(
        key="support.attachments",
        label="Ticket attachments",
        description="Deleted this many days after the ticket closed.",
        default_days=365,
        purge=attachments_purge,
    )
    retention_register(
        key="support.deleted_accounts",
        label="Deleted accounts' ticket messages",
        description=(
            "This many days after an account is deleted, its ticket messages read as removed and their attachments "
            "are deleted; the tickets' times and outcomes stay for the reports."
        ),
        default_days=30,
        purge=deleted_accounts_purge,
    )
