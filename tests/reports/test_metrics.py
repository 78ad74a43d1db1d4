"""Every figure of the registration and compliance sections against values computed by hand (see conftest)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports import rollups
from reports.document import Document
from reports.sections import build_document, context_for
from reports.sections.accounts import registrations_section
from reports.sections.compliance import compliance_section
from reports.selectors import buckets
from reports.sources import sla_labels, sla_metrics
from saypro import periods
from saypro.localtime import local_midnight
from saypro.sla import selectors as sla_selectors
from saypro.sla.promises import promise_for

from .conftest import METRIC, NOW, local, signup

pytestmark = pytest.mark.django_db

Q1 = periods.containing(periods.QUARTER, date(2026, 2, 1))


def figures(section) -> dict[str, float | None]:
    return {f.key: f.value for f in section.figures}


def table(section, key):
    return next(t for t in section.tables if t.key == key)


@pytest.fixture
def q1(quarter_data):
    with time_machine.travel(NOW, tick=False):
        yield context_for(Q1, NOW)


def test_compliance_is_achieved_over_achieved_plus_breached_by_deadline_date(q1):
    section = compliance_section(q1)
    figure = next(f for f in section.figures if f.key == f"compliance.{METRIC}")
    assert figure.value == 50.0 and figure.previous == 100.0 and figure.target == 100.0
    assert figure.met is False and figure.change == -50.0
    assert figure.note == "2 of 4 decided within 48 h of review time" and figure.n == 4
    row = next(
        r for r in table(section, "compliance").rows if r[0] == "Registrations decided within 48 h of review time"
    )
    # Stopped in Q1: 1 min, 30 h and 60 h.
    assert row[2:6] == [2, 2, 50.0, 100.0]
    assert row[6] == pytest.approx(round((1 / 60 + 30 + 60) / 3, 2)) and row[7] == 30.0 and row[8] == 60.0


def test_the_compliance_trend_gives_each_bucket_the_achievement_of_its_clocks(q1):
    chart = next(c for c in compliance_section(q1).charts if c.key == "compliance_trend")
    series = next(s for s in chart.series if s.name == promise_for(METRIC).title)
    expected = []
    for bucket in buckets(Q1, periods.today(NOW)):
        counts = sla_selectors.compliance(
            metric=METRIC, start=local_midnight(bucket.first), end=local_midnight(bucket.end), now=NOW
        )
        decided = counts.achieved + counts.breached
        expected.append(100 * counts.achieved / decided if decided else None)
    assert any(value is not None for value in expected)
    assert series.values == pytest.approx(expected)


def test_the_compliance_trend_reads_its_days_once_however_many_buckets_it_has(quarter_data):
    """A week's trend has 7 daily buckets and a month's 31: the same reads either way, from the stored days."""
    with time_machine.travel(NOW, tick=False):
        rollups.rollups_refresh(first=date(2026, 1, 1), last=date(2026, 4, 1), now=NOW, names=["sla"])
        made = []
        for period in (
            periods.containing(periods.WEEK, date(2026, 3, 2)),
            periods.containing(periods.MONTH, date(2026, 3, 2)),
        ):
            with CaptureQueriesContext(connection) as queries:
                compliance_section(context_for(period, NOW))
            made.append(len(queries))
    assert made[0] == made[1]


def test_registration_figures(q1):
    from accounts.models import Registration

    values = figures(registrations_section(q1))
    assert values["registrations.started"] == 6  # R1–R6
    submitted = [r for r in Registration.objects.all() if r.submitted_at and Q1.contains(r.submitted_at)]
    assert values["registrations.submitted_count"] == len(submitted) == 5
    assert values["registrations.approved"] == 3  # R1, R2, R3 decided in Q1
    approved = [r for r in submitted if r.status == "approved"]
    # Still undecided past 48 h at NOW: can no longer be approved in time, so counted as missed.
    overdue = [r for r in submitted if r.decided_at is None and NOW - r.submitted_at > timedelta(hours=48)]
    in_time = [r for r in approved if r.decided_at - r.submitted_at <= timedelta(hours=48)]
    assert values["registrations.approved_48h"] == pytest.approx(100 * len(in_time) / (len(approved) + len(overdue)))
    assert values["registrations.auto_approval_rate"] == pytest.approx(100 / 3)
    assert values["registrations.conversion"] == 50.0  # 3 of the 6 started in Q1 are approved
    assert values["registrations.median_decision_hours"] == 30.0


def test_registration_breakdowns_funnel_and_causes(q1):
    section = registrations_section(q1)
    assert table(section, "registrations_country").rows == [
        ["South Africa", 5, pytest.approx(83.3)],
        ["Nigeria", 1, 16.7],
    ]
    assert table(section, "registrations_region").rows == [["Gauteng", 5, pytest.approx(83.3)], ["Lagos", 1, 16.7]]
    funnel = {row[0]: row[1:] for row in table(section, "registrations_funnel").rows}
    assert funnel["Started sign-up"] == [6, 100.0, None]
    assert funnel["Verified e-mail"] == [5, pytest.approx(83.3), pytest.approx(16.7)]
    assert funnel["Verified phone"] == [3, 50.0, 40.0]
    assert funnel["Approved"] == [3, 50.0, 40.0]
    assert table(section, "registrations_delay_causes").rows == [["Review backlog", 1, 100.0]]
    ages = {row[0]: row[1] for row in table(section, "registrations_age").rows}
    assert ages["25–34"] == 5 and ages["18–24"] == 1
    # 5 January had two sign-ups, both from the NEWYEAR campaign; the median day of the quarter had none.
    assert table(section, "registrations_peaks").rows == []


WEEK = periods.containing(periods.WEEK, date(2026, 3, 2))


@pytest.mark.parametrize("stored", [False, True], ids=["computed on the spot", "from stored rollups"])
def test_campaign_peaks_are_days_of_one_and_a_half_times_the_median_day_with_their_top_campaign(db, stored):
    """The week of 2 March 2026: sign-ups per day 2, 2, 7, 2, 3, 1, 2 (median 2, so a peak from 3).
    Wednesday: 4 from SPRING, 2 from RADIO, 1 without a campaign; Friday: 2 from RADIO, 1 without."""
    per_day = {2: [""] * 2, 3: [""] * 2, 4: ["SPRING"] * 4 + ["RADIO"] * 2 + [""], 5: [""] * 2, 6: ["RADIO"] * 2 + [""]}
    per_day |= {7: [""], 8: [""] * 2}
    for day, campaigns in per_day.items():
        for campaign in campaigns:
            signup(local(2026, 3, day, 10, 0), submitted=False, campaign=campaign)
    now = local(2026, 3, 10, 12, 0)
    if stored:
        rollups.rollups_refresh(first=date(2026, 3, 1), last=date(2026, 3, 9), now=now, names=["registrations"])
    with time_machine.travel(now, tick=False):
        section = registrations_section(context_for(WEEK, now))
    # [day, sign-ups, × median day, top campaign, its sign-ups], the days in order
    assert table(section, "registrations_peaks").rows == [
        ["2026-03-04", 7, 3.5, "SPRING", 4],
        ["2026-03-06", 3, 1.5, "RADIO", 2],
    ]


def test_stored_rollups_give_the_same_figures_as_computing_on_the_spot(q1):
    live = build_document(kind="quarterly", period=Q1, now=NOW).as_dict()
    written = rollups.rollups_refresh(first=date(2025, 10, 1), last=date(2026, 4, 1), now=NOW)
    assert written["registrations"] > 0 and written["sla"] > 0
    stored = build_document(kind="quarterly", period=Q1, now=NOW).as_dict()
    assert stored["sections"] == live["sections"] and stored["appendices"] == live["appendices"]


def test_report_totals_reconcile_with_the_raw_tables(q1, area_quarter):
    from django.db.models import Count, Q, Sum

    from accounts.models import Registration
    from messaging.models import Conversation, Message
    from moderation.models import Case, Decision, Flag
    from saypro.sla.models import Clock
    from support.models import Survey, Ticket

    rollups.rollups_refresh(first=date(2025, 10, 1), last=date(2026, 4, 1), now=NOW)
    document: Document = build_document(kind="quarterly", period=Q1, now=NOW)
    sla = next(t for t in document.appendices if t.key == "raw_sla_daily")
    in_q1 = {"gte": Q1.start_at, "lt": Q1.end_at}

    def between(field: str) -> dict[str, object]:
        return {f"{field}__{op}": value for op, value in in_q1.items()}

    due_in_q1 = Clock.objects.filter(metric=METRIC, **between("due_at")).count()
    # Clocks are named as people read them: the promise's title, never the metric's key.
    promise = promise_for(METRIC)
    assert promise is not None
    title = promise.title
    assert sum(row[2] + row[3] for row in sla.rows if row[1] == title) == due_in_q1 == 4
    assert not {row[1] for row in sla.rows} & set(sla_metrics())
    daily = next(t for t in document.appendices if t.key == "raw_registrations_daily")
    started = Registration.objects.filter(**between("started_at")).count()
    assert sum(row[1] for row in daily.rows) == started == 6

    figures = {f.key: f for _, f in document.figures()}
    # Messaging (see area_quarter): M1 and M2 from users, M3 from the team; 2 messages in, 3 replies out.
    conversations = Conversation.objects.filter(**between("created_at"))
    assert figures["messaging.inbound"].value == conversations.filter(initiated_by="user").count() == 2
    assert figures["messaging.outbound"].value == conversations.filter(initiated_by="staff").count() == 1
    messages = Message.objects.filter(**between("created_at"))
    assert figures["messaging.user_messages"].value == messages.filter(kind="user").count() == 2
    assert figures["messaging.team_replies"].value == messages.filter(kind="reply").count() == 3
    mix = next(t for t in document.section("messaging").tables if t.key == "messaging_mix")  # type: ignore[union-attr]
    categorised = conversations.filter(initiated_by="user").exclude(category="").count()
    assert sum(row[1] for row in mix.rows) == categorised == 2
    # Every users' message of Q1 is past its 24 h at NOW: each one counts.
    assert figures["messaging.first_response_24h"].n == messages.filter(kind="user").count() == 2
    assert figures["messaging.volume"].value == messages.filter(kind__in=["user", "reply"]).count() == 5
    # Support: T1 (solved in time), T2 (late) and T3 (open past 24 h), whatever their channel.
    received = Ticket.objects.filter(**between("created_at"), merged_into=None)
    assert figures["support.resolved_24h"].n == received.count() == 3
    answered = received.exclude(first_responded_at=None)
    assert figures["support.first_response_hours"].n == answered.count() == 2
    surveys = Survey.objects.filter(**between("sent_at"))
    assert figures["support.csat_average"].n == surveys.exclude(rating=None).count() == 2
    # Moderation: flags on L1 (1), L2 (2), the scam listing (1, automatic) and L3 (1); three decisions; deadlines
    # of L1 and the scam listing met, L2 decided late and L3 open past its deadline.
    assert figures["moderation.flags"].value == Flag.objects.filter(**between("created_at")).count() == 5
    assert figures["moderation.actions"].value == Decision.objects.filter(**between("at")).count() == 3
    flagged = Case.objects.filter(**between("created_at"))
    assert figures["moderation.recurrence_rate"].n == flagged.count()

    # The appendices' daily rows add up to the same raw tables, each row on its local day.
    appendix = {t.key: t for t in document.appendices}

    def column_sums(key: str) -> list[int]:
        return [sum(row[i] for row in appendix[key].rows) for i in range(1, len(appendix[key].columns))]

    assert (
        column_sums("raw_messaging_daily")
        == [
            conversations.filter(initiated_by="user").count(),
            conversations.filter(initiated_by="staff").count(),
            messages.filter(kind="user").count(),
            messages.filter(kind="reply").count(),
        ]
        == [2, 1, 2, 3]
    )
    assert [row[0] for row in appendix["raw_messaging_daily"].rows] == ["2026-01-05", "2026-02-11", "2026-03-03"]
    raw_surveys = surveys.aggregate(
        sent=Count("pk"), responses=Count("rating"), satisfied=Count("pk", filter=Q(rating__gte=4)), sum=Sum("rating")
    )
    assert (
        column_sums("raw_support_daily")
        == [
            Ticket.objects.filter(**between("created_at")).count(),
            Ticket.objects.filter(**between("solved_at")).count(),
            *raw_surveys.values(),
        ]
        == [3, 2, 3, 2, 1, 7]
    )
    flags = Flag.objects.filter(**between("created_at"))
    decisions = Decision.objects.filter(**between("at"))
    assert (
        column_sums("raw_moderation_daily")
        == [
            flags.count(),
            flags.filter(source="user").count(),
            flags.filter(source="automatic").count(),
            decisions.count(),
            *(
                decisions.filter(action=action).count()
                for action in ("keep", "remove", "remove_warn", "suspend_user", "ban_user")
            ),
        ]
        == [5, 4, 1, 3, 1, 2, 0, 0, 0]
    )


def test_clocks_without_a_promise_are_named_by_their_default_policy():
    labels = sla_labels()
    assert set(labels) == set(sla_metrics())
    assert labels["chat.first_response"] == "Chat first response within 2 min"
    assert labels[METRIC] == promise_for(METRIC).title  # type: ignore[union-attr]
