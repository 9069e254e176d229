"""Requests: the lists on /requests/ and /api/v1/requests/, a request's page, and the programs
a new request may belong to."""

from django.db.models import BooleanField, Case, Count, Q, QuerySet, Value, When

from accounts.models import Membership, Program, User

from ..models import MentorshipRequest
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


def _waiting_for(user: User) -> Case:
    """True on a pending request whose next move is ``user``'s: the mentor answers unless a
    question is open; the mentee answers an open question."""
    pending = Q(status=MentorshipRequest.Status.PENDING)
    open_question = ~Q(question="") & Q(answer="")
    return Case(
        When(pending & Q(mentor=user) & ~open_question, then=Value(True)),
        When(pending & Q(mentee=user) & open_question, then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


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
    return requests.annotate(waiting_for_me=_waiting_for(user)).order_by("-waiting_for_me", "-created_at", "-id")


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
