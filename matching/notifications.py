"""Notifications: in-app rows (the bell) plus e-mail, sent after the change commits.

``notify`` is the single entry point the services call. A notification's
``dedup_key`` makes creating it idempotent. E-mail is at most once: every sender
claims rows with a conditional ``UPDATE … WHERE emailed_at IS NULL`` before it
sends, so a re-delivered task, an overlapping periodic run or the sweeper never
e-mails a notification twice.

Each person chooses how they hear of notifications (``NotificationPreference``):
right away (one e-mail per notification) or in one daily digest.
"""

import logging
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.emails import send_templated_email
from config.outbox import enqueue_on_commit

from .models import Notification, NotificationPreference

logger = logging.getLogger(__name__)

Delivery = Notification.Delivery

# The digest lists the last day's notifications. The margin covers the daily task
# starting a little late; the overlap is harmless, claimed rows are never sent again.
DIGEST_PERIOD = timedelta(days=1)
DIGEST_MARGIN = timedelta(hours=2)
# The sweeper leaves the on-commit task this long before it enqueues it again.
SWEEP_GRACE = timedelta(minutes=10)


def notify(
    *, event: str, user, title: str, url: str = "", body: str = "", dedup_key: str, meeting=None
) -> Notification | None:
    """Record ``event`` for ``user`` and, if they want e-mails right away, e-mail it
    once the transaction commits; otherwise the daily digest includes it.

    Returns None when a notification with this ``dedup_key`` already exists.
    """
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                user=user, event=event, title=title, url=url, body=body, dedup_key=dedup_key, meeting=meeting
            )
    except IntegrityError:
        return None
    if delivery_of(user) == Delivery.IMMEDIATE:
        from .tasks import send_notification_email

        # If the broker is down the row stays un-emailed and the sweeper
        # (``notifications_email_unsent``) enqueues it again.
        enqueue_on_commit(send_notification_email, notification.pk)
    return notification


# --- Reads: the pages and the API list the same querysets.


def notifications_for(user) -> QuerySet[Notification]:
    """``user``'s own notifications, newest first."""
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def unread_count(user) -> int:
    # One COUNT on the (user, read_at) index.
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def delivery_of(user) -> str:
    """How ``user`` wants to hear of notifications; right away unless they chose the digest."""
    delivery = NotificationPreference.objects.filter(user=user).values_list("delivery", flat=True).first()
    return delivery or Delivery.IMMEDIATE


# --- Changes a person makes.


def notification_mark_read(*, notification: Notification) -> bool:
    """Mark one notification read; False if it already was (its first read time stays)."""
    now = timezone.now()
    marked = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
    if marked:
        notification.read_at = now
    return bool(marked)


def notifications_mark_all_read(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


def notification_preference_set(*, user, delivery: str) -> NotificationPreference:
    """Choose immediate e-mails or the daily digest. Applies to notifications created
    from now on; any not yet e-mailed go out by the new route (the digest, or the sweeper)."""
    if delivery not in Delivery.values:
        raise ValidationError({"delivery": "Choose right away or a daily digest."})
    preference, _ = NotificationPreference.objects.update_or_create(user=user, defaults={"delivery": delivery})
    return preference


# --- E-mail, from the tasks.


def digests_send(*, now=None) -> int:
    """Periodic: one digest e-mail to each person who chose the digest and has
    notifications not yet e-mailed from the last day. Returns the number sent."""
    now = now or timezone.now()
    since = now - DIGEST_PERIOD - DIGEST_MARGIN
    user_ids = (
        _digest_candidates(since=since, now=now)
        .filter(user__notification_preference__delivery=Delivery.DIGEST)
        .order_by()
        .values_list("user_id", flat=True)
        .distinct()
    )
    sent = 0
    for user_id in list(user_ids):
        try:
            sent += digest_send(user_id=user_id, since=since, now=now)
        except Exception:
            # One bad address must not cost everyone else their digest.
            logger.exception("Daily digest to user %s failed", user_id)
    return sent


def digest_send(*, user_id: int, since, now) -> bool:
    """Claim ``user_id``'s un-emailed notifications created in (since, now] and e-mail
    them as one digest. Only the rows this call claimed are listed, so overlapping
    runs split the rows between them and none is sent twice."""
    with transaction.atomic():
        # Locks the rows (PostgreSQL) and skips those another run holds; the
        # conditional UPDATE below is then exactly these ids.
        ids = list(
            _digest_candidates(since=since, now=now)
            .filter(user_id=user_id)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        if not ids:
            return False
        claimed = Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).update(emailed_at=now)
        if claimed != len(ids):
            # Without row locks (SQLite) another run claimed some of them first; undo
            # ours and leave this person to that run rather than send a partial list twice.
            transaction.set_rollback(True)
            return False
    notifications = list(Notification.objects.filter(pk__in=ids).select_related("user").order_by("-created_at", "-id"))
    user = notifications[0].user
    send_templated_email(
        template="matching/email/digest",
        to=[user.email],
        context={"user": user, "notifications": notifications},
    )
    return True


def notifications_email_unsent(*, now=None) -> int:
    """Periodic sweeper: enqueue the e-mail again for notifications of people who want
    them right away that are still un-emailed after ``SWEEP_GRACE`` (the broker was
    down at commit, or they just switched from the digest). The task's claim makes a
    second enqueue harmless."""
    from .tasks import send_notification_email

    now = now or timezone.now()
    ids = (
        Notification.objects.filter(
            emailed_at__isnull=True, created_at__gt=now - DIGEST_PERIOD, created_at__lte=now - SWEEP_GRACE
        )
        .exclude(user__notification_preference__delivery=Delivery.DIGEST)
        .values_list("pk", flat=True)
    )
    count = 0
    for pk in list(ids):
        send_notification_email.delay(pk)
        count += 1
    return count


def _digest_candidates(*, since, now) -> QuerySet[Notification]:
    return Notification.objects.filter(emailed_at__isnull=True, created_at__gt=since, created_at__lte=now)
