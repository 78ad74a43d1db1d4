"""Triage and routing: rules, the classifier, the department and the agent a ticket goes to."""

from __future__ import annotations

import re
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.routing import agent_pick
from saypro.audit.services import audit_record
from saypro.ml import services as ml
from support.chat_events import queue_changed
from support.models import (
    Category,
    Channel,
    Department,
    Priority,
    Ticket,
    TriageRule,
    TriageSource,
)
from support.services.base import ANSWER_PERMISSION, TRIAGE_MODEL, _lock
from support.services.policies import _apply_policy

# --- Triage and routing ------------------------------------------------------------------------------------------


def _words(text: str) -> str:
    return " " + " ".join(re.findall(r"[\w']+", text.lower())) + " "


def triage_rule_for(text: str) -> TriageRule | None:
    """The first active rule with a keyword (a whole word or phrase) in the text."""
    haystack = _words(text)
    for rule in TriageRule.objects.filter(is_active=True).select_related("department"):
        if any(_words(keyword) in haystack for keyword in rule.keywords if keyword.strip()):
            return rule
    return None


PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


def _apply_rules(ticket: Ticket) -> bool:
    """Let the first matching rule set the department (and raise the priority, set the category) in memory."""
    rule = triage_rule_for(f"{ticket.subject}\n{ticket.body}")
    if rule is None:
        return False
    if rule.department_id and ticket.department_id is None:
        ticket.department = rule.department
        ticket.triage_source = TriageSource.RULE
        ticket.triage_rule = rule
        ticket.needs_triage = False
    if rule.priority and PRIORITY_RANK[Priority(rule.priority)] > PRIORITY_RANK[Priority(ticket.priority)]:
        ticket.priority = rule.priority
    if rule.category and ticket.category == Category.QUESTION:
        ticket.category = rule.category
    return rule.department_id is not None


def ticket_triage(*, ticket: Ticket, again: bool = False) -> Ticket:
    """Give an untriaged ticket its department: rules first, then the classifier, whose version and calibrated
    confidence are kept; below the version's routing threshold (SUPPORT_TRIAGE_MIN_CONFIDENCE when it has none)
    the ticket waits in the triage view. Safe to run twice: a ticket already left in the triage view is triaged
    again only when asked (`again`, after a new model)."""
    with transaction.atomic():
        ticket = _lock(ticket)
        if ticket.department_id is not None or not ticket.is_open or (ticket.needs_triage and not again):
            return ticket
        before = (ticket.priority, ticket.category)
        if not _apply_rules(ticket):
            prediction = ml.classify(TRIAGE_MODEL, f"{ticket.subject}\n{ticket.body}")
            if prediction is None:
                ticket.needs_triage = True
            else:
                ticket.triage_model_version = prediction.version
                ticket.triage_confidence = prediction.confidence
                ticket.triage_label = prediction.label[:40]
                department = Department.objects.filter(slug=prediction.label, is_active=True).first()
                # The version's own threshold, chosen on its validation set to keep automatic routing 97 % right;
                # a version trained on too little to choose one falls back to the configured minimum.
                threshold = prediction.threshold(ml.AUTO, settings.SUPPORT_TRIAGE_MIN_CONFIDENCE)
                if department is not None and threshold is not None and prediction.confidence >= threshold:
                    ticket.department = department
                    ticket.triage_source = TriageSource.MODEL
                    ticket.needs_triage = False
                else:
                    ticket.needs_triage = True
        ticket.save(
            update_fields=[
                "department",
                "triage_source",
                "triage_rule",
                "triage_model_version",
                "triage_confidence",
                "triage_label",
                "needs_triage",
                "priority",
                "category",
            ]
        )
        if ticket.department_id is not None or (ticket.priority, ticket.category) != before:
            _apply_policy(ticket, timezone.now())
        audit_record(
            actor=None,
            action="ticket.triage",
            target=ticket,
            reason=triage_explanation(ticket),
        )
    return ticket


def triage_explanation(ticket: Ticket) -> str:
    """Why the ticket is in its department, in words an agent can check."""
    if ticket.triage_source == TriageSource.RULE and ticket.triage_rule is not None:
        return f"Rule “{ticket.triage_rule.name}” matched."
    if ticket.triage_source == TriageSource.MODEL and ticket.triage_confidence is not None:
        return f"Classifier v{ticket.triage_model_version}: {ticket.triage_label} ({ticket.triage_confidence:.0%})."
    if ticket.triage_source == TriageSource.AGENT:
        return "Set by an agent."
    if ticket.triage_source == TriageSource.CALLER:
        return "Given when the ticket was created."
    if ticket.triage_confidence is not None:
        return (
            f"Classifier v{ticket.triage_model_version} was unsure: {ticket.triage_label} "
            f"({ticket.triage_confidence:.0%}, below its threshold for routing on its own)."
        )
    if ticket.needs_triage:
        return "No rule matched and no classifier is trained yet."
    return "Not triaged yet."


def ticket_route(*, ticket: Ticket, at: datetime | None = None) -> Ticket:
    """Assign an unassigned, triaged ticket to the least-loaded available agent who speaks the requester's language
    and covers their region (members of the ticket's department, when it has members); else leave it queued."""
    with transaction.atomic():
        ticket = _lock(ticket)
        if ticket.assignee_id is not None or not ticket.is_open or ticket.needs_triage:
            return ticket
        exclude: list[int] = []
        if ticket.department is not None:
            members = set(ticket.department.members.values_list("pk", flat=True))
            if members:
                exclude = list(
                    User.objects.filter(agent_profile__isnull=False)
                    .exclude(pk__in=members)
                    .values_list("pk", flat=True)
                )
        agent = agent_pick(
            permission=ANSWER_PERMISSION, language=ticket.language, region=ticket.region, at=at, exclude=exclude
        )
        if agent is None:
            return ticket
        # Compare-and-set: an agent who took the ticket meanwhile keeps it.
        if Ticket.objects.filter(pk=ticket.pk, assignee__isnull=True).update(assignee=agent) == 1:
            ticket.assignee = agent
            audit_record(actor=None, action="ticket.assign", target=ticket, data={"assignee": agent.pk})
            if ticket.channel == Channel.CHAT:
                # The agents' chat panels show who has the chat ("with X").
                queue_changed()
    return ticket
