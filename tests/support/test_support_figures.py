"""The support figures the report sections used to compute themselves, now registered (support.figures, NPS in
accounts.figures): each checked on hand-built rows against the value worked out here in plain Python.

Edge cases: an urgent ticket first answered and solved after 10 h, items received on a quarter's last day (they
belong to it whenever they are settled), items still inside their waiting time shown as pending, a merged ticket
counted once, and NPS from two answers with n = 2."""

from __future__ import annotations

import math
from importlib import import_module

import pytest
import time_machine
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Feedback
from reports.document import NPS, format_value
from reports.glossary import glossary
from saypro import periods
from saypro.figures.registry import figure_read, figure_series, figure_spec, figures_read
from support import services
from support.models import MISROUTABLE, Channel, Department, Guidance, Priority, Ticket, TriageSource
from tests.factories import UserFactory
from tests.reports.test_figure_definitions import AFTER_Q1, Q1, H, in_span, local, read, ticket

pytestmark = pytest.mark.django_db

NEW_FIGURES = (
    "support.first_response_median",
    "support.first_response_p90",
    "support.deflection_rate",
    "support.misroute_rate",
    "support.nps",
)


def nearest_rank(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(fraction * len(ordered)) - 1]


# --- First response: median and p90 --------------------------------------------------------------------------


def answered(created, after_hours, **options) -> Ticket:
    row = ticket(created, **options)
    if after_hours is not None:
        Ticket.objects.filter(pk=row.pk).update(first_responded_at=created + after_hours * H)
    return Ticket.objects.get(pk=row.pk)


@pytest.fixture
def first_answers():
    """Q1: an urgent chat answered and solved after 10 h; answers after 1 h, 2.5 h and 30 min; one received on the
    quarter's last day at 22:00 and answered 5 h later (in Q2); one not answered. Outside: a Q4 ticket answered
    after 50 h, and a Q1 ticket answered after 100 h but merged into another (counted as that one)."""
    urgent = answered(local(2026, 1, 14, 9), 10, solved_after=10, channel=Channel.CHAT, priority=Priority.URGENT)
    email = answered(local(2026, 2, 3, 9), 1, channel=Channel.EMAIL)
    answered(local(2026, 3, 2, 9), 2.5)
    answered(local(2026, 3, 10, 9), 0.5, channel=Channel.SOCIAL)
    answered(local(2026, 3, 31, 22), 5, channel=Channel.IN_APP)
    answered(local(2026, 3, 12, 9), None)
    answered(local(2025, 12, 20, 9), 50)
    merged = answered(local(2026, 2, 4, 9), 100)
    Ticket.objects.filter(pk=merged.pk).update(merged_into=email)
    return urgent


def q1_answer_hours(**only) -> tuple[list[float], int]:
    rows = [
        t
        for t in Ticket.objects.all()
        if in_span(t.created_at, Q1.start_at, Q1.end_at)
        and t.merged_into_id is None
        and all(getattr(t, name) == value for name, value in only.items())
    ]
    hours = [(t.first_responded_at - t.created_at) / H for t in rows if t.first_responded_at is not None]
    return hours, sum(t.first_responded_at is None for t in rows)


def test_first_response_median_and_p90_over_the_tickets_received_in_the_period(first_answers):
    hours, unanswered = q1_answer_hours()
    median, p90 = read("support.first_response_median").current, read("support.first_response_p90").current
    assert (median.value, median.n, median.pending) == (pytest.approx(nearest_rank(hours, 0.5)), len(hours), 1)
    assert (p90.value, p90.n, p90.pending) == (pytest.approx(nearest_rank(hours, 0.9)), len(hours), unanswered)
    # Five answers (30 min, 1 h, 2.5 h, 5 h on the last day's ticket, 10 h on the urgent one); not the merged one.
    assert (median.value, p90.value, median.n) == (pytest.approx(2.5), pytest.approx(10.0), 5)
    # The urgent chat on its own, by channel or by priority.
    for name, value in (("channel", Channel.CHAT), ("priority", Priority.URGENT)):
        one = read("support.first_response_p90", **{name: value}).current
        alone, _ = q1_answer_hours(**{name: value})
        assert (one.value, one.n) == (pytest.approx(nearest_rank(alone, 0.9)), 1) == (pytest.approx(10.0), 1)


def test_a_ticket_not_yet_answered_pends_in_the_running_month():
    now = local(2026, 3, 2, 15)
    answered(local(2026, 3, 2, 13), None)
    answered(local(2026, 3, 2, 9), 3)
    reading = read("support.first_response_median", period=periods.containing(periods.MONTH, now.date()), now=now)
    assert reading.current.to_date
    assert (reading.current.value, reading.current.n, reading.current.pending) == (pytest.approx(3.0), 1, 1)


