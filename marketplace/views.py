"""Administrators' marketplace pages: listings, users and transactions, with search, filters and bulk actions.

Every change goes through marketplace.services (and accounts.services for account status), which record the
audit entries; refusals become messages or form errors, never a server error.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from moderation import selectors as moderation_selectors
from moderation.views import SignedInRequest, permission_page
from saypro.audit.selectors import audit_for_object
from saypro.errors import DomainError, InvalidInput
from saypro.files import stored_file_response
from saypro.forms import add_service_errors
from saypro.paginators import EstimatedCountPaginator
from saypro.request_guards import local_url

from . import selectors, services
from .forms import (
    ListingBulkForm,
    ListingFilterForm,
    TransactionFilterForm,
    TransactionStatusForm,
    UserBulkForm,
    UserFilterForm,
)
from .models import Listing, SellerProfile, Transaction
from .moderation import listing_images

PAGE_SIZE = 50

view_required = permission_page("marketplace.view_listing")
manage_listings_required = permission_page("marketplace.manage_listings")
users_required = permission_page("marketplace.manage_marketplace_users")
transactions_required = permission_page("marketplace.view_transaction")


def _page(request: HttpRequest, rows: QuerySet[Any]) -> tuple[Any, str]:
    query = request.GET.copy()
    query.pop("page", None)
    # Listings and transactions grow large: counts are estimated or capped rather than scanned.
    return EstimatedCountPaginator(rows, PAGE_SIZE).get_page(request.GET.get("page")), query.urlencode()


def _back(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or ""
    return local_url(request, target, fallback)


def _flash_errors(request: HttpRequest, form: Any) -> None:
    """A bulk form is posted from a list page: its errors are shown there, as messages."""
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))


def _report(request: HttpRequest, result: services.BulkResult, verb: str, noun: str) -> None:
    if result.done:
        count = len(result.done)
        messages.success(request, f"{verb} {count} {noun}{'s' if count != 1 else ''}.")
    for pk, why in result.skipped.items():
        messages.warning(request, f"#{pk} was skipped: {why}")


# --- Listings --------------------------------------------------------------------------------------------------


@require_GET
@view_required
def home(request: SignedInRequest) -> HttpResponse:
    """The listings, newest first, searchable and filterable; administrators act on a selection."""
    form = ListingFilterForm(request.GET or None)
    page, filter_query = _page(request, selectors.listing_list(**form.values()))
    return render(
        request,
        "marketplace/listings.html",
        {
            "form": form,
            "page": page,
            "filter_query": filter_query,
            "bulk_form": ListingBulkForm(),
            "can_manage": request.user.has_perm("marketplace.manage_listings"),
        },
    )


@require_POST
@manage_listings_required
def listings_bulk(request: SignedInRequest) -> HttpResponse:
    back = _back(request, reverse("marketplace:home"))
    form = ListingBulkForm(request.POST)
    if not form.is_valid():
        _flash_errors(request, form)
        return redirect(back)
    data = form.cleaned_data
    result = services.listings_bulk(ids=data["ids"], by=request.user, action=data["action"], reason=data["reason"])
    verb = {"suspend": "Suspended", "expire": "Expired", "restore": "Restored"}[data["action"]]
    _report(request, result, verb, "listing")
    return redirect(back)


@require_GET
@view_required
def listing(request: SignedInRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(selectors.listing_list(), pk=pk)
    cases = moderation_selectors.cases_for_object(obj=item)
    return render(
        request,
        "marketplace/listing.html",
        {
            "listing": item,
            "images": listing_images(item),
            "cases": cases,
            "transactions": list(
                Transaction.objects.filter(listing=item).select_related("buyer").order_by("-created_at")[:20]
            ),
            "history": list(audit_for_object(item)[:50]),
            "can_manage": request.user.has_perm("marketplace.manage_listings"),
            "can_renew": request.user.has_perm("marketplace.renew_listing"),
            "bulk_form": ListingBulkForm(),
        },
    )


@require_GET
@view_required
def listing_image(request: SignedInRequest, pk: int, index: int) -> FileResponse:
    """The n-th photo of a listing, for the staff who read listings; only keys in the listing photos' folder."""
    item = get_object_or_404(Listing, pk=pk)
    images = listing_images(item)
    if index >= len(images) or not images[index].key:
        raise Http404("No such photo.")
    return stored_file_response(images[index].key)


