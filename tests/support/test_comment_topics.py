"""What users' comments are about: the topic model, the weekly refresh, the support area page, the report section
and the improvement a manager logs from a topic, measured by the next report."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook
from pypdf import PdfReader
from sklearn.metrics import v_measure_score

from accounts.models import Feedback
from reports.models import Improvement
from reports.render.pdf import render_pdf
from reports.render.sheets import render_csv, render_xlsx
from reports.sections import build_document
from saypro import periods
from saypro.audit.models import AuditEntry
from support.models import Channel, CommentTopic, Survey, Ticket, TopicAssignment
from support.services import comment_topics_refresh
from support.topics import topics_fit
from tests.factories import UserFactory

LOCAL = ZoneInfo("Africa/Johannesburg")
DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "triage_train.csv"

DELIVERY = [
    "The delivery was late and the parcel arrived damaged",
    "My parcel delivery took two weeks, very late",
    "Courier lost my parcel, delivery never came",
    "Late delivery again, the courier is slow",
]
REFUND = [
    "Refund still not paid after cancelling",
    "I want my refund, payment was taken twice",
    "Refund took too long, money missing",
    "Charged twice, waiting for the refund of my payment",
]
PRAISE = [
    "The agent was friendly and helpful, thanks",
    "Very helpful agent, quick and friendly answer",
    "Friendly support, the agent solved it quickly",
    "Thanks to the helpful agent",
]


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL)


NOW = local(2026, 3, 20, 12)
MARCH = periods.from_slug("2026-03")


def groups_of(fit, texts):
    """Which texts share a topic, as sets of texts (independent of topic numbering)."""
    groups: dict[int, set[str]] = {}
    for text, topic in zip(texts, fit.assignments, strict=True):
        if topic is not None:
            groups.setdefault(topic, set()).add(text)
    return sorted(groups.values(), key=sorted)


# --- The topic model ------------------------------------------------------------------------------------------


def test_known_groups_of_comments_come_out_as_separate_topics():
    texts = [*DELIVERY, *REFUND, *PRAISE]
    fit = topics_fit(texts)
    assert groups_of(fit, texts) == sorted([set(DELIVERY), set(REFUND), set(PRAISE)], key=sorted)
    labels = {fit.topics[fit.assignments[texts.index(group[0])]].label for group in (DELIVERY, REFUND, PRAISE)}
    assert any("Delivery" in label or "delivery" in label for label in labels)
    assert any("efund" in label for label in labels)
    assert all(0 < c <= 1 for c in fit.closeness)


def test_blank_and_stop_word_comments_get_no_topic_and_too_few_comments_make_none():
    texts = ["", "   ", "ok", "it is", *DELIVERY, *REFUND]
    fit = topics_fit(texts)
    assert fit.assignments[:4] == [None, None, None, None]
    assert all(topic is not None for topic in fit.assignments[4:])
    tiny = topics_fit([*DELIVERY[:3], ""])
    assert tiny.topics == [] and tiny.assignments == [None] * 4
    # Six comments on one thing (or the same comment six times) are one topic, not noise.
    same = topics_fit(["Late delivery"] * 6)
    assert len(same.topics) == 1 and same.assignments == [0] * 6


def test_the_fit_is_the_same_every_time():
    texts = [*PRAISE, *DELIVERY, *REFUND]
    assert topics_fit(texts) == topics_fit(list(texts))


@pytest.mark.skipif(not DATA.exists(), reason="the shared labelled data is not on this machine")
def test_real_support_requests_group_by_what_they_ask():
    """Bitext's customer-service requests of four intents: the topics follow the intents (V-measure)."""
    intents = {"recover_password", "newsletter_subscription", "delivery_options", "check_invoice"}
    with DATA.open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["intent"] in intents]
    fit = topics_fit([row["text"] for row in rows])
    pairs = [(row["intent"], topic) for row, topic in zip(rows, fit.assignments, strict=True) if topic is not None]
    assert len(pairs) >= 0.9 * len(rows)  # a request made only of rare words has no topic
    assert len(fit.topics) >= len(intents)
    # Measured 0.85 (7 topics for 4 intents: some split in two, by wording); chance is near 0.
    assert v_measure_score(*zip(*pairs, strict=True)) >= 0.7


