"""Known issues that platform reports are linked to."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from saypro.audit.services import audit_record
from saypro.errors import InvalidInput
from support.models import (
    KnownIssue,
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
