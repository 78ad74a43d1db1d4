"""Reads for the review queue, the registration detail page and the registration tiles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Case, F, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from saypro.audit.selectors import audit_for_object
from saypro.search import SearchHit, matching_ids, person_match, queue_search, search_terms
from saypro.sla import selectors as sla_selectors
from saypro.sla.calendars import working_seconds
from saypro.sla.models import Clock
from saypro.sla.promises import ItemSummary
from saypro.sla.services import spec_for

from .models import (
    PENDING_STATUSES,
    AccountEvent,
    AccountPreferences,
    AccountStatus,
    AgentProfile,
    Registration,
    RegistrationSignal,
    RegistrationStatus,
    User,
)

METRIC = "registration.approval"


def _with_clock(queryset: QuerySet[Registration], now: datetime) -> QuerySet[Registration]:
    """Annotate each registration with its open approval clock (one join, no extra query per row)."""
    return sla_selectors.with_open_clock(queryset, METRIC, now)


def registration_queue(
    *,
    status: str | None = None,
    reason: str | None = None,
    risk_min: int | None = None,
    risk_max: int | None = None,
    country: str | None = None,
    q: str | None = None,
    at_risk: bool = False,
    breached: bool = False,
    now: datetime | None = None,
) -> QuerySet[Registration]:
    """Pending registrations (or those of one status), soonest deadline first."""
    now = now or timezone.now()
    queryset = (
        Registration.objects.filter(status=status)
        if status
        else Registration.objects.filter(status__in=PENDING_STATUSES)
    )
    if reason:
        queryset = queryset.filter(signals__code=reason)
    if risk_min is not None:
        queryset = queryset.filter(risk_score__gte=risk_min)
    if risk_max is not None:
        queryset = queryset.filter(risk_score__lte=risk_max)
    if country:
        queryset = queryset.filter(user__country=country.upper())
    if q:
        queryset = queryset.filter(queue_search(Registration, q, columns=(), people=("user", user_ids_matching)))
    queryset = _with_clock(queryset, now)
    if not status or status in PENDING_STATUSES:
        # Every pending registration has its open clock (started on submission): an inner join lets the database
        # read the queue in deadline order from the clock index (sla.Clock's clock_open_due), LIMIT rows at a
        # time, instead of joining and sorting every pending registration.
        queryset = queryset.filter(due_at__isnull=False)  # type: ignore[misc]  # an annotation
    # On the clock's own columns rather than the is_at_risk / is_breached flags, so the clock index serves them.
    if at_risk:
        queryset = queryset.filter(sla_selectors.queue_at_risk_filter(now))
    if breached:
        queryset = queryset.filter(sla_selectors.queue_breached_filter(now))
    return (
        queryset.select_related("user", "claimed_by", "decided_by")
        .prefetch_related(Prefetch("signals", queryset=RegistrationSignal.objects.order_by("-weight")))
        .order_by(F("due_at").asc(nulls_last=True), "submitted_at", "pk")
    )


def registration_detail(*, pk: int, now: datetime | None = None) -> Registration:
    return (
        _with_clock(Registration.objects.filter(pk=pk), now or timezone.now())
        .select_related("user", "claimed_by__agent_profile__working_hours", "decided_by")
        .prefetch_related(Prefetch("signals", queryset=RegistrationSignal.objects.order_by("-weight")))
        .get()
    )


def registration_clock(*, registration: Registration) -> Clock | None:
    """The newest approval clock of a registration, open or stopped."""
    return (
        Clock.objects.filter(
            metric=METRIC,
            target_type=ContentType.objects.get_for_model(Registration),
            target_id=registration.pk,
        )
        .order_by("-started_at")
        .first()
    )


def registration_history(*, registration: Registration) -> dict[str, Any]:
    """The applicant's audit trail and other sign-ups sharing an IP, network or phone number."""
    related = Q(pk__in=[])
    if registration.ip_address:
        related |= Q(ip_address=registration.ip_address)
    if registration.subnet:
        related |= Q(subnet=registration.subnet)
    if registration.phone_e164:
        related |= Q(phone_e164=registration.phone_e164)
    related |= Q(canonical_email=registration.canonical_email)
    others = (
        Registration.objects.filter(related)
        .exclude(pk=registration.pk)
        .select_related("user")
        .order_by("-started_at")[:20]
    )
    return {"audit": list(audit_for_object(registration)[:50]), "related": list(others)}


def registration_summaries(*, ids: Sequence[int]) -> dict[int, ItemSummary]:
    """The applicant's name (their e-mail when they gave none) and the status, for the dashboard's item lists."""
    rows = Registration.objects.filter(pk__in=ids).values_list("pk", "user__full_name", "canonical_email", "status")
    return {
        pk: ItemSummary(label=name or email, status=RegistrationStatus(status).label)
        for pk, name, email, status in rows
    }


def user_ids_matching(*, text: str) -> QuerySet[User, int]:
    """Ids of the users whose e-mail, name or phone contains `text`: a subquery the other apps' searches join
    on (served on PostgreSQL by the trigram indexes of migration 0006)."""
    return User.objects.filter(person_match(text)).values_list("pk", flat=True)


