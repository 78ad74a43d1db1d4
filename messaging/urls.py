from django.urls import path

from . import views

app_name = "messaging"
urlpatterns = [
    path("", views.home, name="home"),
    path("list/", views.inbox_rows, name="inbox-rows"),
    path("new/", views.conversation_new, name="new"),
    path("<int:pk>/", views.thread, name="thread"),
    path("<int:pk>/messages/", views.thread_messages, name="thread-messages"),
    path("<int:pk>/reply/", views.reply, name="reply"),
    path("<int:pk>/canned/<int:macro_pk>/", views.canned_response, name="canned"),
    path("<int:pk>/note/", views.note, name="note"),
    path("<int:pk>/category/", views.category, name="category"),
    path("<int:pk>/assign/", views.assign, name="assign"),
    path("<int:pk>/resolve/", views.resolve, name="resolve"),
    path("<int:pk>/reopen/", views.reopen, name="reopen"),
    path("<int:pk>/escalate/", views.escalate, name="escalate"),
    path("<int:pk>/convert/", views.convert, name="convert"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
]
