"""The whole API fuzzed from its own OpenAPI schema: whatever a client sends, no server error, and every
response (status, content type, body) is one the schema documents.

Each operation is called as an administrator (every staff endpoint open) and as a marketplace user (their own
endpoints open, staff ones refused), against a database holding one object of each kind the API serves.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
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

CHECKS = [content_type_conformance, response_schema_conformance, status_code_conformance]
# Enough to reach each operation's validation and error paths; the suite must stay quick with ~100 operations.
EXAMPLES_PER_OPERATION = 6


def openapi_document() -> dict:
    """The schema exactly as /api/schema/?format=json serves it (no database needed to build it)."""
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


@pytest.fixture
def tokens(db):
    """Bearers of each kind, and a registration so that detail endpoints have something to find."""
    admin = UserFactory(email="fuzz-admin@saypro.example", roles=[roles.ADMINISTRATOR], is_superuser=True)
    applicant = submitted(email="fuzz-applicant@example.com").user
    return {
        "administrator": Token.objects.create(user=admin).key,
        "marketplace user": Token.objects.create(user=applicant).key,
    }


schema = schemathesis.openapi.from_dict(openapi_document())
schema.app = get_wsgi_application()


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
    derandomize=True,
)


def call_and_check(case, token: str) -> None:
    response = case.call(headers={"Authorization": f"Token {token}"})
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code}"
    case.validate_response(response, checks=CHECKS)


@pytest.mark.django_db
@schema.parametrize()
@FUZZ_SETTINGS
def test_no_input_from_an_administrator_breaks_the_api_or_its_contract(case, tokens):
    call_and_check(case, tokens["administrator"])


@pytest.mark.django_db
@schema.parametrize()
@FUZZ_SETTINGS
def test_no_input_from_a_marketplace_user_breaks_the_api_or_its_contract(case, tokens):
    call_and_check(case, tokens["marketplace user"])
