"""The personal data accounts keep beyond their use, and how each kind is purged when its period ends.

What reports count (events' kinds and times, sessions' times and device types, registration steps) stays; what
identifies a person or a device (addresses, browser strings, session keys, ID documents) goes.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.sessions.models import Session
from django.db.models import Q

from saypro.retention.registry import retention_register
from saypro.retention.services import batch_clear_files, batch_update

from .models import AccountEvent, AccountSession, Lockout, PasswordReset, Registration


def network_purge(cutoff: datetime, limit: int) -> int:
    identifying = Q(ip_address__isnull=False) | ~Q(user_agent="")
    return (
        batch_update(AccountEvent.objects.filter(identifying, at__lt=cutoff), limit, ip_address=None, user_agent="")
        # A pending registration's address is still screened against new sign-ups.
        + batch_update(
            Registration.objects.filter(identifying | ~Q(subnet=""), decided_at__lt=cutoff),
            limit,
            ip_address=None,
            subnet="",
            user_agent="",
        )
        + batch_update(
            PasswordReset.objects.filter(requested_at__lt=cutoff, ip_address__isnull=False), limit, ip_address=None
        )
        + batch_update(
            Lockout.objects.filter(Q(released_at__lt=cutoff) | Q(until__lt=cutoff), ip_address__isnull=False),
            limit,
            ip_address=None,
        )
    )


def sessions_purge(cutoff: datetime, limit: int) -> int:
    over = Q(ended_at__lt=cutoff) | Q(last_seen_at__lt=cutoff)
    identifying = ~Q(key="") | Q(ip_address__isnull=False) | ~Q(subnet="") | ~Q(user_agent="")
    stale = Session.objects.filter(expire_date__lt=cutoff)
    stale_keys = list(stale.values_list("session_key", flat=True)[:limit])
    Session.objects.filter(session_key__in=stale_keys).delete()
    return len(stale_keys) + batch_update(
        AccountSession.objects.filter(over, identifying), limit, key="", ip_address=None, subnet="", user_agent=""
    )


def id_documents_purge(cutoff: datetime, limit: int) -> int:
    # Only decided registrations have a decision date: a pending one keeps its document for the reviewer.
    return batch_clear_files(
        Registration.objects.filter(decided_at__lt=cutoff).exclude(id_document=""), limit, "id_document"
    )


def register() -> None:
    retention_register(
        key="accounts.network",
        label="IP addresses and browser details",
        description=(
            "Cleared from sign-in and account events, decided registrations, password resets and lockouts once they "
            "are this old; the records themselves (what happened, when, on which kind of device) stay for the reports."
        ),
        default_days=90,
        purge=network_purge,
    )
    retention_register(
        key="accounts.sessions",
        label="Sign-in sessions",
        description=(
            "Expired sessions are deleted, and ended sessions lose their key, address and browser once they are this "
            "old; their times and device type stay for the session-length figures."
        ),
        default_days=30,
        purge=sessions_purge,
    )
    retention_register(
        key="accounts.id_documents",
        label="ID documents",
        description="Deleted this many days after the registration's decision; a pending registration keeps its own.",
        default_days=30,
        purge=id_documents_purge,
    )
