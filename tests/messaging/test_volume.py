"""The volume selectors against figures worked out by hand from a small, dated set of conversations.

The set (times local, Africa/Johannesburg = UTC+2; Monday 6 April 2026 starts a week):
  Q1: four inbound conversations and one outbound, each resolved within the hour.
  A  Mon 6 Apr 10:00  inbound renewal, Gauteng, Vehicles; answered 12:00, resolved 13:00.
  B  Tue 7 Apr 09:00  inbound complaint; answered 30 h later (Wed 8 Apr 15:00), kept open.
  C  Wed 8 Apr 11:00  inbound, Western Cape; an agent sets "general"; never answered.
  D  Tue 14 Apr 10:00 outbound (the team writes first), policy; no answer.
  E  Mon 4 May 10:00  inbound support; answered 11:00 (waiting), user answers 12:00, resolved with a reply 15:00.
  F  Tue 5 May 10:00  inbound policy report (a scam ad); never answered.
Figures are read on 1 June 2026.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.test import override_settings

from messaging import selectors, services
from messaging.models import Category, Message, MessageKind
from saypro import periods
from saypro.celery import app as celery_app
from saypro.figures.registry import figure_read
from saypro.figures.services import target_set
from tests.factories import UserFactory
from tests.messaging.conftest import flush_committed_data, start

pytestmark = pytest.mark.django_db

TZ_OFFSET = 2
NOW = datetime(2026, 6, 1, 10, tzinfo=UTC)
Q2 = (datetime(2026, 3, 31, 22, tzinfo=UTC), datetime(2026, 6, 30, 22, tzinfo=UTC))  # 1 Apr – 1 Jul, local


def local(month: int, day: int, hour: int) -> time_machine.travel:
    return time_machine.travel(datetime(2026, month, day, hour - TZ_OFFSET, tzinfo=UTC), tick=False)


@pytest.fixture(scope="module")
def quarter(django_db_setup, django_db_blocker):
    """The dated set above, built once for the module (committed; removed afterwards)."""
    # Module fixtures run outside the per-test fixtures: tasks in-process, as in the other unit tests.
    celery_app.conf.task_always_eager = True
    try:
        with django_db_blocker.unblock(), override_settings(MODERATION_SPAM_CSV=""):
            build()
    finally:
        celery_app.conf.task_always_eager = False
    with django_db_blocker.unblock():
        yield
        flush_committed_data()


def build() -> None:
    agent = UserFactory(email="volume.agent@saypro.example", roles=["Support agent"])
    gauteng = UserFactory(region="Gauteng")  # the factory's default region: everyone but C's user
    cape = UserFactory(region="Western Cape")
    for month, day in ((2, 10), (2, 10), (3, 3), (3, 20)):
        with local(month, day, 9):
            early = start(UserFactory(), body="Which payment methods do you accept?")
        with local(month, day, 10):
            services.conversation_resolve(conversation=early, by=agent)
    with local(3, 5, 9):
        outbound = services.conversation_start_by_staff(by=agent, user=UserFactory(), subject="Ad", body="Renewed.")
    with local(3, 5, 10):
        services.conversation_resolve(conversation=outbound, by=agent)
    with local(4, 6, 10):
        a = start(gauteng, body="Please renew my ad, it has expired", ad_category="Vehicles")
    with local(4, 6, 12):
        services.reply_send(conversation=a, by=agent, body="Renewed.", then="open")
    with local(4, 6, 13):
        services.conversation_resolve(conversation=a, by=agent)
    with local(4, 7, 9):
        b = start(UserFactory(), body="I want to file a complaint about a seller")
    with local(4, 8, 15):
        services.reply_send(conversation=b, by=agent, body="Looking into it.", then="open")
    with local(4, 8, 11):
        c = start(cape, body="Hello, a question")
        services.conversation_categorise(conversation=c, by=agent, category=Category.GENERAL)
    with local(4, 14, 10):
        services.conversation_start_by_staff(
            by=agent, user=UserFactory(), subject="Ad paused", body="Please fix the photos.", category="policy"
        )
    with local(5, 4, 10):
        e = start(UserFactory(), body="Hello, my photos do not upload")
        services.conversation_categorise(conversation=e, by=agent, category=Category.SUPPORT)
    with local(5, 4, 11):
        services.reply_send(conversation=e, by=agent, body="Which phone do you use?")
    with local(5, 4, 12):
        services.message_send(conversation=e, user=e.user, body="A Samsung A14.")
    with local(5, 4, 15):
        services.reply_send(conversation=e, by=agent, body="Fixed in the new app version.", then="resolved")
    with local(5, 5, 10):
        start(UserFactory(), body="This ad is a scam, the price is far too low")


def test_volume_per_week_month_and_quarter(quarter):
    weekly = selectors.message_volume(start=Q2[0], end=Q2[1], period="week")
    assert [(r.period_start, r.inbound, r.outbound, r.user_messages, r.team_replies) for r in weekly] == [
        (date(2026, 4, 6), 3, 0, 3, 2),
        (date(2026, 4, 13), 0, 1, 0, 1),
        (date(2026, 5, 4), 2, 0, 3, 2),
    ]
    monthly = selectors.message_volume(start=Q2[0], end=Q2[1], period="month")
    assert [(r.period_start, r.inbound, r.outbound, r.user_messages, r.team_replies) for r in monthly] == [
        (date(2026, 4, 1), 3, 1, 3, 3),
        (date(2026, 5, 1), 2, 0, 3, 2),
    ]
    whole = datetime(2025, 12, 31, 22, tzinfo=UTC)
    quarterly = selectors.message_volume(start=whole, end=Q2[1], period="quarter")
    assert [(r.period_start, r.inbound, r.outbound, r.conversations) for r in quarterly] == [
        (date(2026, 1, 1), 4, 1, 5),
        (date(2026, 4, 1), 5, 1, 6),
    ]
    with pytest.raises(ValueError):
        selectors.message_volume(start=Q2[0], end=Q2[1], period="day")


def test_volume_filters_by_category_ad_category_and_region(quarter):
    by_region = selectors.message_volume(start=Q2[0], end=Q2[1], period="quarter", region="western cape")
    assert [(r.inbound, r.user_messages, r.team_replies) for r in by_region] == [(1, 1, 0)]
    by_ad = selectors.message_volume(start=Q2[0], end=Q2[1], period="quarter", ad_category="Vehicles")
    assert [(r.inbound, r.user_messages, r.team_replies) for r in by_ad] == [(1, 1, 1)]
    by_category = selectors.message_volume(start=Q2[0], end=Q2[1], period="quarter", category="policy")
    assert [(r.inbound, r.outbound) for r in by_category] == [(1, 1)]


def test_category_mix_against_the_target_mix(quarter):
    mix = selectors.category_mix(start=Q2[0], end=Q2[1])
    assert mix.categorised == 5 and mix.uncategorised == 0
    shares = {group.key: (group.count, group.share, group.target_share) for group in mix.groups}
    assert shares == {
        "general": (1, 0.2, 0.30),
        "support": (1, 0.2, 0.40),
        "complaint_policy": (2, 0.4, 0.10),
        "renewal": (1, 0.2, 0.15),
        "misc": (0, 0.0, 0.05),
    }
    assert next(g for g in mix.groups if g.key == "complaint_policy").difference == pytest.approx(0.3)
    assert selectors.category_mix(start=Q2[0], end=Q2[1], region="Western Cape").categorised == 1


def test_first_response_within_24_hours_against_90_and_95_percent(quarter):
    result = selectors.first_response_compliance(start=Q2[0], end=Q2[1], now=NOW)
    # Met: A, and E's two waits. Missed: B (answered after 30 h), C and F (never answered).
    assert (result.achieved, result.breached) == (3, 3)
    assert result.rate == 0.5 and result.meets_target is False and result.meets_stretch_target is False
    assert (result.target, result.stretch_target) == (0.90, 0.95)
    cape = selectors.first_response_compliance(start=Q2[0], end=Q2[1], region="Western Cape", now=NOW)
    assert (cape.achieved, cape.breached) == (0, 1)
    support = selectors.first_response_compliance(start=Q2[0], end=Q2[1], category="support", now=NOW)
    assert (support.achieved, support.breached, support.rate) == (2, 0, 1.0)


def test_resolution_by_category_against_each_target(quarter):
    rows = {row.category: row for row in selectors.resolution_compliance_by_category(start=Q2[0], end=Q2[1], now=NOW)}
    figures = {key: (row.target_hours, row.achieved, row.breached) for key, row in rows.items()}
    assert figures == {
        "general": (48, 0, 1),
        "support": (72, 1, 0),
        "complaint": (48, 0, 1),
        "renewal": (48, 1, 0),
        "policy": (48, 0, 1),
        "misc": (72, 0, 0),
        "": (None, 0, 0),
    }
    # A took 3 h; E took 5 h less the hour it waited on the user.
    assert rows["renewal"].average_hours == pytest.approx(3.0)
    assert rows["support"].average_hours == pytest.approx(4.0)
    assert rows["general"].average_hours is None


def _messages(start: datetime, end: datetime) -> int:
    """Messages users and the team wrote in [start, end), counted over the rows one by one."""
    return sum(
        1
        for m in Message.objects.all()
        if m.kind in (MessageKind.USER, MessageKind.REPLY) and start <= m.created_at < end
    )


def test_quarter_growth_counts_messages_against_the_band_and_the_volume_target(quarter, administrator):
    q1_start = datetime(2025, 12, 31, 22, tzinfo=UTC)
    growth = selectors.quarter_growth(quarter_start=date(2026, 4, 1))
    q2, q1 = _messages(*Q2), _messages(q1_start, Q2[0])
    assert (growth.messages, growth.previous_messages) == (q2, q1) == (11, 5)
    assert growth.growth == pytest.approx(q2 / q1 - 1) and growth.growth_verdict == "above"
    # No target set for the quarter: the previous quarter's messages plus the 10–15 % band.
    assert growth.target == (round(q1 * 1.10), round(q1 * 1.15))
    # The first quarter has none before it to grow from: the documents' 20,000.
    assert selectors.quarter_growth(quarter_start=date(2026, 1, 1)).target == (20_000, None)
    target_set(figure_key="messaging.volume", period_start=date(2026, 4, 1), value=10, by=administrator)
    assert selectors.quarter_growth(quarter_start=date(2026, 5, 17)).target_progress == pytest.approx(q2 / 10)
    # Part of a quarter is compared with the same stretch of the previous one: to 8 Apr vs to 8 Jan.
    until = datetime(2026, 4, 7, 22, tzinfo=UTC)
    so_far = selectors.quarter_growth(quarter_start=date(2026, 4, 1), until=until)
    assert (so_far.messages, so_far.previous_messages, so_far.growth) == (
        _messages(Q2[0], until),
        _messages(q1_start, q1_start + (until - Q2[0])),
        None,
    )


def test_the_inbox_backlog_is_the_registry_figure_read_now(quarter):
    backlog = selectors.message_tiles(now=NOW)["backlog"]
    # B, C and F are open; D waits on the user; A, E and the first quarter's are resolved.
    assert (backlog.value, backlog.n, backlog.parts["waiting_on_user"]) == (4, 4, 1)
    assert (backlog.parts["unassigned"], backlog.parts["at_risk"], backlog.parts["breached"]) == (2, 0, 3)
    june = periods.containing(periods.MONTH, date(2026, 6, 1))
    by_region = figure_read("messaging.backlog", june, now=NOW, filters={"region": "Western Cape"})
    assert by_region.current.value == 1
    # The backlog when April ended: A and E resolved, B and C open, D waiting; E and F not received yet.
    april = figure_read("messaging.backlog", periods.from_slug("2026-04"), now=NOW).current
    assert april.value == 3 and "at_risk" not in april.parts