def registration_search(*, q: str, limit: int = 10) -> list[SearchHit]:
    """Registrations in every state whose number is `q`, or whose applicant's e-mail, name or phone contains it:
    the exact number first, then the newest. One query, at most `limit` rows."""
    terms = search_terms(q)
    branches = []
    if terms.pk is not None:
        branches.append(Registration.objects.filter(pk=terms.pk).values("pk"))
    if terms.searches_text:
        branches.append(Registration.objects.filter(user__in=user_ids_matching(text=terms.text)).values("pk"))
    ids = matching_ids(*branches)
    if ids is None:
        return []
    rows = (
        Registration.objects.filter(pk__in=ids)
        .annotate(exact=Case(When(pk=terms.pk or 0, then=Value(0)), default=Value(1)))
        .order_by("exact", "-started_at", "-pk")
        .values_list("pk", "user__full_name", "user__email", "status", "submitted_at", "started_at")[:limit]
    )
    return [
        SearchHit(
            pk=pk,
            title=name or email,
            who=email,
            status=RegistrationStatus(status).label,
            status_code=status,
            at=submitted_at or started_at,
        )
        for pk, name, email, status, submitted_at, started_at in rows
    ]


def agent_is_on_duty(*, profile: AgentProfile, at: datetime | None = None) -> bool:
    """Whether the agent is available and inside a working interval of their shift calendar at `at`."""
    if not profile.is_available or not profile.user.is_active:
        return False
    if profile.working_hours is None:
        return True
    spec = spec_for(profile.working_hours)
    moment = at or timezone.now()
    # On duty when some working time lies within the next second.
    return working_seconds(spec, moment, moment + timedelta(seconds=1)) > 0


def campaign_registration_ids() -> QuerySet[Registration, int]:
    """The registrations that came through a marketing campaign (a subquery of ids: their spikes are one-off)."""
    return Registration.objects.exclude(campaign="").values_list("pk", flat=True)


def with_shifts(users: QuerySet[User]) -> QuerySet[User]:
    """`users` with what `user_is_on_duty` reads loaded alongside, so that checking each of them costs no query."""
    return users.select_related("agent_profile__working_hours").prefetch_related(
        "agent_profile__working_hours__hours", "agent_profile__working_hours__holidays"
    )


def user_is_on_duty(*, user: User, at: datetime | None = None) -> bool:
    """Whether a staff member is on duty: by their shift calendar; someone without a profile has no shifts set
    and, like an empty calendar, counts as always on duty."""
    profile = getattr(user, "agent_profile", None)
    if profile is None:
        return user.is_active
    return agent_is_on_duty(profile=profile, at=at)


@dataclass(frozen=True)
class UserStatus:
    """Where an account stands, as other apps should read it (e.g. to hide a banned seller's listings)."""

    status: str
    reason: str
    since: datetime | None
    until: datetime | None

    @property
    def can_sign_in(self) -> bool:
        # A deactivated user reactivates the account by signing in.
        return self.status in (AccountStatus.ACTIVE, AccountStatus.DEACTIVATED)

    @property
    def is_restricted(self) -> bool:
        """Suspended or banned: a moderation or marketplace restriction is in force."""
        return self.status in (AccountStatus.SUSPENDED, AccountStatus.BANNED)


def user_status(user: User, *, now: datetime | None = None) -> UserStatus:
    """The account's effective status: a suspension whose end has passed counts as over even before the
    expiry task (or the user's next sign-in) has reinstated it."""
    now = now or timezone.now()
    if user.status == AccountStatus.SUSPENDED and user.suspended_until is not None and user.suspended_until <= now:
        return UserStatus(AccountStatus.ACTIVE, "", user.suspended_until, None)
    return UserStatus(user.status, user.status_reason, user.status_changed_at, user.suspended_until)


def account_timeline(*, user: User) -> QuerySet[AccountEvent]:
    """Every account event of one user, newest first (the staff timeline)."""
    return AccountEvent.objects.filter(user=user).select_related("actor").order_by("-at", "-pk")


# --- Follow-ups the reconciliation sweep replays (saypro.outbox.followups) ------------------------------------


def registrations_screening_overdue(*, before: datetime, since: datetime) -> QuerySet[Registration, int]:
    """Submitted before `before` and still waiting for screening: its task was lost. Never given up on (no
    `since`), as an applicant stuck here would wait for ever; reads the pending-status index."""
    return (
        Registration.objects.filter(status=RegistrationStatus.SCREENING, submitted_at__lt=before)
        .order_by("submitted_at")
        .values_list("pk", flat=True)
    )


def registrations_unacknowledged(*, before: datetime, since: datetime) -> QuerySet[Registration, int]:
    """Submitted in the window without the acknowledgement e-mail (its once-key row) ever being recorded."""
    from saypro.outbox.followups import mail_recorded

    return (
        Registration.objects.filter(submitted_at__gte=since, submitted_at__lt=before)
        .filter(~mail_recorded("registration-ack:"))
        .order_by("submitted_at")
        .values_list("pk", flat=True)
    )


def notification_opt_outs(addresses: Sequence[str], preference: str) -> set[str]:
    """Which of these addresses (e-mail addresses, or phone numbers for text messages) belong to an account whose
    `preference` is off, stored or by default (text messages are opt-in: no preferences row means no)."""
    if not addresses:
        return set()
    match = "phone" if preference == "sms_notifications" else "email"
    accounts = User.objects.filter(**{f"{match}__in": list(addresses)})
    default = getattr(AccountPreferences._meta.get_field(preference), "default", False)
    off = Q(**{f"preferences__{preference}": False})
    if not default:
        off |= Q(preferences__isnull=True)
    return set(accounts.filter(off).values_list(match, flat=True))
