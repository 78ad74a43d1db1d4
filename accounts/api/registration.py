"""The applicant's own sign-up and verification, and staff review of registrations."""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.models import AgeBand, DelayCause, Registration, RegistrationSignal, RegistrationStatus, SignUpStart, User
from saypro.api import KeysetPagination
from saypro.clientip import ScopedRateThrottle, client_ip
from saypro.permissions import has_perm
from saypro.sla import services as sla

CanReview = has_perm("accounts.review_registration")


# --- Serializers ------------------------------------------------------------------------------------


class SignupSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, style={"input_type": "password"})
    full_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=32)
    country = serializers.CharField(max_length=2, required=False, allow_blank=True, default="")
    region = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    language = serializers.CharField(max_length=10, required=False, allow_blank=True, default="en")
    age_band = serializers.ChoiceField(choices=AgeBand.choices, required=False, allow_blank=True, default="")
    accepted_terms = serializers.BooleanField(
        default=False,
        help_text="True once the applicant has read the privacy notice (/privacy/) and accepted the terms of use "
        "(/terms/); sign-up is refused without it, and under-18s are refused.",
    )
    campaign = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    submit = serializers.BooleanField(default=True, help_text="Submit for approval at once (the usual case).")
    start = serializers.RegexField(
        r"^[0-9a-f]{32}$",
        required=False,
        allow_blank=True,
        default="",
        help_text="The key from POST /api/v1/registrations/starts/, sent when the user opened the sign-up form.",
    )


class SignupStartSerializer(serializers.Serializer):
    campaign = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")


class SignupStartedSerializer(serializers.Serializer):
    start = serializers.CharField()


class ProfileSerializer(serializers.Serializer):
    full_name = serializers.CharField(max_length=150, required=False)
    country = serializers.CharField(max_length=2, required=False)
    region = serializers.CharField(max_length=100, required=False)
    language = serializers.CharField(max_length=10, required=False)
    age_band = serializers.ChoiceField(choices=AgeBand.choices, required=False)


class VerifyEmailSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200)


class PhoneConfirmSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=10)


class ProvideInfoSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    id_document = serializers.FileField(required=False, allow_null=True, default=None)


class SignalSerializer(serializers.ModelSerializer):
    class Meta:
        model = RegistrationSignal
        fields = ["code", "weight", "detail"]


class OwnRegistrationSerializer(serializers.ModelSerializer):
    """What an applicant sees of their own registration: progress and deadline, never the risk signals."""

    email = serializers.EmailField(source="user.email")
    deadline = serializers.SerializerMethodField()

    class Meta:
        model = Registration
        fields = [
            "id",
            "email",
            "status",
            "started_at",
            "email_verified_at",
            "phone_verified_at",
            "profile_completed_at",
            "submitted_at",
            "decided_at",
            "deadline",
            "info_request",
        ]

    def get_deadline(self, obj: Registration) -> str | None:
        clock = sla.clock_open_for(metric=services.METRIC, target=obj)
        return clock.due_at.isoformat() if clock and clock.state == "running" else None


class StaffRegistrationSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email")
    full_name = serializers.CharField(source="user.full_name")
    country = serializers.CharField(source="user.country")
    signals = SignalSerializer(many=True)
    due_at = serializers.DateTimeField(allow_null=True)
    is_at_risk = serializers.BooleanField()
    is_breached = serializers.BooleanField()
    claimed_by = serializers.EmailField(source="claimed_by.email", read_only=True, allow_null=True)
    decided_by = serializers.EmailField(source="decided_by.email", read_only=True, allow_null=True)

    class Meta:
        model = Registration
        fields = [
            "id",
            "email",
            "full_name",
            "country",
            "status",
            "risk_score",
            "signals",
            "submitted_at",
            "due_at",
            "is_at_risk",
            "is_breached",
            "claimed_by",
            "decided_by",
            "decided_at",
            "decision_reason",
            "auto_approved",
            "device_type",
        ]


class DecisionSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    delay_cause = serializers.ChoiceField(choices=DelayCause.choices, required=False, allow_blank=True, default="")
    delay_note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


# --- The applicant's own registration ----------------------------------------------------------------


def own_registration(request: Request) -> Registration:
    return get_object_or_404(Registration.objects.select_related("user"), user=request.user)


class SignupAcceptedSerializer(serializers.Serializer):
    email = serializers.EmailField()
    detail = serializers.CharField()


SIGNUP_ACCEPTED = (
    "Thank you. We sent an e-mail to this address: follow its link to confirm the address, then sign in with the "
    "address and your password (POST /api/v1/auth/token/) to follow and complete your registration."
)


class RegistrationCreateView(APIView):
    """Sign up. The answer is the same whether or not the address already has an account (whose owner is told by
    e-mail instead), so sign-up cannot be used to find out who is registered. The applicant then signs in with the
    address and password (POST /api/v1/auth/token/) for the token the next steps need."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "registration"

    @extend_schema(request=SignupSerializer, responses={202: SignupAcceptedSerializer})
    def post(self, request: Request) -> Response:
        data = SignupSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        submit = values.pop("submit")
        registration = services.registration_request(
            **values, ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")
        )
        if registration is not None and submit:
            services.registration_submit(registration=registration)
        body = {"email": values["email"].strip().lower(), "detail": SIGNUP_ACCEPTED}
        return Response(SignupAcceptedSerializer(body).data, status=status.HTTP_202_ACCEPTED)


class SignupStartView(APIView):
    """The user opened the sign-up form: the first step of the registration funnel (document 001's conversion rate
    counts the visitors who complete the registration against those who start it). Send the returned key with the
    sign-up."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "registration_start"

    @extend_schema(request=SignupStartSerializer, responses={201: SignupStartedSerializer})
    def post(self, request: Request) -> Response:
        data = SignupStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        start = services.signup_start_record(
            token=services.signup_start_token(),
            channel=SignUpStart.Channel.API,
            campaign=data.validated_data["campaign"],
        )
        return Response(SignupStartedSerializer({"start": start.token}).data, status=status.HTTP_201_CREATED)


