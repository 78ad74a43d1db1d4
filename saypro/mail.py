"""Templated e-mail: the first line of a template is the subject, the rest the body."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.template.loader import render_to_string

SENT_MARKER_TTL = 7 * 24 * 3600


def send_template(*, to: Sequence[str], template: str, context: dict[str, Any], once_key: str = "") -> bool:
    """Send one e-mail; with `once_key`, a task delivered twice sends it once. Returns whether it was sent."""
    marker = f"mail-sent:{once_key}"
    if once_key and cache.get(marker):
        return False
    context = {"time_zone": settings.TIME_ZONE, "site_url": settings.SITE_URL, **context}
    subject, _, body = render_to_string(template, context).strip().partition("\n")
    send_mail(subject.strip(), body.strip() + "\n", settings.DEFAULT_FROM_EMAIL, list(to))
    if once_key:
        cache.set(marker, 1, SENT_MARKER_TTL)
    return True
