"""E-mail: subjects are one line whatever users type, plain text is not HTML-escaped, and a failed e-mail is kept,
shown to staff and sent again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from messaging import services as messaging
from messaging.models import Conversation
from messaging.tasks import send_reply_email
from saypro.mail import mail_retry, send_template
from saypro.outbox.models import MailDelivery
from tests.factories import UserFactory
from tests.foundation.support import closed_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(db):
    return messaging.conversation_start(
        user=UserFactory(), subject="Tom & Jerry", body="Is the cartoon DVD still there?"
    )


def test_a_subject_typed_with_a_line_break_is_stored_on_one_line():
    conversation = messaging.conversation_start(user=UserFactory(), subject="Help\r\nBcc: x@example.com", body="Hi")
    assert conversation.subject == "Help Bcc: x@example.com"


def test_a_reply_to_a_conversation_whose_stored_subject_has_a_line_break_is_sent_with_a_one_line_subject(
    conversation, agent
):
    # Stored before subjects were normalised at input.
    Conversation.objects.filter(pk=conversation.pk).update(subject="Refund\rplease\nnow")
    conversation.refresh_from_db()
    reply = messaging.reply_send(conversation=conversation, by=agent, body="Done.")

    send_reply_email(reply.pk)

    assert [m.subject for m in mail.outbox] == ["Re: Refund please now"]
    assert MailDelivery.objects.get(once_key=f"message-reply:{reply.pk}").status == MailDelivery.Status.SENT


def test_plain_text_e_mail_is_not_html_escaped(conversation, agent):
    reply = messaging.reply_send(conversation=conversation, by=agent, body='Tom & Jerry <3 "quotes"')

    send_reply_email(reply.pk)

    (sent,) = mail.outbox
    assert sent.subject == "Re: Tom & Jerry"
    assert 'Tom & Jerry <3 "quotes"' in sent.body
    assert "&amp;" not in sent.body and "&lt;" not in sent.body and "&quot;" not in sent.body


def test_a_failed_e_mail_is_kept_shown_to_staff_and_sent_again(conversation, agent, settings, client):
    reply = messaging.reply_send(conversation=conversation, by=agent, body="Your refund is on its way.")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2

    assert send_template(
        kind="conversation.reply", to=["buyer@example.com"], template="messaging/email/reply.txt", context={
            "conversation": conversation, "message": reply, "name": "Sam", "agent": "Ann", "url": "https://x/"
        }, once_key="test-reply",
    ) is False  # fmt: skip

    failed = MailDelivery.objects.get(once_key="test-reply")
    assert failed.status == MailDelivery.Status.FAILED
    assert failed.attempts == 1
    assert "Connection" in failed.last_error or "refused" in failed.last_error.lower()
    # A second delivery of the task does not send it again behind the retry's back.
    assert send_template(
        kind="conversation.reply", to=["buyer@example.com"], template="messaging/email/reply.txt", context={
            "conversation": conversation, "message": reply, "name": "Sam", "agent": "Ann", "url": "https://x/"
        }, once_key="test-reply",
    ) is False  # fmt: skip

    superuser = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)
    page = client.get("/admin/outbox/maildelivery/", {"status__exact": "failed"})
    assert page.status_code == 200
    assert "Re: Tom &amp; Jerry" in page.content.decode()  # an HTML page escapes, as it must

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert mail_retry(now=timezone.now()) == 0  # not due yet: the pause grows with each failure
    assert mail_retry(now=timezone.now() + timedelta(minutes=3)) == 1
    assert [m.subject for m in mail.outbox] == ["Re: Tom & Jerry"]
    assert MailDelivery.objects.get(once_key="test-reply").status == MailDelivery.Status.SENT
    assert mail_retry(now=timezone.now() + timedelta(hours=1)) == 0


def test_an_e_mail_with_a_once_key_is_not_sent_again_after_the_cache_is_lost(conversation, agent):
    """The key is a database row: Redis restarted empty (the cache with it) does not make a redelivered task
    send the reply a second time."""
    from django.core.cache import cache

    reply = messaging.reply_send(conversation=conversation, by=agent, body="Your refund is on its way.")
    send_reply_email(reply.pk)
    cache.clear()
    send_reply_email(reply.pk)

    assert len(mail.outbox) == 1
