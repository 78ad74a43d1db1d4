"""The marketplace user's pages: their own conversations with the admin team, to read and answer.

The marketplace front end uses the API; these pages are where the links in reply e-mails lead. A user sees only
their own conversations: another user's is answered with a 404, as if it did not exist.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from saypro.errors import InvalidInput, RateLimited
from saypro.forms import add_service_errors

from . import selectors, services
from .forms import UserMessageForm
from .models import Attachment, Conversation, MessageKind
from .views import SignedInRequest, attachment_response


def _own(request: SignedInRequest, pk: int) -> Conversation:
    try:
        return selectors.conversation_for_user(user=request.user, pk=pk)
    except Conversation.DoesNotExist:
        raise Http404("No such conversation.") from None


@require_http_methods(["GET", "POST"])
@login_required
def conversations(request: SignedInRequest) -> HttpResponse:
    form = UserMessageForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            conversation = services.conversation_start(
                user=request.user, subject=data["subject"], body=data["body"], attachments=data["attachments"]
            )
        except InvalidInput as exc:
            add_service_errors(form, exc)
        except RateLimited as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Thank you: your message is with our team.")
            return redirect("messages:conversation", pk=conversation.pk)
    return render(
        request,
        "messaging/user_list.html",
        {"form": form, "conversations": selectors.own_conversations(user=request.user)[:100]},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@login_required
def conversation(request: SignedInRequest, pk: int) -> HttpResponse:
    own = _own(request, pk)
    form = UserMessageForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.message_send(
                conversation=own,
                user=request.user,
                body=form.cleaned_data["body"],
                attachments=form.cleaned_data["attachments"],
            )
        except InvalidInput as exc:
            add_service_errors(form, exc)
        except RateLimited as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Sent.")
            return redirect("messages:conversation", pk=pk)
    else:
        services.conversation_mark_read(conversation=own, by=request.user)
    return render(
        request,
        "messaging/user_thread.html",
        {"conversation": own, "messages_list": selectors.thread(conversation=own, staff=False), "form": form},
        status=400 if form.errors else 200,
    )


@require_GET
@login_required
def attachment(request: SignedInRequest, pk: int, attachment_id: int) -> FileResponse:
    own = _own(request, pk)
    item = (
        Attachment.objects.filter(
            pk=attachment_id, message__conversation=own, message__kind__in=[MessageKind.USER, MessageKind.REPLY]
        )
        .select_related("message")
        .first()
    )
    if item is None:
        raise Http404("No such attachment.")
    return attachment_response(item)
