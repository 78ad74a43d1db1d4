"""Support work done by a real Celery worker on the configured broker: triage, assignment, e-mails, the survey."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts import roles
from accounts.models import AgentProfile
from saypro.ml.services import text_model_train
from support import services
from support.models import Status, Survey, Ticket, TriageSource
from tests.conftest import wait_for
from tests.factories import UserFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_filed_ticket_is_triaged_and_assigned_by_the_worker_and_the_survey_follows(celery_worker_live, user):
    text_model_train(
        name=services.TRIAGE_MODEL,
        texts=["refund my payment", "charged twice on my card", "where is my parcel", "order not delivered"] * 2,
        labels=["billing", "billing", "orders", "orders"] * 2,
        folds=0,
    )
    agent = UserFactory(email="worker-agent@saypro.example", roles=[roles.SUPPORT_AGENT])
    AgentProfile.objects.create(user=agent, languages=["en"])
    client = APIClient()
    client.force_authenticate(user)
    response = client.post("/api/v1/support/tickets/", {"body": "I was charged twice on my card"}, format="json")
    assert response.status_code == 201
    ticket = Ticket.objects.get()

    def routed():
        ticket.refresh_from_db()
        return ticket.assignee_id == agent.pk

    # The worker's first classification imports scikit-learn and loads the model: allow for a busy machine.
    wait_for(routed, timeout=60)
    assert ticket.department.slug == "billing" and ticket.triage_source == TriageSource.MODEL
    wait_for(lambda: any(f"#{ticket.pk}" in m.subject and m.to == [user.email] for m in mail.outbox))

    services.ticket_reply(ticket=ticket, by=agent, body="Refunded.", status=Status.SOLVED)
    wait_for(lambda: any("How did we do" in m.subject for m in mail.outbox), timeout=60)
    survey_mail = next(m for m in mail.outbox if "How did we do" in m.subject)
    token = re.search(r"/survey/([^/\s]+)/5/", survey_mail.body).group(1)
    services.survey_answer(token=token, rating=5)
    assert Survey.objects.get().rating == 5
