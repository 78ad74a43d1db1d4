"""API plumbing shared by every app: the one error shape and the default pagination."""

from __future__ import annotations

from typing import Any

from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, pagination, status
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import exception_handler as drf_exception_handler

from saypro import keyset
from saypro.errors import DomainError


class CursorPagination(pagination.CursorPagination):
    """Keyset pagination: constant cost at any depth of a large table."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list[Any] | None:
        # The cursor's position is checked against the field it is compared with, so the model is kept.
        self.model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request: Any) -> int:
        # No default size (0) leaves the list unpaginated, as in DRF.
        default = self.page_size or 0
        return page_size_of(request, self.page_size_query_param, default=default, maximum=self.max_page_size)

    def decode_cursor(self, request: Any) -> pagination.Cursor | None:
        """DRF's cursor, refused with a 400 in the error shape when garbled (DRF answers 404), and when its position
        is no value of the ordering field: DRF would compare the field with it and fail in the database."""
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            raise _invalid_cursor(self.cursor_query_param) from None
        if cursor is not None and cursor.position is not None:
            # By now DRF has made the ordering a tuple of field names; the first is the one compared.
            field = self.model._meta.get_field(self.ordering[0].lstrip("-"))
            try:
                field.clean(cursor.position, None)
            except DjangoValidationError:
                raise _invalid_cursor(self.cursor_query_param) from None
        return cursor

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return parameters


def _invalid_cursor(name: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({name: ["Invalid cursor."]})


def page_size_of(request: Any, name: str, *, default: int, maximum: int) -> int:
    """The page size a client asked for, or the default; a 400 for one the schema does not allow (not an integer,
    below 1, above the maximum), rather than a silent default the client would take for the size it asked."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if not 1 <= size <= maximum:
        raise exceptions.ValidationError({name: [f"A whole number from 1 to {maximum}."]})
    return size


class KeysetPagination(pagination.BasePagination):
    """Keyset pages over the queryset's own ordering, computed annotations included (a queue by deadline).

    DRF's CursorPagination needs one fixed model field to sort by; a queue sorts by annotations such as the
    deadline of its open SLA clock. The cursor here carries the last row's value of every sort key, signed so a
    client can neither forge nor garble one, and the next page is the rows strictly after it. A page deep in the
    queue costs what the first one does, and an item decided between two pages shifts nothing on the next.
    """

    page_size = 50
    max_page_size = 200
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    salt = "saypro.api.keyset"

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list[Any]:
        self.request = request
        queryset, self.keys = keyset.ordered(queryset)
        size = self._page_size(request)
        token = request.query_params.get(self.cursor_query_param)
        if token:
            queryset = queryset.filter(
                keyset.after(self.keys, self._decode(token), keyset.never_null(queryset, self.keys))
            )
        rows = list(queryset[: size + 1])
        self.next_values = keyset.values_of(rows[size - 1], self.keys) if len(rows) > size else None
        return rows[:size]

    def _page_size(self, request: Any) -> int:
        return page_size_of(request, self.page_size_query_param, default=self.page_size, maximum=self.max_page_size)

    def _decode(self, token: str) -> list[Any]:
        try:
            payload = signing.loads(token, salt=self.salt)
        except signing.BadSignature:
            raise _invalid_cursor(self.cursor_query_param) from None
        if payload.get("k") != keyset.signature(self.keys):
            raise exceptions.ValidationError(
                {self.cursor_query_param: ["This cursor belongs to another sort order; start from the first page."]}
            )
        return [keyset.decode_value(value) for value in payload["v"]]

    def get_next_link(self) -> str | None:
        if self.next_values is None:
            return None
        payload = {"k": keyset.signature(self.keys), "v": [keyset.encode_value(value) for value in self.next_values]}
        token = signing.dumps(payload, salt=self.salt, compress=True)
        return replace_query_param(self.request.build_absolute_uri(), self.cursor_query_param, token)

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"next": self.get_next_link(), "results": data})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["results"],
            "properties": {"next": {"type": "string", "nullable": True, "format": "uri"}, "results": schema},
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "The page after this one: the cursor in the previous page's `next` link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page (default {self.page_size}); another value is refused with a 400.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]


def _field_messages(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(value, dict):
                for sub, messages in _field_messages(value).items():
                    out[f"{key}.{sub}"] = messages
            else:
                items = value if isinstance(value, list) else [value]
                out[str(key)] = [str(item) for item in items]
        return out
    if isinstance(detail, list):
        return {"non_field_errors": [str(item) for item in detail]}
    return {}


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error has one shape: {"error": {"code", "message", "fields": {field: [messages]}}}."""
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _field_messages(exc.detail)
        response.data = error_body("invalid", "The request has invalid fields.", fields)
    elif isinstance(exc, exceptions.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
        response.data = error_body(str(code), str(exc.detail))
    return response


def validation_error_response(fields: dict[str, list[str]]) -> Response:
    body = error_body("invalid", "The request has invalid fields.", fields)
    return Response(body, status=status.HTTP_400_BAD_REQUEST)
