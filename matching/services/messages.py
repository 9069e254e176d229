"""The pair's messages: post, edit, delete, mark read.

Each change locks the thread's row (the request, or the mentorship: ``core.locking``'s
order), asks ``matching.rules`` who may, checks the thread is open, changes, audits (never
the text: the audit trail is read by coordinators, and the messages are the pair's) and
notifies the other person.

E-mail: one notification per thread, per recipient, per ``NOTIFY_WINDOW``. A burst of
messages ("hi" … "one more thing" … "see you Tuesday") becomes one notification and one
e-mail, linking to the first message of the burst; its body is that first message, and the
thread shows the rest. The window is fixed (it starts at a multiple of ``NOTIFY_WINDOW``), so
the ``dedup_key`` makes it race-free: two messages at once create one notification.
"""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from audit.services import audit_log
from core.forms import max_length_of
from core.locking import locked

from ..models import Mentorship, MentorshipRequest, Message, Notification
from ..notifications import notify
from ..rules import thread_of
from ..selectors.messages import Thread, message_is_live, thread_filter, thread_is_open, thread_now

BODY_MAX = max_length_of(Message, "body")
NOTIFY_WINDOW = timedelta(minutes=10)
# Posting faster than this is not a conversation: at most RATE_LIMIT messages by one
# person in RATE_PERIOD, over all their threads.
RATE_LIMIT = 20
RATE_PERIOD = timedelta(minutes=5)
# The e-mail quotes this much of the first message.
QUOTE_MAX = 1000


class MessageRateLimited(ValidationError):
    """Too many messages too fast: the page says so, the API answers 429."""

    retry_after = int(RATE_PERIOD.total_seconds())


def thread_key(thread: Thread) -> str:
    return f"{'mentorship' if isinstance(thread, Mentorship) else 'request'}-{thread.pk}"


def thread_url(thread: Thread) -> str:
    """Where the pair reads ``thread``: a mentorship's messages page, or the request's page."""
    if isinstance(thread, Mentorship):
        return reverse("matching:mentorship-messages", kwargs={"pk": thread.pk})
    return reverse("matching:request-detail", kwargs={"pk": thread.pk})


def message_url(message: Message) -> str:
    """The message in the thread it is read in now (a request's message, once the request
    became a mentorship, in the mentorship's thread)."""
    return f"{thread_url(thread_now(message))}#message-{message.pk}"


def _lock_thread(thread: Thread) -> Thread:
    if isinstance(thread, Mentorship):
        return locked(Mentorship.objects.select_related("mentee", "mentor", "program")).get(pk=thread.pk)
    return locked(MentorshipRequest.objects.select_related("mentee", "mentor", "program", "mentorship")).get(
        pk=thread.pk
    )


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write a message."})
    if len(body) > BODY_MAX:
        raise ValidationError({"body": f"A message is at most {BODY_MAX} characters (this one has {len(body)})."})
    return body


def _closed_message(thread: Thread) -> str:
    if isinstance(thread, Mentorship):
        return "This mentorship has ended: its messages are kept, read-only."
    if thread.mentorship_id:
        return "This request became a mentorship: the conversation continues there."
    return f"This request is {thread.get_status_display().lower()}: its messages are kept, read-only."


def _other(thread: Thread, user: User) -> User:
    return thread.mentor if user.pk == thread.mentee_id else thread.mentee


def _recipient_key(thread: Thread, recipient: User) -> str:
    return f"message:{thread_key(thread)}:{recipient.pk}:"


