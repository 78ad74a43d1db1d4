from django.urls import path

from . import api

app_name = "messaging-api"
urlpatterns = [
    path("conversations/", api.OwnConversationList.as_view(), name="conversation-list"),
    path("conversations/<int:pk>/", api.OwnConversationDetail.as_view(), name="conversation-detail"),
    path("conversations/<int:pk>/messages/", api.OwnMessageCreate.as_view(), name="conversation-message"),
    path("conversations/<int:pk>/read/", api.OwnReadView.as_view(), name="conversation-read"),
    path(
        "conversations/<int:pk>/attachments/<int:attachment_id>/",
        api.OwnAttachmentView.as_view(),
        name="conversation-attachment",
    ),
    path("staff/conversations/", api.StaffConversationList.as_view(), name="staff-conversation-list"),
    path("staff/conversations/<int:pk>/", api.StaffConversationDetail.as_view(), name="staff-conversation-detail"),
    path("staff/conversations/<int:pk>/messages/", api.StaffMessageCreate.as_view(), name="staff-conversation-message"),
    path("staff/conversations/<int:pk>/category/", api.CategoryView.as_view(), name="staff-conversation-category"),
    path("staff/conversations/<int:pk>/claim/", api.ClaimView.as_view(), name="staff-conversation-claim"),
    path("staff/conversations/<int:pk>/transfer/", api.TransferView.as_view(), name="staff-conversation-transfer"),
    path("staff/conversations/<int:pk>/resolve/", api.ResolveView.as_view(), name="staff-conversation-resolve"),
    path("staff/conversations/<int:pk>/reopen/", api.ReopenView.as_view(), name="staff-conversation-reopen"),
    path("staff/conversations/<int:pk>/escalate/", api.EscalateView.as_view(), name="staff-conversation-escalate"),
    path("staff/conversations/<int:pk>/convert/", api.ConvertView.as_view(), name="staff-conversation-convert"),
]
