"""Who may use what: every page and endpoint of the project × every persona, allowed or refused as it should be.

The table below has one row per URL name, read from the resolver: a URL added without a row fails
`test_every_url_has_a_row_in_the_access_table` with its name. Each cell is one request, as the persona would make
it (pages through a signed-in session, the API with the persona's token), and its outcome is checked exactly:

- allowed: 2xx for a GET; for a POST, the action was reached (2xx, a redirect other than to sign-in, or a
  400/409 refusal of the empty or minimal input);
- refused: an anonymous visitor is sent to sign in (pages: a redirect to the sign-in page with `next`; the API:
  401 with the error shape), a wrong role gets 403, and another user's object is a 404 (it is not theirs to know
  about). A refused request leaves no trace: no audit entry, message, ticket reply or decision is written.

One test per row makes the row's requests, one per persona, each in a savepoint of its own and with the rate limits
and the mail outbox reset, as a test of its own would; a failure names every persona the row got wrong. (A test per
cell spent more time in pytest's set-up and tear-down than in the requests.)

The Django admin's generated model pages (changelist, add, change, delete, history) are guarded by the admin's
own model permissions; the table checks its index, its sign-in and a few changelists, and every custom admin view.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.db import connection, transaction
from django.shortcuts import resolve_url
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, clear_url_caches, get_resolver, reverse
from django.views import static

from messaging.models import Message
from moderation.models import Decision
from saypro.audit.models import AuditEntry
from saypro.celery import app as celery_app
from support.models import TicketMessage
from tests.foundation.access_world import PERSONAS, World, build_world, signed_in_client
from tests.foundation.test_api import assert_error_shape

# --- Outcomes ---------------------------------------------------------------------------------------------------

ALLOWED = "allowed"
REDIRECTED = "redirected"  # allowed, and sent on to another page by design
SIGN_IN = "sent to sign in"  # pages: redirect to the sign-in page; API: 401
FORBIDDEN = "forbidden (403)"
NOT_FOUND = "not found (404)"

Access = dict[str, str]

STAFF = ("reviewer", "agent", "moderator", "manager", "administrator")


def public() -> Access:
    return dict.fromkeys(PERSONAS, ALLOWED)


def signed_in() -> Access:
    return {**public(), "anonymous": SIGN_IN}


def own() -> Access:
    """The signed-in user's own object (or their own record, e.g. their registration): anyone else gets a 404."""
    return {**dict.fromkeys(PERSONAS, NOT_FOUND), "anonymous": SIGN_IN, "user": ALLOWED}


def staff(*holders: str) -> Access:
    """Staff in the named roles; marketplace users, staff without the role and other roles get a 403."""
    unknown = set(holders) - set(STAFF)
    assert not unknown, unknown
    return {
        **dict.fromkeys(PERSONAS, FORBIDDEN),
        "anonymous": SIGN_IN,
        **dict.fromkeys(holders, ALLOWED),
    }


def admin_site(*holders: str) -> Access:
    """An admin page: accounts without admin access are sent to the admin's sign-in, which refuses a signed-in
    marketplace user (see the "admin/login/" row); staff without the model permission get a 403."""
    return {**staff(*holders), "user": SIGN_IN, "other_user": SIGN_IN}


def _no_chat() -> Access:
    return {**staff(), **dict.fromkeys(("agent", "administrator"), NOT_FOUND)}


def gateway() -> Access:
    """Only the mail gateway, with its bearer token: every persona is refused."""
    return dict.fromkeys(PERSONAS, FORBIDDEN)


# Role groups, by what each area grants (see each app's AppConfig.role_permissions).
REGISTRATION_REVIEW = ("reviewer", "administrator")
CONVERSATION_VIEW = ("agent", "moderator", "manager", "administrator")
CONVERSATION_ANSWER = ("agent", "administrator")
TICKET_VIEW = ("agent", "manager", "administrator")
TICKET_ANSWER = ("agent", "administrator")
LISTING_VIEW = ("agent", "moderator", "administrator")
CASE_VIEW = ("moderator", "administrator")
ACCOUNT_STATUS = ("moderator", "administrator")
MANAGEMENT = ("manager", "administrator")


@dataclass(frozen=True)
class Check:
    access: Access
    method: str = "get"
    # URL arguments: argument name -> key of World.ids.
    kw: Mapping[str, str] = field(default_factory=dict)
    data: Mapping[str, Any] | None = None
    label: str = ""
    # URL arguments given literally.
    fixed: Mapping[str, str] = field(default_factory=dict)


def get(access: Access, *, label: str = "GET", **kw: str) -> Check:
    return Check(access, "get", kw, label=label)