@transaction.atomic
def message_post(*, thread: Thread, author: User, body: str) -> Message:
    """``author`` writes to the other person of ``thread`` (a pending request's, or an active
    mentorship's)."""
    thread = _lock_thread(thread)
    if not author.has_perm("matching.message_thread", thread):
        raise PermissionDenied
    if not thread_is_open(thread):
        raise ValidationError(_closed_message(thread))
    body = _clean_body(body)
    now = timezone.now()
    recent = Message.objects.filter(author=author, created_at__gt=now - RATE_PERIOD).count()
    if recent >= RATE_LIMIT:
        raise MessageRateLimited(
            f"You sent {recent} messages in the last few minutes: wait a few minutes before sending more."
        )
    if isinstance(thread, Mentorship):
        message = Message.objects.create(author=author, body=body, created_at=now, mentorship=thread)
    else:
        message = Message.objects.create(author=author, body=body, created_at=now, request=thread)
    recipient = _other(thread, author)
    window = int(now.timestamp() // NOTIFY_WINDOW.total_seconds())
    quote = body if len(body) <= QUOTE_MAX else body[: QUOTE_MAX - 1].rstrip() + "…"
    notify(
        event="message.new",
        user=recipient,
        url=message_url(message),
        title=f"{author.full_name} sent you a message",
        body=f"{quote}\n\n(Only you and {author.full_name} can read this conversation.)",
        dedup_key=f"{_recipient_key(thread, recipient)}{window}",
    )
    return message


def _locked_message(message: Message) -> tuple[Message, Thread]:
    thread = _lock_thread(thread_of(message))
    message = Message.objects.select_related("mentorship", "request__mentorship").get(pk=message.pk)
    return message, thread


def _check_change(message: Message, actor: User) -> None:
    if not actor.has_perm("matching.change_message", message):
        raise PermissionDenied
    if message.is_deleted:
        raise ValidationError("This message was deleted.")
    if not message_is_live(message):
        raise ValidationError("This conversation is closed: its messages are kept as they are.")


def _notification_of(message: Message) -> QuerySet[Notification]:
    """The notification that quotes ``message`` (the first of its burst), if any."""
    return Notification.objects.filter(event="message.new", url__endswith=f"#message-{message.pk}")


def _audit(message: Message, thread: Thread, *, actor: User, action: str, after: dict) -> None:
    # Never the text: the audit trail is the coordinators' to read, the messages are not.
    audit_log(
        actor=actor,
        action=action,
        obj=message,
        program=thread.program,
        after={"thread": thread_key(thread), **after},
    )


@transaction.atomic
def message_edit(*, message: Message, actor: User, body: str) -> Message:
    """The author corrects their message within ``Message.EDIT_WINDOW`` of sending it."""
    message, thread = _locked_message(message)
    _check_change(message, actor)
    now = timezone.now()
    if now - message.created_at > Message.EDIT_WINDOW:
        minutes = int(Message.EDIT_WINDOW.total_seconds() // 60)
        raise ValidationError(f"A message can be edited for {minutes} minutes after sending; this one no longer.")
    body = _clean_body(body)
    if body == message.body:
        return message
    message.body = body
    message.edited_at = now
    message.save(update_fields=["body", "edited_at"])
    _notification_of(message).filter(emailed_at__isnull=True).update(body=body[:QUOTE_MAX])
    _audit(message, thread, actor=actor, action="message.edit", after={"edited_at": now.isoformat()})
    return message


@transaction.atomic
def message_delete(*, message: Message, actor: User) -> Message:
    """The author takes their message back: it shows as deleted, its text is gone (also from
    the in-app notification that quoted it; an e-mail already sent cannot be recalled)."""
    message, thread = _locked_message(message)
    _check_change(message, actor)
    now = timezone.now()
    message.body = ""
    message.deleted_at = now
    message.save(update_fields=["body", "deleted_at"])
    _notification_of(message).update(body="")
    _audit(message, thread, actor=actor, action="message.delete", after={"deleted_at": now.isoformat()})
    return message


def thread_mark_read(*, thread: Thread, user: User) -> int:
    """``user`` opened ``thread``: the other person's messages are read (first time only),
    and so are the notifications about them. Returns the number of messages marked."""
    if not user.has_perm("matching.message_thread", thread):
        raise PermissionDenied
    now = timezone.now()
    marked = (
        Message.objects.filter(thread_filter(thread), read_at__isnull=True).exclude(author=user).update(read_at=now)
    )
    keys = [_recipient_key(thread, user)]
    if isinstance(thread, Mentorship):
        keys += [_recipient_key(r, user) for r in MentorshipRequest.objects.filter(mentorship=thread)]
    for key in keys:
        Notification.objects.filter(user=user, read_at__isnull=True, dedup_key__startswith=key).update(read_at=now)
    return marked
