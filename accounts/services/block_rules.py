"""Block rules: creating, previewing and applying them."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts import screening
from accounts.models import (
    PENDING_STATUSES,
    BlockRule,
    DelayCause,
    Registration,
    User,
)
from accounts.services.review import registrations_bulk_decide
from saypro.audit.services import audit_record
from saypro.errors import InvalidInput

# --- Block rules ------------------------------------------------------------------------------------------


def block_rule_create(*, kind: str, value: str, reason: str, by: User, expires_at: Any = None) -> BlockRule:
    errors: dict[str, list[str]] = {}
    value = (value or "").strip().lower()
    if kind not in BlockRule.Kind.values:
        errors["kind"] = ["Choose e-mail domain, IP range or keyword."]
    if not value:
        errors["value"] = ["A value is required."]
    elif kind == BlockRule.Kind.IP_RANGE:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            errors["value"] = ["Enter an IP address or a CIDR range, e.g. 203.0.113.0/24."]
    if not (reason or "").strip():
        errors["reason"] = ["Say why the rule exists."]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = ["The expiry must be in the future."]
    if errors:
        raise InvalidInput("The block rule has invalid fields.", fields=errors)
    with transaction.atomic():
        rule = BlockRule.objects.create(
            kind=kind, value=value, reason=reason.strip(), expires_at=expires_at, created_by=by
        )
        audit_record(actor=by, action="blockrule.create", target=rule, reason=rule.reason)
    return rule


def block_rule_preview(*, rule: BlockRule) -> QuerySet[Registration]:
    """Pending registrations the rule would catch."""
    pending = Registration.objects.filter(status__in=PENDING_STATUSES).select_related("user")
    value = rule.value.strip().lower()
    if rule.kind == BlockRule.Kind.EMAIL_DOMAIN:
        return pending.filter(user__email__iendswith=f"@{value}") | pending.filter(user__email__iendswith=f".{value}")
    if rule.kind == BlockRule.Kind.KEYWORD:
        return pending.filter(user__email__icontains=value) | pending.filter(user__full_name__icontains=value)
    # CIDR matching is not portable SQL; the pending queue is small, so match its addresses here.
    candidates = pending.exclude(ip_address__isnull=True).values_list("pk", "ip_address")
    ids = [pk for pk, ip in candidates.iterator() if screening.block_rule_matches(rule, Registration(ip_address=ip))]
    return pending.filter(pk__in=ids)


def block_rule_apply(*, rule: BlockRule, by: User) -> int:
    """Reject every pending registration the rule matches; returns how many were rejected."""
    ids = list(block_rule_preview(rule=rule).values_list("pk", flat=True))
    result = registrations_bulk_decide(
        ids=ids,
        by=by,
        decision="reject",
        reason=f"Blocked by rule: {rule} ({rule.reason})",
        delay_cause=DelayCause.FRAUD_INVESTIGATION,
    )
    audit_record(actor=by, action="blockrule.apply", target=rule, data={"rejected": len(result.decided)})
    return len(result.decided)
