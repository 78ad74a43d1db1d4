"""Staff: a user's account timeline and account status changes (suspend, ban, reinstate, unlock)."""

from __future__ import annotations

from typing import Any, cast

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import security, selectors, services
from accounts.api.account import AccountSerializer
from accounts.models import AccountEvent, User
from saypro.permissions import has_perm

# --- Staff: timelines and account status --------------------------------------------------------------------


class AccountEventSerializer(serializers.ModelSerializer):
    actor = serializers.EmailField(source="actor.email", read_only=True, allow_null=True)

    class Meta:
        model = AccountEvent
        fields = ["id", "kind", "reason", "at", "actor", "channel", "ip_address", "device_type", "data"]


class StatusChangeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)
    until = serializers.DateTimeField(required=False, allow_null=True, default=None)


class StaffTimelineView(generics.ListAPIView):
    """Every account event of one user, newest first."""

    permission_classes = [has_perm("accounts.view_account_timeline")]
    serializer_class = AccountEventSerializer
    queryset = AccountEvent.objects.none()  # for the schema; the rows come from get_queryset

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        user = get_object_or_404(User, pk=self.kwargs["pk"])
        return selectors.account_timeline(user=user)


class _StatusView(APIView):
    permission_classes = [has_perm("accounts.manage_account_status")]
    action = ""

    @extend_schema(request=StatusChangeSerializer, responses=AccountSerializer)
    def post(self, request: Request, pk: int) -> Response:
        user = get_object_or_404(User, pk=pk)
        data = StatusChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        by, reason = cast(User, request.user), data.validated_data["reason"]
        if self.action == "suspend":
            user = services.user_suspend(user=user, by=by, reason=reason, until=data.validated_data["until"])
        elif self.action == "ban":
            user = services.user_ban(user=user, by=by, reason=reason)
        else:
            user = services.user_reinstate(user=user, by=by, reason=reason)
        return Response(AccountSerializer(user).data)


class StaffSuspendView(_StatusView):
    action = "suspend"


class StaffBanView(_StatusView):
    action = "ban"


class StaffReinstateView(_StatusView):
    action = "reinstate"


class StaffUnlockView(APIView):
    permission_classes = [has_perm("accounts.unlock_account")]

    @extend_schema(request=None, responses={200: dict})
    def post(self, request: Request, pk: int) -> Response:
        user = get_object_or_404(User, pk=pk)
        return Response({"released": security.lockouts_release_for(user=user, by=cast(User, request.user))})