def post(access: Access, *, data: Mapping[str, Any] | None = None, label: str = "POST", **kw: str) -> Check:
    return Check(access, "post", kw, data, label=label)


def area(name: str, *holders: str) -> Check:
    """One area of the dashboard (accounts, messaging, support, moderation): the roles that work in it."""
    return Check(staff(*holders), "get", label=name, fixed={"area": name})


# A staff account as the target of a status change (suspend, ban, reinstate, unlock): only an administrator acts
# on one, and on an administrator's account (the Administrator role, or a superuser) only another superuser, which
# no persona is. The targets are accounts of their own in the world (World.ids["target_<role>"]).
STAFF_TARGETS = (*STAFF, "outsider", "superuser")
STATUS_REASON = {"reason": "Checking who may act on whom"}


def on_staff_account(target: str) -> Access:
    return staff() if target in ("administrator", "superuser") else staff("administrator")


def status_changes_of_staff(data: Mapping[str, Any] | None, *, admin: bool = False) -> tuple[Check, ...]:
    """One POST per staff target, with input the action accepts, so that only the rule on whom decides."""
    return tuple(
        Check(
            {**on_staff_account(target), **({"user": SIGN_IN, "other_user": SIGN_IN} if admin else {})},
            "post",
            {"pk": f"target_{target}"},
            data,
            label=f"target={target}",
        )
        for target in STAFF_TARGETS
    )


# --- The table --------------------------------------------------------------------------------------------------