class OwnRegistrationView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=OwnRegistrationSerializer)
    def get(self, request: Request) -> Response:
        return Response(OwnRegistrationSerializer(own_registration(request)).data)

    @extend_schema(request=ProfileSerializer, responses=OwnRegistrationSerializer)
    def patch(self, request: Request) -> Response:
        data = ProfileSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        registration = services.registration_update_profile(
            registration=own_registration(request), **data.validated_data
        )
        return Response(OwnRegistrationSerializer(registration).data)


class SubmitView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=OwnRegistrationSerializer)
    def post(self, request: Request) -> Response:
        registration = services.registration_submit(registration=own_registration(request))
        return Response(OwnRegistrationSerializer(registration).data)


class VerifyEmailView(APIView):
    """Confirm the e-mail address with the token from the verification link (no sign-in needed)."""

    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "verification"

    @extend_schema(request=VerifyEmailSerializer, responses=OwnRegistrationSerializer)
    def post(self, request: Request) -> Response:
        data = VerifyEmailSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        registration = services.email_verify(token=data.validated_data["token"])
        return Response(OwnRegistrationSerializer(registration).data)


class ResendEmailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={202: None})
    def post(self, request: Request) -> Response:
        services.email_verification_send(registration=own_registration(request))
        return Response(status=status.HTTP_202_ACCEPTED)


class PhoneSendView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={202: None})
    def post(self, request: Request) -> Response:
        services.phone_code_send(registration=own_registration(request))
        return Response(status=status.HTTP_202_ACCEPTED)


class PhoneConfirmView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "verification"

    @extend_schema(request=PhoneConfirmSerializer, responses=OwnRegistrationSerializer)
    def post(self, request: Request) -> Response:
        # Without a registration there is nothing to confirm (404), whatever the body holds.
        registration = own_registration(request)
        data = PhoneConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        registration = services.phone_code_confirm(registration=registration, code=data.validated_data["code"])
        return Response(OwnRegistrationSerializer(registration).data)


class ProvideInfoView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(request=ProvideInfoSerializer, responses=OwnRegistrationSerializer)
    def post(self, request: Request) -> Response:
        data = ProvideInfoSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        registration = services.registration_provide_info(registration=own_registration(request), **data.validated_data)
        return Response(OwnRegistrationSerializer(registration).data)


# --- Staff review ------------------------------------------------------------------------------------


class RegistrationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=RegistrationStatus.choices, method="noop")
    reason = django_filters.ChoiceFilter(choices=RegistrationSignal.Code.choices, method="noop")
    risk_min = django_filters.NumberFilter(method="noop")
    risk_max = django_filters.NumberFilter(method="noop")
    country = django_filters.CharFilter(max_length=2, method="noop")
    q = django_filters.CharFilter(max_length=100, method="noop")

    class Meta:
        model = Registration
        fields: list[str] = []

    def noop(self, queryset: Any, name: str, value: Any) -> Any:
        # The selector applies the filters; the FilterSet validates them and documents them in the schema.
        return queryset

    @property
    def qs(self) -> Any:
        data = self.form.cleaned_data if self.is_bound and self.form.is_valid() else {}
        return selectors.registration_queue(**{k: v for k, v in data.items() if v not in (None, "")})


class StaffRegistrationList(generics.ListAPIView):
    """The review queue: pending registrations, soonest deadline first (reviewers and administrators)."""

    permission_classes = [CanReview]
    serializer_class = StaffRegistrationSerializer
    filterset_class = RegistrationFilter
    pagination_class = KeysetPagination

    def get_queryset(self) -> Any:
        # RegistrationFilter.qs builds the queue from the validated filters; building it here too cost every
        # request a second set of joins and annotations, thrown away.
        return Registration.objects.all()


class StaffRegistrationDetail(generics.RetrieveAPIView):
    permission_classes = [CanReview]
    serializer_class = StaffRegistrationSerializer

    def get_object(self) -> Registration:
        try:
            return selectors.registration_detail(pk=int(self.kwargs["pk"]))
        except Registration.DoesNotExist:
            raise NotFound() from None


class _DecisionView(APIView):
    permission_classes = [CanReview]
    decision = ""

    @extend_schema(request=DecisionSerializer, responses=StaffRegistrationSerializer)
    def post(self, request: Request, pk: int) -> Response:
        registration = get_object_or_404(Registration, pk=pk)
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        action = services.registration_approve if self.decision == "approve" else services.registration_reject
        action(registration=registration, by=cast(User, request.user), **data.validated_data)
        return Response(StaffRegistrationSerializer(selectors.registration_detail(pk=pk)).data)


class ApproveView(_DecisionView):
    decision = "approve"


class RejectView(_DecisionView):
    decision = "reject"
