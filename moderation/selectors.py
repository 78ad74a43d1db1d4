"""Reads for the moderator queue, the case page, the appeals queue and the API (figures are in metrics.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Case as SqlCase
from django.db.models import (
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone
from django.utils.text import capfirst

from accounts.models import User
from accounts.selectors import user_ids_matching
from saypro.search import SearchHit, matching_ids, queue_search, search_terms
from saypro.sla import selectors as sla_selectors
from saypro.sla.models import Clock, Policy
from saypro.sla.promises import ItemSummary

from .badges import active_strikes, verified_annotation
from .models import (
    APPEAL_METRIC,
    Appeal,
    Case,
    CaseStatus,
    Decision,
    Detection,
    DetectionSignal,
    Fingerprint,
    Flag,
    Reason,
    Strike,
)

METRIC = "moderation.decision"
SEVERITY_HIGH = 60
SEVERITY_MEDIUM = 30


def _strike_count(user_ref: str, at: datetime) -> Coalesce:
    counted = (
        active_strikes(at=at)
        .filter(user=OuterRef(user_ref))
        .order_by()
        .values("user")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def with_clock(queryset: QuerySet[Case], now: datetime) -> QuerySet[Case]:
    """Annotate each case with its open decision clock and the queue's "breached first" sort key."""
    return sla_selectors.with_open_clock(queryset, METRIC, now, breached_first=True)


def case_queue(
    *,
    status: str = CaseStatus.OPEN,
    kind: str | None = None,
    reason: str | None = None,
    source: str | None = None,
    q: str | None = None,
    brigading: bool = False,
    hidden: bool = False,
    at_risk: bool = False,
    breached: bool = False,
    sort: str = "deadline",
    now: datetime | None = None,
) -> QuerySet[Case]:
    """Cases by deadline (soonest first, the most severe first on a tie) or by severity; open ones by default."""
    now = now or timezone.now()
    queryset = Case.objects.filter(status=status) if status else Case.objects.all()
    if kind:
        queryset = queryset.filter(kind=kind)
    if reason:
        queryset = queryset.filter(reason=reason)
    if source:
        queryset = queryset.filter(source=source)
    if q:
        queryset = queryset.filter(
            queue_search(Case, q, columns=("content_title",), people=("author", user_ids_matching))
        )
    if brigading:
        queryset = queryset.filter(brigading=True)
    if hidden:
        queryset = queryset.filter(hidden_at__isnull=False)
    queryset = with_clock(queryset, now)
    if status == CaseStatus.OPEN:
        # Every open case has its open decision clock (started when the case opens): an inner join lets the
        # database read the queue in deadline order from the clock index (sla.Clock's clock_open_due), LIMIT
        # rows at a time, instead of joining and sorting every open case.
        queryset = queryset.filter(due_at__isnull=False)  # type: ignore[misc]  # an annotation
    # On the clock's own columns rather than the is_at_risk / is_breached flags, so the clock index serves them.
    if at_risk:
        queryset = queryset.filter(sla_selectors.queue_at_risk_filter(now))
    if breached:
        queryset = queryset.filter(sla_selectors.queue_breached_in_range(now))
    queryset = queryset.annotate(
        author_verified=verified_annotation("author__", at=now), author_strikes=_strike_count("author_id", now)
    ).select_related("author", "decision__by")
    if sort == "severity":
        return queryset.order_by("-severity", F("due_at").asc(nulls_last=True), "pk")
    if status == CaseStatus.DECIDED:
        # No open clock to sort by: the latest decision first, read from the decision-time index.
        return queryset.order_by("-decided_at", "-pk")
    if breached:
        # The recorded breaches by deadline, then those whose deadline passed since the sweep's last minute (the
        # latest deadlines of the list anyway): the order of the index range the breached filter reads, so a page
        # stops after its rows instead of sorting every breached case.
        return queryset.order_by("breach_unrecorded", "due_at", "-severity", "pk")  # type: ignore[misc]  # annotations
    # Open cases by deadline; decided ones (no open clock) after them, the latest decision first.
    return queryset.order_by(
        F("due_at").asc(nulls_last=True), F("decided_at").desc(nulls_first=True), "-severity", "pk"
    )


def case_detail(*, pk: int, now: datetime | None = None) -> Case:
    now = now or timezone.now()
    return (
        with_clock(Case.objects.filter(pk=pk), now)
        .annotate(
            author_verified=verified_annotation("author__", at=now), author_strikes=_strike_count("author_id", now)
        )
        .select_related("author", "decision__by", "content_type")
        .get()
    )


