"""OpenAPI post-processing: every operation documents the one error shape and the statuses it comes with.

The error responses come from `saypro.api.exception_handler`, so they are the same for every endpoint; writing
them into each operation lets clients (and schema-driven tests) rely on the documented statuses and body.
"""

from __future__ import annotations

from typing import Any

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
    "429": "Too many requests: wait and retry.",
    "503": "A service this call needs is unavailable; retry later.",
}
READ_ONLY_SKIP = {"409"}
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
