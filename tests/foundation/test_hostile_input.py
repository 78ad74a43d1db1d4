"""Every page and endpoint of the project, as each persona it serves, with hostile input: never a server error.

The walk reads its rows from the access table (itself checked against the resolver, so a new URL is walked as
soon as it has its row) and sends each URL a few hostile variants, one request each per persona: NUL bytes (which
PostgreSQL refuses in text), dates at both ends of the calendar, numbers no column holds, nested brackets in
parameter names, and very long values. Each parameter name the project's forms, filters and serializers declare
is set, so every view meets hostile values in the parameters it reads. GETs carry them in the query string;
POSTs in the body too (form-encoded for pages, JSON for the API).

Each request runs in a savepoint of its own, so a database error in one (PostgreSQL aborts the transaction)
neither hides nor causes the next one's outcome; the client renders a server error as the 500 page instead of
raising it, so that every failing request of a URL is reported at once with its exception.
"""

from __future__ import annotations

import base64
import traceback
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import django_filters
import pytest
from django import forms
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import get_resolver, include, path
from rest_framework import serializers

from tests.foundation.access_world import PERSONAS, World, signed_in_client
from tests.foundation.test_access import ALLOWED, REDIRECTED, TABLE, Check, _path, world  # noqa: F401  (fixture)

APPS = ("accounts", "messaging", "support", "moderation", "marketplace", "reports", "saypro")

LONG = 1000  # characters: longer than any length-limited column


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _declared_fields() -> dict[str, Any]:
    """Parameter name -> one field that declares it, over every form, filter set and serializer of the project
    (the URL configuration imported them all)."""
    found: dict[str, Any] = {}
    for cls in [*_subclasses(forms.BaseForm), *_subclasses(serializers.Serializer)]:
        if cls.__module__.split(".")[0] in APPS:
            for name, declared in getattr(cls, "base_fields", getattr(cls, "_declared_fields", {})).items():
                found.setdefault(name, declared)
    for cls in _subclasses(django_filters.FilterSet):
        if cls.__module__.split(".")[0] in APPS:
            for name, declared in cls.base_filters.items():
                found.setdefault(name, declared.field_class)
    return found


DATE_TYPES = (forms.DateField, forms.DateTimeField, serializers.DateField, serializers.DateTimeField)
NUMBER_TYPES = (forms.IntegerField, forms.DecimalField, serializers.IntegerField, serializers.DecimalField)


def _kind(declared: Any) -> str:
    kind = declared if isinstance(declared, type) else type(declared)
    if issubclass(kind, DATE_TYPES):
        return "date"
    if issubclass(kind, NUMBER_TYPES):
        return "number"
    return "text"


# Parameters views read by hand (not through a declared field), and the pagination's own.
READ_BY_HAND = {
    "page": "number",
    "page_size": "number",
    "days": "number",
    "cursor": "text",
    "q": "text",
    "campaign": "text",
    "period": "text",
    "view": "text",
    "state": "text",
    "status": "text",
    "next": "text",
    "canned": "text",
    "email": "text",
    "confirm": "text",
    "format": "text",
    "ordering": "text",
    "start": "date",
    "end": "date",
    "day": "date",
}


def _parameters() -> dict[str, str]:
    # Importing the URL configuration imports every view module and, with them, their forms and serializers.
    get_resolver().url_patterns  # noqa: B018
    kinds = {name: _kind(declared) for name, declared in _declared_fields().items()}
    return {**kinds, **READ_BY_HAND}


def _cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


BRACKETS = {"a[b][c]": "1", "q[]": "x", "filter[status][in][]": "open", "[": "]"}

# One variant = one value per kind of parameter, and parameters of its own. A form refuses a bad field before
# the view reads the next parameter, so the pagination's parameters also get a variant without any others.
VARIANTS: dict[str, dict[str, Any]] = {
    "NUL bytes": {
        "date": "2026-01-01\x00",
        "number": "1\x00",
        "text": "a\x00b",
        "extra": {**BRACKETS, "period": "week", "a[\x00]": "\x00", "cursor": _cursor("p=%00")},
    },
    "far future, huge numbers, long text": {
        "date": "9999-12-31",
        "number": "9" * 40,
        "text": "x" * LONG,
        "extra": {**BRACKETS, "period": "custom", "start": "9999-12-01", "end": "9999-12-31", "cursor": "9" * LONG},
    },
    "far past, negative numbers, brackets": {
        "date": "0001-01-01",
        "number": "-" + "9" * 30,
        "text": "[[]]{{}}",
        "extra": {**BRACKETS, "period": "week", "day": "0001-01-03", "page_size": "0"},
    },
    "pagination only": {
        "extra": {"cursor": _cursor("p=abc"), "page_size": "-1", "page": "-1"},
    },
}
# Personas of one role behave alike; the other marketplace user and the staff member without a role are walked
# only where they are all a URL serves.
ROLES = ("anonymous", "user", "reviewer", "agent", "moderator", "manager", "administrator")


