"""The moderation API: users flag content and follow their reports, authors see decisions on their own content
and appeal; staff read the queue and decide.

Reporters learn the outcome of their reports (removed or not), never who else reported or what the author was
told; authors see the decision and the rule, never who reported them.
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

from accounts.models import User
from saypro.api import KeysetPagination
from saypro.permissions import has_perm

from . import selectors, services
from .models import REMOVING_ACTIONS, Action, Case, CaseStatus, Flag, Reason, Rule, Source

CanView = has_perm("moderation.view_case")
CanDecide = has_perm("moderation.decide_case")


def _user(request: Request) -> User:
    return cast(User, request.user)


# --- Serializers ------------------------------------------------------------------------------------------


class FlagCreateSerializer(serializers.Serializer):
    kind = serializers.CharField(max_length=30, help_text="listing, profile or message.")
    object_id = serializers.IntegerField(min_value=1, help_text="The listing's, message's or user's id.")
    reason = serializers.ChoiceField(choices=Reason.choices)
    comment = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class FlagSerializer(serializers.ModelSerializer):
    """A reporter's own report and what came of it."""

    kind = serializers.CharField(source="case.kind")
    object_id = serializers.IntegerField(source="case.object_id")
    title = serializers.CharField(source="case.content_title")
    result = serializers.SerializerMethodField(help_text="pending, removed or kept.")
    decided_at = serializers.SerializerMethodField()

    class Meta:
        model = Flag
        fields = ["id", "kind", "object_id", "title", "reason", "comment", "created_at", "result", "decided_at"]

    def get_result(self, flag: Flag) -> str:
        if flag.outcome == Flag.Outcome.PENDING:
            return "pending"
        return "removed" if flag.outcome == Flag.Outcome.UPHELD else "kept"

    def get_decided_at(self, flag: Flag) -> str | None:
        decision = flag.case.decision
        if flag.outcome == Flag.Outcome.PENDING or decision is None:
            return None
        return decision.at.isoformat()


class DecisionSerializer(serializers.Serializer):
    action = serializers.CharField()
    action_text = serializers.CharField(source="get_action_display")
    rule = serializers.CharField()
    rule_text = serializers.CharField(source="get_rule_display")
    reason = serializers.CharField()
    at = serializers.DateTimeField()
    reversed = serializers.SerializerMethodField()

    def get_reversed(self, decision: Any) -> bool:
        return decision.reversed_at is not None


class AppealSerializer(serializers.Serializer):
    status = serializers.CharField()
    statement = serializers.CharField()
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField()


class OwnCaseSerializer(serializers.ModelSerializer):
    """A case on the caller's own content: the decision, the rule and the appeal, never the reporters."""

    title = serializers.CharField(source="content_title")
    hidden = serializers.SerializerMethodField()
    decision = serializers.SerializerMethodField()
    appeal = serializers.SerializerMethodField()
    can_appeal = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = ["id", "kind", "object_id", "title", "status", "reason", "created_at", "hidden", "decision"]
        fields += ["appeal", "can_appeal"]

    def get_hidden(self, case: Case) -> bool:
        return case.hidden_at is not None

    @extend_schema_field(DecisionSerializer(allow_null=True))
    def get_decision(self, case: Case) -> dict[str, Any] | None:
        return DecisionSerializer(case.decision).data if case.decision is not None else None

    @extend_schema_field(AppealSerializer(allow_null=True))
    def get_appeal(self, case: Case) -> dict[str, Any] | None:
        decision = case.decision
        appeal = getattr(decision, "appeal", None) if decision is not None else None
        return AppealSerializer(appeal).data if appeal is not None else None

    def get_can_appeal(self, case: Case) -> bool:
        decision = case.decision
        return (
            case.status == CaseStatus.DECIDED
            and decision is not None
            and decision.action in REMOVING_ACTIONS
            and getattr(decision, "appeal", None) is None
        )


class AuthorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField(source="get_full_name")


class StaffCaseSerializer(serializers.ModelSerializer):
    title = serializers.CharField(source="content_title")
    text = serializers.CharField(source="content_text")
    author = AuthorSerializer(allow_null=True)
    author_verified = serializers.BooleanField()
    author_strikes = serializers.IntegerField()
    hidden = serializers.SerializerMethodField()
    due_at = serializers.DateTimeField(allow_null=True)
    is_at_risk = serializers.BooleanField()
    is_breached = serializers.BooleanField()
    decision = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id",
            "kind",
            "object_id",
            "title",
            "text",
            "author",
            "author_verified",
            "author_strikes",
            "status",
            "source",
            "reason",
            "severity",
            "flag_count",
            "brigading",
            "hidden",
            "round",
            "opened_at",
            "due_at",
            "is_at_risk",
            "is_breached",
            "decision",
        ]

    def get_hidden(self, case: Case) -> bool:
        return case.hidden_at is not None

    @extend_schema_field(DecisionSerializer(allow_null=True))
    def get_decision(self, case: Case) -> dict[str, Any] | None:
        return DecisionSerializer(case.decision).data if case.decision is not None else None


class DecideSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=Action.choices)
    rule = serializers.ChoiceField(choices=Rule.choices, required=False, allow_blank=True, default="")
    reason = serializers.CharField(max_length=2000)


class AppealCreateSerializer(serializers.Serializer):
    statement = serializers.CharField(max_length=2000)


# --- Reporters --------------------------------------------------------------------------------------------


class FlagListView(generics.ListCreateAPIView):
    """The caller's reports with their results (newest first), and reporting content."""

    serializer_class = FlagSerializer

    def get_queryset(self) -> QuerySet[Flag]:
        if getattr(self, "swagger_fake_view", False):
            return Flag.objects.none()
        return selectors.flags_for_reporter(user=_user(self.request))

    @extend_schema(request=FlagCreateSerializer, responses={201: FlagSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = FlagCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        flag = services.flag_create(reporter=_user(request), **data.validated_data)
        created = selectors.flags_for_reporter(user=_user(request)).get(pk=flag.pk)
        return Response(FlagSerializer(created).data, status=status.HTTP_201_CREATED)


# --- Authors ----------------------------------------------------------------------------------------------


def own_case(request: Request, pk: int) -> Case:
    return get_object_or_404(selectors.cases_for_author(user=_user(request)), pk=pk)


class OwnCaseListView(generics.ListAPIView):
    """Moderation cases on the caller's own listings, profile and messages (newest first)."""

    serializer_class = OwnCaseSerializer

    def get_queryset(self) -> QuerySet[Case]:
        if getattr(self, "swagger_fake_view", False):
            return Case.objects.none()
        return selectors.cases_for_author(user=_user(self.request))


class OwnCaseDetailView(APIView):
    @extend_schema(responses=OwnCaseSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(OwnCaseSerializer(own_case(request, pk)).data)


class AppealView(APIView):
    """Appeal the decision on one's own content, once; a different moderator decides."""

    @extend_schema(request=AppealCreateSerializer, responses={201: OwnCaseSerializer})
    def post(self, request: Request, pk: int) -> Response:
        case = own_case(request, pk)
        data = AppealCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.appeal_file(case=case, by=_user(request), statement=data.validated_data["statement"])
        return Response(OwnCaseSerializer(own_case(request, pk)).data, status=status.HTTP_201_CREATED)


# --- Staff ------------------------------------------------------------------------------------------------


class CaseFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CaseStatus.choices, method="noop")
    kind = django_filters.CharFilter(max_length=30, method="noop")
    reason = django_filters.ChoiceFilter(choices=Reason.choices, method="noop")
    source = django_filters.ChoiceFilter(choices=Source.choices, method="noop")
    q = django_filters.CharFilter(max_length=100, method="noop")
    at_risk = django_filters.BooleanFilter(method="noop")
    breached = django_filters.BooleanFilter(method="noop")
    sort = django_filters.ChoiceFilter(choices=[("deadline", "deadline"), ("severity", "severity")], method="noop")

    class Meta:
        model = Case
        fields: list[str] = []

    def noop(self, queryset: Any, name: str, value: Any) -> Any:
        # The selector applies the filters; the FilterSet validates them and documents them in the schema.
        return queryset

    @property
    def qs(self) -> Any:
        data = self.form.cleaned_data if self.is_bound and self.form.is_valid() else {}
        return selectors.case_queue(**{k: v for k, v in data.items() if v not in (None, "")})


class StaffCaseListView(generics.ListAPIView):
    """The moderator queue: open cases by deadline, then severity (moderators, support agents to read)."""

    permission_classes = [CanView]
    serializer_class = StaffCaseSerializer
    filterset_class = CaseFilter
    pagination_class = KeysetPagination

    def get_queryset(self) -> QuerySet[Case]:
        # CaseFilter.qs builds the queue from the validated filters; building it here too cost every request a
        # second set of joins and annotations, thrown away.
        return Case.objects.all()


def _staff_case(pk: int) -> Case:
    try:
        return selectors.case_detail(pk=pk)
    except Case.DoesNotExist:
        raise NotFound() from None


class StaffCaseDetailView(APIView):
    permission_classes = [CanView]

    @extend_schema(responses=StaffCaseSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(StaffCaseSerializer(_staff_case(pk)).data)


class StaffDecideView(APIView):
    """Decide a case; a reason and (except for keep) the rule broken are required."""

    permission_classes = [CanDecide]

    @extend_schema(request=DecideSerializer, responses=StaffCaseSerializer)
    def post(self, request: Request, pk: int) -> Response:
        case = _staff_case(pk)
        data = DecideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.case_decide(case=case, by=_user(request), **data.validated_data)
        return Response(StaffCaseSerializer(_staff_case(pk)).data)