# --- Deflection -----------------------------------------------------------------------------------------------


def guidance(asked, *, suggested=True, read_it=True, filed=False) -> Guidance:
    return Guidance.objects.create(
        question="Where is my refund?",
        asked_at=asked,
        suggested=[[1, 0.8]] if suggested else [],
        read_at=asked + 0.1 * H if read_it else None,
        ticket=Ticket.objects.create(requester=UserFactory(), subject="s", body="b", created_at=asked + H)
        if filed
        else None,
    )


@pytest.fixture
def questions():
    """Q1: one read and left at that; one read then followed by a ticket; one answered with no article (not
    counted); one not read; one asked on the quarter's last day at 23:00, read and left. Q4: one deflected."""
    guidance(local(2026, 2, 1, 9))
    guidance(local(2026, 2, 2, 9), filed=True)
    guidance(local(2026, 2, 3, 9), suggested=False)
    guidance(local(2026, 2, 4, 9), read_it=False)
    guidance(local(2026, 3, 31, 23))
    guidance(local(2025, 12, 30, 9))


def deflection_by_hand(now) -> tuple[float, int, int]:
    wait = 24 * H
    asked = [g for g in Guidance.objects.all() if in_span(g.asked_at, Q1.start_at, min(Q1.end_at, now)) and g.suggested]
    settled = [g for g in asked if g.asked_at < now - wait]
    deflected = [g for g in settled if g.read_at is not None and g.ticket_id is None]
    return 100 * len(deflected) / len(settled), len(settled), len(asked) - len(settled)


def test_deflection_is_questions_read_and_left_without_a_ticket(questions):
    value, n, pending = deflection_by_hand(AFTER_Q1)
    reading = read("support.deflection_rate").current
    assert (reading.value, reading.n, reading.pending) == (pytest.approx(value), n, pending) == (50.0, 4, 0)
    assert reading.parts["deflected"] == 2


def test_a_question_inside_its_waiting_time_pends_at_the_periods_end(questions):
    # Read half an hour after the last question of the quarter: the quarter to date, that one not yet settled.
    now = local(2026, 3, 31, 23, 30)
    value, n, pending = deflection_by_hand(now)
    reading = read("support.deflection_rate", now=now).current
    assert reading.to_date
    assert (reading.value, reading.n, reading.pending) == (pytest.approx(value), n, pending)
    assert (reading.n, reading.pending) == (3, 1)


# --- Misroutes ------------------------------------------------------------------------------------------------


def routed(created, source, *moves, agent) -> Ticket:
    """A ticket whose department came from `source`, then moved by an agent to each department in `moves` (at
    the given hours after it was received) through the transfer service."""
    with time_machine.travel(created, tick=False):
        row = Ticket.objects.create(
            requester=UserFactory(),
            subject="Refund",
            body="Charged twice",
            created_at=created,
            department=Department.objects.get(slug="general"),
            triage_source=source,
            needs_triage=source == TriageSource.NONE,
        )
    for after, slug in moves:
        with time_machine.travel(created + after * H, tick=False):
            services.ticket_set_department(ticket=row, by=agent, department=slug)
    return row


@pytest.fixture
def routings(agent):
    """Q1: a rule's choice moved; a classifier's kept; a classifier's moved twice; a caller's choice moved and an
    untriaged one set by an agent (neither a triage choice); a rule's choice received on the quarter's last day at
    23:00 and moved in Q2. Q4: a rule's choice moved."""
    routed(local(2026, 1, 5, 9), TriageSource.RULE, (1, "billing"), agent=agent)
    routed(local(2026, 1, 6, 9), TriageSource.MODEL, agent=agent)
    routed(local(2026, 2, 6, 9), TriageSource.MODEL, (1, "billing"), (2, "technical"), agent=agent)
    routed(local(2026, 2, 7, 9), TriageSource.CALLER, (1, "billing"), agent=agent)
    routed(local(2026, 2, 8, 9), TriageSource.NONE, (1, "billing"), agent=agent)
    routed(local(2026, 3, 31, 23), TriageSource.RULE, (3, "billing"), agent=agent)
    routed(local(2025, 12, 10, 9), TriageSource.RULE, (1, "billing"), agent=agent)


