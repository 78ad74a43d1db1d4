"""Recording account events, with the client they came from (IP, user agent, device, channel)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import uuid4

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ua_parser import parse as parse_user_agent

from saypro.clientip import client_ip

from .identity import device_type, subnet_of
from .models import AccountEvent, User

Kind = AccountEvent.Kind


@dataclass(frozen=True)
class Client:
    """Where a request came from. `Client()` is the system (a task, a command)."""

    ip: str | None = None
    user_agent: str = ""
    channel: str = "system"

    @property
    def subnet(self) -> str:
        try:
            return subnet_of(self.ip)
        except ValueError:
            return ""

    @property
    def device(self) -> Device:
        return describe_device(self.user_agent)


SYSTEM = Client()


@dataclass(frozen=True)
class Device:
    type: str
    platform: str
    browser: str

    @property
    def key(self) -> str:
        """What "the same device" means when comparing sign-ins: browser, platform and device type."""
        return hashlib.sha256(f"{self.type}|{self.platform}|{self.browser}".encode()).hexdigest()[:32]

    @property
    def label(self) -> str:
        return f"{self.browser or 'Unknown browser'} on {self.platform or 'an unknown system'} ({self.type})"


@lru_cache(maxsize=4096)
def describe_device(user_agent: str) -> Device:
    """Device type, platform and browser from a user agent (ua-parser's maintained regexes); cached per agent."""
    result = parse_user_agent(user_agent) if user_agent else None
    platform = result.os.family if result and result.os else ""
    browser = result.user_agent.family if result and result.user_agent else ""
    return Device(type=device_type(user_agent), platform=platform[:50], browser=browser[:50])


def client_of(request: HttpRequest, channel: str) -> Client:
    return Client(ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")[:300], channel=channel)


def identifier_of(email: str) -> str:
    """A keyed hash of an e-mail address as typed at sign-in (folded to lower case): counts failures per address
    without storing addresses that belong to nobody."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"signin:{email.strip().lower()}".encode(), hashlib.sha256).hexdigest()


def event_record(
    *,
    user: User | None,
    kind: str,
    reason: str = "",
    actor: User | None = None,
    client: Client = SYSTEM,
    data: dict[str, Any] | None = None,
    identifier: str = "",
    at: datetime | None = None,
) -> AccountEvent:
    return AccountEvent.objects.create(
        user=user,
        kind=kind,
        reason=reason[:40],
        at=at or timezone.now(),
        actor=actor if actor is not None and actor.pk else None,
        channel=client.channel,
        ip_address=client.ip,
        user_agent=client.user_agent[:300],
        device_type=client.device.type if client.user_agent else "",
        identifier=identifier,
        data=data or {},
    )


def notice_send(*, user: User, notice: str, context: dict[str, Any] | None = None, once_key: str = "") -> None:
    """E-mail the user about their account after commit, at the address they have now (accounts.tasks)."""
    from django.db import transaction

    from . import tasks

    email, pk = user.email, user.pk
    # Every notice is named, so that a second delivery of its task sends nothing.
    once_key = once_key or f"account-notice:{pk}:{notice}:{uuid4().hex}"
    transaction.on_commit(lambda: tasks.send_account_notice.delay(pk, notice, email, context or {}, once_key))
