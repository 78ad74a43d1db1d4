"""The agent inbox as rendered: the messaging tiles, the "by category" view, and who has read what."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import roles
from messaging import services
from messaging.models import Category, Status
from tests.factories import PASSWORD, UserFactory
from tests.messaging.conftest import start

pytestmark = pytest.mark.django_db

LOCAL = ZoneInfo("Africa/Johannesburg")


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in March 2026, Johannesburg time (Monday 2 March starts the week of the tiles)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=LOCAL)


def signed_in(client, user):
    client.login(email=user.email, password=PASSWORD)
    return client


def tile(page, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}">([^<]*)<', page.content.decode())
    assert match, f"no {testid} on the page"
    return match.group(1).strip()


def tile_block(page, testid: str) -> str:
    """The tile that holds `testid`, as HTML: its class and its note."""
    html = page.content.decode()
    position = html.index(f'data-testid="{testid}"')
    begin = max(html.rfind('<div class="tile', 0, position), html.rfind('<a class="tile', 0, position))
    end = html.index("</div>", html.index('class="note"', position)) + len("</div>")
    return html[begin:end]


def test_the_tiles_show_this_weeks_first_response_compliance_and_the_backlog(client, agent, settings):
    settings.TIME_ZONE = "Africa/Johannesburg"

    def arrives(moment, subject):
        with time_machine.travel(moment, tick=False):
            return start(UserFactory(), subject=subject)

    def answered(moment, conversation, then):
        with time_machine.travel(moment, tick=False):
            services.reply_send(conversation=conversation, by=agent, body="Thanks, noted.", then=then)

    # Last week, answered in time: its first-response deadline (Sat 28 Feb) falls before this week.
    answered(local(1, 10) - timedelta(days=2), arrives(local(1, 9) - timedelta(days=2), "F"), "resolved")
    # A: answered in an hour and resolved. Due Tue 09:00: met.
    answered(local(2, 10), arrives(local(2, 9), "A"), "resolved")
    # B: Sunday morning, never answered. Due Mon 08:00, still running: breached, unassigned.
    arrives(local(1, 8), "B")
    # G: answered 26 hours later (due Tue 01:00): late. Kept open; its 48-hour resolution (Wed 01:00) passed too.
    answered(local(3, 3), arrives(local(2, 1), "G"), "open")
    # H: answered in an hour (due Tue 12:00: met), now waiting on the user.
    answered(local(2, 13), arrives(local(2, 12), "H"), "waiting")
    # C: answered after 14 hours (due Wed 06:00: met), now waiting on the user.
    answered(local(3, 20), arrives(local(3, 6), "C"), "waiting")
    # D: 20 hours without an answer at noon on Wednesday: past 75 % of 24 h, at risk, due only at 16:00.
    arrives(local(3, 16), "D")
    # E: an hour old.
    arrives(local(4, 11), "E")

    signed_in(client, agent)
    with time_machine.travel(local(4, 12), tick=False):
        page = client.get(reverse("messaging:home"))
    assert page.status_code == 200
    # Deadlines this week: A, H and C met; B (still unanswered) and G (answered late) missed: 3 of 5.
    assert tile(page, "tile-first-response") == "60.0 %"
    first_response = tile_block(page, "tile-first-response")
    assert "3 of 5" in first_response and 'class="tile bad"' in first_response
    # Unresolved: B, G, H, C, D, E. Waiting on the user: H and C. Unassigned: B, D, E (replies took the others).
    assert tile(page, "tile-backlog") == "6"
    assert "2 waiting on the user · 3 unassigned" in tile_block(page, "tile-backlog")
    assert tile(page, "tile-at-risk") == "1"  # D
    assert tile(page, "tile-breached") == "2"  # B and G
    assert 'class="tile warn"' in tile_block(page, "tile-at-risk")
    assert 'class="tile bad"' in tile_block(page, "tile-breached")


def test_a_week_without_a_deadline_shows_a_dash_and_an_empty_backlog(client, agent):
    signed_in(client, agent)
    page = client.get(reverse("messaging:home"))
    assert tile(page, "tile-first-response") == "—"
    assert "no deadline reached yet" in tile_block(page, "tile-first-response")
    assert (tile(page, "tile-backlog"), tile(page, "tile-at-risk"), tile(page, "tile-breached")) == ("0", "0", "0")


def test_the_tiles_are_shared_for_a_refresh_interval_and_say_since_when(client, agent, settings):
    from saypro.shared import REFRESH_SECONDS

    settings.TIME_ZONE = "Africa/Johannesburg"
    signed_in(client, agent)
    first = local(4, 12)

    def as_of(page) -> str:
        match = re.search(
            r'data-testid="message-tiles-as-of">Figures and view counts as of <time datetime="([^"]+)">([^<]+)<',
            page.content.decode(),
        )
        assert match, "no as-of time on the page"
        return f"{match.group(1)} {match.group(2)}"

    def count(page, view: str) -> int:
        return next(int(n) for key, _, n in page.context["views"] if key == view)

    with time_machine.travel(first, tick=False):
        page = client.get(reverse("messaging:home"))
    assert tile(page, "tile-backlog") == "0"
    assert as_of(page) == "2026-03-04T12:00:00+02:00 12:00:00"
    within = first + timedelta(seconds=REFRESH_SECONDS - 1)
    with time_machine.travel(within, tick=False):
        mine = start(UserFactory(), subject="Arrived since")
        services.conversation_claim(conversation=mine, by=agent)
        page = client.get(reverse("messaging:home"))
    # The shared tiles and view counts are those computed at 12:00:00, and say so; "Mine" and the rows are read now.
    assert tile(page, "tile-backlog") == "0"
    assert as_of(page) == "2026-03-04T12:00:00+02:00 12:00:00"
    assert (count(page, "all"), count(page, "mine")) == (0, 1)
    assert [row.pk for row in page.context["page"].object_list] == [mine.pk]
    # Another member of staff is served the same tiles.
    other = signed_in(type(client)(), UserFactory(roles=[roles.SUPPORT_AGENT]))
    with time_machine.travel(within, tick=False):
        assert tile(other.get(reverse("messaging:home")), "tile-backlog") == "0"
    # Once the interval has passed, the next request computes them again.
    later = first + timedelta(seconds=REFRESH_SECONDS)
    with time_machine.travel(later, tick=False):
        page = client.get(reverse("messaging:home"))
    assert tile(page, "tile-backlog") == "1"
    assert as_of(page) == "2026-03-04T12:00:30+02:00 12:00:30"
    assert (count(page, "all"), count(page, "mine")) == (1, 1)


def test_the_inbox_lists_conversations_by_category_and_those_still_without_one(client, user, agent):
    complaint = start(user, body="I want to file a complaint about the seller", subject="Complaint")
    general = start(UserFactory(), body="Hello, how do I change the photos of my ad?", subject="General")
    services.conversation_categorise(conversation=general, by=agent, category=Category.GENERAL)
    uncategorised = start(UserFactory(), body="Hello there", subject="Nothing yet")
    resolved = start(UserFactory(), body="Another complaint: unacceptable delays", subject="Old complaint")
    services.conversation_resolve(conversation=resolved, by=agent)
    assert (complaint.category, uncategorised.category, resolved.category) == (Category.COMPLAINT, "", "complaint")
    signed_in(client, agent)

    def listed(**query):
        page = client.get(reverse("messaging:home"), query)
        assert page.status_code == 200
        return {row.pk for row in page.context["page"].object_list}

    assert listed(category="complaint") == {complaint.pk}
    assert listed(category="general") == {general.pk}
    assert listed(category="none") == {uncategorised.pk}
    assert listed(category="policy") == set()
    # With the resolved view, the category filter applies to resolved conversations.
    assert listed(category="complaint", view="resolved") == {resolved.pk}
    # An unknown category is ignored rather than an error: every open conversation.
    assert listed(category="bogus") == {complaint.pk, general.pk, uncategorised.pk}
    page = client.get(reverse("messaging:home"), {"category": "none"})
    assert b"Nothing yet" in page.content and b"Needs a category" in page.content
    assert b"General" not in page.content.split(b'data-testid="inbox"')[1]
    # The live fragment keeps the filter.
    fragment = client.get(reverse("messaging:inbox-rows"), {"category": "complaint"})
    assert [row.pk for row in fragment.context["page"].object_list] == [complaint.pk]


def test_unread_turns_on_for_the_user_after_a_reply_and_off_once_they_read_it(client, user, agent):
    api = APIClient()
    api.force_authenticate(user)

    def unread_for_user(conversation) -> bool:
        [row] = [row for row in api.get("/api/v1/conversations/").json()["results"] if row["id"] == conversation.pk]
        return row["unread"]

    with time_machine.travel(local(2, 9), tick=False):
        conversation = start(user)
    # The acknowledgement is automatic: nothing new from a person.
    assert unread_for_user(conversation) is False
    with time_machine.travel(local(2, 10), tick=False):
        services.reply_send(conversation=conversation, by=agent, body="Tap Edit, then Photos.")
    assert unread_for_user(conversation) is True
    signed_in(client, user)
    listing = client.get(reverse("messages:list"))
    assert b"new answer" in listing.content
    with time_machine.travel(local(2, 11), tick=False):
        assert client.get(reverse("messages:conversation", args=[conversation.pk])).status_code == 200
    assert unread_for_user(conversation) is False
    assert b"new answer" not in client.get(reverse("messages:list")).content
    # An internal note is not an answer the user can read.
    with time_machine.travel(local(2, 12), tick=False):
        services.note_add(conversation=conversation, by=agent, body="Check the seller")
    assert unread_for_user(conversation) is False
    # The API marks it read as well.
    with time_machine.travel(local(2, 13), tick=False):
        services.reply_send(conversation=conversation, by=agent, body="Anything else?")
    assert unread_for_user(conversation) is True
    with time_machine.travel(local(2, 14), tick=False):
        assert api.post(f"/api/v1/conversations/{conversation.pk}/read/").status_code == 204
    assert unread_for_user(conversation) is False


def test_unread_turns_on_for_the_team_after_a_user_message_and_off_once_someone_opens_the_thread(client, user, agent):
    signed_in(client, agent)

    def unread_for_team(conversation) -> bool:
        page = client.get(reverse("messaging:home"))
        [row] = [row for row in page.context["page"].object_list if row.pk == conversation.pk]
        marked = f'is-unread" data-conversation="{conversation.pk}"'.encode() in page.content
        assert marked == row.unread
        return row.unread

    with time_machine.travel(local(2, 9), tick=False):
        conversation = start(user)
    assert unread_for_team(conversation) is True
    with time_machine.travel(local(2, 10), tick=False):
        assert client.get(reverse("messaging:thread", args=[conversation.pk])).status_code == 200
    assert unread_for_team(conversation) is False
    with time_machine.travel(local(2, 11), tick=False):
        services.message_send(conversation=conversation, user=user, body="One more thing")
    assert unread_for_team(conversation) is True
    # The open thread's live fragment counts as reading it.
    with time_machine.travel(local(2, 12), tick=False):
        client.get(reverse("messaging:thread-messages", args=[conversation.pk]))
    assert unread_for_team(conversation) is False
    # A reply is the team's own message: nothing unread for the team after it.
    with time_machine.travel(local(2, 13), tick=False):
        services.message_send(conversation=conversation, user=user, body="Hello?")
        services.reply_send(conversation=conversation, by=agent, body="Here", then="open")
    assert unread_for_team(conversation) is False
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN


def test_each_inbox_row_previews_the_last_public_message_and_says_when_it_was_the_teams(client, user, agent):
    signed_in(client, agent)
    with time_machine.travel(local(2, 9), tick=False):
        conversation = start(user, body="Where did my ad go?")
    assert b"Where did my ad go?" in client.get(reverse("messaging:home")).content
    with time_machine.travel(local(2, 10), tick=False):
        services.note_add(conversation=conversation, by=agent, body="Internal: check the listing")
        services.reply_send(conversation=conversation, by=agent, body="It is back online.", then="open")
    page = client.get(reverse("messaging:home")).content.decode()
    assert "You: It is back online." in page and "Internal: check the listing" not in page
