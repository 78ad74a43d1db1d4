"""Pluggable SMS delivery for phone verification codes.

Development writes messages to files (or the console); production posts to an HTTP gateway configured by
environment. A backend that cannot deliver raises SmsUnavailable, and the registration falls back to review.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from saypro import notifications


class SmsUnavailable(Exception):
    """The SMS channel cannot deliver right now."""


class BaseSmsBackend(ABC):
    @abstractmethod
    def send(self, *, to: str, body: str) -> None:
        """Deliver one message or raise SmsUnavailable."""


class ConsoleSmsBackend(BaseSmsBackend):
    def send(self, *, to: str, body: str) -> None:
        sys.stdout.write(f"SMS to {to}: {body}\n")


class FileSmsBackend(BaseSmsBackend):
    """One line per message, in a file per day, under SMS_FILE_PATH."""

    def send(self, *, to: str, body: str) -> None:
        folder = Path(settings.SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        now = timezone.now()
        with (folder / f"{now:%Y-%m-%d}.log").open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"at": now.isoformat(), "to": to, "body": body}) + "\n")


class HttpGatewaySmsBackend(BaseSmsBackend):
    """POSTs {"to", "body"} as JSON to SMS_GATEWAY_URL with a bearer token; any failure is SmsUnavailable."""

    def send(self, *, to: str, body: str) -> None:
        request = urllib.request.Request(
            settings.SMS_GATEWAY_URL,
            data=json.dumps({"to": to, "body": body}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {settings.SMS_GATEWAY_TOKEN}"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=settings.SMS_GATEWAY_TIMEOUT) as response:
                if response.status >= 300:
                    raise SmsUnavailable(f"gateway answered {response.status}")
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SmsUnavailable(str(exc)) from exc


def get_backend() -> BaseSmsBackend:
    return import_string(settings.SMS_BACKEND)()


def sms_send(*, kind: str, to: str, body: str) -> bool:
    """Send one text message of a declared kind (saypro.notifications); a notification goes only to a number
    whose account turned text messages on. Returns whether it was handed to the backend; SmsUnavailable passes
    through, for the caller to fall back."""
    message_kind = notifications.message_kind(kind, channel=notifications.SMS)
    if not to or not notifications.recipients_allowed(message_kind, [to]):
        return False
    get_backend().send(to=to, body=body)
    return True
