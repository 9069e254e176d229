from .selectors.messages import bell_counts


def notifications(request):
    """``unread_notification_count`` for the bell in the header and ``unread_message_count``
    beside it: one query with both COUNTs, signed-in users only."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    unread_notifications, unread_messages = bell_counts(user)
    return {"unread_notification_count": unread_notifications, "unread_message_count": unread_messages}
