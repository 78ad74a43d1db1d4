"""The API's shared plumbing: one error shape, 401 for missing credentials, an OpenAPI schema and offline docs."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from saypro.api_schema import SchemaView

pytestmark = pytest.mark.urls("tests.foundation.probe_api")


def assert_error_shape(body: dict, code: str) -> dict:
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    return error


@pytest.fixture
def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_request_without_credentials_gets_401_with_the_error_shape(db):
    response = APIClient().get("/probe/1/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert_error_shape(response.json(), "not_authenticated")


def test_request_with_an_unknown_token_gets_401_with_the_error_shape(db):
    response = APIClient().get("/probe/1/", HTTP_AUTHORIZATION="Token not-a-real-token")

    assert response.status_code == 401
    assert_error_shape(response.json(), "authentication_failed")


def test_a_valid_token_authenticates(user):
    token = Token.objects.create(user=user)

    response = APIClient().get(f"/probe/{user.pk}/", HTTP_AUTHORIZATION=f"Token {token.key}")

    assert response.status_code == 200
    assert response.json() == {"email": user.email}


def test_missing_object_gets_404_with_the_error_shape(api):
    response = api.get("/probe/999999/")

    assert response.status_code == 404
    assert_error_shape(response.json(), "not_found")


@pytest.mark.urls("saypro.urls")
def test_an_api_path_no_view_answers_gets_404_with_the_error_shape(client, db):
    response = client.get("/api/v1/no/such/endpoint/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert_error_shape(response.json(), "not_found")
    assert "text/html" in client.get("/no/such/page/")["Content-Type"]


@pytest.mark.urls("saypro.urls")
def test_every_operation_documents_the_error_shape(client, db):
    schema = client.get("/api/schema/?format=json").json()
    assert "Error" in schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status in ("400", "401", "403", "404"):
                assert status in operation["responses"], f"{method.upper()} {path} does not document {status}"


@pytest.mark.urls("saypro.urls")
def test_a_body_the_operation_cannot_read_is_a_documented_error(client, db):
    """A body of a type the operation does not read is a 415, a multipart body without its boundary a 400, both
    in the error shape; every operation that takes a body says it may answer 415."""
    path = "/api/v1/account/email/confirm/"
    response = client.post(path, b"token,abc", content_type="text/csv")
    assert response.status_code == 415
    assert_error_shape(response.json(), "unsupported_media_type")
    response = client.post(path, b"token=abc", content_type="multipart/form-data")
    assert response.status_code == 400
    assert_error_shape(response.json(), "bad_request")

    schema = client.get("/api/schema/?format=json").json()
    for api_path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method in ("post", "put", "patch"):
                assert "415" in operation["responses"], f"{method.upper()} {api_path} does not document 415"


@pytest.mark.urls("saypro.urls")
def test_the_schema_is_generated_once_and_served_in_either_format_from_that_copy(client, db, monkeypatch):
    SchemaView._generated.clear()
    generated = []
    generate = SchemaGenerator.get_schema

    def counted(self, *args, **kwargs):
        generated.append(self)
        return generate(self, *args, **kwargs)

    monkeypatch.setattr(SchemaGenerator, "get_schema", counted)
    first = client.get("/api/schema/?format=json").json()
    assert client.get("/api/schema/?format=json").json() == first
    yaml = client.get("/api/schema/")
    assert yaml["Content-Type"].startswith("application/vnd.oai.openapi") and b"openapi: 3" in yaml.content
    assert len(generated) == 1


@pytest.mark.urls("saypro.urls")
def test_the_documentation_groups_every_operation_under_one_described_area(client, db):
    schema = client.get("/api/schema/?format=json").json()
    areas = {tag["name"]: tag["description"] for tag in schema["tags"]}
    assert len(areas) >= 10 and all(areas.values())
    used = set()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert len(operation["tags"]) == 1 and operation["tags"][0] in areas, f"{method.upper()} {path}"
            used.add(operation["tags"][0])
    assert used == set(areas)
    assert schema["paths"]["/api/v1/staff/registrations/"]["get"]["tags"] == ["Staff: registrations"]
    assert schema["paths"]["/api/v1/registrations/"]["post"]["tags"] == ["Registration"]
    for area in ("registrations", "tickets", "flagged content", "reports"):
        assert area in schema["info"]["description"]


def test_invalid_input_gets_400_with_messages_per_field(api):
    response = api.post("/probe/1/", {"email": "not-an-address", "count": 0}, format="json")

    assert response.status_code == 400
    error = assert_error_shape(response.json(), "invalid")
    assert set(error["fields"]) == {"email", "count"}
    assert all(isinstance(message, str) for messages in error["fields"].values() for message in messages)


@pytest.mark.urls("saypro.urls")
def test_a_queue_list_refuses_a_garbled_cursor_with_the_error_shape(reviewer):
    client = APIClient()
    client.force_authenticate(reviewer)
    assert client.get("/api/v1/staff/registrations/?page_size=10").status_code == 200
    for cursor in ("garbage", "e30:1abcde:forged", "9" * 400):
        response = client.get("/api/v1/staff/registrations/", {"cursor": cursor})
        assert response.status_code == 400
        assert list(assert_error_shape(response.json(), "invalid")["fields"]) == ["cursor"]


def test_forbidden_transition_gets_409_with_the_error_shape(api):
    response = api.delete("/probe/1/")

    assert response.status_code == 409
    error = assert_error_shape(response.json(), "forbidden_transition")
    assert error["message"] == "This user cannot be deleted while a review is open."


@pytest.mark.urls("saypro.urls")
def test_openapi_schema_is_served_and_valid(client, db):
    response = client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "SayPro Ops API"


@pytest.mark.urls("saypro.urls")
def test_api_docs_render_with_assets_served_by_the_app_itself(client, db):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"cdn|unpkg|jsdelivr", html, re.IGNORECASE)
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert any("/static/drf_spectacular_sidecar/swagger-ui-dist/" in asset for asset in assets)
    for asset in assets:
        if asset.startswith("/api/docs/?script"):
            continue  # Swagger UI's start-up script, served by the docs view itself (no inline script)
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is not a static file of the project"
