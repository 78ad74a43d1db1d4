"""Every kind of message the product sends, and whether a person's notification preferences may stop it.

This table is the one place the classification lives. `saypro.mail.send_template` and `accounts.sms.sms_send`
refuse a kind that is not listed here, so a new sender has to take a side before its first message goes out.

Essential messages go out whatever the preferences say: without them a person cannot finish signing up, keep
their account safe, learn a decision taken about them or their report (and how to appeal it), or, for staff,
keep a deadline. Everything else is a notification, and the preference it names turns it off: the address of an
account whose preference is off is dropped from the recipients. Addresses that belong to no account (a ticket's
CC) have no preferences and keep receiving.

Replies to a user's own conversation or ticket are notifications, not essential: "e-mail about messages, tickets
and listings" is exactly what the e-mail switch describes, and the reply is waiting in the conversation itself.
Staff alerts are essential: they are sent to a person because of their role, and the queues' deadlines depend
on them; the preferences are a marketplace user's choices about their own account.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

EMAIL = "email"
SMS = "sms"

# AccountPreferences fields that can turn a notification off.
EMAIL_NOTIFICATIONS = "email_notifications"
SMS_NOTIFICATIONS = "sms_notifications"
PRODUCT_UPDATES = "product_updates"
MARKETING = "marketing_opt_in"
PREFERENCES = {EMAIL: (EMAIL_NOTIFICATIONS, PRODUCT_UPDATES, MARKETING), SMS: (SMS_NOTIFICATIONS,)}


@dataclass(frozen=True)
class MessageKind:
    key: str
    channel: str
    essential: bool
    # Why it is essential, or what it tells; printed nowhere, read by the next person who adds a sender.
    why: str
    # The preference that turns a notification off; empty for an essential message.
    preference: str = ""
    staff: bool = False

    def __post_init__(self) -> None:
        if self.essential == bool(self.preference):
            raise ImproperlyConfigured(f"{self.key}: an essential message names no preference, a notification one.")
        if self.preference and self.preference not in PREFERENCES[self.channel]:
            raise ImproperlyConfigured(f"{self.key}: {self.preference} is not a {self.channel} preference.")


def _essential(key: str, why: str, *, channel: str = EMAIL, staff: bool = False) -> MessageKind:
    return MessageKind(key, channel, essential=True, why=why, staff=staff)


def _notification(key: str, why: str, *, preference: str = EMAIL_NOTIFICATIONS, channel: str = EMAIL) -> MessageKind:
    return MessageKind(key, channel, essential=False, why=why, preference=preference)


_ACCOUNT_DECISION = "a decision about the account, with its reason; the person must know it to contest it"
_SECURITY = "a security notice: the person must hear of it even if someone else did it"
_STAFF_ALERT = "a work alert to staff, sent because of their role; the queue's deadline depends on it"

MESSAGE_KINDS: dict[str, MessageKind] = {
    kind.key: kind
    for kind in (
        # Signing up
        _essential("registration.acknowledgement", "the receipt of an application, with its verification link"),
        _essential("registration.verify_email", "the verification link itself"),
        _essential("registration.phone_code", "the phone verification code", channel=SMS),
        _essential("registration.info_request", "the review waits for the applicant's answer"),
        _essential("registration.decision", "the decision on the application, with its reason"),
        # The account
        _essential("account.suspended", _ACCOUNT_DECISION),
        _essential("account.banned", _ACCOUNT_DECISION),
        _essential("account.reinstated", _ACCOUNT_DECISION),
        _essential("account.deactivated", _ACCOUNT_DECISION),
        _essential("account.deleted", "confirms the deletion the person asked for; the last message they get"),
        _essential("account.password_changed", _SECURITY),
        _essential("account.password_reset", "the reset link the person asked for"),
        _essential("account.email_changed", _SECURITY),
        _essential("account.email_change_confirm", "the confirmation link the person asked for"),
        _essential("account.suspicious", _SECURITY),
        _essential("account.two_factor_enabled", _SECURITY),
        _essential("account.two_factor_disabled", _SECURITY),
        _essential("account.signup_attempt", "someone tried to sign up with the person's address"),
        # Moderation: the statement of reasons and the answer to a report, which the law asks for.
        _essential("moderation.author_decision", "what was done to the person's content, why, and how to appeal"),
        _essential("moderation.reporter_outcome", "the decision on the person's own report"),
        _essential("moderation.appeal_outcome", "the decision on the person's appeal"),
        # Conversations and tickets
        _notification("conversation.reply", "the team answered; the reply is in the conversation"),
        _notification("ticket.acknowledgement", "the ticket was received; it is listed in the account"),
        _notification("ticket.reply", "the team answered; the reply is on the ticket"),
        _notification("support.survey", "asks the person to rate the help they got"),
        # Staff
        _essential("registration.sla_warning", _STAFF_ALERT, staff=True),
        _essential("registration.escalated", _STAFF_ALERT, staff=True),
        _essential("conversation.sla_warning", _STAFF_ALERT, staff=True),
        _essential("conversation.assigned", _STAFF_ALERT, staff=True),
        _essential("conversation.escalated", _STAFF_ALERT, staff=True),
        _essential("ticket.sla_warning", _STAFF_ALERT, staff=True),
        _essential("support.follow_up", _STAFF_ALERT, staff=True),
        _essential("moderation.sla_warning", _STAFF_ALERT, staff=True),
        _essential("moderation.appeal_sla_warning", _STAFF_ALERT, staff=True),
        _essential("staffing.breach_forecast", "tells the managers on duty a queue will miss its deadline", staff=True),
        _essential("reports.subscription", "the report the person subscribed to, on the reports page", staff=True),
        _essential("reports.run_failed", "tells the administrators a report was not generated", staff=True),
    )
}


def message_kind(key: str, *, channel: str) -> MessageKind:
    kind = MESSAGE_KINDS.get(key)
    if kind is None:
        raise ImproperlyConfigured(
            f"The message kind {key!r} is not declared: add it to saypro.notifications.MESSAGE_KINDS, essential or not."
        )
    if kind.channel != channel:
        raise ImproperlyConfigured(f"The message kind {key!r} is sent by {kind.channel}, not {channel}.")
    return kind


# addresses (e-mail addresses or phone numbers) and a preference -> the addresses whose account turned it off.
OptOuts = Callable[[Sequence[str], str], set[str]]
_opt_outs: list[OptOuts] = []


def opt_outs_register(function: OptOuts) -> None:
    """The accounts app answers who turned a preference off (the kernel knows no accounts)."""
    if function not in _opt_outs:
        _opt_outs.append(function)


def recipients_allowed(kind: MessageKind, addresses: Sequence[str]) -> list[str]:
    """The addresses this message may go to: all of them for an essential one; for a notification, those whose
    account has not turned its preference off."""
    if kind.essential:
        return list(addresses)
    if not _opt_outs:
        # Sending anyway would ignore every preference without a sound; better to fail at the first message.
        raise ImproperlyConfigured("No app answers notification preferences (accounts registers it in ready()).")
    refused: set[str] = set()
    for opt_outs in _opt_outs:
        refused |= opt_outs(addresses, kind.preference)
    return [address for address in addresses if address not in refused]


FOOTERS = {
    True: "This is a service message about your account; it is sent whatever your notification settings are.",
    False: "To stop {what}, turn it off in your SayPro account settings.",
}
PREFERENCE_WORDS = {
    EMAIL_NOTIFICATIONS: "e-mail about messages and tickets",
    PRODUCT_UPDATES: "e-mail about new features",
    MARKETING: "marketing e-mail",
    SMS_NOTIFICATIONS: "text messages",
}


def footer(kind: MessageKind) -> str:
    """The last line of an e-mail to a marketplace user: why they get it, and whether they can stop it."""
    if kind.staff:
        return ""
    return FOOTERS[kind.essential].format(what=PREFERENCE_WORDS.get(kind.preference, ""))
