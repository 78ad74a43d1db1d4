"""Templated e-mail: the first line of a template is the subject, the rest the body.

Every e-mail is a `MailDelivery` row (saypro.outbox) before it is handed to the mail server. The row is what
makes an e-mail with a once-key go out once (a unique key in the database survives a cache or Redis restart,
and a task delivered twice finds it), and what keeps a failed e-mail: `mail_retry` (beat) sends it again from
the stored text, and staff see the failures in the admin's mail list.

An e-mail may carry an HTML alternative (rendered from its own template, stored on the row) and attachments by
reference: the row names a file in a storage, not a copy of its bytes, so a retry sends the file as it is then.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.storage import storages
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template import Context, engines
from django.template.loader import render_to_string
from django.utils import timezone

from saypro import notifications

logger = logging.getLogger(__name__)

SUBJECT_MAX = 200
# A SENDING row older than this lost its worker between the claim and the send: the retry task takes it over.
SENDING_STALE = timedelta(minutes=10)
SENT_KEPT = timedelta(days=30)
_LINE_BREAKS = re.compile(r"[\r\n\x00-\x1f\x7f\u0085\u2028\u2029]+")
_SPACES = re.compile(r"\s{2,}")


def one_line(text: str, *, limit: int = SUBJECT_MAX) -> str:
    """Text safe for a header: line breaks and control characters become spaces (Django refuses a header with
    a line break, for good: no retry could ever send it)."""
    return _SPACES.sub(" ", _LINE_BREAKS.sub(" ", text or "")).strip()[:limit]


def render_text(template: str, context: dict[str, Any]) -> tuple[str, str]:
    """Render a plain-text e-mail template into (subject, body), without HTML escaping: in a text e-mail
    `Tom & Jerry` must read as written, not `Tom &amp; Jerry`."""
    engine = engines["django"].engine  # type: ignore[attr-defined]
    text = engine.get_template(template).render(Context(context, autoescape=False))
    subject, _, body = text.strip().partition("\n")
    return one_line(subject), body.strip() + "\n"


@dataclass(frozen=True)
class MailAttachment:
    """A file attached by reference: its name in one of the STORAGES, and how the e-mail names it."""

    name: str
    filename: str
    mimetype: str
    storage: str = "default"


def send_template(
    *,
    kind: str,
    to: Sequence[str],
    template: str,
    context: dict[str, Any],
    once_key: str = "",
    html_template: str = "",
    attachments: Sequence[MailAttachment] = (),
) -> bool:
    """Send one e-mail of a declared kind (saypro.notifications); with `once_key`, a task delivered twice sends
    it once. Returns whether it was sent. A notification skips the addresses whose account turned it off.
    `template` is the plain text (and the subject); `html_template`, when given, the HTML alternative.

    A failure is recorded on the delivery and retried by `mail_retry`, never raised into the task: the e-mail
    is already rendered and stored, so a retry of the whole task would add nothing.
    """
    from saypro.outbox.models import MailDelivery

    message_kind = notifications.message_kind(kind, channel=notifications.EMAIL)
    recipients = notifications.recipients_allowed(message_kind, [address for address in to if address])
    if not recipients:
        return False
    context = {"time_zone": settings.TIME_ZONE, "site_url": settings.SITE_URL, **context}
    subject, body = render_text(template, context)
    footer = notifications.footer(message_kind)
    if footer:
        body = f"{body}\n-- \n{footer}\n"
    html = render_to_string(html_template, {**context, "subject": subject, "footer": footer}) if html_template else ""
    try:
        with transaction.atomic():
            delivery = MailDelivery.objects.create(
                once_key=once_key or None,
                template=template,
                to=recipients,
                subject=subject,
                body=body,
                html=html,
                attachments=[asdict(attachment) for attachment in attachments],
            )
    except IntegrityError:
        # Sent, being sent, or failed and waiting for the retry task: in each case this delivery is a repeat.
        return False
    return mail_deliver(delivery)


def mail_deliver(delivery: Any) -> bool:
    """Hand one claimed delivery to the mail server and record the outcome."""
    from saypro.outbox.models import MailDelivery

    attempts = delivery.attempts + 1
    try:
        message = EmailMultiAlternatives(
            delivery.subject, delivery.body, settings.DEFAULT_FROM_EMAIL, list(delivery.to)
        )
        if delivery.html:
            message.attach_alternative(delivery.html, "text/html")
        for ref in delivery.attachments:
            # Read at each attempt: a file that is gone fails this attempt, and the retry tries again.
            with storages[ref["storage"]].open(ref["name"], "rb") as file:
                message.attach(ref["filename"], file.read(), ref["mimetype"])
        message.send()
    except Exception as exc:
        logger.warning("e-mail %s (%s) failed, attempt %s: %r", delivery.pk, delivery.template, attempts, exc)
        MailDelivery.objects.filter(pk=delivery.pk).update(
            status=MailDelivery.Status.FAILED,
            attempts=attempts,
            last_error=repr(exc)[:2000],
            # 2, 4, 8 … minutes: a mail server that is down for a while is not hammered.
            attempt_at=timezone.now() + timedelta(minutes=2**attempts),
        )
        return False
    MailDelivery.objects.filter(pk=delivery.pk).update(
        status=MailDelivery.Status.SENT, attempts=attempts, sent_at=timezone.now(), last_error=""
    )
    return True


def mail_retry(*, now: Any = None, batch_size: int = 200) -> int:
    """Send again the failed e-mails whose next attempt is due, and those whose sender died mid-send; returns
    how many went out. Each row is claimed with a compare-and-set, so two runs never send one e-mail twice."""
    from django.db.models import Q

    from saypro.outbox.models import MailDelivery

    now = now or timezone.now()
    unsent = MailDelivery.objects.exclude(status=MailDelivery.Status.SENT).filter(
        Q(status=MailDelivery.Status.FAILED, attempt_at__lte=now, attempts__lt=settings.MAIL_MAX_ATTEMPTS)
        | Q(status=MailDelivery.Status.SENDING, attempt_at__lte=now - SENDING_STALE)
    )
    sent = 0
    for delivery in unsent.order_by("attempt_at")[:batch_size]:
        claimed = MailDelivery.objects.filter(
            pk=delivery.pk, status=delivery.status, attempt_at=delivery.attempt_at
        ).update(status=MailDelivery.Status.SENDING, attempt_at=now)
        if claimed == 1:
            sent += mail_deliver(delivery)
    MailDelivery.objects.filter(status=MailDelivery.Status.SENT, created_at__lt=now - SENT_KEPT).delete()
    return sent
