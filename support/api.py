"""The support API: users' own tickets, "Report an issue", live chat hours, guidance and help-center search, the
points balance; and the staff queue."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils.crypto import constant_time_compare
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.identity import staff_public_name
from accounts.models import User
from saypro.api import KeysetPagination
from saypro.clientip import ScopedRateThrottle
from saypro.files import private_file_response
from saypro.permissions import has_perm

from . import selectors, services
from .models import (
    Article,
    Channel,
    Department,
    Guidance,
    PointsEntry,
    Priority,
    Status,
    Ticket,
    TicketAttachment,
    TicketMessage,
)

CanViewTickets = has_perm("support.view_ticket")
CanAnswer = has_perm(services.ANSWER_PERMISSION)
# What a user may choose when filing; "conversation" tickets come from messaging, "in_app" from Report an issue.
USER_CHANNELS = [(c.value, c.label) for c in (Channel.WEB, Channel.EMAIL, Channel.CHAT, Channel.SOCIAL, Channel.IN_APP)]


# --- Serializers ------------------------------------------------------------------------------------------------


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    size = serializers.IntegerField()
    content_type = serializers.CharField()


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = TicketMessage
        fields = ["id", "kind", "author", "body", "created_at", "attachments"]

    def get_author(self, obj: TicketMessage) -> str:
        if obj.kind == TicketMessage.Kind.REQUESTER:
            return "you"
        return staff_public_name(obj.author, fallback="SayPro support") if obj.author else "SayPro support"


class OwnTicketSerializer(serializers.ModelSerializer):
    department = serializers.CharField(source="department.name", allow_null=True, read_only=True)

    class Meta:
        model = Ticket
        fields = [
            "id",
            "subject",
            "body",
            "channel",
            "category",
            "department",
            "priority",
            "status",
            "created_at",
            "updated_at",
            "first_responded_at",
            "solved_at",
        ]


class OwnTicketDetailSerializer(OwnTicketSerializer):
    messages = serializers.SerializerMethodField()

    class Meta(OwnTicketSerializer.Meta):
        fields = [*OwnTicketSerializer.Meta.fields, "messages"]

    @extend_schema(responses=MessageSerializer(many=True))
    def get_messages(self, obj: Ticket) -> list[dict[str, Any]]:
        return MessageSerializer(selectors.public_messages(ticket=obj), many=True).data  # type: ignore[return-value]


class ChatAvailabilitySerializer(serializers.Serializer):
    available = serializers.BooleanField(help_text="False: the message became an e-mail ticket.")
    reason = serializers.ChoiceField(
        choices=["", services.CLOSED, services.NO_AGENT], help_text="Outside the hours, or nobody on shift."
    )
    opens_at = serializers.DateTimeField(allow_null=True, help_text="When chat is expected to open next.")
    detail = serializers.CharField()


class OwnTicketCreatedSerializer(OwnTicketDetailSerializer):
    chat = serializers.SerializerMethodField(help_text="For channel chat: whether it reached live chat; else null.")

    class Meta(OwnTicketDetailSerializer.Meta):
        fields = [*OwnTicketDetailSerializer.Meta.fields, "chat"]

    @extend_schema_field(ChatAvailabilitySerializer(allow_null=True))
    def get_chat(self, obj: Ticket) -> dict[str, Any] | None:
        return self.context.get("chat")


class TicketCreateSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    body = serializers.CharField(max_length=services.BODY_MAX)
    channel = serializers.ChoiceField(choices=USER_CHANNELS, default=Channel.WEB)
    cc = serializers.ListField(child=serializers.CharField(max_length=254), required=False, default=list, max_length=10)
    guidance = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="The guidance id.")
    attachments = serializers.ListField(child=serializers.FileField(), required=False, default=list, max_length=5)


class ReplySerializer(serializers.Serializer):
    body = serializers.CharField(max_length=services.BODY_MAX)
    attachments = serializers.ListField(child=serializers.FileField(), required=False, default=list, max_length=5)


class ReportIssueSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=services.BODY_MAX)
    subject = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    page = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    app_version = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    device = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    listing_id = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    transaction_id = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    log = serializers.CharField(
        max_length=64_000,
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text=f"A client log excerpt; the last {services.CLIENT_LOG_MAX:,} characters are kept.",
    )


class InboundEmailSerializer(serializers.Serializer):
    sender = serializers.EmailField()
    subject = serializers.CharField(max_length=998, allow_blank=True, default="")
    text = serializers.CharField(max_length=services.BODY_MAX)
    message_id = serializers.CharField(max_length=90, required=False, allow_blank=True, default="")


class LiveChatSerializer(serializers.Serializer):
    open = serializers.BooleanField()
    hours = serializers.CharField()
    time_zone = serializers.CharField()
    opens_at = serializers.DateTimeField(allow_null=True)
    closes_at = serializers.DateTimeField(allow_null=True)


class ArticleSerializer(serializers.ModelSerializer):
    category = serializers.CharField(source="category.name")
    url = serializers.SerializerMethodField()

    class Meta:
        model = Article
        fields = ["id", "title", "category", "url", "updated_at"]

    def get_url(self, obj: Article) -> str:
        return f"/help/{obj.category.slug}/{obj.slug}/"


class GuidanceQuestionSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=1000)


class GuidanceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    confidence = serializers.FloatField(help_text="0–1: how well the best article matches the question.")
    articles = serializers.ListField(child=serializers.DictField())


class GuidanceReadSerializer(serializers.Serializer):
    article = serializers.IntegerField()


class PointsSerializer(serializers.Serializer):
    balance = serializers.IntegerField()
    entries = serializers.ListField(child=serializers.DictField())


class StaffTicketSerializer(serializers.ModelSerializer):
    requester = serializers.EmailField(source="requester.email")
    assignee = serializers.EmailField(source="assignee.email", allow_null=True, read_only=True)
    department = serializers.CharField(source="department.slug", allow_null=True, read_only=True)
    due_at = serializers.DateTimeField(allow_null=True)
    first_response_due = serializers.DateTimeField(source="first_response_due_at", allow_null=True)
    is_at_risk = serializers.BooleanField()
    is_breached = serializers.BooleanField()

    class Meta:
        model = Ticket
        fields = [
            "id",
            "subject",
            "requester",
            "channel",
            "category",
            "department",
            "priority",
            "status",
            "assignee",
            "created_at",
            "first_response_due",
            "due_at",
            "is_at_risk",
            "is_breached",
            "needs_triage",
            "triage_source",
            "triage_confidence",
            "triage_model_version",
        ]


class StaffReplySerializer(serializers.Serializer):
    body = serializers.CharField(max_length=services.BODY_MAX)
    public = serializers.BooleanField(default=True)
    status = serializers.ChoiceField(
        choices=Status.choices, allow_blank=True, default="", required=False, help_text="Empty: unchanged."
    )
    macro = serializers.IntegerField(required=False, allow_null=True, default=None)


# --- The user's own tickets ------------------------------------------------------------------------------------


class OwnTicketList(generics.ListCreateAPIView):
    """The signed-in user's tickets, newest first; POST files a new one."""

    permission_classes = [IsAuthenticated]
    serializer_class = OwnTicketSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Ticket.objects.none()
        return selectors.tickets_of_requester(user=cast(User, self.request.user))

    @extend_schema(request=TicketCreateSerializer, responses={201: OwnTicketCreatedSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = TicketCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        guidance = None
        if values["guidance"] is not None:
            guidance = Guidance.objects.filter(pk=values["guidance"], user=cast(User, request.user)).first()
        fields = {key: values[key] for key in ("subject", "body", "cc", "attachments")}
        chat = None
        if values["channel"] == Channel.CHAT:
            # Outside the hours or with nobody on shift this is an e-mail ticket, and the answer says so.
            ticket, availability = services.chat_open(requester=cast(User, request.user), **fields)
            chat = availability.as_dict()
        else:
            ticket = services.ticket_create(requester=cast(User, request.user), channel=values["channel"], **fields)
        if guidance is not None:
            services.guidance_link_ticket(guidance=guidance, ticket=ticket)
        body = OwnTicketCreatedSerializer(ticket, context={"chat": chat}).data
        return Response(body, status=status.HTTP_201_CREATED)


class OwnTicketDetail(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=OwnTicketDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        ticket = selectors.ticket_for_requester(user=cast(User, request.user), pk=pk)
        return Response(OwnTicketDetailSerializer(ticket).data)


class OwnTicketReply(APIView):
    """The requester answers: a pending ticket opens again, a recently solved one reopens."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(request=ReplySerializer, responses={201: OwnTicketDetailSerializer})
    def post(self, request: Request, pk: int) -> Response:
        ticket = selectors.ticket_for_requester(user=cast(User, request.user), pk=pk)
        data = ReplySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.ticket_requester_reply(ticket=ticket, **data.validated_data)
        ticket.refresh_from_db()
        return Response(OwnTicketDetailSerializer(ticket).data, status=status.HTTP_201_CREATED)


class OwnTicketAttachmentView(APIView):
    """A file on the requester's own ticket, on their messages or the team's replies (never on internal notes)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: OpenApiResponse(description="The file.")})
    def get(self, request: Request, pk: int, attachment_id: int) -> FileResponse:
        ticket = selectors.ticket_for_requester(user=cast(User, request.user), pk=pk)
        item = TicketAttachment.objects.filter(
            pk=attachment_id,
            message__ticket=ticket,
            message__kind__in=[TicketMessage.Kind.REQUESTER, TicketMessage.Kind.REPLY],
        ).first()
        if item is None:
            raise NotFound("No such attachment.")
        return private_file_response(item.file, name=item.name, content_type=item.content_type)


class ReportIssueView(APIView):
    """The marketplace's "Report an issue": a platform-issue ticket with the page, app version, device, listing or
    transaction and a client log excerpt."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "support_report"

    @extend_schema(request=ReportIssueSerializer, responses={201: OwnTicketDetailSerializer})
    def post(self, request: Request) -> Response:
        data = ReportIssueSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = services.platform_issue_report(requester=cast(User, request.user), **data.validated_data)
        return Response(OwnTicketDetailSerializer(ticket).data, status=status.HTTP_201_CREATED)


class InboundEmailView(APIView):
    """The mail gateway posts each e-mail sent to the support address here, with
    `Authorization: Bearer <SUPPORT_INBOUND_EMAIL_TOKEN>`; disabled (404) while the token is not set."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(request=InboundEmailSerializer, responses={201: OwnTicketSerializer})
    def post(self, request: Request) -> Response:
        expected = settings.SUPPORT_INBOUND_EMAIL_TOKEN
        if not expected:
            raise NotFound()
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not constant_time_compare(given, expected):
            raise PermissionDenied("A valid gateway token is required.")
        data = InboundEmailSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        ticket = services.ticket_from_email(
            sender=values["sender"], subject=values["subject"], body=values["text"], message_id=values["message_id"]
        )
        return Response(OwnTicketSerializer(ticket).data, status=status.HTTP_201_CREATED)


class LiveChatView(APIView):
    """Whether live chat is open now, and when it next opens or closes."""

    permission_classes = [AllowAny]

    @extend_schema(responses=LiveChatSerializer)
    def get(self, request: Request) -> Response:
        return Response(LiveChatSerializer(services.live_chat_status()).data)


class ChatReadSerializer(serializers.Serializer):
    id = serializers.IntegerField(min_value=1, required=False, help_text="The last message shown (default: all).")


class ChatReadView(APIView):
    """The requester has read their chat (for clients on the event stream; the socket sends a read event): a
    reply they read live is not e-mailed to them."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=ChatReadSerializer, responses={204: None})
    def post(self, request: Request, pk: int) -> Response:
        ticket = selectors.chat_for_requester(user=cast(User, request.user), pk=pk)
        if ticket is None:
            raise NotFound("No such chat.")
        data = ChatReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.chat_mark_read(ticket=ticket, up_to=data.validated_data.get("id"))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Help center and guidance ------------------------------------------------------------------------------------


class ArticleSearchView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=ArticleSerializer(many=True))
    def get(self, request: Request) -> Response:
        q = str(request.query_params.get("q", ""))[:200]
        return Response(ArticleSerializer(selectors.article_search(q=q), many=True).data)


def _guidance_body(guidance: Guidance) -> dict[str, Any]:
    articles = Article.objects.select_related("category").in_bulk([pk for pk, _ in guidance.suggested])
    return {
        "id": guidance.pk,
        "confidence": guidance.confidence,
        "articles": [
            {**ArticleSerializer(articles[pk]).data, "confidence": score}
            for pk, score in guidance.suggested
            if pk in articles
        ],
    }


class GuidanceView(APIView):
    """Before filing a ticket: the articles that best answer the question, with a confidence."""

    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "support_guidance"

    @extend_schema(request=GuidanceQuestionSerializer, responses={201: GuidanceSerializer})
    def post(self, request: Request) -> Response:
        data = GuidanceQuestionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        guidance = services.guidance_answer(question=data.validated_data["question"], user=cast(Any, request.user))
        return Response(_guidance_body(guidance), status=status.HTTP_201_CREATED)


class GuidanceReadView(APIView):
    """The user opened a suggested article; without a ticket afterwards this counts as a deflection."""

    permission_classes = [AllowAny]

    @extend_schema(request=GuidanceReadSerializer, responses=GuidanceSerializer)
    def post(self, request: Request, pk: int) -> Response:
        owner = cast(User, request.user) if request.user.is_authenticated else None
        guidance = get_object_or_404(Guidance, pk=pk, user=owner)
        data = GuidanceReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        article = get_object_or_404(Article, pk=data.validated_data["article"], is_published=True)
        return Response(_guidance_body(services.guidance_read(guidance=guidance, article=article)))


class PointsView(APIView):
    """The signed-in user's points balance and latest ledger entries."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=PointsSerializer)
    def get(self, request: Request) -> Response:
        entries = PointsEntry.objects.filter(user=cast(User, request.user)).order_by("-at", "-pk")
        return Response(
            {
                "balance": selectors.points_balance(user=cast(User, request.user)),
                "entries": list(entries.values("points", "reason", "at")[:50]),
            }
        )


# --- Staff ---------------------------------------------------------------------------------------------------


class StaffTicketList(generics.ListAPIView):
    """A queue view (mine, team, unassigned, triage, at_risk, breached, all), breached first, then by deadline."""

    permission_classes = [CanViewTickets]
    serializer_class = StaffTicketSerializer
    pagination_class = KeysetPagination

    def get_queryset(self) -> Any:
        params = self.request.query_params
        for name in ("q", "department"):
            # PostgreSQL refuses NUL in a text comparison; refused here even where the request guard is not run.
            if "\x00" in params.get(name, ""):
                raise serializers.ValidationError({name: ["Null characters are not allowed."]})
        view = params.get("view", "all")
        if view not in selectors.QUEUE_VIEWS:
            raise serializers.ValidationError({"view": [f"Choose one of: {', '.join(selectors.QUEUE_VIEWS)}."]})
        priority = params.get("priority", "")
        if priority and priority not in Priority.values:
            raise serializers.ValidationError({"priority": [f"Choose one of: {', '.join(Priority.values)}."]})
        department = None
        if params.get("department"):
            department = Department.objects.filter(slug=params["department"]).first()
            if department is None:
                raise serializers.ValidationError({"department": ["Unknown department."]})
        return selectors.ticket_queue(
            user=cast(User, self.request.user),
            view=view,
            at_risk=params.get("at_risk") == "on",
            breached=params.get("breached") == "on",
            department=department,
            priority=priority,
            q=params.get("q", "")[:100],
        )


class StaffTicketDetail(generics.RetrieveAPIView):
    permission_classes = [CanViewTickets]
    serializer_class = StaffTicketSerializer

    def get_object(self) -> Ticket:
        try:
            return selectors.ticket_detail(pk=int(self.kwargs["pk"]))
        except Exception as exc:
            raise NotFound() from exc


class StaffTicketReply(APIView):
    permission_classes = [CanAnswer]

    @extend_schema(request=StaffReplySerializer, responses={201: StaffTicketSerializer})
    def post(self, request: Request, pk: int) -> Response:
        ticket = get_object_or_404(Ticket, pk=pk)
        data = StaffReplySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        macro = None
        if values["macro"] is not None:
            macro = (
                selectors.macros_usable(surface="ticket", department=ticket.department)
                .filter(pk=values["macro"])
                .first()
            )
            if macro is None:
                raise serializers.ValidationError({"macro": ["Not a macro usable on this ticket."]})
        services.ticket_reply(
            ticket=ticket,
            by=cast(User, request.user),
            body=values["body"],
            public=values["public"],
            macro=macro,
            status=values["status"] or None,
        )
        return Response(StaffTicketSerializer(selectors.ticket_detail(pk=pk)).data, status=status.HTTP_201_CREATED)
