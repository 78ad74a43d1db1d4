"""The one staff search (top bar → /dashboard/search/): every kind of record in every state, by number, e-mail,
name, subject and text, grouped by kind with each record's status, and only the kinds the role may read."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from accounts.models import RegistrationStatus
from messaging import services as messaging_services
from moderation import services as moderation_services
from moderation.models import Reason
from saypro.search import MAX_QUERY, search_terms
from support import services as support_services
from support.models import Status
from tests.factories import ListingFactory, RegistrationFactory, UserFactory
from tests.support.conftest import make_ticket

pytestmark = pytest.mark.django_db

SEARCH = "/dashboard/search/"


def grouped(response) -> dict[str, list[tuple[int, str]]]:
    """Each group shown, in order: (number, status) of every hit."""
    return {
        group["key"]: [(row["hit"].pk, row["hit"].status) for row in group["hits"]]
        for group in response.context["groups"]
    }


@pytest.fixture
def records(agent, moderator):
    """One finished record of each kind, all about one person, Zanele Dlamini."""
    person = UserFactory(email="zanele.dlamini@example.com", full_name="Zanele Dlamini")
    ticket = make_ticket(person, subject="Refund for the broken kettle", body="The kettle arrived cracked.")
    support_services.ticket_set_status(ticket=ticket, by=agent, status=Status.SOLVED)
    with TestCase.captureOnCommitCallbacks(execute=True):
        conversation = messaging_services.conversation_start(
            user=person, subject="", body="Where is my courier waybill for order 7731?"
        )
    messaging_services.conversation_resolve(conversation=conversation, by=agent)
    registration = RegistrationFactory(user=person, status=RegistrationStatus.APPROVED)
    listing = ListingFactory(title="Copper kettle, as new", seller=person)
    with TestCase.captureOnCommitCallbacks(execute=True):
        flag = moderation_services.flag_create(
            reporter=UserFactory(), kind="listing", object_id=listing.pk, reason=Reason.FRAUD
        )
    case = flag.case
    with TestCase.captureOnCommitCallbacks(execute=True):
        moderation_services.case_decide(case=case, by=moderator, action="keep", reason="Looks genuine")
    return {"ticket": ticket, "conversation": conversation, "registration": registration, "case": case}


@pytest.mark.parametrize(
    ("persona", "kinds"),
    [
        ("agent", ["tickets", "conversations"]),
        ("reviewer", ["registrations"]),
        ("moderator", ["conversations", "cases"]),
        ("manager", ["tickets", "conversations", "registrations"]),
        ("administrator", ["tickets", "conversations", "registrations", "cases"]),
    ],
)
def test_each_role_searches_exactly_the_kinds_it_may_read_in_every_state(as_, records, persona, kinds):
    response = as_(persona).get(SEARCH, {"q": "dlamini"})
    assert response.status_code == 200
    expected = {
        "tickets": [(records["ticket"].pk, "Solved")],
        "conversations": [(records["conversation"].pk, "Resolved")],
        "registrations": [(records["registration"].pk, "Approved")],
        "cases": [(records["case"].pk, "Decided")],
    }
    assert grouped(response) == {kind: expected[kind] for kind in kinds}
    content = response.content.decode()
    for kind in {"tickets", "conversations", "registrations", "cases"} - set(kinds):
        assert f'data-testid="search-{kind}"' not in content
    # Every hit opens for the person who found it.
    for group in response.context["groups"]:
        for row in group["hits"]:
            assert as_(persona).get(row["url"]).status_code == 200, row["url"]


@pytest.mark.parametrize("persona", ["outsider", "user"])
def test_people_who_read_no_kind_of_record_cannot_search(as_, persona):
    assert as_(persona).get(SEARCH, {"q": "dlamini"}).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(SEARCH, {"q": "x"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_solved_ticket_is_found_by_number_subject_text_email_and_name(as_, records):
    ticket = records["ticket"]
    client = as_("agent")
    for query in (str(ticket.pk), f"#{ticket.pk}", "broken KETTLE", "arrived cracked", "zanele.dlamini@", "Zanele"):
        assert grouped(client.get(SEARCH, {"q": query}))["tickets"] == [(ticket.pk, "Solved")], query


def test_a_conversation_is_found_by_the_text_of_a_message(as_, records):
    response = as_("agent").get(SEARCH, {"q": "courier waybill"})
    assert grouped(response) == {"tickets": [], "conversations": [(records["conversation"].pk, "Resolved")]}


def test_cases_are_found_by_the_content_title_and_registrations_by_phone(as_, records):
    assert grouped(as_("moderator").get(SEARCH, {"q": "copper kettle"}))["cases"] == [(records["case"].pk, "Decided")]
    phone = records["registration"].user.phone
    assert grouped(as_("reviewer").get(SEARCH, {"q": phone}))["registrations"] == [
        (records["registration"].pk, "Approved")
    ]


def test_the_exact_number_comes_first_then_the_newest(as_, agent):
    person = UserFactory(full_name="Pieter Botha")
    wanted = make_ticket(person, subject="Something else")
    older = make_ticket(person, subject=f"Invoice missing, see #{wanted.pk:03d}")
    newer = make_ticket(person, subject=f"Invoice still missing, see #{wanted.pk:03d}")
    response = as_("agent").get(SEARCH, {"q": f"#{wanted.pk:03d}"})
    assert [pk for pk, _ in grouped(response)["tickets"]] == [wanted.pk, newer.pk, older.pk]
    assert [pk for pk, _ in grouped(as_("agent").get(SEARCH, {"q": "invoice"}))["tickets"]] == [newer.pk, older.pk]


def test_a_page_shows_ten_per_kind_and_says_there_are_more(as_):
    person = UserFactory(full_name="Busi Zulu")
    made = [make_ticket(person, subject=f"Payout question {n}") for n in range(12)]
    response = as_("agent").get(SEARCH, {"q": "payout question"})
    [group] = [group for group in response.context["groups"] if group["key"] == "tickets"]
    assert [row["hit"].pk for row in group["hits"]] == [ticket.pk for ticket in reversed(made)][:10]
    assert group["more"] is True
    assert b"Only the first 10 are shown" in response.content


def test_queries_per_search_do_not_grow_with_the_hits(as_, records, django_assert_max_num_queries):
    client = as_("administrator")
    client.get(SEARCH, {"q": "dlamini"})  # the session and permissions, loaded once
    with CaptureQueriesContext(connection) as few:
        client.get(SEARCH, {"q": "dlamini"})
    person = records["ticket"].requester
    for n in range(15):
        make_ticket(person, subject=f"Another kettle {n}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(SEARCH, {"q": "dlamini"})
    assert len(grouped(response)["tickets"]) == 10
    assert len(many) == len(few)
    # The session, the user, their permissions (direct and through roles), the role's name in the top bar, and
    # one query per kind of record.
    with django_assert_max_num_queries(5 + 4):
        client.get(SEARCH, {"q": "dlamini"})


def test_too_short_or_empty_queries_search_nothing_and_say_why(as_, records):
    client = as_("agent")
    empty = client.get(SEARCH)
    assert empty.status_code == 200 and b'data-testid="search-empty"' in empty.content
    assert empty.context["groups"] == []
    short = client.get(SEARCH, {"q": " zu "})
    assert short.status_code == 200 and b"Type at least 3 characters, or a number." in short.content
    assert short.context["groups"] == []


def test_hostile_input_is_refused_or_cut_cleanly(as_, records):
    client = as_("agent")
    assert client.get(SEARCH, {"q": "kettle\x00"}).status_code == 400
    long = client.get(SEARCH, {"q": "kettle " + "x" * 5000})
    assert long.status_code == 200 and len(long.context["search_q"]) == MAX_QUERY
    assert grouped(long) == {"tickets": [], "conversations": []}
    # LIKE's wildcards are letters like any other: they match only themselves.
    assert grouped(client.get(SEARCH, {"q": "%%%"})) == {"tickets": [], "conversations": []}
    assert grouped(client.get(SEARCH, {"q": "___"})) == {"tickets": [], "conversations": []}
    # A number too long for any id is searched as text, not refused.
    assert client.get(SEARCH, {"q": "9" * 40}).status_code == 200
    markup = client.get(SEARCH, {"q": "<script>alert(1)</script>"})
    assert b"<script>alert(1)</script>" not in markup.content


def test_search_terms_read_numbers_and_trim_the_rest():
    assert search_terms("  #1718 ").pk == search_terms("1718").pk == 1718
    assert search_terms("  Zanele   Dlamini ").text == "Zanele Dlamini"
    assert search_terms("9" * 13).pk is None
    assert not search_terms("ab").searches_text and search_terms("abc").searches_text


@pytest.mark.parametrize(
    ("persona", "has_box"),
    [("agent", True), ("reviewer", True), ("moderator", True), ("manager", True), ("outsider", False)],
)
def test_the_top_bar_of_every_staff_page_has_the_search_box(as_, persona, has_box):
    page = as_(persona).get("/dashboard/")
    assert page.status_code == 200
    assert (b'data-testid="topbar-search"' in page.content) is has_box
    if has_box:
        assert b'action="/dashboard/search/"' in page.content


def test_the_search_box_keeps_what_was_typed(as_, records):
    page = as_("agent").get(SEARCH, {"q": "broken kettle"})
    content = page.content.decode()
    assert content.count('value="broken kettle"') == 2  # the top bar and the page's own box
    assert "Tickets and conversations in any state, open or finished" in content


def test_searches_are_served_by_indexes_on_postgresql(records):
    """On PostgreSQL each kind's text match reads trigram indexes (migrations: support 0004, messaging 0004,
    moderation 0005, accounts 0006), not the whole table."""
    if connection.vendor != "postgresql":
        pytest.skip("trigram indexes exist on PostgreSQL only")
    from django.db import transaction

    from accounts.selectors import user_ids_matching
    from messaging.models import Conversation, Message
    from moderation.models import Case
    from support.models import Ticket

    def plan(queryset) -> str:
        with transaction.atomic(), connection.cursor() as cursor:
            # The test tables are tiny: make the planner show the index it would use on a real one.
            cursor.execute("SET LOCAL enable_seqscan = off")
            return queryset.explain()

    assert "user_email_trgm" in plan(user_ids_matching(text="dlamini"))
    assert "support_ticket_subject_trgm" in plan(Ticket.objects.filter(subject__icontains="kettle"))
    assert "support_ticket_body_trgm" in plan(Ticket.objects.filter(body__icontains="kettle"))
    assert "messaging_message_body_trgm" in plan(Message.objects.filter(body__icontains="waybill"))
    assert "messaging_conversation_subject_trgm" in plan(Conversation.objects.filter(subject__icontains="waybill"))
    assert "moderation_case_content_title_trgm" in plan(Case.objects.filter(content_title__icontains="kettle"))


@pytest.mark.parametrize("kind", ["ticket", "conversation", "registration", "case"])
def test_no_search_reads_a_whole_table_on_postgresql(records, kind):
    """The whole search query of each kind, as sent: every branch of its UNION reads an index."""
    if connection.vendor != "postgresql":
        pytest.skip("trigram indexes exist on PostgreSQL only")
    from django.db import transaction

    from accounts.selectors import registration_search
    from messaging.selectors import conversation_search
    from moderation.selectors import case_search
    from support.selectors import ticket_search

    search = {
        "ticket": ticket_search,
        "conversation": conversation_search,
        "registration": registration_search,
        "case": case_search,
    }[kind]
    with CaptureQueriesContext(connection) as queries:
        search(q="dlamini", limit=11)
    [query] = queries.captured_queries
    with transaction.atomic(), connection.cursor() as cursor:
        # The test tables are tiny: without these the planner reads them whole (or whole through the primary
        # key's index, filtering every row), which it would not do on a real one.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {query['sql']}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan" not in plan, plan
    assert "_trgm" in plan, plan
