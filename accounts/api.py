"""The registration API: the applicant's own sign-up and verification, and staff review."""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django.contrib.auth import update_session_auth_hash
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from saypro import periods
from saypro.api import KeysetPagination
from saypro.clientip import ScopedRateThrottle, client_ip
from saypro.permissions import has_perm
from saypro.sla import services as sla

from . import security, selectors, self_service, services
from .events import Client, client_of
from .models import (
    AccountEvent,
    AccountPreferences,
    AccountSession,
    AgeBand,
    DelayCause,
    FeatureRelease,
    Feedback,
    Registration,
    RegistrationSignal,
    RegistrationStatus,
    SignUpStart,
    User,
)

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
        return selectors.registration_queue()


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


# --- Accounts: sign-in, self-service, staff account actions -------------------------------------------------


def _client(request: Request) -> Client:
    return client_of(request, AccountSession.Channel.API)


class TokenSignInSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, style={"input_type": "password"})
    otp = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")


class AccountSerializer(serializers.ModelSerializer):
    two_factor = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "full_name",
            "phone",
            "country",
            "region",
            "language",
            "age_band",
            "status",
            "date_joined",
            "email_verified_at",
            "phone_verified_at",
            "two_factor",
        ]
        read_only_fields = ["id", "email", "status", "date_joined", "email_verified_at", "phone_verified_at"]

    def get_two_factor(self, obj: User) -> bool:
        return security.has_two_factor(obj)


class AccountUpdateSerializer(serializers.Serializer):
    full_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    country = serializers.CharField(max_length=2, required=False, allow_blank=True)
    region = serializers.CharField(max_length=100, required=False, allow_blank=True)
    language = serializers.CharField(max_length=10, required=False, allow_blank=True)
    age_band = serializers.ChoiceField(choices=AgeBand.choices, required=False, allow_blank=True)


class PasswordChangeSerializer(serializers.Serializer):
    current_password = serializers.CharField(max_length=128, write_only=True)
    new_password = serializers.CharField(max_length=128, write_only=True)


class PasswordResetSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(max_length=128, write_only=True)


class EmailChangeSerializer(serializers.Serializer):
    new_email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=500)


class PreferencesSerializer(serializers.ModelSerializer):
    class Meta:
        model = AccountPreferences
        fields = [
            "email_notifications",
            "sms_notifications",
            "product_updates",
            "marketing_opt_in",
            "data_processing_consent",
            "consent_policy_version",
            "consent_at",
        ]
        read_only_fields = ["consent_policy_version", "consent_at"]
        extra_kwargs = {name: {"required": False} for name in fields}


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class FeedbackSerializer(serializers.ModelSerializer):
    class Meta:
        model = Feedback
        fields = ["id", "topic", "score", "comment", "created_at"]
        read_only_fields = ["id", "created_at"]


class TwoFactorSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["begin", "confirm", "regenerate", "disable"])
    code = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")


