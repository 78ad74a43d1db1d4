"""The support demo phase: a realistic, deterministic quarter that meets the promises the way a good team does."""

from __future__ import annotations

from datetime import date

import pytest

from demo import core as demo
from saypro.figures.registry import Span
from saypro.sla.models import Clock, ClockState
from support import figures as support_figures
from support import metrics
from support.models import (
    FIRST_RESPONSE,
    RESOLUTION,
    Article,
    Channel,
    Guidance,
    KnownIssue,
    PointsEntry,
    Survey,
    SurveyFollowUp,
    Ticket,
    TriageSource,
)

pytestmark = pytest.mark.django_db
END = date(2025, 7, 1)


@pytest.fixture
def seeded(db):
    return demo.seed(users=2500, seed=5, end=END, phases=[demo.SIGNUPS, "demo.support.support_phase"])


def test_the_quarter_meets_the_promises_with_a_realistic_tail(seeded):
    start, end = seeded.period.start, seeded.period.end
    tickets = Ticket.objects.count()
    assert 100 < tickets < 400
    channels = set(Ticket.objects.values_list("channel", flat=True))
    assert channels == set(Channel.values)
    first = metrics.first_response_stats(start=start, end=end)
    assert first.average < 3 * 3600 and first.p90 > first.median
    compliance = metrics.resolution_compliance(start=start, end=end, now=end)
    assert 0.9 <= compliance.rate < 1.0, "mostly within 24 h, with some breaches"
    assert Clock.objects.filter(metric=FIRST_RESPONSE, breached_at__isnull=False).exists()
    assert (
        Clock.objects.filter(metric=RESOLUTION, state=ClockState.PAUSED).exists()
        or Clock.objects.filter(metric=RESOLUTION, paused_seconds__gt=0).exists()
    )
    total = metrics.csat(start=start, end=end)
    assert 4.0 < total.average < 4.8 and 0.2 < total.response_rate < 0.5
    assert PointsEntry.objects.count() == Survey.objects.filter(rating__isnull=False).count()
    assert SurveyFollowUp.objects.count() == Survey.objects.filter(rating__lte=2).count() > 0
    assert (
        KnownIssue.objects.filter(fixed_at__isnull=False).exists()
        and Ticket.objects.filter(known_issue__isnull=False).exists()
    )
    assert Article.objects.count() >= 10 and Guidance.objects.exists()
    span = Span(start=start, end=end, now=end)
    assert 20 < support_figures.deflection_rate(span).value < 70
    # The demo's misroutes carry the column the transfer service sets, so the figure sees them.
    misrouted = Ticket.objects.filter(transfers__corrected_source=TriageSource.MODEL).distinct()
    assert misrouted.exists() and set(misrouted.values_list("pk", flat=True)) == set(
        Ticket.objects.filter(misrouted_at__isnull=False).values_list("pk", flat=True)
    )
    assert 0 < support_figures.misroute_rate(span).value < 15
    # The clocks are those the kernel would have written.
    for clock in Clock.objects.filter(metric=RESOLUTION, state=ClockState.STOPPED)[:200]:
        assert clock.met == (clock.breached_at is None)
        assert clock.events.first().kind == "start" and clock.events.last().kind == "stop"
    ticket = Ticket.objects.filter(status="solved").first()
    assert Clock.objects.get(metric=RESOLUTION, target_id=ticket.pk).stopped_at == ticket.solved_at
