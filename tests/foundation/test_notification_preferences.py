"""Notification preferences: a person who turned e-mail or text-message notifications off gets none of them, and
still gets every essential message (verification, security, decisions). Every sender names a declared kind."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured

from accounts import tasks as account_tasks
from accounts.models import RegistrationStatus, User
from accounts.self_service import preferences_update
from accounts.sms import sms_send
from messaging import services as messaging
from saypro import notifications
from saypro.mail import send_template
from support import services as support
from tests.accounts.helpers import signup
from tests.factories import RegistrationFactory, UserFactory
from tests.foundation.support import ROOT

pytestmark = pytest.mark.django_db

SENDERS = ["accounts", "messaging", "support", "moderation", "marketplace", "reports", "saypro"]


def mails_to(address: str) -> list[mail.EmailMessage]:
    return [message for message in mail.outbox if address in message.to]


def notifications_and_essentials_for(user: User, agent: User, capture) -> None:
    """Everything a marketplace user is sent in a day: replies to a conversation and a ticket (with a CC), the
    ticket's receipt, a registration decision and a security notice."""
    with capture(execute=True):
        conversation = messaging.conversation_start(user=user, subject="Refund", body="Where is my refund?")
        ticket = support.ticket_create(
            requester=user, subject="Cannot post", body="The form fails.", channel="web", cc=["friend@example.com"]
        )
    with capture(execute=True):
        messaging.reply_send(conversation=conversation, by=agent, body="Your refund is on its way.")
        support.ticket_reply(ticket=ticket, by=agent, body="Fixed now, please try again.")
    registration = RegistrationFactory(user=user, status=RegistrationStatus.APPROVED)
    account_tasks.send_registration_decision(registration.pk)
    account_tasks.send_account_notice(
        user.pk, "password_changed", user.email, {"at": "6 Dec 2026 10:00", "reset": False}, f"test:{user.pk}"
    )


def test_a_user_who_turned_email_notifications_off_gets_only_the_essential_emails(
    agent, django_capture_on_commit_callbacks
):
    user = UserFactory()
    preferences_update(user=user, email_notifications=False)

    notifications_and_essentials_for(user, agent, django_capture_on_commit_callbacks)

    subjects = [message.subject for message in mails_to(user.email)]
    assert any("approved" in subject.lower() for subject in subjects)
    assert "Your SayPro password was changed" in subjects
    assert len(subjects) == 2, subjects  # no reply, no ticket receipt
    for message in mails_to(user.email):
        assert "sent whatever your notification settings are" in message.body
    # A CC has no account and no preferences: the requester's switch is about their own inbox.
    cc = mails_to("friend@example.com")
    assert len(cc) == 1 and "Fixed now, please try again." in cc[0].body


def test_a_user_with_email_notifications_on_gets_the_replies_and_is_told_how_to_stop_them(
    agent, django_capture_on_commit_callbacks
):
    user = UserFactory()  # no preferences stored: e-mail notifications are on by default

    notifications_and_essentials_for(user, agent, django_capture_on_commit_callbacks)

    received = mails_to(user.email)
    replies = [message for message in received if "Your refund is on its way." in message.body]
    ticket_replies = [message for message in received if "Fixed now, please try again." in message.body]
    assert len(replies) == 1 and len(ticket_replies) == 1
    assert len(received) >= 5  # + the ticket receipt, the decision and the security notice
    assert "To stop e-mail about messages and tickets, turn it off in your SayPro account settings." in replies[0].body


def test_turning_email_notifications_back_on_brings_the_replies_back(agent, django_capture_on_commit_callbacks):
    user = UserFactory()
    preferences_update(user=user, email_notifications=False)
    preferences_update(user=user, email_notifications=True)
    with django_capture_on_commit_callbacks(execute=True):
        conversation = messaging.conversation_start(user=user, subject="Refund", body="Where is my refund?")
    with django_capture_on_commit_callbacks(execute=True):
        messaging.reply_send(conversation=conversation, by=agent, body="Your refund is on its way.")

    assert [m for m in mails_to(user.email) if "Your refund is on its way." in m.body]


def sms_lines(folder: Path) -> list[dict]:
    return [json.loads(line) for path in sorted(folder.glob("*.log")) for line in path.read_text().splitlines()]


@pytest.fixture
def sms_folder(settings, tmp_path):
    settings.SMS_BACKEND = "accounts.sms.FileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    return tmp_path / "sms"


@pytest.fixture
def sms_notification_kind(monkeypatch):
    """A text-message notification. None is sent yet (the only text is the verification code), so the gate every
    future one passes through is checked with a kind declared here."""
    kind = notifications.MessageKind(
        "test.sms_reply", notifications.SMS, essential=False, why="a reply", preference="sms_notifications"
    )
    monkeypatch.setitem(notifications.MESSAGE_KINDS, kind.key, kind)
    return kind.key


