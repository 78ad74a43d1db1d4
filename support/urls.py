from django.urls import path

from . import chat_views, views

app_name = "support"
urlpatterns = [
    path("", views.home, name="home"),
    path("tickets/<int:pk>/", views.ticket_detail, name="ticket"),
    path("tickets/<int:pk>/reply/", views.ticket_reply, name="ticket-reply"),
    path("tickets/<int:pk>/attachments/<int:attachment_pk>/", views.ticket_attachment, name="ticket-attachment"),
    path("tickets/<int:pk>/properties/", views.ticket_properties, name="ticket-properties"),
    path("tickets/<int:pk>/assign/", views.ticket_assign, name="ticket-assign"),
    path("tickets/<int:pk>/cc/", views.ticket_cc, name="ticket-cc"),
    path("tickets/<int:pk>/merge/", views.ticket_merge, name="ticket-merge"),
    path("tickets/<int:pk>/known-issue/", views.ticket_known_issue, name="ticket-known-issue"),
    path("tickets/<int:pk>/macros/<int:macro_pk>/", views.macro_preview, name="macro-preview"),
    path("chats/", chat_views.chats, name="chats"),
    path("chats/<int:pk>/", chat_views.chat, name="chat"),
    path("chats/<int:pk>/transfer/", chat_views.chat_transfer, name="chat-transfer"),
    path("chats/<int:pk>/convert/", chat_views.chat_convert, name="chat-convert"),
    path("follow-ups/", views.follow_ups, name="follow-ups"),
    path("known-issues/", views.known_issues, name="known-issues"),
    path("known-issues/<int:pk>/", views.known_issue_edit, name="known-issue"),
    path("figures/", views.figures, name="figures"),
]
