"""Keyset pages over any ordering of fields and annotations: walking them visits every row once, in order, whatever
the mix of directions, ties and NULLs; a cursor cannot be forged or reused under another order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import BooleanField, Case, F, Q, Value, When
from django.http import QueryDict
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from accounts.models import User
from saypro.api import KeysetPagination
from saypro.paginators import KeysetPage
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def users():
    """Nine users whose last sign-in is NULL, tied or distinct, with a computed flag on top."""
    now = timezone.now()
    logins = [None, now, now, None, now - timedelta(hours=1), now + timedelta(hours=1), None, now, now]
    for n, login in enumerate(logins):
        UserFactory(last_login=login, is_staff=n % 3 == 0)


def annotated():
    signed_in = When(Q(last_login__isnull=False), then=Value(True))
    return User.objects.annotate(recent=Case(signed_in, default=Value(False), output_field=BooleanField()))


ORDERINGS = {
    "nulls last": (F("last_login").asc(nulls_last=True), "pk"),
    "nulls first, descending": (F("last_login").desc(nulls_first=True), "-pk"),
    "the database's own NULL placement": ("last_login", "pk"),
    "descending, the database's own NULL placement": ("-last_login", "is_staff"),
    "a computed flag first": (F("recent").desc(), "-is_staff", F("last_login").asc(nulls_last=True)),
    "no unique key given": ("-is_staff",),
}


def page(queryset, cursor: str | None, size: int):
    query = {"page_size": size} | ({"cursor": cursor} if cursor else {})
    request = Request(APIRequestFactory().get("/list/", query))
    paginator = KeysetPagination()
    rows = paginator.paginate_queryset(queryset, request)
    link = paginator.get_next_link()
    return rows, (Request(APIRequestFactory().get(link)).query_params["cursor"] if link else None)


@pytest.mark.parametrize("ordering", ORDERINGS.values(), ids=ORDERINGS.keys())
@pytest.mark.parametrize("size", [1, 2, 4])
def test_walking_the_pages_visits_every_row_once_in_order(users, ordering, size):
    queryset = annotated().order_by(*ordering)
    expected = list(queryset.order_by(*ordering, "pk").values_list("pk", flat=True))
    seen, cursor = [], None
    for _ in range(len(expected) + 1):
        rows, cursor = page(queryset, cursor, size)
        seen += [row.pk for row in rows]
        if cursor is None:
            break
    assert seen == expected


def test_a_row_that_leaves_between_two_pages_shifts_nothing(users):
    queryset = annotated().order_by(F("last_login").asc(nulls_last=True), "pk")
    expected = list(queryset.values_list("pk", flat=True))
    first, cursor = page(queryset, None, 3)
    first[0].delete()
    second, _ = page(queryset, cursor, 3)
    assert [row.pk for row in second] == expected[3:6]


def test_a_forged_or_garbled_cursor_is_refused(users):
    queryset = annotated().order_by("-is_staff", "pk")
    _, cursor = page(queryset, None, 2)
    for bad in (cursor[:-2] + "xx", "not-a-cursor", cursor + "a"):
        with pytest.raises(exceptions.ValidationError) as refused:
            page(queryset, bad, 2)
        assert refused.value.detail == {"cursor": ["Invalid cursor."]}


def test_a_cursor_from_another_sort_order_is_refused(users):
    _, cursor = page(annotated().order_by("-is_staff", "pk"), None, 2)
    with pytest.raises(exceptions.ValidationError) as refused:
        page(annotated().order_by("is_staff", "pk"), cursor, 2)
    assert list(refused.value.detail) == ["cursor"]


def test_a_page_size_beyond_the_bounds_is_refused_and_none_means_the_default(users):
    UserFactory.create_batch(KeysetPagination.page_size - 9 + 1)
    queryset = annotated().order_by("pk")
    assert len(page(queryset, None, KeysetPagination.max_page_size)[0]) == User.objects.count()
    for size in (KeysetPagination.max_page_size + 1, 0, -1, "lots"):
        with pytest.raises(exceptions.ValidationError) as refused:
            KeysetPagination().paginate_queryset(queryset, Request(APIRequestFactory().get("/", {"page_size": size})))
        assert list(refused.value.detail) == ["page_size"]
    request = Request(APIRequestFactory().get("/list/"))
    assert len(KeysetPagination().paginate_queryset(queryset, request)) == KeysetPagination.page_size


# --- The queue pages: the same positions, both ways, as links that keep the list's filters ----------------------


def queue_page(queryset, url: str = "?", size: int = 2) -> KeysetPage:
    return KeysetPage(queryset, QueryDict(url.lstrip("?")), size)


@pytest.mark.parametrize("ordering", ORDERINGS.values(), ids=ORDERINGS.keys())
@pytest.mark.parametrize("size", [1, 2, 4])
def test_queue_pages_walk_forward_to_the_end_and_back_to_the_start(users, ordering, size):
    queryset = annotated().order_by(*ordering)
    expected = list(queryset.order_by(*ordering, "pk").values_list("pk", flat=True))
    current = queue_page(queryset, size=size)
    assert not current.has_previous and current.start_index() == 1
    pages = [[row.pk for row in current.object_list]]
    while current.has_next:
        current = queue_page(queryset, current.next_url, size)
        pages.append([row.pk for row in current.object_list])
        assert expected[current.start_index() - 1 : current.end_index()] == pages[-1]
    assert [pk for rows in pages for pk in rows] == expected and not current.next_url
    back = []
    while current.has_previous:
        current = queue_page(queryset, current.previous_url, size)
        back.insert(0, [row.pk for row in current.object_list])
    assert back == pages[:-1] and current.start_index() == 1 and not current.previous_url


def test_a_row_added_ahead_of_a_queue_page_shifts_nothing_on_the_next(users):
    queryset = User.objects.order_by(F("last_login").asc(nulls_last=True), "pk")
    expected = list(queryset.values_list("pk", flat=True))
    first = queue_page(queryset, size=3)
    UserFactory(last_login=timezone.now() - timedelta(days=30))  # sorts first, ahead of every page
    second = queue_page(queryset, first.next_url, 3)
    assert [row.pk for row in second.object_list] == expected[3:6]


def test_queue_page_links_keep_the_filters_and_drop_old_positions(users):
    queryset = User.objects.order_by("pk")
    current = queue_page(queryset, "?q=ada&status=open&page=4", 2)
    assert [row.pk for row in current.object_list] == list(queryset.values_list("pk", flat=True))[:2]
    query = QueryDict(current.next_url.lstrip("?"))
    assert query["q"] == "ada" and query["status"] == "open" and "page" not in query and query["after"]
    following = queue_page(queryset, current.next_url, 2)
    assert QueryDict(following.previous_url.lstrip("?"))["q"] == "ada"
    assert following.first_url == "?q=ada&status=open"


def test_a_garbled_or_foreign_queue_page_link_shows_the_first_page_and_says_so(users):
    queryset = User.objects.order_by("pk")
    first_rows = list(queryset.values_list("pk", flat=True))[:2]
    link = queue_page(queryset).next_url
    token = QueryDict(link.lstrip("?"))["after"]
    for url in (f"?after={token[:-2]}xx", "?after=nonsense", "?before=%00", link):
        other_order = url == link
        current = queue_page(User.objects.order_by("-pk") if other_order else queryset, url)
        assert current.notice and current.start_index() == 1
        expected = list(User.objects.order_by("-pk").values_list("pk", flat=True))[:2] if other_order else first_rows
        assert [row.pk for row in current.object_list] == expected
