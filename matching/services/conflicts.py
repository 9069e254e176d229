"""Coordinators record conflicts of interest: evaluator roles, do-not-pair entries, and the
explicit exceptions that let an evaluator mentor one resident anyway. Every change is audited
with its reason; what it blocks is decided in ``matching.conflicts``.

Recording a block closes the pending requests it now forbids; an active mentorship is left
for the coordinator to end (the message says so), since ending one is a decision of its own.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import capfirst

from accounts.models import Membership, Program, User
from accounts.rules import person_named
from audit.services import audit_log
from core.forms import max_length_of
from core.guards import require_perm

from ..conflicts import EVALUATOR, blocked_pairs
from ..models import ConflictOfInterest, EvaluatorRole, Mentorship, PairingException
from .requests import requests_close_blocked

PERM = "matching.manage_conflicts"
# Do-not-pair entries and exceptions share their forms: the shorter of their reasons.
REASON_MAX_LENGTH = min(max_length_of(ConflictOfInterest, "reason"), max_length_of(PairingException, "reason"))


def _is_member(program: Program, user: User, role: str) -> bool:
    return Membership.objects.filter(program=program, user=user, role=role).exists()


def _named(actor: User, person: User) -> str:
    """A person at the start of a refusal, named only as far as ``actor`` may name them: an id
    from another program reads "Person #12", never a name (issue 11)."""
    return capfirst(person_named(actor, person))


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason; it stays with the program's coordinators."})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": f"Keep the reason to {REASON_MAX_LENGTH:,} characters."})
    return reason


def _active_between(pairs: Iterable[tuple[int, int]]) -> list[Mentorship]:
    found: list[Mentorship] = []
    for mentee_id, mentor_id in pairs:
        found += list(
            Mentorship.objects.filter(mentee_id=mentee_id, mentor_id=mentor_id, status=Mentorship.Status.ACTIVE)
        )
    return found


@transaction.atomic
def evaluator_role_add(
    *, program: Program, actor: User, user: User, role: str
) -> tuple[EvaluatorRole, list[Mentorship]]:
    """Flag ``user`` (faculty of ``program``) as one of its evaluators. Returns the role and the
    active mentorships it now conflicts with (left for the coordinator to end or except)."""
    require_perm(actor, PERM, program)
    if role not in EvaluatorRole.Role.values:
        raise ValidationError({"role": "Choose program director, associate program director or CCC member."})
    if not _is_member(program, user, Membership.Role.FACULTY):
        raise ValidationError({"user": f"{_named(actor, user)} is not faculty of {program.name}."})
    try:
        with transaction.atomic():
            entry = EvaluatorRole.objects.create(program=program, user=user, role=role, created_by=actor)
    except IntegrityError:
        raise ValidationError({"role": f"{_named(actor, user)} already has this role in {program.name}."}) from None
    audit_log(actor=actor, action="evaluator_role.add", obj=entry, after={"user": user.pk, "role": role})
    residents = Membership.objects.filter(program=program, role=Membership.Role.RESIDENT).values_list(
        "user_id", flat=True
    )
    pairs = [pair for pair, why in blocked_pairs(residents, [user.pk]).items() if why == EVALUATOR]
    requests_close_blocked(pairs=pairs, actor=actor)
    return entry, _active_between(pairs)


@transaction.atomic
def evaluator_role_remove(*, entry: EvaluatorRole, actor: User, reason: str = "") -> None:
    require_perm(actor, PERM, entry.program)
    audit_log(
        actor=actor,
        action="evaluator_role.remove",
        obj=entry,
        before={"user": entry.user_id, "role": entry.role},
        reason=(reason or "").strip(),
    )
    entry.delete()


@transaction.atomic
def conflict_add(
    *, program: Program, actor: User, mentee: User, mentor: User, reason: str
) -> tuple[ConflictOfInterest, list[Mentorship]]:
    """Never pair ``mentee`` (a resident of ``program``) with ``mentor``. Returns the entry and
    the active mentorship between them, if any (left for the coordinator to end)."""
    require_perm(actor, PERM, program)
    reason = _reason(reason)
    if not _is_member(program, mentee, Membership.Role.RESIDENT):
        raise ValidationError({"mentee": f"{_named(actor, mentee)} is not a resident of {program.name}."})
    if mentee.pk == mentor.pk:
        raise ValidationError({"mentor": "Choose someone other than the resident."})
    if not hasattr(mentor, "mentor_profile"):
        raise ValidationError({"mentor": f"{_named(actor, mentor)} has no mentor profile."})
    try:
        with transaction.atomic():
            entry = ConflictOfInterest.objects.create(
                program=program, mentee=mentee, mentor=mentor, reason=reason, created_by=actor
            )
    except IntegrityError:
        raise ValidationError(
            f"{_named(actor, mentee)} and {person_named(actor, mentor)} are already kept apart."
        ) from None
    audit_log(
        actor=actor, action="conflict.add", obj=entry, after={"mentee": mentee.pk, "mentor": mentor.pk}, reason=reason
    )
    requests_close_blocked(pairs=[(mentee.pk, mentor.pk)], actor=actor)
    return entry, _active_between([(mentee.pk, mentor.pk)])


@transaction.atomic
def conflict_remove(*, entry: ConflictOfInterest, actor: User, reason: str) -> None:
    require_perm(actor, PERM, entry.program)
    reason = _reason(reason)
    audit_log(
        actor=actor,
        action="conflict.remove",
        obj=entry,
        before={"mentee": entry.mentee_id, "mentor": entry.mentor_id, "reason": entry.reason},
        reason=reason,
    )
    entry.delete()


@transaction.atomic
def exception_grant(*, program: Program, actor: User, mentee: User, mentor: User, reason: str) -> PairingException:
    """Let ``mentor``, an evaluator of ``program``, mentor ``mentee``, one of its residents:
    an explicit decision, with its reason in the audit trail. A do-not-pair entry still wins."""
    require_perm(actor, PERM, program)
    reason = _reason(reason)
    if not _is_member(program, mentee, Membership.Role.RESIDENT):
        raise ValidationError({"mentee": f"{_named(actor, mentee)} is not a resident of {program.name}."})
    if not EvaluatorRole.objects.filter(program=program, user=mentor).exists():
        raise ValidationError(
            {"mentor": f"{_named(actor, mentor)} has no evaluator role in {program.name}: nothing to allow."}
        )
    try:
        with transaction.atomic():
            entry = PairingException.objects.create(
                program=program, mentee=mentee, mentor=mentor, reason=reason, created_by=actor
            )
    except IntegrityError:
        raise ValidationError(f"{_named(actor, mentor)} may already mentor {person_named(actor, mentee)}.") from None
    audit_log(
        actor=actor,
        action="exception.grant",
        obj=entry,
        after={"mentee": mentee.pk, "mentor": mentor.pk},
        reason=reason,
    )
    return entry


@transaction.atomic
def exception_revoke(*, entry: PairingException, actor: User, reason: str = "") -> list[Mentorship]:
    """Withdraw an exception; returns an active mentorship it had allowed, if any."""
    require_perm(actor, PERM, entry.program)
    audit_log(
        actor=actor,
        action="exception.revoke",
        obj=entry,
        before={"mentee": entry.mentee_id, "mentor": entry.mentor_id},
        reason=(reason or "").strip(),
    )
    pair = (entry.mentee_id, entry.mentor_id)
    entry.delete()
    blocked = list(blocked_pairs([pair[0]], [pair[1]]))
    requests_close_blocked(pairs=blocked, actor=actor)
    return _active_between(blocked)
