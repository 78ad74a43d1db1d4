"""The marketplace user's own pages: their conversations with the admin team (the link in reply e-mails)."""

from django.urls import path

from . import user_views

app_name = "messages"
urlpatterns = [
    path("", user_views.conversations, name="list"),
    path("<int:pk>/", user_views.conversation, name="conversation"),
    path("<int:pk>/attachments/<int:attachment_id>/", user_views.attachment, name="attachment"),
]