class TokenSignInView(APIView):
    """Sign in with e-mail and password (and the two-factor code, when the account has one): returns an API
    token. Every attempt is recorded; repeated failures lock the address for a while."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "registration"

    @extend_schema(request=TokenSignInSerializer, responses={200: AccountSerializer})
    def post(self, request: Request) -> Response:
        data = TokenSignInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        client = _client(request)
        user = security.sign_in_check(
            email=data.validated_data["email"], password=data.validated_data["password"], client=client
        )
        used = ""
        if security.two_factor_required(user) and not security.has_two_factor(user):
            raise security.AccountRestricted(
                "Your role requires two-factor sign-in: set it up on the web first.", code="second_factor_setup"
            )
        if security.has_two_factor(user):
            if not data.validated_data["otp"]:
                raise security.SecondFactorRequired()
            device = security.second_factor_verify(user=user, code=data.validated_data["otp"], client=client)
            used = "recovery_code" if device.__class__.__name__ == "StaticDevice" else "totp"
        token, _ = Token.objects.get_or_create(user=user)
        security.sign_in_complete(user=user, client=client, key=token.key, second_factor=used)
        return Response({**AccountSerializer(user).data, "token": token.key})


class TokenSignOutView(APIView):
    """Sign out: the token stops working."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        if request.auth is not None:
            security.sign_out_record(user=cast(User, request.user), client=_client(request), key=request.auth.key)
            request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetView(APIView):
    """Ask for a password-reset link by e-mail; the answer is the same whether or not the address is known."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "verification"

    @extend_schema(request=PasswordResetSerializer, responses={202: None})
    def post(self, request: Request) -> Response:
        data = PasswordResetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        self_service.password_reset_request(email=data.validated_data["email"], client=_client(request))
        return Response(status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "verification"

    @extend_schema(request=PasswordResetConfirmSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        data = PasswordResetConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        self_service.password_reset_complete(
            uidb64=data.validated_data["uid"],
            token=data.validated_data["token"],
            new_password=data.validated_data["new_password"],
            client=_client(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class AccountView(APIView):
    """The signed-in user's own account: read and update the profile."""

    @extend_schema(responses=AccountSerializer)
    def get(self, request: Request) -> Response:
        return Response(AccountSerializer(request.user).data)

    @extend_schema(request=AccountUpdateSerializer, responses=AccountSerializer)
    def patch(self, request: Request) -> Response:
        data = AccountUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        user = self_service.profile_update(
            user=cast(User, request.user), client=_client(request), **data.validated_data
        )
        return Response(AccountSerializer(user).data)


class PasswordChangedSerializer(serializers.Serializer):
    token = serializers.CharField(
        allow_null=True,
        help_text="The new API token of this device (the old one, and every other device's, stopped working); "
        "null when the change was made through a web session.",
    )


class PasswordChangeView(APIView):
    """Change the password: every other session is signed out and every API token revoked; the device that made
    the change gets a new token in the answer."""

    @extend_schema(request=PasswordChangeSerializer, responses=PasswordChangedSerializer)
    def post(self, request: Request) -> Response:
        data = PasswordChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token = request.auth if isinstance(request.auth, Token) else None
        changed = self_service.password_change(
            user=cast(User, request.user),
            client=_client(request),
            keep_session="" if token is not None else (request.session.session_key or ""),
            keep_token=token.key if token is not None else "",
            **data.validated_data,
        )
        if token is None:
            # The session's hash covers the password: re-sign it, or this tab would be signed out too.
            update_session_auth_hash(request._request, changed.user)
        return Response({"token": changed.token or None})


class EmailChangeView(APIView):
    """Ask to use a new e-mail address; it takes effect when the link sent to it is followed."""

    @extend_schema(request=EmailChangeSerializer, responses={202: None})
    def post(self, request: Request) -> Response:
        data = EmailChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        self_service.email_change_request(user=cast(User, request.user), client=_client(request), **data.validated_data)
        return Response(status=status.HTTP_202_ACCEPTED)


class EmailChangeConfirmView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(request=TokenSerializer, responses=AccountSerializer)
    def post(self, request: Request) -> Response:
        data = TokenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = self_service.email_change_confirm(token=data.validated_data["token"], client=_client(request))
        return Response(AccountSerializer(user).data)


class PreferencesView(APIView):
    """Notification and e-mail preferences, marketing opt-in and data-processing consent."""

    @extend_schema(responses=PreferencesSerializer)
    def get(self, request: Request) -> Response:
        return Response(PreferencesSerializer(self_service.preferences_get(cast(User, request.user))).data)

    @extend_schema(request=PreferencesSerializer, responses=PreferencesSerializer)
    def patch(self, request: Request) -> Response:
        data = PreferencesSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        preferences = self_service.preferences_update(
            user=cast(User, request.user), client=_client(request), **data.validated_data
        )
        return Response(PreferencesSerializer(preferences).data)


class DataExportView(APIView):
    """Download everything SayPro keeps about the signed-in user, as JSON."""

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        data = self_service.user_data_export(user=cast(User, request.user), client=_client(request))
        response = Response(data)
        response["Content-Disposition"] = 'attachment; filename="saypro-my-data.json"'
        return response