def case_clock(*, case: Case) -> Clock | None:
    """The newest decision clock of a case, open or stopped."""
    return (
        Clock.objects.filter(metric=METRIC, target_type=ContentType.objects.get_for_model(Case), target_id=case.pk)
        .order_by("-started_at")
        .first()
    )


def case_flags(*, case: Case) -> list[Flag]:
    """Every flag on the case, newest round first, with the reporter's record."""
    record = Flag.objects.filter(reporter=OuterRef("reporter_id")).order_by().values("reporter")
    return list(
        Flag.objects.filter(case=case)
        .select_related("reporter", "detection")
        .annotate(
            reporter_flags=Subquery(record.annotate(n=Count("pk")).values("n"), output_field=IntegerField()),
            reporter_upheld=Subquery(
                record.filter(outcome=Flag.Outcome.UPHELD).annotate(n=Count("pk")).values("n"),
                output_field=IntegerField(),
            ),
        )
        .order_by("-round", "-created_at", "-pk")
    )


def case_detections(*, case: Case) -> list[Detection]:
    """Automatic checks of the object's versions, newest first, with their signals."""
    return list(
        Detection.objects.filter(content_type_id=case.content_type_id, object_id=case.object_id)
        .prefetch_related(Prefetch("signals", queryset=DetectionSignal.objects.order_by("-weight", "pk")))
        .order_by("-ran_at", "-pk")[:10]
    )


def case_decisions(*, case: Case) -> list[Decision]:
    return list(Decision.objects.filter(case=case).select_related("by", "appeal__decided_by").order_by("-round"))


@dataclass(frozen=True)
class AuthorHistory:
    user: User | None
    verified: bool
    strikes: list[Strike]
    active_strikes: int
    cases: list[Case]
    decided: int
    removed: int


def author_history(
    *, user: User | None, exclude_case: Case | None = None, now: datetime | None = None
) -> AuthorHistory:
    """The author's record: strikes, earlier cases and their outcomes."""
    now = now or timezone.now()
    if user is None:
        return AuthorHistory(None, False, [], 0, [], 0, 0)
    annotated = User.objects.filter(pk=user.pk).annotate(verified=verified_annotation(at=now)).values("verified")
    strikes = list(Strike.objects.filter(user=user).select_related("decision").order_by("-issued_at")[:20])
    cases_qs = Case.objects.filter(author=user)
    if exclude_case is not None:
        cases_qs = cases_qs.exclude(pk=exclude_case.pk)
    totals = Decision.objects.filter(case__author=user).aggregate(
        decided=Count("pk"), removed=Count("pk", filter=~Q(action="keep") & Q(reversed_at__isnull=True))
    )
    return AuthorHistory(
        user=user,
        verified=bool(annotated[0]["verified"]) if annotated else False,
        strikes=strikes,
        active_strikes=sum(1 for s in strikes if s.revoked_at is None and s.issued_at <= now < s.expires_at),
        cases=list(cases_qs.select_related("decision").order_by("-created_at")[:10]),
        decided=totals["decided"],
        removed=totals["removed"],
    )


def queue_counts(*, now: datetime | None = None) -> sla_selectors.QueueCounts:
    return sla_selectors.queue_counts(metric=METRIC, now=now)


def queue_page_counts(*, now: datetime | None = None) -> sla_selectors.QueueCounts:
    """The moderator queue's boxes: counted up to 1,000 each, so the page costs the same whatever the backlog."""
    return sla_selectors.queue_counts_bounded(metric=METRIC, now=now)


def appeal_queue(*, status: str = Appeal.Status.PENDING, now: datetime | None = None) -> QuerySet[Appeal]:
    """Appeals with their open decision clock; pending ones by deadline, soonest first, like every queue."""
    now = now or timezone.now()
    queryset = sla_selectors.with_open_clock(
        Appeal.objects.select_related("case", "decision__by", "appellant", "decided_by"),
        APPEAL_METRIC,
        now,
        breached_first=True,
    )
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by(F("due_at").asc(nulls_last=True), "created_at", "pk")


def appeal_policy() -> Policy | None:
    """The appeal deadline's default policy, for the page's sentence on the target."""
    return Policy.objects.filter(metric=APPEAL_METRIC, is_default=True).first()


def appeal_detail(*, pk: int, now: datetime | None = None) -> Appeal:
    return appeal_queue(status="", now=now).get(pk=pk)


def appeal_clock(*, appeal: Appeal) -> Clock | None:
    """The appeal's decision clock, open or stopped."""
    return (
        Clock.objects.filter(
            metric=APPEAL_METRIC, target_type=ContentType.objects.get_for_model(Appeal), target_id=appeal.pk
        )
        .select_related("policy")
        .order_by("-started_at")
        .first()
    )