# --- The weekly refresh -----------------------------------------------------------------------------------------


def survey(at: datetime, comment: str, rating: int | None = 4, channel: str = Channel.EMAIL) -> Survey:
    requester = UserFactory()
    ticket = Ticket.objects.create(requester=requester, subject="s", body="b", created_at=at)
    return Survey.objects.create(
        target_type=ContentType.objects.get_for_model(Ticket),
        target_id=ticket.pk,
        resolved_at=at,
        requester=requester,
        channel=channel,
        sent_at=at,
        answered_at=at,
        rating=rating,
        comment=comment,
    )


def feedback(at: datetime, comment: str, score: int = 3) -> Feedback:
    return Feedback.objects.create(
        user=UserFactory(), topic=Feedback.Topic.ACCOUNT, score=score, comment=comment, created_at=at
    )


def commented(at: datetime, texts: list[str], rating: int = 4) -> None:
    """Half of the texts on surveys, half as account feedback."""
    for n, text in enumerate(texts):
        if n % 2:
            feedback(at, text)
        else:
            survey(at, text, rating)


def topic_of(text: str) -> CommentTopic:
    survey_ = Survey.objects.filter(comment=text).first()
    if survey_ is not None:
        return TopicAssignment.objects.get(survey=survey_).topic
    return TopicAssignment.objects.filter(feedback__comment=text).first().topic


@pytest.fixture
def comments(db):
    """February: four delivery complaints and two on refunds; March: one on delivery and four on refunds; praise
    in both. A blank comment and one a year and a half old are left out."""
    commented(local(2026, 2, 10, 9), DELIVERY, rating=2)
    commented(local(2026, 2, 12, 9), REFUND[:2], rating=2)
    commented(local(2026, 2, 14, 9), PRAISE[:2], rating=5)
    commented(local(2026, 3, 3, 9), DELIVERY[:1], rating=4)
    commented(local(2026, 3, 5, 9), REFUND, rating=2)
    commented(local(2026, 3, 6, 9), PRAISE[2:], rating=5)
    survey(local(2026, 3, 6, 10), "", rating=5)
    survey(local(2024, 9, 1, 9), "Old comment about refunds and payment", rating=1)
    with time_machine.travel(NOW, tick=False):
        result = comment_topics_refresh()
    return result


def test_refresh_places_every_comment_of_the_year_and_stores_references_only(comments):
    assert (comments.comments, comments.assigned, comments.topics, comments.new) == (15, 15, 3, 3)
    assert TopicAssignment.objects.count() == 15
    assert topic_of(DELIVERY[0]) == topic_of(DELIVERY[3]) != topic_of(REFUND[0]) == topic_of(REFUND[3])
    assert topic_of(PRAISE[0]) not in (topic_of(DELIVERY[0]), topic_of(REFUND[0]))
    assert not TopicAssignment.objects.filter(survey__comment="").exists()
    # A comment's text stays on its survey or feedback row: the topic tables hold no copy of it.
    fields = {f.name for f in TopicAssignment._meta.get_fields()} | {f.name for f in CommentTopic._meta.get_fields()}
    assert not fields & {"comment", "text", "body"}


def test_a_second_refresh_keeps_the_topics_and_their_comments(comments):
    before = {a.survey_id or -a.feedback_id: a.topic_id for a in TopicAssignment.objects.all()}
    topics = set(CommentTopic.objects.values_list("pk", "label"))
    with time_machine.travel(NOW, tick=False):
        again = comment_topics_refresh()
    assert (again.new, again.retired) == (0, 0)
    assert set(CommentTopic.objects.values_list("pk", "label")) == topics
    assert {a.survey_id or -a.feedback_id: a.topic_id for a in TopicAssignment.objects.all()} == before


