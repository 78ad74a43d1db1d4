"""/favicon.ico: browsers ask for it whatever a page links to; it is the static icon the pages link."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import path
from django.views.decorators.http import require_GET


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect(static("favicon.svg"))


urlpatterns = [path("favicon.ico", favicon, name="favicon")]
