"""The client's address: one answer for rate limits, throttles, screening and the event log.

Behind `BEHIND_PROXY` reverse proxies (the `DJANGO_BEHIND_PROXY` setting), each proxy appends the address it
received the request from to X-Forwarded-For, and the last proxy is the socket's peer (REMOTE_ADDR). The client is
therefore the entry `BEHIND_PROXY` places from the right; anything further left is what the client itself claimed
and is never trusted. Without a proxy, REMOTE_ADDR is the client and every forwarded header is ignored, so a
random X-Forwarded-For cannot dodge a per-address limit. django-ipware parses the header (ports, IPv6 brackets,
malformed entries); this module only tells it how many hops to trust.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest
from ipware import get_client_ip
from rest_framework.request import Request
from rest_framework.throttling import ScopedRateThrottle as DrfScopedRateThrottle

FORWARDED_FOR = "HTTP_X_FORWARDED_FOR"


def _valid(address: str | None) -> str | None:
    if not address:
        return None
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest | Request) -> str | None:
    """The address of the client that sent this request, as far as the configured proxies vouch for it."""
    meta = request.META
    peer = _valid(meta.get("REMOTE_ADDR"))
    proxies = settings.BEHIND_PROXY
    if not proxies or not meta.get(FORWARDED_FOR):
        return peer
    # ipware counts the proxies named inside the header; the last proxy is the peer, not in the header.
    address, _routable = get_client_ip(
        request,
        proxy_order="left-most",
        proxy_count=proxies - 1,
        request_header_order=[FORWARDED_FOR],
        strict=False,
    )
    # A header shorter than the proxy chain did not come through every proxy: the peer is all that is known.
    return _valid(address) or peer


class ScopedRateThrottle(DrfScopedRateThrottle):
    """DRF's scoped throttle, counting per client address as `client_ip` sees it (signed-in users per account)."""

    def get_ident(self, request: Request) -> str:
        return client_ip(request) or "unknown"
