"""Accounts: token sign-in, the user's self-service (password, e-mail, preferences, data, 2FA, feedback)."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth import update_session_auth_hash
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import security, self_service, services
from accounts.events import Client, client_of
from accounts.models import AccountPreferences, AccountSession, AgeBand, FeatureRelease, Feedback, User
from saypro import periods
from saypro.clientip import ScopedRateThrottle

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