class DeletionRequestView(APIView):
    """Ask for the account to be deleted (an administrator completes it; personal data is anonymised)."""

    @extend_schema(request=ReasonSerializer, responses={202: None})
    def post(self, request: Request) -> Response:
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        self_service.deletion_request(
            user=cast(User, request.user), reason=data.validated_data["reason"], client=_client(request)
        )
        return Response(status=status.HTTP_202_ACCEPTED)


class DeactivateView(APIView):
    """Deactivate the account; signing in again reactivates it."""

    @extend_schema(request=ReasonSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.account_deactivate(
            user=cast(User, request.user), reason=data.validated_data["reason"], client=_client(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class FeedbackView(APIView):
    """Rate the registration or account experience (1–5), or answer the NPS question (0–10)."""

    @extend_schema(request=FeedbackSerializer, responses={201: FeedbackSerializer})
    def post(self, request: Request) -> Response:
        data = FeedbackSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        feedback = self_service.feedback_submit(user=cast(User, request.user), **data.validated_data)
        return Response(FeedbackSerializer(feedback).data, status=status.HTTP_201_CREATED)


class FeatureReleaseSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    released_on = serializers.DateField()


class FeatureUseSerializer(serializers.Serializer):
    feature = serializers.SlugField(max_length=50)


class FeaturesView(APIView):
    """Newly released features whose use SayPro follows. The app lists them here and reports each use by the
    signed-in user (POST with the feature's key); the reports show who uses what since its release."""

    @extend_schema(responses=FeatureReleaseSerializer(many=True))
    def get(self, request: Request) -> Response:
        released = FeatureRelease.objects.filter(released_on__lte=periods.today())
        return Response(FeatureReleaseSerializer(released, many=True).data)

    @extend_schema(request=FeatureUseSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        data = FeatureUseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        self_service.feature_use_record(user=cast(User, request.user), key=data.validated_data["feature"])
        return Response(status=status.HTTP_204_NO_CONTENT)


NPS_QUESTION = "How likely are you to recommend SayPro to a friend or colleague?"


class NpsPromptSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    topic = serializers.CharField()
    question = serializers.CharField()
    low = serializers.IntegerField(help_text="0: not at all likely")
    high = serializers.IntegerField(help_text="10: extremely likely")
    after = serializers.CharField(help_text="The account change the question follows.")
    asked_at = serializers.DateTimeField()


class NpsPromptsView(APIView):
    """Questions waiting for the signed-in user: after they manage their account, at most once a quarter, the app
    asks "How likely are you to recommend SayPro?". Answer with POST /api/v1/account/feedback/ (topic "nps")."""

    @extend_schema(responses=NpsPromptSerializer(many=True))
    def get(self, request: Request) -> Response:
        prompts = [
            {"id": p.pk, "topic": "nps", "question": NPS_QUESTION, "low": 0, "high": 10, "after": p.after,
             "asked_at": p.asked_at}
            for p in self_service.nps_prompts_open(cast(User, request.user))
        ]  # fmt: skip
        return Response(NpsPromptSerializer(prompts, many=True).data)


class TwoFactorView(APIView):
    """Two-factor sign-in for the signed-in user: begin (returns the secret and an otpauth:// URL), confirm with
    the first code (returns the recovery codes, shown once), regenerate the recovery codes, or disable."""

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        user = cast(User, request.user)
        return Response(
            {"enabled": security.has_two_factor(user), "recovery_codes_left": security.recovery_codes_left(user)}
        )

    @extend_schema(request=TwoFactorSerializer, responses={200: dict})
    def post(self, request: Request) -> Response:
        data = TwoFactorSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user, client = cast(User, request.user), _client(request)
        action, code = data.validated_data["action"], data.validated_data["code"]
        if action == "begin":
            setup = security.two_factor_begin(user=user)
            return Response({"secret": setup.secret, "config_url": setup.config_url})
        if action == "confirm":
            _, codes = security.two_factor_confirm(user=user, code=code, client=client)
            return Response({"enabled": True, "recovery_codes": codes})
        if action == "regenerate":
            return Response({"recovery_codes": security.recovery_codes_regenerate(user=user, client=client)})
        security.two_factor_disable(user=user, by=user, client=client, code=code)
        return Response({"enabled": False})


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
