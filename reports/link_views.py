"""The page behind a subscriber's signed link: the report's PDF, without signing in (the link is the credential),
or a page that says why the link no longer works."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import links


def _page(request: HttpRequest, template: str, context: dict[str, object], status: int) -> HttpResponse:
    response = render(request, template, context, status=status)
    # The token is in this page's address: it must not travel on to any other site.
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
@never_cache
def report_link(request: HttpRequest, token: str) -> HttpResponseBase:
    try:
        run = links.report_link_resolve(token)
    except links.LinkSuperseded as exc:
        document = exc.run.document or {}
        context = {"reason": exc.message, "run": exc.run, "period_label": document.get("period_label", "")}
        return _page(request, "reports/link_superseded.html", context, exc.status_code)
    except links.LinkRefused as exc:
        return _page(request, "reports/link_refused.html", {"reason": exc.message}, exc.status_code)
    try:
        pdf = run.pdf.open("rb")
    except FileNotFoundError:
        # A new generation stores its file and removes the old one just before its row commits: a download read the
        # row in between. The next try finds the new generation, and says so.
        reason = "This report is being generated again right now. Try the link again in a minute."
        return _page(request, "reports/link_refused.html", {"reason": reason}, 503)
    response = FileResponse(pdf, as_attachment=True, filename=f"{run.file_stem}.pdf", content_type="application/pdf")
    response["X-Content-SHA256"] = run.pdf_sha256
    response["Referrer-Policy"] = "no-referrer"
    return response
