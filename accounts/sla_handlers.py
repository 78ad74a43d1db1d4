"""What happens when a registration's 48-hour clock warns or breaches.

At 75 % the reviewers are e-mailed; at 90 % and at the breach the administrators too. In each role those on duty
are e-mailed, everyone when nobody is (accounts.routing). The dashboard shows the same state from the clocks.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from saypro.mail import send_template
from saypro.sla.handlers import register
from saypro.sla.models import ClockEvent

from . import roles
from .models import PENDING_STATUSES, Registration
from .routing import staff_emails_on_duty


@register("registration.approval")
def registration_clock_event(event: ClockEvent) -> None:
    if event.kind not in (ClockEvent.Kind.WARN, ClockEvent.Kind.BREACH):
        return
    clock = event.clock
    if not Registration.objects.filter(pk=clock.target_id, status__in=PENDING_STATUSES).exists():
        return
    breached = event.kind == ClockEvent.Kind.BREACH
    percent = int(event.data.get("percent", 100))
    groups = [roles.REVIEWER] if not breached and percent < 90 else [roles.REVIEWER, roles.ADMINISTRATOR]
    recipients = staff_emails_on_duty(*groups)
    if not recipients:
        return
    send_template(
        to=recipients,
        kind="registration.sla_warning",
        template="accounts/email/sla_warning.txt",
        context={
            "target": f"Registration #{clock.target_id}",
            "breached": breached,
            "percent": percent,
            "started_at": timezone.localtime(clock.started_at),
            "due_at": timezone.localtime(clock.due_at),
            "url": f"{settings.SITE_URL}/dashboard/registrations/{clock.target_id}/",
        },
        once_key=f"sla-event:{event.pk}",
    )