def cases_for_author(*, user: User) -> QuerySet[Case]:
    """What a marketplace user sees of moderation: the cases on their own content, with the decisions."""
    return Case.objects.filter(author=user).select_related("decision__appeal").order_by("-created_at", "-pk")


def cases_for_object(*, obj: Any) -> list[Case]:
    """The case of one object (there is at most one), for the owning app's staff pages."""
    return list(
        Case.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk).select_related(
            "decision__by"
        )
    )


def held_object_ids(*, model: type[Any]) -> QuerySet[Case, int]:
    """The ids of `model`'s objects that are evidence still needed: an open case, or a decision under appeal.
    Retention purges nothing of theirs."""
    return Case.objects.filter(
        Q(status=CaseStatus.OPEN) | Q(appeals__status=Appeal.Status.PENDING),
        content_type=ContentType.objects.get_for_model(model),
    ).values_list("object_id", flat=True)


def flags_for_reporter(*, user: User) -> QuerySet[Flag]:
    return Flag.objects.filter(reporter=user).select_related("case__decision").order_by("-created_at", "-pk")


def severity_level(severity: int) -> str:
    if severity >= SEVERITY_HIGH:
        return "high"
    if severity >= SEVERITY_MEDIUM:
        return "medium"
    return "low"


def content_for(case: Case) -> Any:
    """The flagged object itself (None when it is gone), through its kind's registration."""
    from .registry import moderatable_for_kind

    entry = moderatable_for_kind(case.kind)
    return entry.get(case.object_id) if entry is not None else None


def case_search(*, q: str, limit: int = 10) -> list[SearchHit]:
    """Cases in every status whose number is `q`, or whose content's title or text, or author's e-mail or name
    contains it: the exact number first, then the latest flag. One query, at most `limit` rows."""
    terms = search_terms(q)
    branches = []
    if terms.pk is not None:
        branches.append(Case.objects.filter(pk=terms.pk).values("pk"))
    if terms.searches_text:
        text = terms.text
        branches.append(
            Case.objects.filter(Q(content_title__icontains=text) | Q(content_text__icontains=text)).values("pk")
        )
        branches.append(Case.objects.filter(author__in=user_ids_matching(text=text)).values("pk"))
    ids = matching_ids(*branches)
    if ids is None:
        return []
    rows = (
        Case.objects.filter(pk__in=ids)
        .annotate(exact=SqlCase(When(pk=terms.pk or 0, then=Value(0)), default=Value(1)))
        .order_by("exact", "-last_flag_at", "-pk")
        .values_list(
            "pk", "kind", "reason", "content_title", "status", "last_flag_at", "author__full_name", "author__email"
        )[:limit]
    )
    return [
        SearchHit(
            pk=pk,
            title=title or f"{capfirst(kind)} flagged: {Reason(reason).label if reason in Reason.values else reason}",
            who=(f"{name} · {email}" if name else email) if email else "",
            status=CaseStatus(status).label,
            status_code=status,
            at=last_flag_at,
        )
        for pk, kind, reason, title, status, last_flag_at, name, email in rows
    ]


def case_summaries(*, ids: Sequence[int]) -> dict[int, ItemSummary]:
    """What was flagged and why, with the status, for the dashboard's item lists."""
    rows = Case.objects.filter(pk__in=ids).values_list("pk", "kind", "reason", "status")
    return {
        pk: ItemSummary(
            label=f"{capfirst(kind)} flagged: {Reason(reason).label if reason in Reason.values else reason}",
            status=CaseStatus(status).label,
        )
        for pk, kind, reason, status in rows
    }


def content_detection_overdue(*, before: datetime, since: datetime) -> QuerySet[Fingerprint, str]:
    """Versions of content submitted in the window whose detection never ran (its task was lost), as
    "kind:object_id" keys for the reconciliation sweep.

    Every submitted version leaves a fingerprint in the submitting transaction, and its detection is a
    Detection row on the same object recorded after it. A version whose text did not change keeps the older
    detection and so stays listed, which only costs a few no-op deliveries (the sweep gives up after
    FOLLOWUP_MAX_ATTEMPTS).
    """
    detected = Detection.objects.filter(
        content_type=OuterRef("content_type"), object_id=OuterRef("object_id"), ran_at__gte=OuterRef("created_at")
    )
    return (
        Fingerprint.objects.filter(created_at__gte=since, created_at__lt=before)
        .filter(~Exists(detected))
        .order_by("created_at")
        .annotate(key=Concat("kind", Value(":"), Cast("object_id", output_field=CharField())))
        .values_list("key", flat=True)
    )
