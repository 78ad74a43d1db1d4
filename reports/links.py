"""Signed links to a report's PDF for one subscriber: the e-mail carries one instead of the file when the PDF is
larger than REPORTS_MAIL_ATTACH_MAX_BYTES.

The link is its own credential (no sign-in): it names the run, the generation of it that the e-mail summarised and
the person, is signed with SECRET_KEY under a salt of its own, and expires after REPORTS_LINK_DAYS. Each download
checks it again, so a link stops working the moment it is revoked: the person was deactivated, lost the right to see
reports, or unsubscribed from the kind. Once the report is generated again (a quarter's report after the quarter
closes), the link's generation is gone: it says so rather than serve a PDF whose figures differ from the e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse

from saypro.errors import DomainError

from .models import ReportRun, ReportSubscription

LINK_SALT = "reports.pdf-link"


class LinkRefused(DomainError):
    code = "link_refused"
    status_code = 403


class LinkSuperseded(LinkRefused):
    """The report was generated again after the e-mail went out: its figures are no longer those of the link's PDF."""

    code = "link_superseded"
    status_code = 410

    def __init__(self, run: ReportRun):
        generated = (run.document or {}).get("generated_at", "")
        super().__init__(
            f"This report was generated again on {generated}; the figures in your e-mail are from the earlier version."
            if generated
            else "This report was generated again; the figures in your e-mail are from the earlier version."
        )
        self.run = run


@dataclass(frozen=True)
class ReportLink:
    url: str
    expires_at: datetime


def report_link_lifetime() -> timedelta:
    return timedelta(days=settings.REPORTS_LINK_DAYS)


def report_link_token(*, run: ReportRun, user: Any) -> str:
    """A link to the generation `run` holds now: the one the e-mail that carries it summarises."""
    return signing.TimestampSigner(salt=LINK_SALT).sign_object({"r": run.pk, "g": run.generations, "u": user.pk})


def report_pdf_link(*, run: ReportRun, user: Any, now: datetime) -> ReportLink:
    token = report_link_token(run=run, user=user)
    path = reverse("dashboard:report-link", args=[token])
    return ReportLink(url=f"{settings.SITE_URL}{path}", expires_at=now + report_link_lifetime())


def report_link_resolve(token: str) -> ReportRun:
    """The run whose PDF a link may download: the generation it names is still the stored one. LinkRefused, saying
    why, for a tampered, expired, revoked or superseded link."""
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
    if not isinstance(data, dict):
        raise LinkRefused("This link is not valid: it may have been cut short or changed.")
    # Links sent before they named a generation: taken as the first, so that after a regeneration they say so rather
    # than serve a file that may not be the one their e-mail summarised.
    run_id, generation, user_id = data.get("r"), data.get("g", 1), data.get("u")
    if not (isinstance(run_id, int) and isinstance(generation, int) and isinstance(user_id, int)):
        raise LinkRefused("This link is not valid: it may have been cut short or changed.")
    # Whatever the run's state, its stored PDF is that of its latest finished generation: a run being generated
    # again (or whose new attempt failed) still holds the file the link was sent for.
    run = ReportRun.objects.filter(pk=run_id, generations__gte=generation).exclude(pdf="").first()
    if run is None:
        raise LinkRefused("This report is not available any more: it was removed.", code="link_gone")
    subscription = (
        ReportSubscription.objects.select_related("user")
        .filter(user_id=user_id, kind=run.kind, user__is_active=True)
        .first()
    )
    if subscription is None or not subscription.user.has_perm("reports.download_report"):
        raise LinkRefused("This link was withdrawn: its recipient no longer receives this report.", code="link_revoked")
    if run.generations != generation:
        raise LinkSuperseded(run)
    return run
