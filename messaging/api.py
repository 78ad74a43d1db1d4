"""The messaging API: a user's own conversations with the admin team, and the staff inbox and actions."""

from __future__ import annotations

from typing import Any, cast

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.identity import staff_public_name
from accounts.models import User
from saypro.api import KeysetPagination
from saypro.parsers import JSONParser
from saypro.permissions import has_perm

from . import selectors, services
from .models import Attachment, Category, Conversation, Message, MessageKind, Status
from .selectors import View

CanView = has_perm("messaging.view_conversation")
CanReply = has_perm("messaging.reply_conversation")
CanStart = has_perm("messaging.start_conversation")
CanAssign = has_perm("messaging.assign_conversation")
CanEscalate = has_perm("messaging.escalate_conversation")
PARSERS = [MultiPartParser, FormParser, JSONParser]


# --- Serializers ------------------------------------------------------------------------------------


class ConversationAttachmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attachment
        fields = ["id", "name", "size", "content_type"]


class ConversationMessageSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    attachments = ConversationAttachmentSerializer(many=True, read_only=True)
    hidden = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = ["id", "kind", "author", "body", "created_at", "hidden", "attachments"]

    def get_author(self, obj: Message) -> str:
        if obj.kind == MessageKind.USER:
            return obj.author.get_full_name() if obj.author else ""
        if obj.kind == MessageKind.AUTO:
            return "SayPro"
        return staff_public_name(obj.author, fallback="SayPro") if obj.author else "SayPro"

    def get_hidden(self, obj: Message) -> bool:
        return obj.hidden_at is not None


class OwnConversationSerializer(serializers.ModelSerializer):
    """What a user sees of their conversation: never the team's notes, routing or classifier details."""

    unread = serializers.BooleanField(read_only=True, default=False)

    class Meta:
        model = Conversation
        fields = ["id", "subject", "status", "created_at", "last_message_at", "listing_ref", "unread"]


class OwnConversationDetailSerializer(OwnConversationSerializer):
    messages = serializers.SerializerMethodField()

    class Meta(OwnConversationSerializer.Meta):
        fields = [*OwnConversationSerializer.Meta.fields, "messages"]

    @extend_schema_field(ConversationMessageSerializer(many=True))
    def get_messages(self, obj: Conversation) -> Any:
        return ConversationMessageSerializer(selectors.thread(conversation=obj, staff=False), many=True).data


class NewConversationSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=services.MAX_SUBJECT, required=False, allow_blank=True, default="")
    body = serializers.CharField(max_length=services.MAX_BODY, trim_whitespace=False, allow_blank=True)
    ad_category = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    listing_ref = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    attachments = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class OwnConversationMessageSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=services.MAX_BODY, trim_whitespace=False, allow_blank=True)
    attachments = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class ConversationPersonSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "full_name"]


class StaffConversationSerializer(serializers.ModelSerializer):
    user = ConversationPersonSerializer(read_only=True)
    assigned_to = ConversationPersonSerializer(read_only=True, allow_null=True)
    first_response_due = serializers.DateTimeField(source="fr_due", read_only=True, allow_null=True)
    first_response_state = serializers.CharField(source="fr_state", read_only=True, allow_null=True)
    resolution_due = serializers.DateTimeField(source="res_due", read_only=True, allow_null=True)
    resolution_state = serializers.CharField(source="res_state", read_only=True, allow_null=True)
    is_at_risk = serializers.BooleanField(read_only=True)
    is_breached = serializers.BooleanField(read_only=True)

    class Meta:
        model = Conversation
        fields = [
            "id",
            "user",
            "subject",
            "initiated_by",
            "status",
            "category",
            "category_source",
            "category_confidence",
            "suggested_category",
            "team",
            "assigned_to",
            "language",
            "region",
            "ad_category",
            "listing_ref",
            "created_at",
            "last_message_at",
            "awaiting_reply_since",
            "first_response_at",
            "first_response_due",
            "first_response_state",
            "resolution_due",
            "resolution_state",
            "is_at_risk",
            "is_breached",
            "escalated_at",
            "escalation_reason",
            "resolved_at",
            "ticket_ref",
        ]


class StaffConversationDetailSerializer(StaffConversationSerializer):
    messages = serializers.SerializerMethodField()

    class Meta(StaffConversationSerializer.Meta):
        fields = [*StaffConversationSerializer.Meta.fields, "messages"]

    @extend_schema_field(ConversationMessageSerializer(many=True))
    def get_messages(self, obj: Conversation) -> Any:
        return ConversationMessageSerializer(selectors.thread(conversation=obj, staff=True), many=True).data