TABLE: dict[str, Check | tuple[Check, ...]] = {
    # Sign-up, as the applicant sees it: their own registration only.
    "accounts:register": get({**public(), "user": REDIRECTED}),  # an applicant is sent to their status page
    "accounts:privacy": get(public()),
    "accounts:terms": get(public()),
    "accounts:register-start": post(public()),  # the form's first keystroke: anyone may start a sign-up
    "accounts:register-sent": get(public()),  # "check your inbox", the same for every sign-up
    "accounts:register-status": get(own()),
    "accounts:register-resend-email": post(own()),
    "accounts:register-phone-send": post(own()),
    "accounts:register-phone-confirm": post(own()),
    "accounts:register-provide-info": post(own()),
    "accounts:register-verify-email": get(public(), token="email_token"),  # the signed link is the credential
    # Registration review: reviewers and administrators; a support agent (or a manager) cannot approve.
    "accounts:queue": get(staff(*REGISTRATION_REVIEW)),
    "accounts:queue-bulk": post(staff(*REGISTRATION_REVIEW)),
    # Managers read a registration (the dashboard links it); only reviewers and administrators decide on it.
    "accounts:registration": get(staff(*REGISTRATION_REVIEW, "manager"), pk="registration"),
    "accounts:registration-approve": post(staff(*REGISTRATION_REVIEW), pk="registration"),
    "accounts:registration-reject": post(staff(*REGISTRATION_REVIEW), pk="registration"),
    "accounts:registration-request-info": post(staff(*REGISTRATION_REVIEW), pk="registration"),
    "accounts:registration-claim": post(staff(*REGISTRATION_REVIEW), pk="registration"),
    "accounts:registration-undo": post(staff(*REGISTRATION_REVIEW), pk="registration"),
    "accounts:registration-escalate": post(staff(*REGISTRATION_REVIEW), pk="registration"),
    # The guidelines are read wherever a registration is: reviewers, administrators and managers.
    "accounts:guidelines": get(staff(*REGISTRATION_REVIEW, "manager")),
    "accounts:registration-document": get(staff(*REGISTRATION_REVIEW), pk="registration"),
    "accounts:registration-verify-id": post(staff(*REGISTRATION_REVIEW), pk="registration"),
    "accounts:block-rules": get(staff(*REGISTRATION_REVIEW)),
    "accounts:block-rule": get(staff(*REGISTRATION_REVIEW), pk="block_rule"),
    # Signing in and account recovery.
    # Signed in already: on to one's landing page. The second step without a pending sign-in: back to the first.
    "login": get({**dict.fromkeys(PERSONAS, REDIRECTED), "anonymous": ALLOWED}),
    "login-verify": get({**public(), "anonymous": REDIRECTED}),
    "logout": post(public()),
    "two-factor": get(signed_in()),
    "two-factor-verify": get({**public(), "anonymous": REDIRECTED}),
    "password-reset": get(public()),
    "password-reset-confirm": get(public(), uidb64="uidb64", token="reset_token"),
    "email-change-confirm": get(public(), token="email_change_token"),
    "healthz": get(public()),
    # `/` sends everyone on: visitors to sign in, staff to their role's page, members to their messages.
    "home": get({**dict.fromkeys(PERSONAS, REDIRECTED), "anonymous": SIGN_IN}),
    "favicon": get(dict.fromkeys(PERSONAS, REDIRECTED)),
    # The admin.
    # The admin signs in through the one sign-in page; staff already signed in go on to the admin.
    "admin/login/": get({**dict.fromkeys(PERSONAS, REDIRECTED), "user": FORBIDDEN, "other_user": FORBIDDEN}),
    "admin:index": get(admin_site(*STAFF) | {"outsider": ALLOWED}),
    # Every account with admin access changes its own password there (through the services' sign-out).
    "admin/password_change/": get(admin_site(*STAFF) | {"outsider": ALLOWED}),
    "admin:accounts_user_changelist": get(admin_site("administrator")),
    "admin:accounts_registration_changelist": get(admin_site("reviewer", "manager", "administrator")),
    "admin:accounts_lockout_changelist": get(admin_site("administrator")),
    "admin:audit_auditentry_changelist": get(admin_site("administrator")),
    "admin:sla_clock_changelist": get(admin_site("administrator")),
    "admin:ml_textmodel_changelist": get(admin_site("administrator")),
    "admin:retention_retentionpolicy_changelist": get(admin_site("administrator")),
    "admin:accounts_reviewguidelines_changelist": get(admin_site("administrator")),
    # Shifts are set by the administrators; managers read them on the staffing page.
    "admin:accounts_agentprofile_changelist": get(admin_site("administrator")),
    "admin:accounts_featurerelease_changelist": get(admin_site("administrator")),
    "admin:messaging_conversation_changelist": get(admin_site(*CONVERSATION_VIEW)),
    "admin:support_ticket_changelist": get(admin_site(*TICKET_VIEW)),
    "admin:moderation_case_changelist": get(admin_site(*CASE_VIEW)),
    "admin:accounts_user_timeline": get(admin_site(*ACCOUNT_STATUS), pk="user"),
    "admin:auth_user_password_change": get(admin_site("administrator"), id="user"),
    "admin:accounts_user_unlock": (
        post(admin_site("administrator"), pk="user"),
        *status_changes_of_staff(None, admin=True),
    ),
    "admin:accounts_user_status": (
        post(admin_site(*ACCOUNT_STATUS), pk="user"),
        *status_changes_of_staff({"action": "suspend", **STATUS_REASON}, admin=True),
    ),
    "admin:otp_totp_totpdevice_config": get(admin_site(), pk="totp_device"),  # superusers only
    "admin:otp_totp_totpdevice_qrcode": get(admin_site(), pk="totp_device"),
    # Messaging: support agents answer; moderators and managers read (and leave internal notes) but do not reply.
    "messaging:home": get(staff(*CONVERSATION_VIEW)),
    "messaging:inbox-rows": get(staff(*CONVERSATION_VIEW)),
    "messaging:new": get(staff(*CONVERSATION_ANSWER)),
    "messaging:thread": get(staff(*CONVERSATION_VIEW), pk="conversation"),
    "messaging:thread-messages": get(staff(*CONVERSATION_VIEW), pk="conversation"),
    "messaging:reply": post(staff(*CONVERSATION_ANSWER), pk="conversation"),
    "messaging:canned": get(staff(*CONVERSATION_ANSWER), pk="conversation", macro_pk="canned_response"),
    "messaging:note": post(staff(*CONVERSATION_VIEW), pk="conversation"),
    "messaging:category": post(staff(*CONVERSATION_ANSWER), pk="conversation"),
    "messaging:assign": post(staff(*CONVERSATION_ANSWER), pk="conversation"),
    "messaging:resolve": post(staff(*CONVERSATION_ANSWER), pk="conversation"),
    "messaging:reopen": post(staff(*CONVERSATION_ANSWER), pk="conversation"),
    "messaging:escalate": post(staff(*CONVERSATION_ANSWER), pk="conversation"),
    "messaging:convert": post(staff(*CONVERSATION_ANSWER), pk="conversation"),
    "messaging:attachment": get(staff(*CONVERSATION_VIEW), pk="attachment"),
    "messages:list": get(signed_in()),
    "messages:conversation": get(own(), pk="conversation"),
    "messages:attachment": get(own(), pk="conversation", attachment_id="attachment"),
    "messaging-api:conversation-list": get(signed_in()),
    "messaging-api:conversation-detail": get(own(), pk="conversation"),
    "messaging-api:conversation-message": post(own(), pk="conversation"),
    "messaging-api:conversation-read": post(own(), pk="conversation"),
    "messaging-api:conversation-attachment": get(own(), pk="conversation", attachment_id="attachment"),
    "messaging-api:staff-conversation-list": get(staff(*CONVERSATION_VIEW)),
    "messaging-api:staff-conversation-detail": get(staff(*CONVERSATION_VIEW), pk="conversation"),
    # A real reply (not an internal note), so that the role check is what decides.
    "messaging-api:staff-conversation-message": post(
        staff(*CONVERSATION_ANSWER), data={"body": "We have changed the photos for you."}, pk="conversation"
    ),
    "messaging-api:staff-conversation-category": post(staff(*CONVERSATION_ANSWER), pk="conversation"),
    "messaging-api:staff-conversation-claim": post(staff(*CONVERSATION_ANSWER), pk="conversation"),
    "messaging-api:staff-conversation-transfer": post(staff(*CONVERSATION_ANSWER), pk="conversation"),
    "messaging-api:staff-conversation-resolve": post(staff(*CONVERSATION_ANSWER), pk="conversation"),
    "messaging-api:staff-conversation-reopen": post(staff(*CONVERSATION_ANSWER), pk="conversation"),
    "messaging-api:staff-conversation-escalate": post(staff(*CONVERSATION_ANSWER), pk="conversation"),
    "messaging-api:staff-conversation-convert": post(staff(*CONVERSATION_ANSWER), pk="conversation"),
    # Support: agents answer tickets; managers read them and the figures.
    "support:home": get(staff(*TICKET_VIEW)),
    "support:ticket": get(staff(*TICKET_VIEW), pk="ticket"),
    "support:ticket-reply": post(staff(*TICKET_ANSWER), pk="ticket"),
    "support:ticket-attachment": get(staff(*TICKET_VIEW), pk="ticket", attachment_pk="ticket_attachment"),
    "support:ticket-properties": post(staff(*TICKET_ANSWER), pk="ticket"),
    "support:ticket-assign": post(staff(*TICKET_ANSWER), pk="ticket"),
    "support:ticket-cc": post(staff(*TICKET_ANSWER), pk="ticket"),
    "support:ticket-merge": post(staff(*TICKET_ANSWER), pk="ticket"),
    "support:ticket-known-issue": post(staff(*TICKET_ANSWER), pk="ticket"),
    "support:macro-preview": get(staff(*TICKET_ANSWER), pk="ticket", macro_pk="macro"),
    # The chat panel: agents only (a manager sees tickets but answers no chat); a non-chat ticket is no chat (404).
    "support:chats": get(staff(*TICKET_ANSWER)),
    "support:chat": (get(staff(*TICKET_ANSWER), pk="chat"), get(_no_chat(), pk="ticket", label="not a chat")),
    "support:chat-transfer": post(staff(*TICKET_ANSWER), pk="chat"),
    "support:chat-convert": post(staff(*TICKET_ANSWER), pk="chat"),
    "support:follow-ups": get(staff(*MANAGEMENT)),
    "support:known-issues": (get(staff(*TICKET_VIEW)), post(staff(*TICKET_ANSWER))),
    "support:known-issue": (
        get(staff(*TICKET_VIEW), pk="known_issue"),
        post(staff(*TICKET_ANSWER), pk="known_issue"),
    ),
    "support:figures": get(staff(*MANAGEMENT)),
    "help:home": get(public()),
    "help:transparency": get(public()),
    "help:transparency-csv": get(public()),
    "help:article": get(public(), category="category", slug="slug"),
    "help:survey": get(public(), token="survey_token"),  # the signed link is the credential
    "help:survey-rate": get(dict.fromkeys(PERSONAS, REDIRECTED), token="survey_token", rating="rating"),
    "support-api:ticket-list": get(signed_in()),
    "support-api:ticket-detail": get(own(), pk="ticket"),
    "support-api:ticket-reply": post(own(), pk="ticket"),
    "support-api:ticket-attachment": get(own(), pk="ticket", attachment_id="ticket_attachment"),
    "support-api:report-issue": post(signed_in()),
    "support-api:inbound-email": post(gateway()),
    "support-api:live-chat": get(public()),
    "support-api:chat-events": get(own(), pk="own_chat"),
    "support-api:chat-read": post(own(), pk="own_chat"),
    "support-api:guidance": post(public()),
    # Guidance asked while signed in belongs to that user; an anonymous caller cannot read it either.
    "support-api:guidance-read": post({**own(), "anonymous": NOT_FOUND}, pk="guidance"),
    "support-api:points": get(signed_in()),
    "support-api:article-search": get(public()),
    "support-api:staff-ticket-list": get(staff(*TICKET_VIEW)),
    "support-api:staff-ticket-detail": get(staff(*TICKET_VIEW), pk="ticket"),
    "support-api:staff-ticket-reply": post(staff(*TICKET_ANSWER), pk="ticket"),
    # Marketplace: staff look up listings, users and transactions; only administrators manage them.
    "marketplace:home": get(staff(*LISTING_VIEW)),
    "marketplace:listings-bulk": post(staff("administrator")),
    "marketplace:listing": get(staff(*LISTING_VIEW), pk="listing"),
    "marketplace:listing-image": get(staff(*LISTING_VIEW), pk="listing", index="image_index"),
    "marketplace:listing-renew": post(staff("agent", "administrator"), pk="listing"),
    "marketplace:users": get(staff("administrator")),
    "marketplace:users-bulk": post(staff("administrator")),
    "marketplace:user": get(staff(*LISTING_VIEW), pk="user"),
    "marketplace:transactions": get(staff(*LISTING_VIEW)),
    "marketplace:transaction": (
        get(staff(*LISTING_VIEW), pk="transaction"),
        post(staff("administrator"), pk="transaction"),
    ),
    "marketplace-api:listing-list": get(signed_in()),
    "marketplace-api:listing-detail": get(own(), pk="listing"),
    "marketplace-api:listing-renew": post(own(), pk="listing"),
    "marketplace-api:category-list": get(signed_in()),
    "marketplace-api:seller-profile": get(signed_in(), pk="user"),  # a seller's public profile
    # Staff accounts have no marketplace profile.
    "marketplace-api:own-profile": get({**signed_in(), **dict.fromkeys(("outsider", *STAFF), NOT_FOUND)}),
    "marketplace-api:transaction-list": get(signed_in()),
    "marketplace-api:transaction-detail": get(own(), pk="transaction"),
    "marketplace-api:transaction-status": post(own(), pk="transaction"),
    # Moderation: moderators decide; a support agent neither sees nor decides a case.
    "moderation:home": get(staff(*CASE_VIEW)),
    "moderation:case": get(staff(*CASE_VIEW), pk="case"),
    "moderation:case-image": get(staff(*CASE_VIEW), pk="case", index="image_index"),
    "moderation:case-decide": post(staff("moderator"), pk="case"),
    "moderation:appeals": get(staff("moderator")),
    "moderation:appeal": get(staff("moderator"), pk="appeal"),
    "moderation:keywords": (get(staff(*CASE_VIEW)), post(staff("administrator"))),
    "moderation:keyword-toggle": post(staff("administrator"), pk="keyword"),
    "moderation:figures": get(staff(*MANAGEMENT)),
    "moderation-api:flag-list": get(signed_in()),
    "moderation-api:own-case-list": get(signed_in()),
    "moderation-api:own-case-detail": get(own(), pk="case"),
    "moderation-api:own-case-appeal": post(own(), pk="case"),
    "moderation-api:staff-case-list": get(staff(*CASE_VIEW)),
    "moderation-api:staff-case-detail": get(staff(*CASE_VIEW), pk="case"),
    "moderation-api:staff-case-decide": post(staff("moderator"), pk="case"),
    # The dashboard: every staff member, each role with its own areas; reports for managers and administrators.
    "dashboard:home": get({**staff(*STAFF), "outsider": ALLOWED}),
    "dashboard:tiles": get({**staff(*STAFF), "outsider": ALLOWED}),
    # Every role reads some kind of record; a staff account with no role reads none, so has nothing to search.
    "dashboard:search": get(staff(*STAFF)),
    "dashboard:area": (
        area("accounts", "reviewer", *MANAGEMENT),
        area("messaging", *CONVERSATION_VIEW),
        area("support", *TICKET_VIEW),
        area("moderation", "moderator", *MANAGEMENT),
    ),
    # The items behind a tile's numbers: whoever sees the tile (its queue's staff, managers, administrators).
    "dashboard:promise-items": tuple(
        Check(staff(*holders), label=metric, fixed={"metric": metric})
        for metric, holders in (
            ("registration.approval", (*REGISTRATION_REVIEW, "manager")),
            ("message.first_response", CONVERSATION_VIEW),
            ("ticket.resolution", TICKET_VIEW),
            ("moderation.decision", (*CASE_VIEW, "manager")),
        )
    ),
    "dashboard:reports": (get(staff(*MANAGEMENT)), post(staff(*MANAGEMENT))),
    "dashboard:report-subscriptions": (get(staff(*MANAGEMENT)), post(staff(*MANAGEMENT))),
    "dashboard:report": get(staff(*MANAGEMENT), pk="report"),
    "dashboard:report-preview": get(staff(*MANAGEMENT), pk="report"),
    "dashboard:report-download": get(staff(*MANAGEMENT), pk="report", fmt="fmt"),
    # A subscriber's signed link to a report's PDF is its own credential: whoever holds it downloads the PDF, with or
    # without an account; without a valid signature everyone is refused.
    "dashboard:report-link": (
        get(public(), label="signed", token="report_link"),
        Check(dict.fromkeys(PERSONAS, FORBIDDEN), label="forged", fixed={"token": "forged-link"}),
    ),
    "dashboard:improvements": (get(staff(*MANAGEMENT)), post(staff("administrator"))),
    "dashboard:improvement-edit": get(staff("administrator"), pk="improvement"),
    "dashboard:improvement-delete": post(staff("administrator"), pk="improvement"),
    # A comment topic becomes an improvement-log entry: managers and administrators (agents see topic counts only).
    "dashboard:topic-improvement": (get(staff(*MANAGEMENT), pk="topic"), post(staff(*MANAGEMENT), pk="topic")),
    # Targets: managers and administrators read them; administrators set them in the admin.
    "dashboard:targets": get(staff(*MANAGEMENT)),
    # Staffing: the forecast against the shifts, for those who oversee the queues.
    "dashboard:staffing": get(staff(*MANAGEMENT)),
    "reports-api:metrics": get(staff(*MANAGEMENT)),
    "reports-api:figures": get(staff(*MANAGEMENT)),
    "reports-api:compliance": get(staff(*MANAGEMENT)),
    "reports-api:report-runs": (get(staff(*MANAGEMENT)), post(staff(*MANAGEMENT))),
    # The account API: anyone signed in manages their own account; sign-up, sign-in and recovery are public.
    "accounts-api:registration-create": post(public()),
    "accounts-api:registration-start": post(public()),
    "accounts-api:registration-me": get(own()),
    "accounts-api:registration-submit": post(own()),
    "accounts-api:registration-resend-email": post(own()),
    "accounts-api:registration-phone-send": post(own()),
    "accounts-api:registration-phone-confirm": post(own()),
    "accounts-api:registration-provide-info": post(own()),
    "accounts-api:registration-verify-email": post(public()),
    "accounts-api:staff-registration-list": get(staff(*REGISTRATION_REVIEW)),
    "accounts-api:staff-registration-detail": get(staff(*REGISTRATION_REVIEW), pk="registration"),
    "accounts-api:staff-registration-approve": post(staff(*REGISTRATION_REVIEW), pk="registration"),
    "accounts-api:staff-registration-reject": post(staff(*REGISTRATION_REVIEW), pk="registration"),
    "accounts-api:auth-token": post(public()),
    "accounts-api:auth-sign-out": post(signed_in()),
    "accounts-api:auth-password-reset": post(public()),
    "accounts-api:auth-password-reset-confirm": post(public()),
    "accounts-api:account": get(signed_in()),
    "accounts-api:account-password": post(signed_in()),
    "accounts-api:account-email": post(signed_in()),
    "accounts-api:account-email-confirm": post(public()),
    "accounts-api:account-preferences": get(signed_in()),
    "accounts-api:account-export": get(signed_in()),
    "accounts-api:account-deletion": post(signed_in()),
    "accounts-api:account-deactivate": post(signed_in()),
    "accounts-api:account-feedback": post(signed_in()),
    "accounts-api:account-prompts": get(signed_in()),
    "accounts-api:account-features": get(signed_in()),
    "accounts-api:account-two-factor": get(signed_in()),
    "accounts-api:staff-user-timeline": get(staff(*ACCOUNT_STATUS), pk="user"),
    # A marketplace user's account: moderators and administrators; a staff account: see status_changes_of_staff.
    "accounts-api:staff-user-suspend": (
        post(staff(*ACCOUNT_STATUS), pk="user"),
        *status_changes_of_staff(STATUS_REASON),
    ),
    "accounts-api:staff-user-ban": (post(staff(*ACCOUNT_STATUS), pk="user"), *status_changes_of_staff(STATUS_REASON)),
    "accounts-api:staff-user-reinstate": (
        post(staff(*ACCOUNT_STATUS), pk="user"),
        *status_changes_of_staff(STATUS_REASON),
    ),
    "accounts-api:staff-user-unlock": (post(staff("administrator"), pk="user"), *status_changes_of_staff(None)),
    "api-schema": get(public()),
    "api-docs": get(public()),
}

