"""Moderation work waiting for the demo logins when the demo opens: fresh cases, appeals and reports."""

from __future__ import annotations

from itertools import islice

from django.db.models import QuerySet
from django.utils import timezone

from accounts import roles
from accounts.models import User
from demo.core import DemoContext, approved_users
from marketplace.models import Listing, ListingStatus
from moderation.models import Action, Case, CaseStatus, Decision, Reason, Rule
from moderation.services import APPEAL_WINDOW, METRIC

WORK_REPORTS = (
    (Reason.SPAM, "Posted in every category with a link to another site."),
    (Reason.FRAUD, "The seller asks for payment by gift card before showing the item."),
    (Reason.PROHIBITED, "This looks like a replica sold as the real brand."),
    (Reason.SPAM, "The same ad is posted again every hour."),
)


def _appealable() -> QuerySet[Decision]:
    from moderation.models import REMOVING_ACTIONS

    return Decision.objects.filter(
        action__in=REMOVING_ACTIONS,
        case__status=CaseStatus.DECIDED,
        case__author__isnull=False,
        at__gte=timezone.now() - APPEAL_WINDOW,
        appeal__isnull=True,
    )


def moderation_work_phase(ctx: DemoContext) -> None:
    """The demo moderator's queue (demo.work): users reported a few live listings this morning, so the
    queue has open cases past due, at risk and new, and an author appealed a recent removal."""
    from demo.work import demo_login, live_now, place
    from moderation.services import appeal_file, case_decide, flag_create

    now = live_now(ctx)
    if now is None:
        return
    moderator = demo_login(roles.MODERATOR)
    reporters = [u.pk for u in islice(approved_users(ctx), 20)]
    flagged = set(Case.objects.filter(kind="listing").values_list("object_id", flat=True))
    listings = Listing.objects.filter(status=ListingStatus.ACTIVE).exclude(pk__in=flagged).order_by("-pk")
    for listing, (reason, comment) in zip(listings[: len(WORK_REPORTS)], WORK_REPORTS, strict=False):
        reporter = next((pk for pk in reporters if pk != listing.seller_id), None)
        if reporter is not None:
            flag_create(
                reporter=User.objects.get(pk=reporter), kind="listing", object_id=listing.pk, reason=reason,
                comment=comment,
            )  # fmt: skip
    if not _appealable().exists():
        # No removal recent enough to appeal: the first of this morning's reports is decided, then appealed.
        first = Case.objects.filter(status=CaseStatus.OPEN).order_by("-pk")[len(WORK_REPORTS) - 1 :].first()
        if first is not None:
            case_decide(
                case=first, by=moderator, action=Action.REMOVE, rule=Rule.SPAM,
                reason="The same advertisement was posted in every category with a link away from SayPro.",
            )  # fmt: skip
    open_cases = list(Case.objects.filter(status=CaseStatus.OPEN).order_by("-pk")[:6])
    placed = place(open_cases, metric=METRIC, now=now)
    removed = _appealable().select_related("case__author").order_by("-at").first()
    if removed is not None and removed.case.decision_id == removed.pk and removed.case.author is not None:
        appeal_file(
            case=removed.case,
            by=removed.case.author,
            statement="The item is genuine and I have the receipt. Please look again: I can send a photo of it.",
        )
        ctx.created["demo work: appeals"] += 1
    ctx.created["demo work: cases"] += len(placed)
