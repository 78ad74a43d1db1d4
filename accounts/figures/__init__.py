"""The accounts figures: registrations (document 000) and the user-account performance figures of document 001
(engagement, account issues, security and privacy)."""

from __future__ import annotations

from . import activity, registrations, signups
from .registrations import ACCOUNTS_DOC, ENGAGEMENT, ISSUES, PRIVACY, escalated

__all__ = ["ACCOUNTS_DOC", "ENGAGEMENT", "ISSUES", "PRIVACY", "escalated", "register"]


def register() -> None:
    registrations.register()
    signups.register()
    activity.register()
