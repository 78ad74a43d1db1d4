"""The whole API fuzzed from its own OpenAPI schema: whatever a client sends, no server error, and every
response (status, content type, body) is one the schema documents.

Each generated case is sent, against a database holding one object of each kind the API serves, as the caller the
operation is for: a staff operation's as an administrator (every staff endpoint open), any other's as a marketplace
user (an applicant, with a registration of their own). A staff operation refuses a marketplace user before it reads
any input, whatever the input, and the access table (test_access.py) checks that refusal on every one of them; the
operations marketplace users call treat a staff account as one more user of their own things, which a second bearer
would only repeat (sending both took a fifth of the suite's time). One test sends the cases of an operation
(schemathesis' coverage cases, built when the test is collected, and Hypothesis' generated ones).
"""

from __future__ import annotations

import functools
import json
import re

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts import roles
from tests.accounts.helpers import submitted
from tests.factories import UserFactory
from tests.foundation.test_access import FORBIDDEN, TABLE

CHECKS = [content_type_conformance, response_schema_conformance, status_code_conformance]
# Enough to reach each operation's validation and error paths; the suite must stay quick with ~100 operations.
EXAMPLES_PER_OPERATION = 6


@functools.cache
def openapi_document() -> dict:
    """The schema exactly as /api/schema/?format=json serves it (no database needed to build it). Built once: the
    module reads it three times while it is collected, and each build takes seconds."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """As Django's test client does: a request must not close the connection that holds the test's transaction."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture(scope="module")
def tokens(django_db_setup, django_db_blocker):
    """Bearers of each kind, and a registration so that detail endpoints have something to find. Made once for the
    module in a transaction rolled back at its end; each test runs in a savepoint of it."""
    with django_db_blocker.unblock(), transaction.atomic():
        admin = UserFactory(email="fuzz-admin@saypro.example", roles=[roles.ADMINISTRATOR], is_superuser=True)
        applicant = submitted(email="fuzz-applicant@example.com").user
        yield {
            "administrator": Token.objects.create(user=admin).key,
            "marketplace user": Token.objects.create(user=applicant).key,
        }
        transaction.set_rollback(True)


schema = schemathesis.openapi.from_dict(openapi_document())
schema.app = get_wsgi_application()


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
    derandomize=True,
)


@functools.cache
def marketplace_users_refused(path: str, method: str) -> bool:
    """Whether the access table refuses a marketplace user this operation (a 403): a staff operation."""
    view = resolve(re.sub(r"\{[^}]+\}", "1", path)).view_name
    checks = TABLE[view] if isinstance(TABLE[view], tuple) else (TABLE[view],)
    # The table checks one request per URL; the operation's own method where it has a row, else the URL's first.
    check = next((c for c in checks if c.method == method.lower()), checks[0])
    return check.access["user"] == FORBIDDEN


def call_and_check(case, token: str, bearer: str) -> None:
    # Every case reaches the endpoint's input handling: without this, the rate limits of the sign-up, sign-in and
    # reset endpoints answered 429 to most cases of an operation after its first few (564 of 574 sign-ups).
    cache.clear()
    response = case.call(headers={"Authorization": f"Token {token}"})
    assert response.status_code < 500, f"{case.method} {case.formatted_path} as {bearer}: {response.status_code}"
    case.validate_response(response, checks=CHECKS)


@pytest.mark.django_db
@schema.parametrize()
@FUZZ_SETTINGS
def test_no_input_from_an_administrator_or_a_marketplace_user_breaks_the_api_or_its_contract(case, tokens):
    bearer = "administrator" if marketplace_users_refused(case.operation.path, case.method) else "marketplace user"
    call_and_check(case, tokens[bearer], bearer)


# --- Known-hostile input, on top of what the generator finds ------------------------------------------------------
# Values a generator rarely produces but a probe does: every list's cursor and page size, the metrics' periods at
# the calendar's edges, and JSON nested far past any decoder's recursion limit. Each answer must be one the schema
# documents (a 400 in the error shape), from both kinds of bearer.

HOSTILE_PAGING = [
    {"cursor": "cD1hYmM="},  # p=abc
    {"cursor": "cD0lMDA="},  # p=%00
    {"cursor": "9" * 5000},
    {"page_size": "-1"},
    {"page_size": "0"},
    {"page_size": "lots"},
    {"page_size": "201"},
]
HOSTILE_PERIODS = [
    {"period": "week", "day": "9999-12-31"},
    {"period": "month", "day": "0001-01-01"},
    {"period": "week", "day": "0001-01-03"},
    {"period": "custom", "start": "0001-01-01", "end": "0001-01-03"},
    {"period": "custom", "start": "9999-12-01", "end": "9999-12-31"},
]
DEEP_JSON = "[" * 50_000 + "]" * 50_000


def _operations_with(parameter: str) -> list[str]:
    return sorted(
        path
        for path, operations in openapi_document()["paths"].items()
        if any(p["name"] == parameter for p in operations.get("get", {}).get("parameters", []))
    )


def _call_hostile(path: str, method: str, tokens: dict, **kwargs) -> None:
    operation = schema[path][method]
    if "{id}" in path:  # a user's timeline: the administrator's own
        kwargs["path_parameters"] = {"id": Token.objects.get(key=tokens["administrator"]).user_id}
    for token in tokens.values():
        case = operation.Case(**kwargs)
        response = case.call(headers={"Authorization": f"Token {token}"})
        assert response.status_code < 500, f"{method} {path} {kwargs.get('query', '')}: {response.status_code}"
        case.validate_response(response, checks=CHECKS)


@pytest.mark.django_db
@pytest.mark.parametrize("path", _operations_with("page_size"))
def test_hostile_cursors_and_page_sizes_get_a_documented_400(path, tokens):
    for query in HOSTILE_PAGING:
        _call_hostile(path, "GET", tokens, query=query)


@pytest.mark.django_db
@pytest.mark.parametrize("path", _operations_with("day"))
def test_periods_at_the_calendars_edges_get_a_documented_400(path, tokens):
    for query in HOSTILE_PERIODS:
        _call_hostile(path, "GET", tokens, query=query)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/support/guidance/", "/api/v1/registrations/"])
def test_deeply_nested_json_gets_a_documented_400(path, tokens):
    _call_hostile(path, "POST", tokens, body=DEEP_JSON.encode(), media_type="application/json")