class StartConversationSerializer(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_staff=False))
    subject = serializers.CharField(max_length=services.MAX_SUBJECT)
    body = serializers.CharField(max_length=services.MAX_BODY, trim_whitespace=False, allow_blank=True)
    category = serializers.ChoiceField(choices=Category.choices, required=False, allow_blank=True, default="")
    listing_ref = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    ad_category = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    attachments = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class StaffMessageSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=services.MAX_BODY, trim_whitespace=False, allow_blank=True)
    internal = serializers.BooleanField(default=False, help_text="An internal note instead of a reply.")
    then = serializers.ChoiceField(choices=services.Then.CHOICES, default=services.Then.WAIT)
    attachments = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class ConversationCategorySerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=Category.choices)


class ConversationTransferSerializer(serializers.Serializer):
    to = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_staff=True), allow_null=True)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class EscalationSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class ResolutionNoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ConversationInboxFilterSerializer(serializers.Serializer):
    view = serializers.ChoiceField(choices=View.CHOICES, required=False, default=View.ALL)
    category = serializers.ChoiceField(choices=[("none", "none"), *Category.choices], required=False)
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    region = serializers.CharField(max_length=100, required=False)
    ad_category = serializers.CharField(max_length=60, required=False)
    q = serializers.CharField(max_length=100, required=False)
    at_risk = serializers.BooleanField(required=False, default=False)
    breached = serializers.BooleanField(required=False, default=False)


# --- The user's own conversations -------------------------------------------------------------------


def _own(request: Request, pk: int) -> Conversation:
    try:
        return selectors.conversation_for_user(user=cast(User, request.user), pk=pk)
    except Conversation.DoesNotExist:
        raise NotFound("No such conversation.") from None


class OwnConversationList(generics.ListAPIView):
    """The user's conversations with the admin team (GET), or a new one (POST, multipart for attachments)."""

    permission_classes = [IsAuthenticated]
    serializer_class = OwnConversationSerializer
    pagination_class = KeysetPagination
    parser_classes = PARSERS

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no signed-in user
            return Conversation.objects.none()
        return selectors.own_conversations(user=cast(User, self.request.user))

    @extend_schema(request=NewConversationSerializer, responses={201: OwnConversationDetailSerializer})
    def post(self, request: Request) -> Response:
        data = NewConversationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        conversation = services.conversation_start(user=cast(User, request.user), **data.validated_data)
        return Response(OwnConversationDetailSerializer(conversation).data, status=status.HTTP_201_CREATED)


class OwnConversationDetail(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=OwnConversationDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(OwnConversationDetailSerializer(_own(request, pk)).data)


class OwnMessageCreate(APIView):
    """Add to the conversation (reopens it when resolved)."""

    permission_classes = [IsAuthenticated]
    parser_classes = PARSERS

    @extend_schema(request=OwnConversationMessageSerializer, responses={201: ConversationMessageSerializer})
    def post(self, request: Request, pk: int) -> Response:
        conversation = _own(request, pk)
        data = OwnConversationMessageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = services.message_send(conversation=conversation, user=cast(User, request.user), **data.validated_data)
        return Response(ConversationMessageSerializer(message).data, status=status.HTTP_201_CREATED)


class OwnReadView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, pk: int) -> Response:
        services.conversation_mark_read(conversation=_own(request, pk), by=cast(User, request.user))
        return Response(status=status.HTTP_204_NO_CONTENT)


class OwnAttachmentView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: OpenApiResponse(description="The file.")})
    def get(self, request: Request, pk: int, attachment_id: int) -> FileResponse:
        from .views import attachment_response

        conversation = _own(request, pk)
        item = Attachment.objects.filter(
            pk=attachment_id,
            message__conversation=conversation,
            message__kind__in=[MessageKind.USER, MessageKind.REPLY],
        ).first()
        if item is None:
            raise Http404("No such attachment.")
        return attachment_response(item)


# --- Staff ------------------------------------------------------------------------------------------


def _staff_conversation(pk: int) -> Conversation:
    try:
        return selectors.conversation_get(pk=pk)
    except Conversation.DoesNotExist:
        raise NotFound("No such conversation.") from None


