"""The pair's messages: a thread's messages, and what is unread.

A thread belongs to a request (while the mentor decides) or to a mentorship. A mentorship
that began with a request shows that request's messages as its beginning, so the
conversation reads as one.
"""

from typing import Any

from django.db.models import F, Func, Q, QuerySet, Subquery

from accounts.models import User
from core.queries import PerUser

from ..models import Mentorship, MentorshipRequest, Message, Notification

Thread = Mentorship | MentorshipRequest


def thread_filter(thread: Thread) -> Q:
    """The messages of ``thread``: a request's own, or a mentorship's plus its request's."""
    if isinstance(thread, Mentorship):
        return Q(mentorship=thread) | Q(request__mentorship=thread)
    return Q(request=thread)


def thread_messages(thread: Thread) -> QuerySet[Message]:
    """``thread``'s messages, oldest first (newest at the bottom), with their authors."""
    return Message.objects.filter(thread_filter(thread)).select_related("author").order_by("created_at", "id")


def _unread_for(user: User) -> QuerySet[Message]:
    """Messages to ``user`` (in a thread of theirs, by the other person) not yet seen."""
    if not user.is_authenticated:
        return Message.objects.none()
    return _unread_for_id(user.pk)


def _unread_for_id(user_id: int) -> QuerySet[Message]:
    mine = (
        Q(mentorship__mentee_id=user_id)
        | Q(mentorship__mentor_id=user_id)
        | Q(request__mentee_id=user_id)
        | Q(request__mentor_id=user_id)
    )
    return Message.objects.filter(mine, read_at__isnull=True, deleted_at__isnull=True).exclude(author_id=user_id)


def unread_message_count(user: User) -> int:
    """How many messages wait for ``user`` across their threads: one COUNT."""
    return _unread_for(user).count()


def _count(queryset: QuerySet) -> Subquery:
    # COUNT(*) as a scalar subquery: a Func is not an aggregate, so no GROUP BY is added.
    return Subquery(queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n"))


def _bell_query(user_id: int) -> QuerySet[Any]:
    return (
        User.objects.filter(pk=user_id)
        .annotate(
            unread_notifications=_count(Notification.objects.filter(user_id=user_id, read_at__isnull=True)),
            unread_messages=_count(_unread_for_id(user_id)),
        )
        .order_by()
        .values_list("unread_notifications", "unread_messages")
    )


# Every page's header asks: built once per process (core.queries).
_BELL = PerUser(_bell_query)


def bell_counts(user: User) -> tuple[int, int]:
    """``(unread notifications, unread messages)`` in one query: the header shows both on
    every page."""
    if not user.is_authenticated:
        return 0, 0
    rows = _BELL.rows(user.pk)
    return (rows[0][0] or 0, rows[0][1] or 0) if rows else (0, 0)


def thread_unread_count(thread: Thread, user: User) -> int:
    return _unread_for(user).filter(thread_filter(thread)).count()


def thread_is_open(thread: Thread) -> bool:
    """A pending request's thread, or an active mentorship's, takes new messages; a closed
    request's or an ended mentorship's is read-only."""
    if isinstance(thread, Mentorship):
        return thread.is_active
    return thread.is_pending


def _request_of(message: Message) -> MentorshipRequest:
    assert message.request is not None, "a message is in a mentorship's thread or a request's"
    return message.request


def thread_now(message: Message) -> Thread:
    """The thread ``message`` is read in now: its mentorship's, or its request's, or (the
    request became a mentorship) that mentorship's."""
    if message.mentorship is not None:
        return message.mentorship
    request = _request_of(message)
    return request.mentorship if request.mentorship is not None else request


def message_is_live(message: Message) -> bool:
    """Whether ``message`` may still change: the thread it is read in now is open."""
    return thread_is_open(thread_now(message))


def messages_for_page() -> QuerySet[Message]:
    """Messages with the thread they are in (the rules ask of it). Unscoped: the loader asks
    ``matching.read_message`` of the one it loads."""
    return Message.objects.select_related("author", "mentorship", "request__mentorship")


# The inbox looks at this many of a person's latest messages.
THREADS_SCAN = 500


def threads_for(user: User) -> list[dict[str, Any]]:
    """``user``'s conversations, the latest first: each mentorship and each request with
    messages (a request that became a mentorship counts as that mentorship), with the
    latest message and the unread count. Two queries however many threads."""
    if not user.is_authenticated:
        return []
    unread = list(_unread_for(user).values_list("mentorship_id", "request_id", "request__mentorship_id"))
    latest: dict[tuple[bool, int], tuple[Thread, Message]] = {}
    mine = Q(mentorship__mentee=user) | Q(mentorship__mentor=user) | Q(request__mentee=user) | Q(request__mentor=user)
    for message in (
        Message.objects.filter(mine)
        .select_related("author", "mentorship__mentee", "mentorship__mentor", "request__mentee", "request__mentor")
        .select_related("request__mentorship__mentee", "request__mentorship__mentor")
        .order_by("-created_at", "-id")[:THREADS_SCAN]
    ):
        thread = thread_now(message)
        latest.setdefault((isinstance(thread, Mentorship), thread.pk), (thread, message))
    threads = []
    for (is_mentorship, pk), (thread, message) in latest.items():
        count = sum(
            1
            for m_id, r_id, r_m_id in unread
            if (pk in (m_id, r_m_id) if is_mentorship else (r_id == pk and r_m_id is None))
        )
        threads.append(
            {
                "thread": thread,
                "is_mentorship": is_mentorship,
                "other": thread.mentor if thread.mentee_id == user.pk else thread.mentee,
                "latest": message,
                "unread": count,
            }
        )
    return threads
