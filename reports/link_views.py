"""The page behind a subscriber's signed link: the report's PDF, without signing in (the link is the credential),
or a page that says why the link no longer works."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import links


@require_GET
@never_cache
def report_link(request: HttpRequest, token: str) -> HttpResponseBase:
    try:
        run = links.report_link_resolve(token)
    except links.LinkRefused as exc:
        response: HttpResponse = render(
            request, "reports/link_refused.html", {"reason": exc.message}, status=exc.status_code
        )
        # The token is in this page's address: it must not travel on to any other site.
        response["Referrer-Policy"] = "no-referrer"
        return response
    response_file = FileResponse(
        run.pdf.open("rb"), as_attachment=True, filename=f"{run.file_stem}.pdf", content_type="application/pdf"
    )
    response_file["X-Content-SHA256"] = run.pdf_sha256
    response_file["Referrer-Policy"] = "no-referrer"
    return response_file
