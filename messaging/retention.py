"""Conversation attachments and deleted accounts' words: kept for their period, then purged (saypro.retention).
A message that is evidence in an open moderation case or a decision under appeal keeps everything."""

from __future__ import annotations

from datetime import datetime

from accounts.models import AccountStatus
from moderation.selectors import held_object_ids
from saypro.retention.registry import REMOVED_TEXT, retention_register
from saypro.retention.services import batch_delete_with_files, batch_update

from .models import Attachment, Message, Status


def attachments_purge(cutoff: datetime, limit: int) -> int:
    return batch_delete_with_files(
        Attachment.objects.filter(
            message__conversation__status=Status.RESOLVED, message__conversation__resolved_at__lt=cutoff
        ).exclude(message_id__in=held_object_ids(model=Message)),
        limit,
        "file",
    )


def deleted_accounts_purge(cutoff: datetime, limit: int) -> int:
    messages = Message.objects.filter(
        author__status=AccountStatus.DELETED, author__status_changed_at__lt=cutoff
    ).exclude(pk__in=held_object_ids(model=Message))
    return batch_delete_with_files(Attachment.objects.filter(message__in=messages), limit, "file") + batch_update(
        messages.exclude(body=REMOVED_TEXT), limit, body=REMOVED_TEXT
    )


def register() -> None:
    retention_register(
        key="messaging.attachments",
        label="Conversation attachments",
        description=(
            "Deleted this many days after the conversation was resolved, unless the message is evidence in an open "
            "moderation case or an appeal."
        ),
        default_days=365,
        purge=attachments_purge,
    )
    retention_register(
        key="messaging.deleted_accounts",
        label="Deleted accounts' messages",
        description=(
            "This many days after an account is deleted, its messages read as removed and their attachments are "
            "deleted, unless a message is evidence in an open moderation case or an appeal; times and counts stay."
        ),
        default_days=30,
        purge=deleted_accounts_purge,
    )
