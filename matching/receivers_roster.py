"""What matching does when people leave a program's roster (``accounts.leaving.members_leaving``):
their pending requests and active mentorships in that program end, with the reason "left the
program", and whoever stays is told. Runs inside the roster change's transaction.

Connect it in ``MatchingConfig.ready()``:
    members_leaving.connect(end_for_members_leaving, dispatch_uid="matching.members_leaving")
"""

from typing import Any

from django.db.models import Q

from accounts.models import Membership, Program, User
from core.locking import locked

from .models import Mentorship, MentorshipRequest
from .notifications import notify
from .services.mentorships import mentorship_close_locked
from .services.requests import request_close_locked

LEFT = "left the program"


def _left(name: str, reason: str) -> str:
    """The neutral sentence both people (and the coordinators) read on the mentorship page
    and in the notification: a sentence of its own, with whoever left named."""
    return f"{name} graduated and left the program." if reason == "graduated" else f"{name} {LEFT}."


def end_for_members_leaving(
    sender: type, *, program: Program, leaving: list[tuple[int, str]], actor: User, reason: str, **kwargs: Any
) -> None:
    """``leaving``: (user id, role) pairs. A resident leaving ends the mentorships and requests
    they are the mentee of; faculty leaving, those they are the mentor of."""
    mentees = {user_id for user_id, role in leaving if role == Membership.Role.RESIDENT}
    mentors = {user_id for user_id, role in leaving if role == Membership.Role.FACULTY}
    who = Q(mentee_id__in=mentees) | Q(mentor_id__in=mentors)
    everyone = mentees | mentors

    # Lock order (core/locking.py): mentorships, then requests.
    mentorships = locked(Mentorship.objects.filter(who, program=program, status=Mentorship.Status.ACTIVE))
    for mentorship in mentorships.select_related("mentee", "mentor").order_by("pk"):
        leaver = mentorship.mentee if mentorship.mentee_id in mentees else mentorship.mentor
        end_reason = _left(leaver.full_name, reason)
        mentorship_close_locked(mentorship=mentorship, actor=actor, reason=end_reason)
        staying = mentorship.other_party(leaver)
        if staying.pk not in everyone:
            notify(
                event="mentorship.ended",
                user=staying,
                url=mentorship.get_absolute_url(),
                title=f"Your mentorship with {leaver.full_name} has ended",
                body=end_reason,
                dedup_key=f"mentorship:{mentorship.pk}:ended",
            )

    requests = locked(MentorshipRequest.objects.filter(who, program=program, status=MentorshipRequest.Status.PENDING))
    for request in requests.select_related("mentee", "mentor").order_by("pk"):
        if request.mentee_id in mentees:
            # The resident is leaving: close it quietly (the mentor's queue shrinks; nobody waits).
            request_close_locked(request=request, actor=actor, note=_left(request.mentee.full_name, reason))
        else:
            request_close_locked(
                request=request,
                actor=actor,
                note=f"{request.mentor.full_name} {LEFT}.",
                title=f"{request.mentor.full_name} has left the program",
                body="Your request was closed.",
            )
