"""Error pages for URLs no view answers: API clients get the API's one error shape, people get a page."""

from __future__ import annotations

import sys
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults

from saypro.api import error_body

API_PREFIX = "/api/"
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


def _wants_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _wants_api(request):
        return JsonResponse(error_body("not_found", "No such endpoint or object."), status=404)
    return defaults.page_not_found(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _wants_api(request):
        return JsonResponse(error_body("permission_denied", "Your role does not allow this."), status=403)
    return defaults.permission_denied(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _wants_api(request):
        return JsonResponse(error_body("bad_request", "The request could not be understood."), status=400)
    return defaults.bad_request(request, exception)


def server_error(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    if isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        return _database_unavailable(request)
    if _wants_api(request):
        return JsonResponse(
            error_body("server_error", "Something went wrong on our side; it has been logged."), status=500
        )
    return defaults.server_error(request)


def _database_unavailable(request: HttpRequest) -> HttpResponse:
    """The database went away (a restart, a failover, a lock wait that gave up): a 503 the client may retry, not
    a 500. Rendered without the request's context, which would need the database for the session and the menu."""
    response: HttpResponse
    if _wants_api(request):
        response = JsonResponse(
            error_body("unavailable", "The service is briefly unavailable; retry in a few seconds."), status=503
        )
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
