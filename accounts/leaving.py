"""People leave a program: a class graduating at the end of the academic year, or anyone
who left. ``roster_members_leave`` removes their memberships and deactivates those who
then belong to no program at all.

Accounts sits below matching (core ← accounts ← matching) and cannot end requests or
mentorships itself. So, inside its transaction and before it removes anything, it sends
``members_leaving``; matching's receiver (matching/receivers_roster.py, connected in
``MatchingConfig.ready()``) ends that program's pending requests and active mentorships of
those people, with the reason "left the program". Sent with ``send``, not ``send_robust``:
a receiver's failure rolls the whole change back, as a direct call would.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.dispatch import Signal

from audit.services import audit_log

from .models import Membership, Program, User

logger = logging.getLogger(__name__)

# Sent with ``program``, ``leaving`` (a list of (user id, role) pairs: a near-peer mentor may
# leave as a resident and stay faculty), ``actor`` and ``reason`` (a LEAVE_REASONS key),
# inside the transaction, before the memberships are removed.
members_leaving = Signal()

LEAVE_REASONS = {"graduated": "Graduated", "left": "Left the program"}
# One click ends a class, not an institution.
MAX_LEAVING = 1000


@dataclass(frozen=True)
class LeaveResult:
    memberships: int  # memberships removed
    people: int  # distinct people
    deactivated: int  # of them, those who now belong to no program: they can no longer sign in


@transaction.atomic
def roster_members_leave(*, program: Program, memberships: Iterable[int], actor: User, reason: str) -> LeaveResult:
    """Remove the roster memberships ``memberships`` (ids) of ``program``: all or none.

    Raises ValidationError for an unknown reason, an empty or oversized choice, or ids that
    are not (or no longer: a second click) residents or faculty of this program."""
    if not actor.has_perm("accounts.manage_roster", program):
        raise PermissionDenied
    if reason not in LEAVE_REASONS:
        raise ValidationError("Choose whether they graduated or left the program.", code="reason")
    ids = set(memberships)
    if not ids:
        raise ValidationError("Choose who is leaving.", code="empty")
    if len(ids) > MAX_LEAVING:
        raise ValidationError(f"At most {MAX_LEAVING:,} people can leave at once; filter the roster further.")
    leaving = list(
        Membership.objects.filter(program=program, pk__in=ids)
        .exclude(role=Membership.Role.COORDINATOR)
        .order_by("pk")
        .values_list("pk", "user_id", "role")
    )
    if len(leaving) != len(ids):
        raise ValidationError(
            "Some of the people chosen are no longer on this roster. Reload the roster and choose again.",
            code="gone",
        )
    pairs = [(user_id, role) for _, user_id, role in leaving]
    members_leaving.send(sender=Membership, program=program, leaving=pairs, actor=actor, reason=reason)
    Membership.objects.filter(pk__in=[pk for pk, _, _ in leaving]).delete()
    user_ids = sorted({user_id for user_id, _ in pairs})
    # Staff keep their accounts; everyone else who now belongs nowhere can no longer sign in.
    deactivated = (
        User.objects.filter(pk__in=user_ids, is_active=True, is_staff=False, is_superuser=False)
        .exclude(pk__in=Membership.objects.values("user_id"))
        .update(is_active=False)
    )
    audit_log(
        actor=actor,
        action="roster.leave",
        obj=program,
        program=program,
        after={"reason": reason, "memberships": len(leaving), "people": len(user_ids), "deactivated": deactivated},
    )
    logger.info(
        "Roster of %s: user %s marked %s memberships %s (%s deactivated)",
        program.slug,
        actor.pk,
        len(leaving),
        reason,
        deactivated,
    )
    return LeaveResult(memberships=len(leaving), people=len(user_ids), deactivated=deactivated)
