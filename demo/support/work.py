"""Support work waiting for the demo logins when the demo opens, and the comment topics."""

from __future__ import annotations

from accounts import roles
from demo.core import DemoContext
from support.models import RESOLUTION, Department, Status, Ticket
from support.services import comment_topics_refresh


def comment_topics_phase(ctx: DemoContext) -> None:
    """The weekly topic refresh, as beat would have run it at the quarter's end. It runs in the main process after
    the domains: k-means' thread pool must not start in a forked worker (it can hang there)."""
    ctx.created["support: comment topics"] += comment_topics_refresh(now=ctx.period.end).topics


def support_work_phase(ctx: DemoContext) -> None:
    """The demo agent's tickets (demo.work): requesters who wrote back on their solved tickets reopen
    them, as they would have this morning; some are the agent's own, the others wait unassigned."""
    from demo.work import demo_login, live_now, place
    from support.services import TicketClosed, ticket_requester_reply

    now = live_now(ctx)
    if now is None:
        return
    agent = demo_login(roles.SUPPORT_AGENT)
    for department in Department.objects.all():
        department.members.add(agent)
    for ticket in Ticket.objects.filter(status=Status.SOLVED).order_by("-solved_at", "-pk")[:4]:
        try:
            ticket_requester_reply(ticket=ticket, body="Sorry, it is happening again since this morning. Can you look?")
        except TicketClosed:
            continue  # solved too long ago to reopen (an --end in the past)
    # Not the pending or on-hold ones: their clocks stand still while they wait on someone else.
    reopened = list(Ticket.objects.filter(status__in=(Status.NEW, Status.OPEN)).order_by("-updated_at", "-pk")[:6])
    placed = place(reopened, metric=RESOLUTION, now=now)
    for index, (ticket, _state) in enumerate(placed):
        Ticket.objects.filter(pk=ticket.pk).update(assignee=agent if index % 2 == 0 else None)
    ctx.created["demo work: tickets"] += len(placed)
