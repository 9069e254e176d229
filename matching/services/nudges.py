"""Nudges: a weekly digest for each coordinator, and a one-click reminder to a quiet pair.

The digest goes to every coordinator with something to report, once per ISO week: on the
first hourly run from Monday 07:00 in the coordinator's own time zone (any run later that
Monday catches up after an outage). It covers all their programs in one e-mail: pairings
with no meeting held or confirmed in 60 days, requests pending for more than 7 days, and
residents with no active mentor. The week's Notification row (``dedup_key``
``digest:coordinator:<user>:<ISO week>``) is the claim: created and claimed for e-mail in
one transaction, as ``notifications.digest_send`` claims its rows, so a repeated or
overlapping run, the sweeper and the daily digest never send it again.

A nudge e-mails both people of an active pairing a friendly reminder to meet: coordinators
of its program only, at most once per pairing every 7 days (the last "mentorship.nudge"
audit entry is the record), audited.
"""

import logging
from collections.abc import Sequence
from datetime import datetime, time

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, User
from audit.services import audit_log
from core.bounds import format_day
from core.email import send_templated_email
from core.locking import locked

from ..models import Meeting, Mentorship, Notification
from ..notifications import emails_mark_sent, emails_release, notify, unsubscribe_url
from ..selectors.notifications import delivery_of
from ..selectors.nudges import NUDGE_ACTION, NUDGE_INTERVAL, ProgramDigest, coordinator_digest, days_text, last_nudge

logger = logging.getLogger(__name__)

# Monday (weekday 0) from 07:00, in the coordinator's time zone.
DIGEST_WEEKDAY, DIGEST_FROM = 0, time(7, 0)
DIGEST_EVENT = "digest.coordinator"

# --- The weekly digest (what it says is read in ``matching.selectors.nudges``).


def digest_week_key(coordinator: User, now: datetime) -> str | None:
    """This week's dedup key for ``coordinator``'s digest, or None when it is not yet due:
    the digest goes out on Monday from 07:00 in their time zone."""
    local = now.astimezone(coordinator.zone)
    if local.weekday() != DIGEST_WEEKDAY or local.time() < DIGEST_FROM:
        return None
    year, week, _ = local.isocalendar()
    return f"digest:coordinator:{coordinator.pk}:{year}-W{week:02d}"


def _summary(digests: Sequence[ProgramDigest]) -> str:
    stale = sum(d.stale_count for d in digests)
    pending = sum(d.pending_count for d in digests)
    unmatched = sum(d.unmatched_count for d in digests)
    parts = []
    if stale:
        parts.append(f"{stale} pairing{'s' if stale != 1 else ''} with no recent meeting")
    if pending:
        parts.append(f"{pending} request{'s' if pending != 1 else ''} waiting over a week")
    if unmatched:
        parts.append(f"{unmatched} resident{'s' if unmatched != 1 else ''} without a mentor")
    return ", ".join(parts)


# --- The weekly digest: sending.


def coordinator_digest_send(*, coordinator: User, now: datetime) -> bool:
    """E-mail ``coordinator`` this week's digest, at most once per ISO week; nothing when it
    is not Monday morning yet for them, or when nothing needs their attention."""
    key = digest_week_key(coordinator, now)
    if key is None or Notification.objects.filter(dedup_key=key).exists():
        return False
    digests = coordinator_digest(coordinator, now=now)
    if not digests:
        return False
    summary = _summary(digests)
    try:
        with transaction.atomic():
            # Leased as it is made (the lease every e-mail sender takes): nobody else
            # (the sweeper, the daily digest) ever sees this notification unclaimed.
            notification = Notification.objects.create(
                user=coordinator,
                event=DIGEST_EVENT,
                title=f"Your weekly digest: {summary}",
                body="\n".join(f"{d.program.name}: {_summary([d])}" for d in digests),
                url=reverse("accounts:programs"),
                dedup_key=key,
                created_at=now,
                email_claimed_at=now,
                email_attempts=1,
            )
    except IntegrityError:  # an overlapping run has just made this week's
        return False
    if delivery_of(coordinator) == Notification.Delivery.NONE:
        # Unsubscribed from e-mail: this week's digest waits in the bell, and nobody sends it.
        emails_release([notification.pk], claimed_at=now)
        return True
    try:
        send_templated_email(
            template="matching/email/coordinator_digest",
            to=[coordinator.email],
            context={"user": coordinator, "programs": digests, "summary": summary, "now": now},
            unsubscribe_url=unsubscribe_url(coordinator),
        )
    except Exception:
        # Un-emailed, so the sweeper sends it later as a plain notification of the summary.
        emails_release([notification.pk], claimed_at=now)
        raise
    emails_mark_sent([notification.pk], at=now)
    return True


