"""What happens when a case's 12-hour decision clock, or an appeal's decision clock, warns or breaches.

At 75 % the moderators are e-mailed; at 90 % and at the breach the administrators too. In each role those on duty
are e-mailed, everyone when nobody is (accounts.routing). The queues and the dashboard show the same state from the
clocks themselves.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from accounts.routing import staff_emails_on_duty
from saypro.durations import target_text
from saypro.mail import send_template
from saypro.sla.handlers import register
from saypro.sla.models import ClockEvent

from .models import APPEAL_METRIC, Appeal, Case, CaseStatus


def _alert(event: ClockEvent, *, kind: str, template: str, context: dict[str, Any]) -> None:
    """E-mail the moderators on duty at a warning, and the administrators too from 90 % and at the breach."""
    clock = event.clock
    breached = event.kind == ClockEvent.Kind.BREACH
    percent = int(event.data.get("percent", 100))
    groups = [roles.MODERATOR] if not breached and percent < 90 else [roles.MODERATOR, roles.ADMINISTRATOR]
    recipients = staff_emails_on_duty(*groups)
    if not recipients:
        return
    send_template(
        to=recipients,
        kind=kind,
        template=template,
        context={
            **context,
            "breached": breached,
            "percent": percent,
            "started_at": timezone.localtime(clock.started_at),
            "due_at": timezone.localtime(clock.due_at),
        },
        once_key=f"sla-event:{event.pk}",
    )


@register("moderation.decision")
def decision_clock_event(event: ClockEvent) -> None:
    if event.kind not in (ClockEvent.Kind.WARN, ClockEvent.Kind.BREACH):
        return
    case = Case.objects.filter(pk=event.clock.target_id, status=CaseStatus.OPEN).first()
    if case is None:
        return
    _alert(
        event,
        kind="moderation.sla_warning",
        template="moderation/email/sla_warning.txt",
        context={
            "target": f"Case #{case.pk} ({case.content_title})",
            "severity": case.severity,
            "reason": case.get_reason_display(),
            "flags": case.flag_count,
            "url": f"{settings.SITE_URL}{reverse('moderation:case', args=[case.pk])}",
        },
    )


@register(APPEAL_METRIC)
def appeal_clock_event(event: ClockEvent) -> None:
    if event.kind not in (ClockEvent.Kind.WARN, ClockEvent.Kind.BREACH):
        return
    clock = event.clock
    appeal = (
        Appeal.objects.select_related("case", "decision")
        .filter(pk=clock.target_id, status=Appeal.Status.PENDING)
        .first()
    )
    if appeal is None:
        return
    _alert(
        event,
        kind="moderation.appeal_sla_warning",
        template="moderation/email/appeal_sla_warning.txt",
        context={
            "target": f"Appeal #{appeal.pk} on case #{appeal.case_id} ({appeal.case.content_title})",
            "target_text": target_text(clock.policy.target.total_seconds()),
            "decision": appeal.decision.get_action_display(),
            "url": f"{settings.SITE_URL}{reverse('moderation:appeal', args=[appeal.pk])}",
        },
    )
