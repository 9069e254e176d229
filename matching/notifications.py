"""Notifications: in-app rows (the bell) plus e-mail, sent after the change commits.

``notify`` is the single entry point the services call. A notification's
``dedup_key`` makes creating it idempotent; the e-mail task claims each row with a
conditional UPDATE, so a re-delivered task never e-mails twice.
"""

from django.db import IntegrityError, transaction

from .models import Notification


def notify(
    *, event: str, user, title: str, url: str = "", body: str = "", dedup_key: str, meeting=None
) -> Notification | None:
    """Record ``event`` for ``user`` and e-mail it once the transaction commits.

    Returns None when a notification with this ``dedup_key`` already exists.
    """
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                user=user, event=event, title=title, url=url, body=body, dedup_key=dedup_key, meeting=meeting
            )
    except IntegrityError:
        return None
    from .tasks import send_notification_email

    transaction.on_commit(lambda: send_notification_email.delay(notification.pk))
    return notification
