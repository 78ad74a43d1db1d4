"""The OpenAPI schema: post-processing (every operation documents the one error shape and the statuses it comes
with), and the view that serves it.

The error responses come from `saypro.api.exception_handler`, so they are the same for every endpoint; writing
them into each operation lets clients (and schema-driven tests) rely on the documented statuses and body.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import translation
from drf_spectacular.views import SpectacularAPIView
from rest_framework.request import Request
from rest_framework.response import Response

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "example": "invalid"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "description": "Messages per field; empty when the error is not about a field.",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}

ERROR_STATUSES = {
    "400": "Invalid input: `fields` names each field with its messages.",
    "401": "Missing or unknown credentials.",
    "403": "The caller's role does not allow this.",
    "404": "No such object (or not one of the caller's own), or an invalid page cursor.",
    "405": "The method is not allowed on this path.",
    "409": "The object's state does not allow this change.",
    "415": "The body's content type is not one the operation reads (or its multipart boundary is missing).",
    "429": "Too many requests: wait and retry.",
    "503": "A service this call needs is unavailable; retry later.",
}
READ_ONLY_SKIP = {"409", "415"}
READ_METHODS = {"get", "head", "options"}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, description in ERROR_STATUSES.items():
                if method in READ_METHODS and status in READ_ONLY_SKIP:
                    continue
                operation["responses"].setdefault(
                    status, {"description": description, "content": {"application/json": {"schema": reference}}}
                )
    return result


# The API's areas, in the order the documentation lists them: (tag, description, path prefixes under /api/v1/).
# The first area whose prefix starts an operation's path is its tag; staff areas come first so that
# "staff/registrations/" is not taken for the applicant's "registrations/".
AREAS: list[tuple[str, str, tuple[str, ...]]] = [
    (
        "Staff: registrations",
        "The review queue: registrations waiting for a decision, approve and reject.",
        ("staff/registrations/",),
    ),
    (
        "Staff: messages",
        "The agents' inbox of users' messages to the team: claim, answer, categorise, transfer, "
        "escalate, resolve, reopen and convert to a ticket.",
        ("staff/conversations/",),
    ),
    ("Staff: tickets", "The support queue: tickets by deadline, and replies.", ("staff/tickets/",)),
    ("Staff: moderation", "Flagged content waiting for a decision, and decisions.", ("staff/moderation/",)),
    (
        "Staff: accounts",
        "An account's timeline, and suspending, banning, reinstating and unlocking it.",
        ("staff/users/",),
    ),
    ("Sign-in", "API tokens, sign-out and password reset.", ("auth/",)),
    (
        "Registration",
        "Signing up: the application, e-mail and phone verification, answers to reviewers' questions "
        "and submission for review.",
        ("registrations/",),
    ),
    (
        "Your account",
        "The signed-in user's own account: details, preferences, password, e-mail, two-factor sign-in, "
        "data export, deactivation, deletion and feedback.",
        ("account/",),
    ),
    ("Profiles", "The user's own public profile and other sellers' public profiles.", ("profile/", "sellers/")),
    (
        "Marketplace",
        "Listings, their categories and transactions between buyers and sellers.",
        ("listings/", "categories/", "transactions/"),
    ),
    (
        "Messages to the team",
        "A user's conversations with the marketplace's team, with attachments and read state.",
        ("conversations/",),
    ),
    (
        "Support",
        "Help articles, guidance before a ticket, tickets and replies, issue reports, live-chat hours, "
        "support points, and the inbound e-mail gateway.",
        ("support/", "help/"),
    ),
    (
        "Reporting content",
        "Flagging listings, profiles and messages, following one's reports, and appealing a moderation decision.",
        ("flags/", "moderation/"),
    ),
    (
        "Metrics and reports",
        "SLA compliance and the figures behind the dashboard, and generated reports.",
        ("metrics/",),
    ),
]
API_ROOT = "/api/v1/"


def area_of(path: str) -> str:
    relative = path.removeprefix(API_ROOT)
    for tag, _description, prefixes in AREAS:
        if relative.startswith(prefixes):
            return tag
    raise ValueError(f"{path} belongs to no area of the API documentation: add its prefix to AREAS")


def tag_by_area(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Group the operations by area (one tag each) instead of drf-spectacular's default, the path's first part."""
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["tags"] = [area_of(path)]
    result["tags"] = [{"name": tag, "description": description} for tag, description, _ in AREAS]
    return result


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema, generated once per process for each version and language asked for: it changes only
    with the code, and generating it took about 90 ms of each request (of 135–175 ms; the rest is rendering it as
    YAML or JSON). Public (SERVE_PUBLIC): the same for every reader, so one copy serves them all."""

    _generated: dict[tuple[str | None, str | None, Any], Any] = {}

    def _get_schema_response(self, request: Request) -> Response:
        version = self.api_version or request.version or self._get_version_parameter(request)
        # The URLs in force too: tests swap them (pytest.mark.urls); a deployment never does.
        key = (version, translation.get_language(), getattr(request, "urlconf", None) or settings.ROOT_URLCONF)
        schema = self._generated.get(key)
        if schema is None:
            generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
            schema = self._generated[key] = generator.get_schema(request=request, public=self.serve_public)
        filename = self._get_filename(request, version)
        return Response(data=schema, headers={"Content-Disposition": f'inline; filename="{filename}"'})