def test_misroutes_are_triage_choices_an_agent_moved(routings):
    # From the transfers themselves, not the column the figure reads.
    q1 = [t for t in Ticket.objects.prefetch_related("transfers") if in_span(t.created_at, Q1.start_at, Q1.end_at)]
    moved = [t for t in q1 if any(tr.corrected_source in MISROUTABLE for tr in t.transfers.all())]
    triaged = [t for t in q1 if t in moved or t.triage_source in MISROUTABLE]
    reading = read("support.misroute_rate").current
    assert (reading.value, reading.n) == (pytest.approx(100 * len(moved) / len(triaged)), len(triaged)) == (75.0, 4)
    assert reading.parts["misrouted"] == 3


def test_the_misroute_rate_reads_the_tickets_once_without_a_look_up_per_ticket(routings):
    with CaptureQueriesContext(connection) as queries:
        figure_read("support.misroute_rate", Q1, now=AFTER_Q1, compare=False)
    (sql,) = [q["sql"] for q in queries.captured_queries if "support_ticket" in q["sql"]]
    assert "support_departmenttransfer" not in sql and "EXISTS" not in sql.upper()


RECEIVED_FIGURES = (
    "support.created",
    "support.resolved_24h",
    "support.first_response_hours",
    "support.resolution_hours",
)
PERCENTILES = ("support.first_response_median", "support.first_response_p90")


def test_the_received_ticket_figures_read_the_tickets_once_and_agree_with_reading_each_alone(first_answers):
    alone = {key: figure_read(key, Q1, now=AFTER_Q1, compare=False).current for key in RECEIVED_FIGURES}
    with CaptureQueriesContext(connection) as queries:
        together = figures_read(RECEIVED_FIGURES, Q1, now=AFTER_Q1, compare=False)
    assert {r.figure.key: r.current for r in together} == alone
    assert sum('FROM "support_ticket"' in q["sql"] for q in queries.captured_queries) == 1


def test_the_median_and_p90_take_their_counts_from_the_received_figures_read(first_answers):
    with CaptureQueriesContext(connection) as queries:
        figures_read([*RECEIVED_FIGURES, *PERCENTILES], Q1, now=AFTER_Q1, compare=False)
    # Only the received figures' aggregate counts the tickets answered and not; the other reads are the ranks.
    counting = [
        q["sql"] for q in queries.captured_queries if 'COUNT("support_ticket"."first_responded_at")' in q["sql"]
    ]
    assert len(counting) == 1 and "PERCENTILE" not in counting[0]


def weeks_and_months(period, now) -> list[list[periods.Period]]:
    series = []
    for kind in (periods.WEEK, periods.MONTH):
        chosen, each = periods.containing(kind, period.start), []
        while chosen.start < period.end and chosen.start_at < now:
            each.append(chosen)
            chosen = periods.containing(kind, chosen.end)
        series.append(each)
    return series


@pytest.mark.parametrize("filters", [{}, {"channel": Channel.EMAIL}])
def test_a_series_of_weeks_reads_the_tickets_once_and_gives_each_weeks_reading(first_answers, filters):
    """Q1 read on 10 March at noon: the weeks and months up to now, the last of each to date. Tickets fall on a week's
    first instant (Monday 2 March, 00:00) and on the instant before it; a ticket merged into another is left out."""
    now = local(2026, 3, 10, 12)
    answered(local(2026, 3, 2, 0), 20, solved_after=20, channel=Channel.EMAIL)
    answered(local(2026, 3, 1, 23, 59, 59), 1, solved_after=30, channel=Channel.EMAIL)
    answered(local(2026, 3, 10, 2), None, channel=Channel.EMAIL)
    for chosen in weeks_and_months(Q1, now):
        one_by_one = [
            figure_read("support.resolved_24h", p, now=now, filters=filters, compare=False).current for p in chosen
        ]
        with CaptureQueriesContext(connection) as queries:
            series = figure_series("support.resolved_24h", chosen, now=now, filters=filters)
        assert series == one_by_one
        assert sum('FROM "support_ticket"' in q["sql"] for q in queries.captured_queries) == 1
        assert series[-1].to_date and series[-1].pending and not series[0].to_date
    assert sum(r.n for r in series) == sum(r.n for r in one_by_one) > 0


@pytest.mark.parametrize("key", ["support.resolved_24h", "support.created"])
def test_a_series_of_periods_that_overlap_is_refused(key):
    february = periods.containing(periods.MONTH, local(2026, 2, 10).date())
    with pytest.raises(ValueError, match="do not overlap"):
        figure_series(key, [Q1, february], now=AFTER_Q1)