@require_POST
@permission_page("marketplace.renew_listing")
def listing_renew(request: SignedInRequest, pk: int) -> HttpResponse:
    """Renew for the seller, who asked for it (a renewal request to the support team)."""
    item = get_object_or_404(Listing, pk=pk)
    try:
        item = services.listing_renew(listing=item, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Listing #{pk} renewed until {timezone.localtime(item.expires_at):%d %b %Y}.")
    return redirect("marketplace:listing", pk=pk)


# --- Users -----------------------------------------------------------------------------------------------------


@require_GET
@users_required
def users(request: SignedInRequest) -> HttpResponse:
    form = UserFilterForm(request.GET or None)
    page, filter_query = _page(request, selectors.user_list(**form.values()))
    return render(
        request,
        "marketplace/users.html",
        {"form": form, "page": page, "filter_query": filter_query, "bulk_form": UserBulkForm()},
    )


@require_POST
@users_required
def users_bulk(request: SignedInRequest) -> HttpResponse:
    back = _back(request, reverse("marketplace:users"))
    form = UserBulkForm(request.POST)
    if not form.is_valid():
        _flash_errors(request, form)
        return redirect(back)
    data = form.cleaned_data
    try:
        result = services.users_bulk(
            ids=data["ids"], by=request.user, action=data["action"], reason=data["reason"], days=data["days"]
        )
    except InvalidInput as exc:
        messages.error(request, exc.message)
        return redirect(back)
    verb = {"suspend": "Suspended", "ban": "Banned", "reinstate": "Reinstated"}[data["action"]]
    _report(request, result, verb, "user")
    return redirect(back)


@require_GET
@view_required
def user(request: SignedInRequest, pk: int) -> HttpResponse:
    """One marketplace user: profile, badge, account status, strikes, listings, transactions and cases."""
    member = get_object_or_404(selectors.user_list(), pk=pk)
    return render(
        request,
        "marketplace/user.html",
        {
            "member": member,
            "profile": SellerProfile.objects.filter(pk=pk).first(),
            "history": moderation_selectors.author_history(user=member),
            "listings": list(selectors.own_listings(user=member)[:20]),
            "transactions": list(selectors.transaction_list(user=member)[:20]),
            "can_manage_users": request.user.has_perm("marketplace.manage_marketplace_users"),
            "bulk_form": UserBulkForm(),
        },
    )


# --- Transactions ----------------------------------------------------------------------------------------------


@require_GET
@transactions_required
def transactions(request: SignedInRequest) -> HttpResponse:
    form = TransactionFilterForm(request.GET or None)
    page, filter_query = _page(request, selectors.transaction_list(**form.values()))
    return render(request, "marketplace/transactions.html", {"form": form, "page": page, "filter_query": filter_query})


@require_http_methods(["GET", "POST"])
@transactions_required
def transaction(request: SignedInRequest, pk: int) -> HttpResponse:
    deal = get_object_or_404(Transaction.objects.select_related("listing", "buyer", "seller"), pk=pk)
    can_manage = request.user.has_perm("marketplace.manage_transactions")
    form = TransactionStatusForm(request.POST or None)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                deal = services.transaction_set_status(
                    deal=deal, by=request.user, status=form.cleaned_data["status"], note=form.cleaned_data["note"]
                )
            except InvalidInput as exc:
                add_service_errors(form, exc)
            except DomainError as exc:
                messages.error(request, exc.message)
                return redirect("marketplace:transaction", pk=pk)
            else:
                messages.success(request, f"Transaction #{pk} is now {deal.get_status_display().lower()}.")
                return redirect("marketplace:transaction", pk=pk)
    allowed = services.TRANSITIONS[services.TStatus(deal.status)]
    status_field = form.fields["status"]
    assert hasattr(status_field, "choices")
    status_field.choices = [(value, services.TStatus(value).label) for value in allowed]
    return render(
        request,
        "marketplace/transaction.html",
        {
            "deal": deal,
            "form": form if allowed else None,
            "can_manage": can_manage,
            "history": list(audit_for_object(deal)[:50]),
        },
    )
