"""Which SLA policy a ticket's clocks run under, and applying it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from saypro.sla import services as sla
from saypro.sla.models import Policy
from support.models import (
    CHAT_FIRST_RESPONSE,
    FIRST_RESPONSE,
    RESOLUTION,
    Channel,
    Department,
    SupportPolicy,
    Ticket,
)

# --- SLA policies ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyChoice:
    """The support policy that matched (None: the kernel's defaults) and the kernel policies it maps to."""

    support_policy: SupportPolicy | None
    first_response: Policy
    resolution: Policy


def policy_choose(*, priority: str, channel: str, department: Department | None) -> PolicyChoice:
    """The first active support policy, in position order, whose conditions all match and which has a target
    for the priority; without one, the kernel's default policies of both metrics."""
    policies = SupportPolicy.objects.filter(is_active=True).prefetch_related(
        "departments", "targets__first_response__calendar", "targets__resolution__calendar"
    )
    for policy in policies:
        if policy.priorities and priority not in policy.priorities:
            continue
        if policy.channels and channel not in policy.channels:
            continue
        departments = {d.pk for d in policy.departments.all()}
        if departments and (department is None or department.pk not in departments):
            continue
        target = next((t for t in policy.targets.all() if t.priority == priority), None)
        if target is None:
            continue
        return PolicyChoice(policy, target.first_response, target.resolution)
    return PolicyChoice(
        None,
        Policy.objects.select_related("calendar").get(metric=FIRST_RESPONSE, is_default=True),
        Policy.objects.select_related("calendar").get(metric=RESOLUTION, is_default=True),
    )


def _policy_for(ticket: Ticket) -> PolicyChoice:
    return policy_choose(priority=ticket.priority, channel=ticket.channel, department=ticket.department)


def _apply_policy(ticket: Ticket, at: datetime) -> None:
    """Re-check the policy after a change of priority, channel or department and move the open clocks to it."""
    choice = _policy_for(ticket)
    chosen = choice.support_policy.pk if choice.support_policy else None
    if ticket.support_policy_id != chosen:
        ticket.support_policy_id = chosen
        ticket.save(update_fields=["support_policy"])
    sla.clock_retarget(metric=FIRST_RESPONSE, target=ticket, policy=choice.first_response, at=at)
    sla.clock_retarget(metric=RESOLUTION, target=ticket, policy=choice.resolution, at=at)


def _start_resolution_clock(ticket: Ticket, at: datetime) -> None:
    sla.clock_start(metric=RESOLUTION, target=ticket, at=at, policy=_policy_for(ticket).resolution)


def _start_first_response(ticket: Ticket, at: datetime, policy: Policy) -> None:
    sla.clock_start(metric=FIRST_RESPONSE, target=ticket, at=at, policy=policy)
    if ticket.channel == Channel.CHAT:
        # A live chat is also held to its own first answer in minutes, from the user's first message.
        sla.clock_start(metric=CHAT_FIRST_RESPONSE, target=ticket, at=at)


def _stop_first_response(ticket: Ticket, at: datetime) -> None:
    sla.clock_stop(metric=FIRST_RESPONSE, target=ticket, at=at)
    if ticket.channel == Channel.CHAT:
        sla.clock_stop(metric=CHAT_FIRST_RESPONSE, target=ticket, at=at)