class StaffConversationList(generics.ListAPIView):
    """The agent inbox (GET, soonest deadline first, with the views and filters of the page) and outbound
    conversations (POST: the team writes to a user first)."""

    permission_classes = [CanView]
    serializer_class = StaffConversationSerializer
    pagination_class = KeysetPagination
    parser_classes = PARSERS

    def get_queryset(self) -> Any:
        filters = ConversationInboxFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.inbox(user=cast(User, self.request.user), **filters.validated_data)

    @extend_schema(request=StartConversationSerializer, responses={201: StaffConversationDetailSerializer})
    def post(self, request: Request) -> Response:
        if not request.user.has_perm("messaging.start_conversation"):
            self.permission_denied(request, message="Your role does not allow this.")
        data = StartConversationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        conversation = services.conversation_start_by_staff(by=cast(User, request.user), **data.validated_data)
        return Response(
            StaffConversationDetailSerializer(_staff_conversation(conversation.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class StaffConversationDetail(APIView):
    permission_classes = [CanView]

    @extend_schema(responses=StaffConversationDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(StaffConversationDetailSerializer(_staff_conversation(pk)).data)


class StaffMessageCreate(APIView):
    """A reply to the user (support agents), or with `internal` an internal note (anyone who sees the thread)."""

    permission_classes = [CanView]
    parser_classes = PARSERS

    @extend_schema(request=StaffMessageSerializer, responses={201: ConversationMessageSerializer})
    def post(self, request: Request, pk: int) -> Response:
        conversation = _staff_conversation(pk)
        data = StaffMessageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        by = cast(User, request.user)
        if values["internal"]:
            message = services.note_add(conversation=conversation, by=by, body=values["body"])
        else:
            if not by.has_perm("messaging.reply_conversation"):
                self.permission_denied(request, message="Only support agents answer users.")
            message = services.reply_send(
                conversation=conversation,
                by=by,
                body=values["body"],
                then=values["then"],
                attachments=values["attachments"],
            )
        return Response(ConversationMessageSerializer(message).data, status=status.HTTP_201_CREATED)


class _Action(APIView):
    """One action on a conversation; answers with the conversation as it now stands."""

    serializer: type[serializers.Serializer] | None = None

    def act(self, conversation: Conversation, by: User, data: dict[str, Any]) -> None:
        raise NotImplementedError

    @extend_schema(request=None, responses=StaffConversationDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        conversation = get_object_or_404(Conversation, pk=pk)
        data: dict[str, Any] = {}
        if self.serializer is not None:
            parsed = self.serializer(data=request.data)
            parsed.is_valid(raise_exception=True)
            data = dict(parsed.validated_data)
        self.act(conversation, cast(User, request.user), data)
        return Response(StaffConversationDetailSerializer(_staff_conversation(pk)).data)


@extend_schema_view(
    post=extend_schema(request=ConversationCategorySerializer, responses=StaffConversationDetailSerializer)
)
class CategoryView(_Action):
    permission_classes = [CanReply]
    serializer = ConversationCategorySerializer

    def act(self, conversation: Conversation, by: User, data: dict[str, Any]) -> None:
        services.conversation_categorise(conversation=conversation, by=by, category=data["category"])


class ClaimView(_Action):
    permission_classes = [CanAssign]

    def act(self, conversation: Conversation, by: User, data: dict[str, Any]) -> None:
        services.conversation_claim(conversation=conversation, by=by)


@extend_schema_view(
    post=extend_schema(request=ConversationTransferSerializer, responses=StaffConversationDetailSerializer)
)
class TransferView(_Action):
    permission_classes = [CanAssign]
    serializer = ConversationTransferSerializer

    def act(self, conversation: Conversation, by: User, data: dict[str, Any]) -> None:
        services.conversation_transfer(conversation=conversation, by=by, to=data["to"], reason=data["reason"])


@extend_schema_view(post=extend_schema(request=ResolutionNoteSerializer, responses=StaffConversationDetailSerializer))
class ResolveView(_Action):
    permission_classes = [CanReply]
    serializer = ResolutionNoteSerializer

    def act(self, conversation: Conversation, by: User, data: dict[str, Any]) -> None:
        services.conversation_resolve(conversation=conversation, by=by, note=data["note"])


class ReopenView(_Action):
    permission_classes = [CanReply]

    def act(self, conversation: Conversation, by: User, data: dict[str, Any]) -> None:
        services.conversation_reopen(conversation=conversation, by=by)


@extend_schema_view(post=extend_schema(request=EscalationSerializer, responses=StaffConversationDetailSerializer))
class EscalateView(_Action):
    permission_classes = [CanEscalate]
    serializer = EscalationSerializer

    def act(self, conversation: Conversation, by: User, data: dict[str, Any]) -> None:
        services.conversation_escalate(conversation=conversation, by=by, reason=data["reason"])


class ConvertView(_Action):
    permission_classes = [CanReply]

    def act(self, conversation: Conversation, by: User, data: dict[str, Any]) -> None:
        services.conversation_convert_to_ticket(conversation=conversation, by=by)
