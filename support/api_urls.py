from django.urls import path

from . import api, events

app_name = "support-api"
urlpatterns = [
    path("support/tickets/", api.OwnTicketList.as_view(), name="ticket-list"),
    path("support/tickets/<int:pk>/", api.OwnTicketDetail.as_view(), name="ticket-detail"),
    path("support/tickets/<int:pk>/replies/", api.OwnTicketReply.as_view(), name="ticket-reply"),
    path(
        "support/tickets/<int:pk>/attachments/<int:attachment_id>/",
        api.OwnTicketAttachmentView.as_view(),
        name="ticket-attachment",
    ),
    path("support/report-issue/", api.ReportIssueView.as_view(), name="report-issue"),
    path("support/inbound-email/", api.InboundEmailView.as_view(), name="inbound-email"),
    path("support/live-chat/", api.LiveChatView.as_view(), name="live-chat"),
    # Served by the ASGI server (daphne): a long-lived stream (see support.events).
    path("support/chats/<int:pk>/events/", events.chat_events, name="chat-events"),
    path("support/chats/<int:pk>/read/", api.ChatReadView.as_view(), name="chat-read"),
    path("support/guidance/", api.GuidanceView.as_view(), name="guidance"),
    path("support/guidance/<int:pk>/read/", api.GuidanceReadView.as_view(), name="guidance-read"),
    path("support/points/", api.PointsView.as_view(), name="points"),
    path("help/articles/", api.ArticleSearchView.as_view(), name="article-search"),
    path("staff/tickets/", api.StaffTicketList.as_view(), name="staff-ticket-list"),
    path("staff/tickets/<int:pk>/", api.StaffTicketDetail.as_view(), name="staff-ticket-detail"),
    path("staff/tickets/<int:pk>/reply/", api.StaffTicketReply.as_view(), name="staff-ticket-reply"),
]