# --- The URLs of the project -------------------------------------------------------------------------------------


def _patterns(resolver: URLResolver, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str, str, Any]]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}:{pattern.namespace}" if namespace and pattern.namespace else pattern.namespace
            yield from _patterns(pattern, prefix + str(pattern.pattern), inner or namespace)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            key = f"{namespace}:{pattern.name}" if namespace and pattern.name else (pattern.name or route)
            yield key, route, namespace, pattern.callback


def _generated_by_the_admin(namespace: str, callback: Any) -> bool:
    """The admin's own views and the model pages it generates for every registered ModelAdmin (custom admin
    views, such as a ModelAdmin's extra URLs, need a row)."""
    return namespace == "admin" and callback.__module__.startswith(("django.contrib.", "django.views.generic."))


def project_urls() -> dict[str, str]:
    """URL name (or route, for an unnamed pattern) -> route, for every pattern the resolver knows."""
    return {
        key: route
        for key, route, namespace, callback in _patterns(get_resolver())
        if not _generated_by_the_admin(namespace, callback) or key in TABLE
    }


# --- Personas and requests ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    """Built once for the module inside a transaction that is rolled back at its end; every test runs in a
    savepoint of it, so what one request changes is undone before the next."""
    media = tmp_path_factory.mktemp("access-media")
    fast = override_settings(
        MEDIA_ROOT=str(media),
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        MODERATION_SPAM_CSV="",
        SUPPORT_INBOUND_EMAIL_TOKEN="gateway-secret",
        STAFF_2FA_REQUIRED=False,
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        **(
            {}
            if settings.REDIS_URL
            else {"CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}}
        ),
    )
    with django_db_blocker.unblock(), fast:
        celery_app.conf.task_always_eager = True
        with transaction.atomic():
            yield build_world()
            transaction.set_rollback(True)


def _rows() -> Iterator[Any]:
    for name, checks in TABLE.items():
        checks = checks if isinstance(checks, tuple) else (checks,)
        for check in checks:
            yield pytest.param(name, check, id=f"{name}[{check.label}]" if len(checks) > 1 else name)


def each_persona(personas: Iterable[str], request_as: Callable[[str], None]) -> None:
    """`request_as(persona)` for each persona, in a savepoint rolled back after it, with no rate limit spent and an
    empty outbox; then fail with every persona whose assertion failed."""
    failures = []
    for persona in personas:
        cache.clear()
        mail.outbox = []
        with transaction.atomic():
            try:
                request_as(persona)
            except AssertionError as error:
                line = next(iter(str(error).splitlines()), "assertion failed")
                failures.append(line if f"as {persona}" in line else f"as {persona}: {line}")
            except Exception as error:
                error.add_note(f"(as {persona})")
                raise
            transaction.set_rollback(True)
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)


def _path(name: str, check: Check, world: World) -> str:
    if "/" in name:
        return "/" + name
    kwargs = {arg: world.ids[key] for arg, key in check.kw.items()}
    return reverse(name, kwargs={**kwargs, **check.fixed})


def _footprint() -> tuple[int, ...]:
    """Rows a refused request must not add: the audit trail (every service writes to it), replies, decisions."""
    models = [AuditEntry, Message, TicketMessage, Decision]
    sql = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {m._meta.db_table})" for m in models)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return tuple(cursor.fetchone())


def _outcome(response: Any, *, path: str, method: str) -> str:
    code = response.status_code
    if code == 401:
        return SIGN_IN
    if 300 <= code < 400:
        # A refusal sends the visitor to sign in and back here; any other redirect is the page's own.
        target = urlsplit(response["Location"])
        sign_in = (resolve_url(settings.LOGIN_URL), reverse("admin:login"))
        if target.path in sign_in and parse_qs(target.query).get("next") == [path]:
            return SIGN_IN
        return ALLOWED if method == "post" else REDIRECTED
    if code == 403:
        return FORBIDDEN
    if code == 404:
        return NOT_FOUND
    if 200 <= code < 300 or (method == "post" and code in (400, 409)):
        return ALLOWED
    return f"HTTP {code}"


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "check"), list(_rows()))
def test_access(name: str, check: Check, world: World) -> None:
    path = _path(name, check, world)
    api = path.startswith("/api/")

    def request_as(persona: str) -> None:
        client = signed_in_client(world, persona) if persona != "anonymous" and not api else Client()
        headers: dict[str, str] = {}
        if persona != "anonymous" and api:
            headers["Authorization"] = f"Token {world.tokens[persona]}"
        expected = check.access[persona]
        before = _footprint() if expected in (SIGN_IN, FORBIDDEN, NOT_FOUND) else None
        if check.method == "get":
            response = client.get(path, headers=headers)
        elif api:
            response = client.post(path, check.data or {}, content_type="application/json", headers=headers)
        else:
            response = client.post(path, check.data or {}, headers=headers)

        got = _outcome(response, path=path, method=check.method)
        assert got == expected, (
            f"{check.method.upper()} {path} as {persona}: {got} (HTTP {response.status_code}), expected {expected}"
        )
        if before is not None:
            assert _footprint() == before, f"{check.method.upper()} {path} as {persona} was refused but wrote"
        if api and expected != ALLOWED and got != ALLOWED:
            assert_error_shape(response.json(), _API_CODES[expected])

    each_persona(PERSONAS, request_as)


_API_CODES = {SIGN_IN: "not_authenticated", FORBIDDEN: "permission_denied", NOT_FOUND: "not_found"}


# --- The staff API through a session, whatever Authorization header comes with it ---------------------------------

# Headers the token class does not take as its own: the session authenticates the request. A `Token` header with a
# bad key is the token class's, and refused as such (401) even with a signed-in session.
SESSION_HEADERS = {
    "bearer": "Bearer x",
    "basic": "Basic cmV2aWV3ZXI6c2VjcmV0",
    "garbage": "garbage",
    "bad-token": "Token 0000000000000000000000000000000000000000",
}
# Deciding staff owe a second factor (STAFF_2FA_REQUIRED on) that a plain session sign-in has not given.
OWES_SECOND_FACTOR = ("reviewer", "moderator", "administrator")


def _staff_api_checks() -> Iterator[tuple[str, Check]]:
    """The first check of every API row that sends visitors to sign in and refuses marketplace users: the staff
    API (the mail gateway's bearer-token endpoint is not one)."""
    for name, checks in TABLE.items():
        check = checks[0] if isinstance(checks, tuple) else checks
        if "-api:" in name and check.access["user"] == FORBIDDEN and check.access["anonymous"] == SIGN_IN:
            yield name, check


def _session_rows() -> Iterator[Any]:
    for name, check in _staff_api_checks():
        for header_label, header in SESSION_HEADERS.items():
            yield pytest.param(name, check, header, id=f"{name}[{header_label}]")


def _session_expected(check: Check, header: str, persona: str) -> tuple[str, str | None]:
    """The outcome, and the API error code of a refusal."""
    if persona == "anonymous" or header.startswith("Token "):
        return SIGN_IN, "not_authenticated" if persona == "anonymous" and not header.startswith("Token ") else None
    if persona in OWES_SECOND_FACTOR:
        return FORBIDDEN, "second_factor_required"
    expected = check.access[persona]
    return expected, _API_CODES.get(expected)


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "check", "header"), list(_session_rows()))
def test_staff_api_through_a_session_with_any_authorization_header(
    name: str, check: Check, header: str, world: World, settings: Any
) -> None:
    settings.STAFF_2FA_REQUIRED = True
    path = _path(name, check, world)
    assert path.startswith("/api/"), path

    def request_as(persona: str) -> None:
        client = signed_in_client(world, persona) if persona != "anonymous" else Client()
        headers = {"Authorization": header}
        expected, code = _session_expected(check, header, persona)
        before = _footprint() if expected != ALLOWED else None
        if check.method == "get":
            response = client.get(path, headers=headers)
        else:
            response = client.post(path, check.data or {}, content_type="application/json", headers=headers)

        got = _outcome(response, path=path, method=check.method)
        assert got == expected, f"{check.method.upper()} {path} as {persona} with {header!r}: {got}, not {expected}"
        if before is not None:
            assert _footprint() == before, f"{check.method.upper()} {path} as {persona} was refused but wrote"
        if got != ALLOWED:
            body = response.json()
            assert_error_shape(body, code or body["error"]["code"])
            if header.startswith("Token "):
                assert body["error"]["code"] == "authentication_failed", f"{path} as {persona}: {body}"

    each_persona(PERSONAS, request_as)


def test_every_url_has_a_row_in_the_access_table() -> None:
    urls = project_urls()
    missing = sorted(set(urls) - set(TABLE))
    assert not missing, f"URLs without a row in the access table: {', '.join(missing)}"
    stale = sorted(set(TABLE) - set(urls))
    assert not stale, f"Rows of the access table for URLs that no longer exist: {', '.join(stale)}"


def test_no_url_serves_the_uploads_folder() -> None:
    """ID documents, attachments and report files live under MEDIA_ROOT: they reach their readers only through
    the views above, never from a public URL, not even on a DEBUG (demo) server."""
    with override_settings(DEBUG=True):
        urls = importlib.reload(importlib.import_module(settings.ROOT_URLCONF))
        serving = [str(p.pattern) for p in urls.urlpatterns if getattr(p, "callback", None) is static.serve]
    importlib.reload(urls)
    clear_url_caches()
    assert not serving, f"Uploads served without an access check at {serving}"
