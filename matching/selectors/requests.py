"""Requests: the lists on /requests/ and /api/v1/requests/, a request's page, and the programs
a new request may belong to."""

from django.db.models import BooleanField, Case, Count, F, OuterRef, Q, QuerySet, Subquery, Value, When

from accounts.models import Membership, Program, User

from ..models import Kind, Mentorship, MentorshipRequest, Message
from ..rules import visible_requests


def requests_for(user: User) -> QuerySet[MentorshipRequest]:
    """Requests ``user`` sent or received."""
    return MentorshipRequest.objects.filter(Q(mentee=user) | Q(mentor=user)).select_related(
        "mentee", "mentor", "program"
    )


# Which side of a request a list shows: requests I sent, I received, or my programs' (coordinators).
REQUEST_ROLES = {"received": "Received", "sent": "Sent", "program": "My programs"}

# Status tabs; "closed" gathers the ways a request ends without an answer.
REQUEST_STATUS_GROUPS = {
    "pending": [MentorshipRequest.Status.PENDING],
    "accepted": [MentorshipRequest.Status.ACCEPTED],
    "declined": [MentorshipRequest.Status.DECLINED],
    "closed": [MentorshipRequest.Status.WITHDRAWN, MentorshipRequest.Status.EXPIRED, MentorshipRequest.Status.CLOSED],
}


def _waiting_for(user: User) -> tuple[Case, Subquery]:
    """True on a pending request whose next move is ``user``'s. The mentor answers, unless
    they wrote last in the request's thread (they asked something: the mentee's move)."""
    pending = Q(status=MentorshipRequest.Status.PENDING)
    last_author = Subquery(
        Message.objects.filter(request=OuterRef("pk"), deleted_at__isnull=True)
        .order_by("-created_at", "-id")
        .values("author_id")[:1]
    )
    mentor_wrote_last = Q(last_author=F("mentor_id"))
    return Case(
        # (No message yet: NULL, which a plain negation would not count.)
        When(pending & Q(mentor=user) & (Q(last_author__isnull=True) | ~mentor_wrote_last), then=Value(True)),
        When(pending & Q(mentee=user) & mentor_wrote_last, then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    ), last_author


def requests_visible_to(user: User) -> QuerySet[MentorshipRequest]:
    """Requests ``user`` sent, received, or that belong to a program they coordinate (the
    rule ``matching.view_request``)."""
    return MentorshipRequest.objects.filter(visible_requests(user)).select_related("mentee", "mentor", "program")


def request_list(user: User, *, role: str = "", status: str = "") -> QuerySet[MentorshipRequest]:
    """One side of ``user``'s requests (``role``: sent, received, program; empty: all they
    may see), narrowed to a status group or a single status. The requests waiting for
    ``user``'s move come first, then the newest."""
    if role == "sent":
        requests = requests_for(user).filter(mentee=user)
    elif role == "received":
        requests = requests_for(user).filter(mentor=user)
    elif role == "program":
        requests = requests_visible_to(user).exclude(Q(mentee=user) | Q(mentor=user))
    else:
        requests = requests_visible_to(user)
    if status in REQUEST_STATUS_GROUPS:
        requests = requests.filter(status__in=REQUEST_STATUS_GROUPS[status])
    elif status:
        requests = requests.filter(status=status)
    waiting, last_author = _waiting_for(user)
    return (
        requests.annotate(last_author=last_author)
        .annotate(waiting_for_me=waiting)
        .order_by("-waiting_for_me", "-created_at", "-id")
    )


def request_counts(requests: QuerySet[MentorshipRequest]) -> dict[str, int]:
    """How many of ``requests`` fall in each status tab, in one query."""
    return requests.order_by().aggregate(
        **{group: Count("pk", filter=Q(status__in=statuses)) for group, statuses in REQUEST_STATUS_GROUPS.items()}
    )


def requests_for_page() -> QuerySet[MentorshipRequest]:
    """Requests with what a request's page shows: both people, the program, the mentee's
    profile (the mentor reads it before answering) and the mentorship it started. Unscoped:
    the page asks ``matching.view_request`` of the one it loads."""
    return MentorshipRequest.objects.select_related(
        "mentee__mentee_profile__career_stage", "mentor__mentor_profile", "program", "mentorship"
    ).prefetch_related("mentee__mentee_profile__goals")


def request_programs(*, mentee: User, mentor: User) -> QuerySet[Program]:
    """The programs a request from ``mentee`` to ``mentor`` may belong to: those they share
    (the mentee as a resident, the mentor in any role); only when they share none (a mentor
    of another program, from the directory), any of the mentee's resident programs. A pair of
    one program is that program's: its coordinators, and no other program's, see their check-ins."""
    residents_of = (
        Program.objects.filter(memberships__user=mentee, memberships__role=Membership.Role.RESIDENT)
        .distinct()
        .order_by("name", "pk")
    )
    shared = residents_of.filter(pk__in=Membership.objects.filter(user=mentor).values("program_id"))
    return shared if shared.exists() else residents_of


def pair_mentorship(request: MentorshipRequest) -> Mentorship | None:
    """The active mentorship the request's pair already has (a coordinator or a match run
    paired them meanwhile), if any: such a request can no longer be accepted."""
    return (
        Mentorship.objects.filter(mentee_id=request.mentee_id, mentor_id=request.mentor_id, status="active")
        .exclude(pk=request.mentorship_id or 0)
        .first()
    )


def kind_to_suggest(mentee: User) -> str:
    """The first kind of mentorship ``mentee`` has neither an active mentor nor a pending
    request of (career when they have every kind): what the request form pre-selects."""
    taken = set(
        Mentorship.objects.filter(mentee=mentee, status=Mentorship.Status.ACTIVE).values_list("kind", flat=True)
    ) | set(
        MentorshipRequest.objects.filter(mentee=mentee, status=MentorshipRequest.Status.PENDING).values_list(
            "kind", flat=True
        )
    )
    return next((kind for kind in Kind.values if kind not in taken), Kind.CAREER)