def _values(variant: dict[str, Any], parameters: dict[str, str]) -> dict[str, str]:
    values = {name: variant[kind] for name, kind in parameters.items() if kind in variant}
    values.update(variant["extra"])
    return values


def _personas(check: Check) -> list[str]:
    """The roles the URL serves (refused ones stop at the role check, before any input is read), or an anonymous
    visitor where it serves none of them."""
    served = [p for p in ROLES if check.access[p] in (ALLOWED, REDIRECTED)]
    return served or [p for p in PERSONAS if check.access[p] in (ALLOWED, REDIRECTED)][:1] or ["anonymous"]


def _requests(check: Check) -> list[tuple[str, str]]:
    """(persona, variant) pairs: every variant and every persona at least once, one request each."""
    personas, variants = _personas(check), list(VARIANTS)
    count = max(len(personas), len(variants))
    return [(personas[i % len(personas)], variants[i % len(variants)]) for i in range(count)]


def _cells() -> Iterator[Any]:
    for name, checks in TABLE.items():
        checks = checks if isinstance(checks, tuple) else (checks,)
        for check in checks:
            label = f"{name}[{check.label}]" if len(checks) > 1 else name
            yield pytest.param(name, check, id=label)


def _request(client: Client, check: Check, path: str, api: bool, values: dict[str, str], headers: dict) -> Any:
    if check.method == "get":
        return client.get(path, values, headers=headers)
    url = f"{path}?{urlencode(values)}"
    if api:
        return client.post(url, values, content_type="application/json", headers=headers)
    return client.post(url, values, headers=headers)


def _server_error(client: Client, check: Check, path: str, values: dict[str, str], headers: dict) -> str | None:
    """What went wrong, if the request made a server error; in a savepoint of its own either way."""
    savepoint = transaction.savepoint()
    response = _request(client, check, path, path.startswith("/api/"), values, headers)
    transaction.savepoint_rollback(savepoint)
    if response.status_code < 500:
        return None
    cause = "".join(traceback.format_exception_only(*response.exc_info[:2])) if response.exc_info else ""
    return f"{response.status_code} {cause}"


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "check"), list(_cells()))
def test_no_hostile_input_makes_a_server_error(name: str, check: Check, world: World) -> None:  # noqa: F811
    path = _path(name, check, world)
    parameters = _parameters()
    failures = []
    for persona, variant in _requests(check):
        api = path.startswith("/api/")
        if persona == "anonymous" or api:
            client = Client(raise_request_exception=False)
        else:
            client = signed_in_client(world, persona, raise_request_exception=False)
        headers: dict[str, str] = {}
        if persona != "anonymous" and api:
            headers["Authorization"] = f"Token {world.tokens[persona]}"
        error = _server_error(client, check, path, _values(VARIANTS[variant], parameters), headers)
        if error:
            failures.append(f"{check.method.upper()} {path} as {persona}, {variant}: {error}")
    assert not failures, "\n".join(failures)


# --- The walk's own check: a server error is reported, not swallowed --------------------------------------------


def _breaks(request: HttpRequest) -> HttpResponse:
    return HttpResponse(str(int(request.GET["n"])))


# The project's URLs too: the error pages link to them.
urlpatterns = [path("breaks/", _breaks), path("api/v1/breaks/", _breaks), path("", include("saypro.urls"))]
handler500 = "saypro.error_pages.server_error"


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_the_walk_reports_a_server_error_rather_than_raising_or_passing() -> None:
    client = Client(raise_request_exception=False)
    for url in ("/breaks/", "/api/v1/breaks/"):
        assert _server_error(client, Check({}), url, {"n": "1"}, {}) is None
        error = _server_error(client, Check({}), url, {"n": "x"}, {})
        assert error is not None and error.startswith("500 ValueError"), error
