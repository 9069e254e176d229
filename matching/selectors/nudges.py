"""The coordinators' weekly digest (what each program should look at) and when a pair may be
nudged again. ``matching.services.nudges`` sends both."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Program, User
from accounts.selectors import programs_coordinated_by
from audit.models import AuditEntry

from ..models import Kind, Mentorship, MentorshipRequest
from .pairings import PairingAnnotations, pairings_of

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

PENDING_AFTER = timedelta(days=7)
NUDGE_INTERVAL = timedelta(days=7)
# Each section of the digest names this many people, then says how many more.
DIGEST_NAMES = 5
NUDGE_ACTION = "mentorship.nudge"


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


def days_text(delta: timedelta) -> str:
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
            f"no meeting for {days_text(now - m.last_meeting_at)}"
            if m.last_meeting_at
            else (f"no meeting since they started {days_text(now - m.started_at)} ago")
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
                f"{r.get_kind_display()}: waiting {days_text(now - r.created_at)}",
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