def test_a_user_without_text_message_notifications_still_gets_the_verification_code_and_nothing_else(
    sms_folder, sms_notification_kind, django_capture_on_commit_callbacks
):
    from accounts import services

    registration = signup()
    user = registration.user
    assert user.preferences.sms_notifications is False  # text messages are opt-in

    with django_capture_on_commit_callbacks(execute=True):
        services.phone_code_send(registration=registration)
    sent = sms_send(kind=sms_notification_kind, to=user.phone, body="The team answered you.")

    assert sent is False
    bodies = [line["body"] for line in sms_lines(sms_folder)]
    assert len(bodies) == 1 and re.search(r"verification code is \d{6}", bodies[0])


def test_a_user_who_turned_text_messages_on_gets_the_notification(sms_folder, sms_notification_kind):
    user = UserFactory(phone="+27825550199")
    preferences_update(user=user, sms_notifications=True)

    assert sms_send(kind=sms_notification_kind, to=user.phone, body="The team answered you.") is True
    preferences_update(user=user, sms_notifications=False)
    assert sms_send(kind=sms_notification_kind, to=user.phone, body="The team answered you again.") is False

    assert [line["body"] for line in sms_lines(sms_folder)] == ["The team answered you."]


def test_a_message_of_an_undeclared_kind_is_refused():
    with pytest.raises(ImproperlyConfigured, match="MESSAGE_KINDS"):
        send_template(kind="newsletter", to=["a@example.com"], template="support/email/reply.txt", context={})
    with pytest.raises(ImproperlyConfigured, match="not sms"):
        sms_send(kind="conversation.reply", to="+27825550199", body="Hello")
    assert not mail.outbox


def _called_name(node: ast.Call) -> str | None:
    return getattr(node.func, "id", None) or getattr(node.func, "attr", None)


def _passes_kind_through(function: ast.FunctionDef) -> bool:
    """A wrapper such as moderation's `_alert(event, *, kind, ...)` hands its own `kind` parameter to the sender; its
    callers are then the senders whose kinds the check reads."""
    parameters = {argument.arg for argument in function.args.args + function.args.kwonlyargs}
    return "kind" in parameters and any(
        isinstance(node, ast.Call)
        and _called_name(node) in ("send_template", "sms_send")
        and any(k.arg == "kind" and isinstance(k.value, ast.Name) and k.value.id == "kind" for k in node.keywords)
        for node in ast.walk(function)
    )


def sender_calls() -> list[tuple[Path, ast.Call]]:
    calls = []
    for app in SENDERS:
        for path in (ROOT / app).rglob("*.py"):
            tree = ast.parse(path.read_text())
            wrappers = {
                node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and _passes_kind_through(node)
            }
            senders = {"send_template", "sms_send"} | wrappers
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call) or _called_name(node) not in senders:
                    continue
                kind = next((keyword.value for keyword in node.keywords if keyword.arg == "kind"), None)
                if _called_name(node) not in wrappers and isinstance(kind, ast.Name) and kind.id == "kind":
                    continue  # inside a wrapper: its callers are checked instead
                calls.append((path, node))
    return calls


def test_every_sender_names_a_declared_kind_and_every_account_notice_has_one():
    calls = sender_calls()

    assert len(calls) >= 19
    for path, call in calls:
        kind = next((keyword.value for keyword in call.keywords if keyword.arg == "kind"), None)
        assert kind is not None, f"{path}:{call.lineno}: a message without a kind"
        if isinstance(kind, ast.Constant):
            assert kind.value in notifications.MESSAGE_KINDS, f"{path}:{call.lineno}: {kind.value}"
        else:  # the account notices: f"account.{notice}"
            assert isinstance(kind, ast.JoinedStr) and ast.unparse(kind) == "f'account.{notice}'", path
    for notice in account_tasks.NOTICE_TEMPLATES:
        assert notifications.MESSAGE_KINDS[f"account.{notice}"].essential


def test_the_classification_keeps_verification_security_and_decisions_essential():
    kinds = notifications.MESSAGE_KINDS
    essential = {key for key, kind in kinds.items() if kind.essential}
    assert {
        "registration.verify_email",
        "registration.phone_code",
        "registration.decision",
        "account.password_reset",
        "account.suspicious",
        "moderation.author_decision",
        "moderation.appeal_outcome",
    } <= essential
    assert {key for key in kinds if key not in essential} == {
        "conversation.reply",
        "ticket.acknowledgement",
        "ticket.reply",
        "support.survey",
    }
    with pytest.raises(ImproperlyConfigured):
        notifications.MessageKind("x", notifications.EMAIL, essential=False, why="", preference="")
