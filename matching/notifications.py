"""Notifications: in-app rows (the bell) plus e-mail, sent after the change commits.

``notify`` is the single entry point the services call. A notification's
``dedup_key`` makes creating it idempotent. The row is its e-mail's outbox: a sender
leases it with a conditional ``UPDATE … WHERE emailed_at IS NULL`` and no live lease,
sends, and only then sets ``emailed_at``. So a re-delivered task, an overlapping
periodic run or the sweeper never e-mails a notification twice while one sender holds
it, and a send that fails leaves it un-emailed: the task retries, and the sweeper (or
the next digest) picks up what the retries could not send, up to ``EMAIL_MAX_ATTEMPTS``.

Each person chooses how they hear of notifications (``NotificationPreference``):
right away (one e-mail per notification), in one daily digest, or never (the bell only;
the one-click unsubscribe link in every notification e-mail and digest sets it,
``unsubscribe_url``). A notification that carries a meeting's calendar invitation
(``meeting`` set) is e-mailed right away whatever the choice: a digest cannot carry one iTIP
object per meeting, and a calendar that learns of a new time a day late, or never, is wrong.

Someone who has not signed in yet (imported or invited, invitation not accepted) can open no
link but their invitation's: until they sign in once, the only e-mails they get are invitations
(``accounts``), and their notifications wait in the bell, never e-mailed
(``accounts.selectors.awaits_first_sign_in``, checked here for every sender: ``notify`` and ``notify_many``).
A reminder meant for them is their invitation sent again (``matching.match_runs.readiness``).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.selectors import awaits_first_sign_in
from core.email import send_templated_email
from core.outbox import enqueue_on_commit, task_named

from .ics import itip_method, meeting_ics
from .models import Notification, NotificationPreference
from .selectors.notifications import delivery_of

logger = logging.getLogger(__name__)

Delivery = Notification.Delivery

# The digest lists the last day's notifications. The margin covers the daily task
# starting a little late; the overlap is harmless, claimed rows are never sent again.
DIGEST_PERIOD = timedelta(days=1)
DIGEST_MARGIN = timedelta(hours=2)
# The sweeper leaves the on-commit task this long before it enqueues it again.
SWEEP_GRACE = timedelta(minutes=10)
# A sender's hold on a row: longer than a task may run (config/celery.py: task_time_limit),
# so only a sender that died loses it; after it the row can be claimed again.
# Enqueued by name: services never import the tasks that call them.
SEND_NOTIFICATION_EMAIL = "matching.tasks.send_notification_email"

EMAIL_LEASE = timedelta(minutes=10)
# Sends tried per notification in all (the task's retries, the sweeper's and the next
# digests' passes): a bad address stops costing work after this.
EMAIL_MAX_ATTEMPTS = 10
# A notification for someone who has not signed in yet is made as if its sends were spent:
# no sender, sweeper or digest ever takes it (``_unleased``), so it waits in the bell and is
# not e-mailed later either (a first sign-in must not release a day of stale news at once).
EMAIL_WITHHELD = EMAIL_MAX_ATTEMPTS
# A digest that failed is tried again in the next days' digests, this long.
DIGEST_RETRY_WINDOW = timedelta(days=3)
# The one-click unsubscribe link signs the person's id with this salt: it never expires (a mail
# client may press "Unsubscribe" on an old message) and works without signing in (RFC 8058).
UNSUBSCRIBE_SALT = "matching.notifications.unsubscribe"


def notify(
    *,
    event: str,
    user,
    title: str,
    url: str = "",
    body: str = "",
    dedup_key: str,
    meeting=None,
    read: bool = False,
) -> Notification | None:
    """Record ``event`` for ``user`` and, if they want e-mails right away (or it carries
    ``meeting``'s calendar invitation), e-mail it once the transaction commits; otherwise
    the daily digest includes it. ``read``: created already read, for the copy of a
    calendar e-mail sent to the person who acted (news to their calendar, not to them).

    Returns None when a notification with this ``dedup_key`` already exists.
    """
    withheld = awaits_first_sign_in(user)
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                user=user,
                event=event,
                title=fit_to_field("title", title),
                url=url,
                body=body,
                dedup_key=dedup_key,
                meeting=meeting,
                read_at=timezone.now() if read else None,
                email_attempts=EMAIL_WITHHELD if withheld else 0,
            )
    except IntegrityError:
        return None
    if withheld:
        return notification
    carries_calendar = meeting is not None and itip_method(meeting, event=event) is not None
    if carries_calendar or delivery_of(user) == Delivery.IMMEDIATE:
        # If the broker is down the row stays un-emailed and the sweeper
        # (``notifications_email_unsent``) enqueues it again.
        enqueue_on_commit(SEND_NOTIFICATION_EMAIL, notification.pk)
    return notification


def fit_to_field(name: str, text: str) -> str:
    """``text`` within the Notification column's max_length, cut with an ellipsis. Titles
    are composed from names and titles people typed ("… added a goal for you: …"), and a
    long one must shorten, not fail the change that notifies (PostgreSQL's "value too long")."""
    limit = Notification._meta.get_field(name).max_length
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


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
    """Choose immediate e-mails, the daily digest or none. Applies to notifications created
    from now on; any not yet e-mailed go out by the new route (the digest, the sweeper, or
    not at all). Setting the same choice twice changes nothing."""
    if delivery not in Delivery.values:
        raise ValidationError({"delivery": "Choose right away, a daily digest or never."})
    preference, _ = NotificationPreference.objects.update_or_create(user=user, defaults={"delivery": delivery})
    return preference


def unsubscribe_url(user) -> str:
    """The absolute address that stops ``user``'s notification e-mails in one click."""
    token = signing.Signer(salt=UNSUBSCRIBE_SALT).sign(str(user.pk))
    return settings.SITE_URL.rstrip("/") + reverse("matching:notifications-unsubscribe", args=[token])


def unsubscribing_user(token: str):
    """The active person ``token`` (from ``unsubscribe_url``) names, or None if it was not made
    here (a forged or mangled link) or they are gone."""
    try:
        pk = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign(token)
    except signing.BadSignature:
        return None
    return User.objects.filter(pk=int(pk), is_active=True).first() if pk.isdigit() else None


def notifications_unsubscribe(*, user) -> bool:
    """Stop ``user``'s notification e-mails (the bell keeps them; meeting invitations still
    come). False if they had already stopped them: a second click, or the mail client's
    one-click POST followed by the person's own."""
    if delivery_of(user) == Delivery.NONE:
        return False
    notification_preference_set(user=user, delivery=Delivery.NONE)
    return True


# --- E-mail, from the tasks.


def _unleased(now) -> Q:
    """Not e-mailed, not held by a live sender, and not given up on."""
    return Q(emailed_at__isnull=True, email_attempts__lt=EMAIL_MAX_ATTEMPTS) & (
        Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lte=now - EMAIL_LEASE)
    )


def emails_release(ids, *, claimed_at) -> None:
    """Give back the lease taken at ``claimed_at`` after a failed send: still un-emailed,
    for the task's retry, the sweeper or the next digest."""
    Notification.objects.filter(pk__in=ids, email_claimed_at=claimed_at).update(email_claimed_at=None)


def emails_mark_sent(ids, *, at) -> None:
    Notification.objects.filter(pk__in=ids).update(emailed_at=at, email_claimed_at=None)


def notification_email_send(*, notification_id: int, now=None) -> bool:
    """E-mail one notification (with the meeting's iTIP invitation as the calendar part of
    the message when it has one, ``ics.itip_method``): lease the row,
    send, then mark it e-mailed. False when there is nothing to do (already e-mailed,
    another sender holds it, or given up on). A failed send gives the lease back and
    raises, for the task to retry."""
    now = now or timezone.now()
    leased = Notification.objects.filter(_unleased(now), pk=notification_id).update(
        email_claimed_at=now, email_attempts=F("email_attempts") + 1
    )
    if not leased:
        return False
    try:
        notification = Notification.objects.select_related(
            "user", "meeting__proposed_by", "meeting__mentorship__mentee", "meeting__mentorship__mentor"
        ).get(pk=notification_id)
        calendar = None
        if notification.meeting is not None:
            method = itip_method(notification.meeting, event=notification.event)
            if method is not None:
                calendar = (method, meeting_ics(notification.meeting, method=method))
        if calendar is None and delivery_of(notification.user) == Delivery.NONE:
            # Unsubscribed after it was queued: never sent (the lease is given back, and
            # neither the sweeper nor a digest picks up an unsubscribed person's rows).
            emails_release([notification_id], claimed_at=now)
            return False
        send_templated_email(
            template="matching/email/notification",
            to=[notification.user.email],
            context={"notification": notification, "user": notification.user, "calendar": calendar},
            calendar=calendar,
            # A calendar invitation cannot be stopped: it keeps the person's calendar right.
            unsubscribe_url=None if calendar else unsubscribe_url(notification.user),
        )
    except Exception:
        emails_release([notification_id], claimed_at=now)
        raise
    emails_mark_sent([notification_id], at=timezone.now())
    return True


def notification_emails_send(*, notification_ids: list[int], now=None) -> tuple[int, list[int]]:
    """E-mail a batch of notifications without a meeting (``notify_many``'s, by
    ``matching.tasks.send_notification_emails``): leased in one UPDATE, sent one by one, marked
    e-mailed in one UPDATE, so two writes for the batch rather than two per notification (in the
    demo, tasks run inside the coordinator's request). Returns how many were sent, and the ids
    to hand to ``notification_email_send`` one by one, with its retries: those whose send
    failed (given back) and any that carry a meeting (never leased here)."""
    now = now or timezone.now()
    ids = list(notification_ids)
    with_meeting = list(Notification.objects.filter(pk__in=ids, meeting__isnull=False).values_list("pk", flat=True))
    Notification.objects.filter(_unleased(now), pk__in=ids, meeting__isnull=True).update(
        email_claimed_at=now, email_attempts=F("email_attempts") + 1
    )
    leased = list(
        Notification.objects.filter(pk__in=ids, email_claimed_at=now, emailed_at__isnull=True)
        .select_related("user")
        .order_by("pk")
    )
    stopped = set(
        NotificationPreference.objects.filter(
            user_id__in={n.user_id for n in leased}, delivery=Delivery.NONE
        ).values_list("user_id", flat=True)
    )
    sent, unsubscribed, failed = [], [], []
    for notification in leased:
        user = notification.user
        if user.pk in stopped:
            unsubscribed.append(notification.pk)  # unsubscribed after it was queued: never sent
            continue
        try:
            send_templated_email(
                template="matching/email/notification",
                to=[user.email],
                context={"notification": notification, "user": user, "calendar": None},
                unsubscribe_url=unsubscribe_url(user),
            )
        except Exception:
            failed.append(notification.pk)
        else:
            sent.append(notification.pk)
    emails_mark_sent(sent, at=timezone.now())
    emails_release(unsubscribed + failed, claimed_at=now)
    return len(sent), failed + with_meeting


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
    """Lease ``user_id``'s un-emailed notifications created in (since, now] (and those a
    failed digest left, ``DIGEST_RETRY_WINDOW``), e-mail them as one digest, then mark
    them e-mailed. Only the rows this call leased are listed, so overlapping runs split
    the rows between them and none is sent twice; a failed send gives them back."""
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
        leased = Notification.objects.filter(_unleased(now), pk__in=ids).update(
            email_claimed_at=now, email_attempts=F("email_attempts") + 1
        )
        if leased != len(ids):
            # Without row locks (SQLite) another run leased some of them first; undo
            # ours and leave this person to that run rather than send a partial list twice.
            transaction.set_rollback(True)
            return False
    try:
        notifications = list(
            Notification.objects.filter(pk__in=ids).select_related("user").order_by("-created_at", "-id")
        )
        user = notifications[0].user
        send_templated_email(
            template="matching/email/digest",
            to=[user.email],
            context={"user": user, "notifications": notifications},
            unsubscribe_url=unsubscribe_url(user),
        )
    except Exception:
        emails_release(ids, claimed_at=now)
        raise
    emails_mark_sent(ids, at=now)
    return True


def notifications_email_unsent(*, now=None) -> int:
    """Periodic sweeper: enqueue the e-mail again for notifications of people who want
    them right away that are still un-emailed after ``SWEEP_GRACE`` (the broker was
    down at commit, or they just switched from the digest). The task's claim makes a
    second enqueue harmless. Calendar e-mails go right away to digest and unsubscribed
    people too (``notify``)."""
    now = now or timezone.now()
    unsent = Notification.objects.filter(
        _unleased(now), created_at__gt=now - DIGEST_PERIOD, created_at__lte=now - SWEEP_GRACE
    )
    not_right_away = [Delivery.DIGEST, Delivery.NONE]
    ids = list(unsent.exclude(user__notification_preference__delivery__in=not_right_away).values_list("pk", flat=True))
    digest_calendar = unsent.filter(
        user__notification_preference__delivery__in=not_right_away, meeting__isnull=False
    ).select_related("meeting")
    ids += [n.pk for n in digest_calendar.prefetch_related("meeting__slots") if itip_method(n.meeting, event=n.event)]
    count = 0
    for pk in ids:
        task_named(SEND_NOTIFICATION_EMAIL).delay(pk)
        count += 1
    return count


def _digest_candidates(*, since, now) -> QuerySet[Notification]:
    new = Q(created_at__gt=since)
    failed_before = Q(email_attempts__gt=0, created_at__gt=now - DIGEST_RETRY_WINDOW)
    return Notification.objects.filter(_unleased(now), new | failed_before, created_at__lte=now)


# ``notify_many`` queues its e-mails as one task per this many (``matching.tasks.send_notification_emails``).
SEND_NOTIFICATION_EMAILS = "matching.tasks.send_notification_emails"
EMAIL_BATCH = 500


def notify_many(notes: list[dict]) -> list[Notification]:
    """``notify`` for many notifications without a meeting at once (a match run's publish: two
    for each of a thousand pairs): one INSERT and one read of the people's delivery choices,
    the same rows, and the same e-mails queued on commit, in batches the worker fans out. Each
    item holds ``notify``'s keyword arguments (``event``, ``user``, ``title``, ``dedup_key``;
    ``url``, ``body``). Should one ``dedup_key`` exist already, it falls back to ``notify`` one
    by one, which skips that one."""
    if not notes:
        return []
    rows = [
        Notification(
            user=note["user"],
            event=note["event"],
            title=fit_to_field("title", note["title"]),
            url=note.get("url", ""),
            body=note.get("body", ""),
            dedup_key=note["dedup_key"],
            email_attempts=EMAIL_WITHHELD if awaits_first_sign_in(note["user"]) else 0,
        )
        for note in notes
    ]
    try:
        with transaction.atomic():
            created = Notification.objects.bulk_create(rows)
    except IntegrityError:
        return [n for note in notes if (n := notify(**note)) is not None]
    chosen = dict(
        NotificationPreference.objects.filter(user_id__in={n.user_id for n in created}).values_list(
            "user_id", "delivery"
        )
    )
    immediate = [
        n.pk
        for n in created
        if n.email_attempts < EMAIL_WITHHELD and (chosen.get(n.user_id) or Delivery.IMMEDIATE) == Delivery.IMMEDIATE
    ]
    # One task per batch, fanned out by the worker: two thousand enqueues took seconds of the request.
    for start in range(0, len(immediate), EMAIL_BATCH):
        enqueue_on_commit(SEND_NOTIFICATION_EMAILS, immediate[start : start + EMAIL_BATCH])
    return created
