"""Work waiting for the demo staff logins when `make run` opens: every queue has items, some of them the login's
own, some at risk and some past their deadline, counted from the moment the demo is loaded.

The quarter ends as the --end day starts, but a newcomer looks at the queues hours later: an item the quarter
left "due in 20 hours" is then past due, and the demo logins (ensure_staff) took no part in the quarter. The
work phases (demo.core.WORK, after the quarter is written) therefore hand a few open items of each queue to the
demo login of its role, through the product's services, and restart their clocks relative to now. The beat's
first sweep then warns and breaches them as it would have.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from accounts import roles
from accounts.management.commands.ensure_staff import STAFF_LOGINS
from accounts.models import PENDING_STATUSES, Registration, RegistrationStatus, User
from demo.core import DemoContext
from saypro.sla import services as sla
from saypro.sla.models import Clock, ClockState

M = TypeVar("M", bound=models.Model)

BREACHED, AT_RISK, FRESH = "breached", "at risk", "fresh"
# The order items are placed in: the first of each queue is the most urgent one.
STATES = (BREACHED, AT_RISK, FRESH, AT_RISK, BREACHED, FRESH)
SIGNUP_TIMES = (
    "started_at",
    "email_verified_at",
    "phone_verified_at",
    "profile_completed_at",
    "consented_at",
    "submitted_at",
    "screened_at",
)
_BACK = {BREACHED: 1.3, AT_RISK: 0.85, FRESH: 0.1}


def demo_login(role: str) -> User:
    """The role's demo staff login (ensure_staff's list). When seed_demo runs first it is created here without a
    usable password; ensure_staff then sets the password and leaves the work in place."""
    login = next(entry for entry in STAFF_LOGINS if entry.role == role)
    user = User.objects.filter(email=login.email).first()
    if user is None:
        user = User.objects.create_user(
            login.email, None, full_name=login.full_name, is_staff=True, is_superuser=login.superuser
        )
    user.groups.add(Group.objects.get(name=role))
    return user


def live_now(ctx: DemoContext) -> datetime | None:
    """The moment the waiting work is placed at: now, on the day after the quarter (what `make run` loads). A
    quarter that ended long before (an explicit --end in the past) gets no waiting work: nothing may lie after
    its end, and its data stays the same whenever it is loaded."""
    now = timezone.now()
    return now if ctx.period.end <= now < ctx.period.end + timedelta(days=1) else None


def _state_at(clock: Clock, now: datetime) -> str:
    if clock.due_at <= now:
        return BREACHED
    if clock.risk_at is not None and clock.risk_at <= now:
        return AT_RISK
    return FRESH


@transaction.atomic
def clock_place(*, metric: str, target: models.Model, state: str, now: datetime) -> Clock | None:
    """Restart the target's open clock so that at `now` it is breached, at risk or fresh. A business-hours
    calendar stretches a deadline over nights and weekends, so the start moves back an hour at a time until the
    state is the one asked for."""
    open_clocks = Clock.objects.filter(
        metric=metric, target_type=ContentType.objects.get_for_model(target), target_id=target.pk
    ).exclude(state=ClockState.STOPPED)
    current = open_clocks.select_related("policy").first()
    if current is None:
        return None
    policy = current.policy
    back = timedelta(seconds=_BACK[state] * policy.target.total_seconds())
    for _ in range(24 * 14):
        open_clocks.delete()
        clock = sla.clock_start(metric=metric, target=target, at=now - back, policy=policy)
        if _state_at(clock, now) == state or state == FRESH:
            return clock
        back += timedelta(hours=1)
    return clock


def place(items: Sequence[M], *, metric: str, now: datetime) -> list[tuple[M, str]]:
    """Give the items' clocks the demo's mix of states, in order."""
    placed = []
    for item, state in zip(items, STATES * (len(items) // len(STATES) + 1), strict=False):
        if clock_place(metric=metric, target=item, state=state, now=now) is not None:
            placed.append((item, state))
    return placed


def registrations_work_phase(ctx: DemoContext) -> None:
    """The reviewer's queue: registrations past their 48 h, some at risk, some new; two already claimed by the
    demo reviewer, the rest free to claim."""
    now = live_now(ctx)
    if now is None:
        return
    reviewer = demo_login(roles.REVIEWER)
    waiting = list(
        Registration.objects.filter(status=RegistrationStatus.NEEDS_REVIEW).order_by("-submitted_at", "-pk")[:6]
    )
    placed = place(waiting, metric="registration.approval", now=now)
    # The sign-up moves with its clock, every step by the same amount: the funnel keeps its order, and the
    # clock still starts when the registration was submitted.
    for registration, _state in placed:
        clock = Clock.objects.get(metric="registration.approval", target_id=registration.pk, state=ClockState.RUNNING)
        assert registration.submitted_at is not None
        shift = clock.started_at - registration.submitted_at
        moved = {
            name: getattr(registration, name) + shift
            for name in SIGNUP_TIMES
            if getattr(registration, name) is not None
        }
        Registration.objects.filter(pk=registration.pk).update(**moved)
    mine = [registration.pk for registration, state in placed if state != BREACHED][:2]
    Registration.objects.filter(pk__in=mine, status__in=PENDING_STATUSES).update(claimed_by=reviewer, claimed_at=now)
    ctx.created["demo work: registrations"] += len(placed)
