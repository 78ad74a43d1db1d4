"""The marketplace API: a user's own listings, profile and transactions, categories, and public seller profiles.

A user sees and changes only their own listings and transactions; anyone else's is a 404, never a 403, so ids
reveal nothing. Every write goes through marketplace.services.
"""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.identity import public_name
from accounts.models import User
from saypro.errors import InvalidInput

from . import selectors, services
from .models import Category, Currency, Listing, ListingStatus, SellerProfile, Transaction, TransactionStatus


def _user(request: Request) -> User:
    return cast(User, request.user)


# --- Serializers ------------------------------------------------------------------------------------------


class SellerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(
        help_text='The display name, or "SayPro member #<id>": never an e-mail address or phone number.'
    )
    verified = serializers.BooleanField(help_text="The verified-user badge: e-mail and phone verified, no strike.")


@extend_schema_field(SellerSerializer)
class SellerField(serializers.Field):
    """The seller with the badge annotated by the selector (`seller_verified`), so a page costs no extra query."""

    def to_representation(self, listing: Listing) -> dict[str, Any]:
        seller = listing.seller
        profile = getattr(seller, "seller_profile", None)
        profile_name = profile.display_name if profile is not None and profile.hidden_at is None else ""
        return {
            "id": seller.pk,
            "name": public_name(user_id=seller.pk, display_name=profile_name),
            "verified": bool(getattr(listing, "seller_verified", False)),
        }


class ListingSerializer(serializers.ModelSerializer):
    category: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    seller = SellerField(source="*", read_only=True)

    class Meta:
        model = Listing
        fields = [
            "id",
            "title",
            "description",
            "price",
            "currency",
            "category",
            "region",
            "images",
            "status",
            "status_reason",
            "seller",
            "created_at",
            "updated_at",
            "expires_at",
            "renewed_at",
            "renewal_count",
        ]
        read_only_fields = fields


class ListingWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=120)
    description = serializers.CharField(max_length=5000)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    currency = serializers.ChoiceField(choices=Currency.choices)
    category = serializers.SlugField(max_length=50, help_text="A category slug from /api/v1/categories/.")
    region = serializers.CharField(max_length=100)
    images = serializers.ListField(
        child=serializers.CharField(max_length=500), max_length=services.MAX_IMAGES, required=False
    )


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["slug", "name"]


class ProfileSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.SerializerMethodField()
    about = serializers.SerializerMethodField()
    region = serializers.CharField()
    verified = serializers.BooleanField(help_text="The verified-user badge.")
    active_listings = serializers.IntegerField()
    member_since = serializers.DateTimeField(source="date_joined")

    def _profile(self, user: User) -> SellerProfile | None:
        profile = getattr(user, "seller_profile", None)
        return profile if profile is not None and profile.hidden_at is None else None

    def get_name(self, user: User) -> str:
        profile = self._profile(user)
        return public_name(user_id=user.pk, display_name=profile.display_name if profile else "")

    def get_about(self, user: User) -> str:
        profile = self._profile(user)
        return profile.about if profile else ""


class ProfileWriteSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=80, required=False, allow_blank=True)
    about = serializers.CharField(max_length=1000, required=False, allow_blank=True)


class TransactionSerializer(serializers.ModelSerializer):
    listing_title = serializers.CharField(source="listing.title", read_only=True)
    role = serializers.SerializerMethodField(help_text="buyer or seller: the caller's side of the deal.")

    class Meta:
        model = Transaction
        fields = [
            "id",
            "listing",
            "listing_title",
            "role",
            "amount",
            "currency",
            "status",
            "created_at",
            "paid_at",
            "completed_at",
            "disputed_at",
            "refunded_at",
        ]
        read_only_fields = fields

    def get_role(self, deal: Transaction) -> str:
        request = self.context.get("request")
        return "buyer" if request is not None and deal.buyer_id == request.user.pk else "seller"


class TransactionStartSerializer(serializers.Serializer):
    listing = serializers.IntegerField(min_value=1)


class TransactionStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[(TransactionStatus.COMPLETED, "Completed"), (TransactionStatus.DISPUTED, "Disputed")],
        help_text="completed: the buyer received the item; disputed: something went wrong.",
    )
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


# --- Listings ---------------------------------------------------------------------------------------------


class OwnListingFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ListingStatus.choices)

    class Meta:
        model = Listing
        fields: list[str] = []


def own_listing(request: Request, pk: int) -> Listing:
    """One of the caller's listings, with the badge annotated; anyone else's is a 404."""
    return get_object_or_404(selectors.own_listings(user=_user(request)), pk=pk)