def coordinator_digests_send(*, now: datetime | None = None) -> int:
    """Periodic (hourly): the weekly digest to each coordinator whose Monday morning has come.
    Returns the number of e-mails sent."""
    now = now or timezone.now()
    coordinators = User.objects.filter(
        is_active=True, pk__in=Membership.objects.filter(role=Membership.Role.COORDINATOR).values("user_id")
    ).order_by("pk")
    sent = 0
    for coordinator in coordinators:
        try:
            sent += coordinator_digest_send(coordinator=coordinator, now=now)
        except Exception:
            # One bad address must not cost the other coordinators their digest.
            logger.exception("Weekly digest to coordinator %s failed", coordinator.pk)
    return sent


# --- A nudge to one pair.


def _last_met(mentorship: Mentorship, now: datetime) -> datetime | None:
    return (
        mentorship.meetings.filter(status__in=[Meeting.Status.HELD, Meeting.Status.CONFIRMED], start__lte=now)
        .order_by("-start")
        .values_list("start", flat=True)
        .first()
    )


def _nudge_body(mentorship: Mentorship, person: User, actor: User, last_met: datetime | None, now: datetime) -> str:
    other = mentorship.other_party(person)
    if last_met is None:
        when = f"You and {other.full_name} haven't had a meeting in MentorMatch yet."
    else:
        local = last_met.astimezone(person.zone)
        when = f"You and {other.full_name} last met on {format_day(local.date())} ({days_text(now - last_met)} ago)."
    return (
        f"{when} A short conversation keeps a mentorship going: propose two or three times that suit you "
        f"from your mentorship page, and {other.first_name or other.full_name} picks one.\n\n"
        f"{actor.full_name} ({mentorship.program.name}) sent this friendly reminder."
    )


@transaction.atomic
def pairing_nudge(*, mentorship: Mentorship, actor: User) -> Mentorship:
    """E-mail both people of an active pairing a friendly reminder to meet."""
    mentorship = locked(Mentorship.objects.select_related("mentee", "mentor", "program")).get(pk=mentorship.pk)
    if not actor.has_perm("matching.nudge_pairing", mentorship):
        raise PermissionDenied
    if not mentorship.is_active:
        raise ValidationError("This mentorship has ended: there is no one to nudge.")
    now = timezone.now()
    # The mentorship row is locked, so two coordinators pressing at once queue here and
    # the second finds the first one's entry.
    last = last_nudge(mentorship)
    if last is not None and last.created_at + NUDGE_INTERVAL > now:
        zone = actor.zone
        sent, again = last.created_at.astimezone(zone), (last.created_at + NUDGE_INTERVAL).astimezone(zone)
        who = "you" if last.actor_id == actor.pk else (last.actor.full_name if last.actor else "a coordinator")
        raise ValidationError(
            f"{mentorship.mentor.full_name} and {mentorship.mentee.full_name} were nudged by {who} on "
            f"{format_day(sent.date())}. One reminder a week is enough: you can nudge them again from "
            f"{format_day(again.date())}."
        )
    last_met = _last_met(mentorship, now)
    entry = audit_log(
        actor=actor,
        action=NUDGE_ACTION,
        obj=mentorship,
        after={"last_meeting": last_met.isoformat() if last_met else None},
    )
    for person in (mentorship.mentee, mentorship.mentor):
        other = mentorship.other_party(person)
        notify(
            event="mentorship.nudge",
            user=person,
            url=mentorship.get_absolute_url(),
            title=f"A friendly reminder to meet {other.full_name}",
            body=_nudge_body(mentorship, person, actor, last_met, now),
            dedup_key=f"mentorship:{mentorship.pk}:nudge:{entry.pk}:{person.pk}",
        )
    return mentorship
