"""Public pages: the help center, the transparency summary and its CSV, and the satisfaction survey."""

from __future__ import annotations

import csv
from datetime import timedelta

import markdown
import nh3
from django.conf import settings
from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_http_methods

from saypro.errors import DomainError
from support import selectors, services
from support.forms import SurveyCommentForm
from support.models import Article, ArticleCategory
from support.views.oversight import _fortnight, _monthly_figures, _public_months, _transparency

# --- Public: help center, transparency, surveys -------------------------------------------------------------

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h2",
    "h3",
    "h4",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}


def render_markdown(text: str) -> SafeString:
    """Markdown to HTML, sanitised: raw HTML, scripts, event handlers and javascript: links are removed."""
    html = markdown.markdown(text, extensions=["tables", "fenced_code", "sane_lists"])
    return mark_safe(
        nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href", "title"}}, url_schemes={"http", "https", "mailto"})
    )


@require_GET
def help_home(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")[:200].strip()
    categories = (
        ArticleCategory.objects.prefetch_related("articles")
        .annotate(published=Count("articles", filter=Q(articles__is_published=True)))
        .filter(published__gt=0)
    )
    results = selectors.article_search(q=q) if q else None
    return render(request, "support/help/home.html", {"q": q, "categories": categories, "results": results})


@require_http_methods(["GET", "POST"])
def help_article(request: HttpRequest, category: str, slug: str) -> HttpResponse:
    article = get_object_or_404(
        Article.objects.select_related("category"), slug=slug, category__slug=category, is_published=True
    )
    voted = None
    if request.method == "POST":
        helpful = request.POST.get("helpful")
        if helpful not in ("yes", "no"):
            return HttpResponse("Choose yes or no.", status=400)
        if not request.session.session_key:
            request.session.save()
        voter = f"user:{request.user.pk}" if request.user.is_authenticated else f"session:{request.session.session_key}"
        article = services.article_vote(article=article, voter=voter, helpful=helpful == "yes")
        request.session[f"voted:{article.pk}"] = helpful
        voted = helpful
    else:
        services.article_view(article=article)
        voted = request.session.get(f"voted:{article.pk}")
    related = article.category.articles.filter(is_published=True).exclude(pk=article.pk)[:5]
    return render(
        request,
        "support/help/article.html",
        {"article": article, "html": render_markdown(article.body), "voted": voted, "related": related},
    )


@require_GET
def transparency(request: HttpRequest) -> HttpResponse:
    start, end = _fortnight(request)
    months = _public_months(request)
    monthly, as_of = _monthly_figures(months)
    return render(
        request,
        "support/help/transparency.html",
        {"summary": _transparency(start, end), "months": months, "monthly": monthly, "as_of": as_of},
    )


@require_GET
def transparency_csv(request: HttpRequest) -> HttpResponse:
    start, end = _fortnight(request)
    summary = _transparency(start, end)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="transparency-{start:%Y-%m-%d}.csv"'
    writer = csv.writer(response)
    writer.writerow(["event", "date", "title", "status", "reports", "fix"])
    for event, rows, when in (("found", summary["found"], "found_at"), ("fixed", summary["fixed"], "fixed_at")):
        for issue in rows:
            moment = timezone.localtime(getattr(issue, when))
            writer.writerow(
                [
                    event,
                    f"{moment:%Y-%m-%d}",
                    _csv_safe(issue.title),
                    issue.get_status_display(),
                    issue.reports,
                    _csv_safe(issue.fix),
                ]
            )
    # The monthly figures follow as their own table, one value per line.
    writer.writerow([])
    writer.writerow(["month", "area", "figure", "value", "n", "target"])
    for row in _monthly_figures(_public_months(request))[0]:
        for cell in row["cells"]:
            value = "" if cell["value"] is None else round(cell["value"], 2)
            writer.writerow([cell["month"].slug, row["area"], row["key"], value, cell["n"], cell["target_text"]])
    return response


def _csv_safe(text: str) -> str:
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, token: str, rating: int | None = None) -> HttpResponse:
    """One click records the rating (no sign-in: the signed link is the credential); the page then offers a
    comment and a change of mind."""
    form = SurveyCommentForm(request.POST or None)
    error = ""
    survey_row = None
    try:
        if request.method == "POST":
            if form.is_valid():
                survey_row = services.survey_answer(
                    token=token, rating=form.cleaned_data["rating"], comment=form.cleaned_data["comment"]
                )
                messages.success(request, "Thank you: your answer is saved.")
                return redirect("help:survey", token=token)
            survey_row = services.survey_from_token(token)
        elif rating is not None:
            survey_row = services.survey_answer(token=token, rating=rating)
            return redirect("help:survey", token=token)
        else:
            survey_row = services.survey_from_token(token)
    except DomainError as exc:
        error = exc.message
        if survey_row is None and not isinstance(exc, services.SurveyLocked):
            return render(request, "support/survey.html", {"error": error}, status=400)
        survey_row = survey_row or services.survey_from_token(token)
    if survey_row.rating and not form.is_bound:
        form = SurveyCommentForm(initial={"rating": survey_row.rating, "comment": survey_row.comment})
    changeable_until = (
        survey_row.answered_at + timedelta(days=settings.SUPPORT_SURVEY_CHANGE_DAYS) if survey_row.answered_at else None
    )
    return render(
        request,
        "support/survey.html",
        {
            "survey": survey_row,
            "form": form,
            "error": error,
            "changeable_until": changeable_until,
            "points": settings.SUPPORT_SURVEY_POINTS,
            "token": token,
        },
        status=409 if error else 200,
    )