class ListingListView(generics.ListCreateAPIView):
    """The caller's own listings (newest first), and posting a new one."""

    serializer_class = ListingSerializer
    filterset_class = OwnListingFilter

    def get_queryset(self) -> QuerySet[Listing]:
        if getattr(self, "swagger_fake_view", False):
            return Listing.objects.none()
        return selectors.own_listings(user=_user(self.request))

    @extend_schema(request=ListingWriteSerializer, responses={201: ListingSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ListingWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        listing = services.listing_create(seller=_user(request), **data.validated_data)
        return Response(ListingSerializer(own_listing(request, listing.pk)).data, status=status.HTTP_201_CREATED)


class ListingDetailView(APIView):
    @extend_schema(responses=ListingSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(ListingSerializer(own_listing(request, pk)).data)

    @extend_schema(request=ListingWriteSerializer(partial=True), responses=ListingSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        listing = own_listing(request, pk)
        data = ListingWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.listing_update(listing=listing, by=_user(request), **data.validated_data)
        return Response(ListingSerializer(own_listing(request, pk)).data)


class ListingRenewView(APIView):
    @extend_schema(request=None, responses=ListingSerializer)
    def post(self, request: Request, pk: int) -> Response:
        services.listing_renew(listing=own_listing(request, pk), by=_user(request))
        return Response(ListingSerializer(own_listing(request, pk)).data)


class CategoryListView(generics.ListAPIView):
    serializer_class = CategorySerializer
    pagination_class = None
    queryset = Category.objects.filter(is_active=True).order_by("position", "name")


# --- Profiles ---------------------------------------------------------------------------------------------


class SellerProfileView(APIView):
    """A marketplace user as other users see them: name, region, the verified badge, active listings."""

    @extend_schema(responses=ProfileSerializer)
    def get(self, request: Request, pk: int) -> Response:
        member = selectors.public_profile(user_id=pk)
        if member is None:
            raise NotFound()
        return Response(ProfileSerializer(member).data)


class OwnProfileView(APIView):
    @extend_schema(responses=ProfileSerializer)
    def get(self, request: Request) -> Response:
        return Response(ProfileSerializer(self._me(request)).data)

    @extend_schema(request=ProfileWriteSerializer, responses=ProfileSerializer)
    def patch(self, request: Request) -> Response:
        data = ProfileWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.profile_update(user=_user(request), **data.validated_data)
        return Response(ProfileSerializer(self._me(request)).data)

    def _me(self, request: Request) -> User:
        member = selectors.public_profile(user_id=_user(request).pk)
        if member is None:
            # Staff accounts have no marketplace profile.
            raise NotFound()
        return member


# --- Transactions --------------------------------------------------------------------------------------------


class OwnTransactionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=TransactionStatus.choices)

    class Meta:
        model = Transaction
        fields: list[str] = []


def own_transaction(request: Request, pk: int) -> Transaction:
    return get_object_or_404(selectors.transaction_list(user=_user(request)), pk=pk)


class TransactionListView(generics.ListCreateAPIView):
    """What the caller bought or sold (newest first), and buying an active listing at its price."""

    serializer_class = TransactionSerializer
    filterset_class = OwnTransactionFilter

    def get_queryset(self) -> QuerySet[Transaction]:
        if getattr(self, "swagger_fake_view", False):
            return Transaction.objects.none()
        return selectors.transaction_list(user=_user(self.request))

    @extend_schema(request=TransactionStartSerializer, responses={201: TransactionSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = TransactionStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        listing = Listing.objects.filter(pk=data.validated_data["listing"]).first()
        if listing is None:
            raise InvalidInput("No such listing.", fields={"listing": ["Not found."]})
        deal = services.transaction_start(listing=listing, buyer=_user(request))
        body = TransactionSerializer(own_transaction(request, deal.pk), context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class TransactionDetailView(APIView):
    @extend_schema(responses=TransactionSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(TransactionSerializer(own_transaction(request, pk), context={"request": request}).data)


class TransactionStatusView(APIView):
    """The buyer confirms receipt (completed) or disputes the deal."""

    @extend_schema(request=TransactionStatusSerializer, responses=TransactionSerializer)
    def post(self, request: Request, pk: int) -> Response:
        deal = own_transaction(request, pk)
        data = TransactionStatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.transaction_set_status(deal=deal, by=_user(request), **data.validated_data)
        return Response(TransactionSerializer(own_transaction(request, pk), context={"request": request}).data)