def test_a_series_without_a_query_for_many_periods_reads_each_period(first_answers):
    chosen = weeks_and_months(Q1, AFTER_Q1)[1]
    expected = [figure_read("support.created", p, now=AFTER_Q1, compare=False).current for p in chosen]
    assert figure_series("support.created", chosen, now=AFTER_Q1) == expected
    assert [r.value for r in expected] == [1.0, 1.0, 4.0]


def test_the_transfer_service_records_the_first_misroute_only(agent):
    received = local(2026, 2, 6, 9)
    row = routed(received, TriageSource.MODEL, (1, "billing"), (2, "technical"), agent=agent)
    row.refresh_from_db()
    assert (row.misrouted_at, row.triage_source) == (received + H, TriageSource.AGENT)
    caller = routed(received, TriageSource.CALLER, (1, "billing"), agent=agent)
    caller.refresh_from_db()
    assert caller.misrouted_at is None


def test_the_migration_backfills_tickets_moved_before_the_column_existed(routings):
    expected = {
        t.pk: min(tr.at for tr in t.transfers.all() if tr.corrected_source in MISROUTABLE)
        for t in Ticket.objects.prefetch_related("transfers")
        if any(tr.corrected_source in MISROUTABLE for tr in t.transfers.all())
    }
    Ticket.objects.update(misrouted_at=None)
    import_module("support.migrations.0009_ticket_misrouted_at").backfill(apps, None)
    assert dict(Ticket.objects.filter(misrouted_at__isnull=False).values_list("pk", "misrouted_at")) == expected
    assert len(expected) == 4


# --- NPS (document 001) ---------------------------------------------------------------------------------------


def test_nps_from_two_answers_has_n_2():
    user = UserFactory()
    # In Q1: a promoter and, on the quarter's last day, a passive. Not Q1's: a Q4 detractor, a registration rating.
    Feedback.objects.create(user=user, topic=Feedback.Topic.NPS, score=10, created_at=local(2026, 1, 10, 9))
    Feedback.objects.create(user=user, topic=Feedback.Topic.NPS, score=7, created_at=local(2026, 3, 31, 23, 30))
    Feedback.objects.create(user=user, topic=Feedback.Topic.NPS, score=0, created_at=local(2025, 12, 30, 9))
    Feedback.objects.create(user=user, topic=Feedback.Topic.REGISTRATION, score=1, created_at=local(2026, 2, 1, 9))
    scores = [
        f.score
        for f in Feedback.objects.filter(topic=Feedback.Topic.NPS)
        if in_span(f.created_at, Q1.start_at, Q1.end_at)
    ]
    expected = 100 * sum(s >= 9 for s in scores) / len(scores) - 100 * sum(s <= 6 for s in scores) / len(scores)
    reading = read("support.nps").current
    assert (reading.value, reading.n) == (pytest.approx(expected), len(scores)) == (50.0, 2)
    assert dict(reading.parts) == {"promoters": 1, "passives": 1, "detractors": 0}
    assert format_value(reading.value, NPS) == "+50"
    assert read("support.nps", period=periods.from_slug("2026-Q2")).current.value is None


def test_the_glossary_shows_the_new_figures():
    entries = dict(glossary())
    for key in NEW_FIGURES:
        spec = figure_spec(key)
        assert entries[spec.label].startswith(spec.definition), key
        assert f"placed in a period by {spec.placed_by}" in entries[spec.label], key
    assert figure_spec("support.nps").source.startswith("001")
    assert figure_spec("support.misroute_rate").dimensions == ("channel", "priority")


def test_the_support_figures_page_shows_the_registrys_readings(routings, questions, first_answers, manager, client):
    """The page's first answer, deflection and misroute tiles are the registry's readings of the quarter."""
    now = local(2026, 3, 31, 23, 30)
    quarter = periods.containing(periods.QUARTER, now.date())
    client.force_login(manager)
    with time_machine.travel(now, tick=False):
        page = client.get("/dashboard/support/figures/", {"period": "quarter"})
        expected = {
            key: figure_read(key, quarter, now=now, compare=False).current
            for key in ("support.deflection_rate", "support.misroute_rate", "support.first_response_hours")
        }
    assert page.status_code == 200
    body = page.content.decode()
    deflection, misroute = expected["support.deflection_rate"], expected["support.misroute_rate"]
    assert f'data-testid="figure-deflection">{deflection.value:.1f} %<' in body
    assert f"of n = {deflection.n} questions answered with articles" in body and f"{deflection.pending} pending" in body
    assert f'data-testid="figure-misroute">{misroute.value:.1f} %<' in body
    assert f"of n = {misroute.n} triaged tickets" in body
    assert f"n = {expected['support.first_response_hours'].n} tickets received and answered" in body
