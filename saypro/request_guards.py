"""Guards on what a request carries, shared by every page and endpoint.

NUL characters: PostgreSQL refuses them in text ("A string literal cannot contain NUL"), so one in a query
parameter that reaches a filter or a search is a server error, and only on PostgreSQL (SQLite takes it). No
input of this product has a use for one, so a request carrying one in its path, its query string or its form
fields is refused at the door with a 400 (the error shape on the API), whatever view it was meant for. Forms
already refuse NUL in their text fields; this covers the parameters views read by hand, and JSON bodies are
checked by the API's parser (saypro.parsers).
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.utils.http import url_has_allowed_host_and_scheme

from saypro.api import error_body

NUL = "\x00"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _fields_with_nul(query: QueryDict) -> list[str]:
    return [
        key.replace(NUL, "\\0")
        for key, values in query.lists()
        if NUL in key or any(isinstance(value, str) and NUL in value for value in values)
    ]


def refuse_nul_characters(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[..., HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        fields = _fields_with_nul(request.GET)
        if request.method == "POST" and request.content_type in FORM_TYPES:
            fields += _fields_with_nul(request.POST)
        if NUL in request.path:
            fields.append("path")
        if fields:
            if request.path.startswith("/api/"):
                message = "Null characters are not allowed."
                body = error_body("invalid", "The request has invalid fields.", {key: [message] for key in fields})
                return JsonResponse(body, status=400)
            raise BadRequest(f"NUL character in {', '.join(fields)}")
        return get_response(request)

    return middleware


def local_url(request: HttpRequest, target: str, fallback: str) -> str:
    """`target` when it is a path of this site (where a page was asked to send the visitor back to), else
    `fallback`. A bare word is no path: redirect() would take it for a URL name and fail to reverse it."""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback
