"""What happens when a ticket's clocks warn or breach: the assignee is e-mailed (or, for an unassigned ticket, the
department's members, else every support agent); at the breach the team lead too."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from accounts import roles
from accounts.tasks import staff_emails
from saypro.mail import send_template
from saypro.sla.handlers import register
from saypro.sla.models import ClockEvent

from .models import CHAT_FIRST_RESPONSE, FIRST_RESPONSE, OPEN_STATUSES, RESOLUTION, Ticket

LABELS = {FIRST_RESPONSE: "first response", RESOLUTION: "resolution", CHAT_FIRST_RESPONSE: "live chat first answer"}


def _recipients(ticket: Ticket, breached: bool) -> list[str]:
    if ticket.assignee is not None:
        to = [ticket.assignee.email]
    elif ticket.department is not None and ticket.department.members.exists():
        to = list(ticket.department.members.filter(is_active=True).values_list("email", flat=True))
    else:
        to = staff_emails(roles.SUPPORT_AGENT)
    if breached and ticket.department is not None and ticket.department.team_lead is not None:
        to.append(ticket.department.team_lead.email)
    return sorted(set(to))


def ticket_clock_event(event: ClockEvent) -> None:
    if event.kind not in (ClockEvent.Kind.WARN, ClockEvent.Kind.BREACH):
        return
    clock = event.clock
    ticket = (
        Ticket.objects.select_related("assignee", "department__team_lead")
        .filter(pk=clock.target_id, status__in=OPEN_STATUSES)
        .first()
    )
    if ticket is None:
        return
    breached = event.kind == ClockEvent.Kind.BREACH
    to = _recipients(ticket, breached)
    if not to:
        return
    send_template(
        to=to,
        kind="ticket.sla_warning",
        template="support/email/sla_warning.txt",
        context={
            "ticket": ticket,
            "what": LABELS[clock.metric],
            "breached": breached,
            "percent": int(event.data.get("percent", 100)),
            "due_at": timezone.localtime(clock.due_at),
            "url": f"{settings.SITE_URL}/dashboard/support/tickets/{ticket.pk}/",
        },
        once_key=f"sla-event:{event.pk}",
    )


register(FIRST_RESPONSE)(ticket_clock_event)
register(RESOLUTION)(ticket_clock_event)
register(CHAT_FIRST_RESPONSE)(ticket_clock_event)
