"""Signed links to a report's PDF for one subscriber: the e-mail carries one instead of the file when the PDF is
larger than REPORTS_MAIL_ATTACH_MAX_BYTES.

The link is its own credential (no sign-in): it names the run and the person, is signed with SECRET_KEY under a
salt of its own, and expires after REPORTS_LINK_DAYS. Each download checks it again, so a link stops working the
moment it is revoked: the person was deactivated, lost the right to see reports, or unsubscribed from the kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse

from saypro.errors import DomainError

from .models import ReportRun, ReportSubscription, RunStatus

LINK_SALT = "reports.pdf-link"


class LinkRefused(DomainError):
    code = "link_refused"
    status_code = 403


@dataclass(frozen=True)
class ReportLink:
    url: str
    expires_at: datetime


def report_link_lifetime() -> timedelta:
    return timedelta(days=settings.REPORTS_LINK_DAYS)


def report_link_token(*, run: ReportRun, user: Any) -> str:
    return signing.TimestampSigner(salt=LINK_SALT).sign_object({"r": run.pk, "u": user.pk})


def report_pdf_link(*, run: ReportRun, user: Any, now: datetime) -> ReportLink:
    token = report_link_token(run=run, user=user)
    path = reverse("dashboard:report-link", args=[token])
    return ReportLink(url=f"{settings.SITE_URL}{path}", expires_at=now + report_link_lifetime())


def report_link_resolve(token: str) -> ReportRun:
    """The finished run a link may download; LinkRefused, saying why, for a tampered, expired or revoked one."""
    try:
        data = signing.TimestampSigner(salt=LINK_SALT).unsign_object(token, max_age=report_link_lifetime())
    except signing.SignatureExpired:
        raise LinkRefused(
            f"This link has expired: links to a report last {settings.REPORTS_LINK_DAYS} days. "
            "Sign in to download the report from its page.",
            code="link_expired",
        ) from None
    except (signing.BadSignature, ValueError):
        raise LinkRefused("This link is not valid: it may have been cut short or changed.") from None
    run_id, user_id = (data.get("r"), data.get("u")) if isinstance(data, dict) else (None, None)
    if not isinstance(run_id, int) or not isinstance(user_id, int):
        raise LinkRefused("This link is not valid: it may have been cut short or changed.")
    run = ReportRun.objects.filter(pk=run_id, status=RunStatus.DONE).exclude(pdf="").first()
    if run is None:
        raise LinkRefused(
            "This report is not available: it is being generated again, or was removed.", code="link_gone"
        )
    subscription = (
        ReportSubscription.objects.select_related("user")
        .filter(user_id=user_id, kind=run.kind, user__is_active=True)
        .first()
    )
    if subscription is None or not subscription.user.has_perm("reports.download_report"):
        raise LinkRefused("This link was withdrawn: its recipient no longer receives this report.", code="link_revoked")
    return run