def test_a_topic_no_longer_found_is_retired_and_kept(comments):
    delivery, praise = topic_of(DELIVERY[0]), topic_of(PRAISE[0])
    Survey.objects.filter(comment__in=DELIVERY).delete()
    Feedback.objects.filter(comment__in=DELIVERY).delete()
    with time_machine.travel(NOW, tick=False):
        result = comment_topics_refresh()
    delivery.refresh_from_db()
    assert result.retired == 1 and not delivery.is_active
    assert not delivery.assignments.exists()
    # The others are found again: the same rows, still active.
    assert topic_of(PRAISE[0]) == praise and CommentTopic.objects.get(pk=praise.pk).is_active


def test_the_command_refreshes_on_demand(comments, capsys):
    with time_machine.travel(NOW, tick=False):
        call_command("refresh_comment_topics")
    assert "15 comments read, 15 placed in 3 topics (0 new, 0 retired)" in capsys.readouterr().out


# --- The support area page ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status", "sees_comments", "may_log"),
    [
        ("agent", 200, False, False),
        ("manager", 200, True, True),
        ("administrator", 200, True, True),
        ("reviewer", 403, False, False),
        ("user", 403, False, False),
    ],
)
def test_support_area_shows_topics_to_its_staff_and_comments_to_managers(
    comments, as_, persona, status, sees_comments, may_log, django_assert_max_num_queries
):
    client = as_(persona)
    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(70):
        response = client.get("/dashboard/areas/support/", {"period": "month", "day": "2026-03-10"})
    assert response.status_code == status
    if status != 200:
        return
    page = response.content.decode()
    assert "comments are about" in page
    refund = topic_of(REFUND[0])
    assert refund.label in page
    assert (REFUND[1] in page) is sees_comments
    assert (f'href="/dashboard/topics/{refund.pk}/improvement/"' in page) is may_log


def test_the_support_page_makes_as_many_queries_with_more_topics(comments, as_):
    client = as_("manager")

    def queries() -> int:
        with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as captured:
            assert client.get("/dashboard/areas/support/", {"period": "month", "day": "2026-03-10"}).status_code == 200
        return len(captured)

    queries()  # the first request also reads the manager's permissions (kept for the next ones)
    before = queries()
    commented(local(2026, 3, 9, 9), [f"The app crashes when I upload photos, try {n}" for n in range(6)])
    with time_machine.travel(NOW, tick=False):
        assert comment_topics_refresh().topics > 3
    assert queries() == before


def test_topic_examples_are_one_query_however_many_topics(comments, as_, django_assert_max_num_queries):
    from support.selectors import topic_examples

    ids = list(CommentTopic.objects.values_list("pk", flat=True))
    with django_assert_max_num_queries(70):
        examples = topic_examples(topic_ids=ids, start=MARCH.start_at, end=MARCH.end_at, per_topic=2)
    assert len(examples) == 5  # delivery has one comment in March, the others two shown each
    assert {e.topic_id for e in examples} == set(ids)


# --- A topic becomes an improvement -------------------------------------------------------------------------------


@pytest.mark.parametrize(("persona", "status"), [("agent", 403), ("reviewer", 403), ("user", 403)])
def test_only_managers_and_administrators_log_an_improvement_from_a_topic(comments, as_, persona, status):
    topic = topic_of(REFUND[0])
    client = as_(persona)
    assert client.get(f"/dashboard/topics/{topic.pk}/improvement/").status_code == status
    response = client.post(f"/dashboard/topics/{topic.pk}/improvement/", {"title": "x", "made_on": "2026-03-10"})
    assert response.status_code == status
    assert not Improvement.objects.exists()


