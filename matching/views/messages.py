"""Pages of the pair's conversation: a mentorship's thread, correcting or deleting a message,
and the list of one's conversations. A request's thread is on the request's page
(``views/requests.py``), built with the same ``thread_context`` and ``post_message``.

Only the two people of a thread read it: a coordinator of the program, who may see the
mentorship, gets 403 here; anyone else 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from core.access import object_for
from core.forms import add_service_errors, form_status
from core.idempotency import once_claim, once_done, once_release

from ..forms.messages import MessageEditForm, MessageForm
from ..models import Mentorship, Message
from ..rules import thread_of
from ..selectors import messages as message_selectors
from ..selectors.mentorships import mentorships_with_details
from ..services import messages as message_services

# A thread page shows this many of the latest messages; "Show earlier" shows all.
THREAD_PAGE = 50


def thread_context(request, thread, *, form=None, mark_read=True):
    """What ``_thread.html`` shows: the messages (the request's first message opening the
    thread), which of them are new to the reader, what the reader may do. Opening the
    thread marks the other person's messages (and their notifications) read."""
    user = request.user
    is_mentorship = isinstance(thread, Mentorship)
    # A mentorship's thread opens with the request it began with, loaded with the mentorship
    # (``_mentorship_thread``); none when it began another way.
    first_request = getattr(thread, "request", None) if is_mentorship else thread
    everything = list(message_selectors.thread_messages(thread))
    show_all = request.GET.get("all") == "1"
    shown = everything if show_all else everything[-THREAD_PAGE:]
    now = timezone.now()
    is_open = message_selectors.thread_is_open(thread)
    items = []
    first_new_seen = False
    for message in shown:
        mine = message.author_id == user.pk
        new = not mine and message.read_at is None and not message.is_deleted
        items.append(
            {
                "message": message,
                "mine": mine,
                "first_new": new and not first_new_seen,
                "can_edit": mine
                and is_open
                and not message.is_deleted
                and now - message.created_at <= Message.EDIT_WINDOW,
                "can_delete": mine and is_open and not message.is_deleted,
            }
        )
        first_new_seen = first_new_seen or new
    if mark_read:
        message_services.thread_mark_read(thread=thread, user=user)
    other = thread.mentor if user.pk == thread.mentee_id else thread.mentee
    return {
        "thread": thread,
        "thread_is_mentorship": is_mentorship,
        "thread_items": items,
        "thread_earlier": len(everything) - len(shown),
        "thread_opening": first_request if len(shown) == len(everything) else None,
        "thread_other": other,
        "thread_is_open": is_open,
        "thread_post_url": _post_url(thread),
        "message_form": form if form is not None else (MessageForm() if is_open else None),
        "edit_minutes": int(Message.EDIT_WINDOW.total_seconds() // 60),
    }


def _post_url(thread):
    if isinstance(thread, Mentorship):
        return message_services.thread_url(thread)
    return f"{message_services.thread_url(thread)}messages/"


def post_message(request, thread):
    """Handle the POST of a message to ``thread``: ``(redirect, None)`` once sent (or when
    it is a repeat of one sent), else ``(None, form)`` with the errors to show."""
    form = MessageForm(request.POST)
    if not form.is_valid():
        return None, form
    scope = f"message:{message_services.thread_key(thread)}"
    once = form.cleaned_data.get("once")
    first, url = once_claim(request, scope, once)
    if not first:
        # A double tap: the first one is (being) sent; show the thread.
        return HttpResponseRedirect(url or message_services.thread_url(thread) + "#latest"), None
    try:
        message = message_services.message_post(thread=thread, author=request.user, body=form.cleaned_data["body"])
    except ValidationError as exc:
        once_release(request, scope, once)
        add_service_errors(form, exc)
        return None, form
    except BaseException:
        once_release(request, scope, once)
        raise
    url = message_services.message_url(message)
    once_done(request, scope, once, url)
    return HttpResponseRedirect(url), None


# --- A mentorship's thread.


def _mentorship_thread(request, pk):
    """The pair reads and writes; the program's coordinators know the mentorship (403)."""
    return object_for(
        request.user,
        mentorships_with_details().select_related("request__mentee"),
        pk,
        "matching.message_thread",
        visible_with="matching.view_mentorship",
    )


@login_required
@require_http_methods(["GET", "POST"])
def mentorship_messages(request, pk):
    mentorship = _mentorship_thread(request, pk)
    form = None
    if request.method == "POST":
        done, form = post_message(request, mentorship)
        if done is not None:
            return done
    context = thread_context(request, mentorship, form=form, mark_read=request.method == "GET")
    return render(
        request, "matching/messages/thread.html", {"mentorship": mentorship, **context}, status=form_status(form)
    )


# --- One message: correct it, delete it.


def _message_for(request, pk):
    """The author may change it; the other person of its thread knows it (403); anyone else 404."""
    return object_for(
        request.user,
        message_selectors.messages_for_page(),
        pk,
        "matching.change_message",
        visible_with="matching.read_message",
    )


@login_required
@require_http_methods(["GET", "POST"])
def message_edit(request, pk):
    message = _message_for(request, pk)
    back = message_services.message_url(message)
    form = MessageEditForm(request.POST or None, initial={"body": message.body})
    if request.method == "POST" and form.is_valid():
        try:
            message_services.message_edit(message=message, actor=request.user, body=form.cleaned_data["body"])
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                add_service_errors(form, exc)
            else:
                messages.error(request, " ".join(exc.messages))
                return redirect(back)
        else:
            messages.success(request, "Your message is updated.")
            return redirect(back)
    thread = thread_of(message)
    if message.is_deleted or not message_selectors.message_is_live(message):
        messages.info(request, "This message can no longer be changed.")
        return redirect(back)
    editable_until = message.created_at + Message.EDIT_WINDOW
    return render(
        request,
        "matching/messages/edit.html",
        {
            "message_obj": message,
            "form": form,
            "back": back,
            "other": thread.mentor if request.user.pk == thread.mentee_id else thread.mentee,
            "editable_until": editable_until,
            "too_late": timezone.now() > editable_until,
        },
        status=form_status(form),
    )


@login_required
@require_POST
def message_delete(request, pk):
    message = _message_for(request, pk)
    try:
        message_services.message_delete(message=message, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Your message is deleted.")
    return redirect(message_services.message_url(message))


# --- One's conversations.


@login_required
def inbox(request):
    threads = message_selectors.threads_for(request.user)
    for item in threads:
        item["url"] = message_services.thread_url(item["thread"]) + "#latest"
    return render(request, "matching/messages/inbox.html", {"threads": threads})


urlpatterns = [
    path("messages/", inbox, name="messages"),
    path("mentorships/<int:pk>/messages/", mentorship_messages, name="mentorship-messages"),
    path("messages/<int:pk>/edit/", message_edit, name="message-edit"),
    path("messages/<int:pk>/delete/", message_delete, name="message-delete"),
]
