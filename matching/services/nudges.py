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
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Program, User
from accounts.selectors import programs_coordinated_by
from audit.models import AuditEntry
from audit.services import audit_log
from core.email import send_templated_email
from core.locking import locked

from ..models import Kind, Meeting, Mentorship, MentorshipRequest, Notification
from ..notifications import emails_mark_sent, emails_release, notify
from .pairings import PairingAnnotations, pairings_of

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

logger = logging.getLogger(__name__)

# The same "stale" as the program health page: no meeting held or confirmed (a confirmed
# one ahead counts: the pair has booked) in 60 days, counting from the start if none.
PENDING_AFTER = timedelta(days=7)
NUDGE_INTERVAL = timedelta(days=7)
# Each section of the digest names this many people, then says how many more.
DIGEST_NAMES = 5
# Monday (weekday 0) from 07:00, in the coordinator's time zone.
DIGEST_WEEKDAY, DIGEST_FROM = 0, time(7, 0)
DIGEST_EVENT = "digest.coordinator"
NUDGE_ACTION = "mentorship.nudge"


# --- The weekly digest: reads.


@dataclass(frozen=True)
class DigestItem:
    label: str
    url: str
    detail: str = ""


@dataclass
class ProgramDigest:
    program: Program
    stale_count: int = 0
    stale: list[DigestItem] = field(default_factory=list)
    pending_count: int = 0
    pending: list[DigestItem] = field(default_factory=list)
    unmatched_count: int = 0
    unmatched: list[DigestItem] = field(default_factory=list)
    residents: int = 0
    # (kind label, residents of the program with no active mentor of that kind)
    without_kind: list[tuple[str, int]] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.stale_count or self.pending_count or self.unmatched_count)

    @property
    def stale_more(self) -> int:
        return self.stale_count - len(self.stale)

    @property
    def pending_more(self) -> int:
        return self.pending_count - len(self.pending)

    @property
    def unmatched_more(self) -> int:
        return self.unmatched_count - len(self.unmatched)


def _days(delta: timedelta) -> str:
    days = delta.days
    return f"{days} day{'s' if days != 1 else ''}"


def stale_pairings(program: Program, *, now: datetime) -> "QuerySet[WithAnnotations[Mentorship, PairingAnnotations]]":
    """Active pairings of ``program`` with no meeting held or confirmed in the last 60 days
    (``pairings.pairings_of``'s ``is_stale``: the same as the pairings list and program health),
    the quietest first, each with ``last_meeting_at`` (null if they never met)."""
    return (
        pairings_of(program, now=now)
        .filter(is_stale=True)
        .select_related("mentee", "mentor")
        .order_by(Coalesce("last_meeting_at", "started_at"), "pk")
    )


def waiting_requests(program: Program, *, now: datetime) -> QuerySet[MentorshipRequest]:
    """Requests to ``program``'s residents' mentors pending for more than 7 days, oldest first."""
    return (
        MentorshipRequest.objects.filter(
            program=program, status=MentorshipRequest.Status.PENDING, created_at__lte=now - PENDING_AFTER
        )
        .select_related("mentee", "mentor")
        .order_by("created_at", "pk")
    )


def _residents(program: Program) -> QuerySet[User]:
    return User.objects.filter(
        is_active=True,
        pk__in=Membership.objects.filter(program=program, role=Membership.Role.RESIDENT).values("user_id"),
    )


def unmatched_residents(program: Program) -> QuerySet[User]:
    """Residents of ``program`` with no active mentor of any kind."""
    active = Mentorship.objects.filter(mentee=OuterRef("pk"), status=Mentorship.Status.ACTIVE)
    return _residents(program).exclude(Exists(active)).order_by("last_name", "first_name", "pk")


def program_digest(program: Program, *, now: datetime) -> ProgramDigest:
    """What ``program``'s coordinators should look at this week. Eight queries, whatever its size."""
    digest = ProgramDigest(program=program)

    stale = stale_pairings(program, now=now)
    digest.stale_count = stale.count()
    for m in stale[:DIGEST_NAMES]:
        quiet = (
            f"no meeting for {_days(now - m.last_meeting_at)}"
            if m.last_meeting_at
            else (f"no meeting since they started {_days(now - m.started_at)} ago")
        )
        digest.stale.append(
            DigestItem(
                f"{m.mentor.full_name} & {m.mentee.full_name}", m.get_absolute_url(), f"{m.get_kind_display()}: {quiet}"
            )
        )

    pending = waiting_requests(program, now=now)
    digest.pending_count = pending.count()
    for r in pending[:DIGEST_NAMES]:
        digest.pending.append(
            DigestItem(
                f"{r.mentee.full_name} → {r.mentor.full_name}",
                r.get_absolute_url(),
                f"{r.get_kind_display()}: waiting {_days(now - r.created_at)}",
            )
        )

    unmatched = unmatched_residents(program)
    digest.unmatched_count = unmatched.count()
    for u in unmatched[:DIGEST_NAMES]:
        digest.unmatched.append(DigestItem(u.full_name, reverse("matching:person", args=[u.pk])))

    residents = _residents(program)
    digest.residents = residents.count()
    with_kind = dict(
        Mentorship.objects.filter(status=Mentorship.Status.ACTIVE, mentee__in=residents)
        .order_by()
        .values("kind")
        .annotate(n=Count("mentee", distinct=True))
        .values_list("kind", "n")
    )
    digest.without_kind = [(label, digest.residents - with_kind.get(kind, 0)) for kind, label in Kind.choices]
    return digest


def coordinator_digest(coordinator: User, *, now: datetime) -> list[ProgramDigest]:
    """The digest of each program ``coordinator`` coordinates that has something to report."""
    digests = [program_digest(p, now=now) for p in programs_coordinated_by(coordinator).order_by("name")]
    return [d for d in digests if not d.is_empty]


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
    try:
        send_templated_email(
            template="matching/email/coordinator_digest",
            to=[coordinator.email],
            context={"user": coordinator, "programs": digests, "summary": summary, "now": now},
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


def last_nudge(mentorship: Mentorship) -> AuditEntry | None:
    return (
        AuditEntry.objects.filter(object_type="mentorship", object_id=str(mentorship.pk), action=NUDGE_ACTION)
        .select_related("actor")
        .order_by("-created_at", "-id")
        .first()
    )


def next_nudge_at(mentorship: Mentorship) -> datetime | None:
    """When ``mentorship`` may be nudged again; None if it may be now."""
    last = last_nudge(mentorship)
    if last is None or last.created_at + NUDGE_INTERVAL <= timezone.now():
        return None
    return last.created_at + NUDGE_INTERVAL


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
        when = (
            f"You and {other.full_name} last met on {local:%B} {local.day}, {local.year} ({_days(now - last_met)} ago)."
        )
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
            f"{sent:%B} {sent.day}. One reminder a week is enough: you can nudge them again from {again:%B} {again.day}."
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