def test_a_manager_turns_a_topic_into_an_improvement_that_links_back(comments, as_):
    topic = topic_of(REFUND[0])
    client = as_("manager")
    url = f"/dashboard/topics/{topic.pk}/improvement/"
    with time_machine.travel(NOW, tick=False):
        form = client.get(url)
    assert form.status_code == 200 and topic.label in form.content.decode()
    assert form.context["form"].initial["made_on"] == date(2026, 3, 20)
    bad = client.post(url, {"title": "", "made_on": "not a day"})
    assert bad.status_code == 200 and set(bad.context["form"].errors) == {"title", "made_on"}
    assert client.get("/dashboard/topics/999999/improvement/").status_code == 404
    response = client.post(url, {"title": "Refunds paid within 3 days", "made_on": "2026-03-01", "description": ""})
    assert response.status_code == 302
    entry = Improvement.objects.get()
    assert (entry.topic, entry.kind, entry.area, entry.made_on) == (topic, "feedback", "support", date(2026, 3, 1))
    assert AuditEntry.objects.filter(action="improvement.create", target_id=str(entry.pk)).exists()
    log = client.get("/dashboard/improvements/").content.decode()
    assert f"#topic-{topic.pk}" in log and topic.label in log


# --- The report -------------------------------------------------------------------------------------------------


def _pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_report_says_what_comments_are_about_in_every_format(comments):
    document = build_document(kind="monthly", period=MARCH, now=local(2026, 4, 1, 8))
    section = document.section("comment_topics")
    assert section is not None and section.title == "What users' comments are about"
    table = next(t for t in section.tables if t.key == "comment_topics")
    rows = {row[0]: row for row in table.rows}
    refund, delivery = rows[topic_of(REFUND[0]).label], rows[topic_of(DELIVERY[0]).label]
    # March against February: refunds 4 (2 before), delivery 1 (4 before).
    assert refund[2:5] == [4, 2, "up 2"]
    assert delivery[2:5] == [1, 4, "down 3"]
    # Eight weekly counts, the last week ending with the one holding the period's end.
    assert len(refund[5].split(" · ")) == 8 and sum(int(n) for n in refund[5].split(" · ")) == 6
    figure = section.figure("comment_topics.comments")
    assert (figure.value, figure.previous) == (7, 8)
    assert topic_of(REFUND[0]).label in render_csv(document).decode()
    workbook = load_workbook(io.BytesIO(render_xlsx(document)))
    cells = {str(c.value) for ws in workbook.worksheets for row in ws.iter_rows() for c in row if c.value}
    assert topic_of(REFUND[0]).label in cells
    assert "comments are about" in _pdf_text(render_pdf(document))


def test_the_next_report_measures_an_improvement_from_a_topic(comments, manager):
    topic = topic_of(DELIVERY[0])
    Improvement.objects.create(
        kind="feedback", title="New courier", made_on=date(2026, 3, 1), area="support", topic=topic, created_by=manager
    )
    document = build_document(kind="monthly", period=MARCH, now=local(2026, 4, 1, 8))
    effects = next(t for t in document.section("improvements").tables if t.key == "improvement_effects")
    [row] = effects.rows
    # Four delivery comments in the 8 weeks before (rated 2), one in the 31 days after (rated 4).
    assert row[:3] == ["New courier", topic.label, "2026-03-01"]
    assert row[3] == pytest.approx(0.5) and row[4] == pytest.approx(round(7 / 31, 1))
    assert row[5:] == ["2.00", "4.00"]
    # The month after, the report still measures it (the entry was made in the period before).
    april = build_document(kind="monthly", period=periods.from_slug("2026-04"), now=local(2026, 5, 1, 8))
    assert any(t.key == "improvement_effects" for t in april.section("improvements").tables)


def test_without_comments_the_section_says_so(db):
    document = build_document(kind="monthly", period=MARCH, now=local(2026, 4, 1, 8))
    section = document.section("comment_topics")
    assert section.tables == [] and "No topics yet" in section.paragraphs[0]
