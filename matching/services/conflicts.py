"""Coordinators record conflicts of interest: evaluator roles, do-not-pair entries, and the
explicit exceptions that let an evaluator mentor one resident anyway. Every change is audited
with its reason; what it blocks is decided in ``matching.conflicts``.

Recording a block closes the pending requests it now forbids; an active mentorship is left
for the coordinator to end (the message says so), since ending one is a decision of its own.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Membership, User

from ..audit import audit_log
from ..conflicts import EVALUATOR, blocked_pairs
from ..models import ConflictOfInterest, EvaluatorRole, Mentorship, PairingException
from .requests import requests_close_blocked

PERM = "matching.manage_conflicts"


def _require(actor, program):
    if not actor.has_perm(PERM, program):
        raise PermissionDenied


def _member(program, user, role, message):
    if not Membership.objects.filter(program=program, user=user, role=role).exists():
        raise ValidationError(message)


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason; it stays with the program's coordinators."})
    return reason


def _active_between(pairs) -> list[Mentorship]:
    found = []
    for mentee_id, mentor_id in pairs:
        found += list(
            Mentorship.objects.filter(mentee_id=mentee_id, mentor_id=mentor_id, status=Mentorship.Status.ACTIVE)
        )
    return found


@transaction.atomic
def evaluator_role_add(*, program, actor, user, role) -> tuple[EvaluatorRole, list[Mentorship]]:
    """Flag ``user`` (faculty of ``program``) as one of its evaluators. Returns the role and the
    active mentorships it now conflicts with (left for the coordinator to end or except)."""
    _require(actor, program)
    if role not in EvaluatorRole.Role.values:
        raise ValidationError({"role": "Choose program director, associate program director or CCC member."})
    _member(program, user, Membership.Role.FACULTY, {"user": f"{user.full_name} is not faculty of {program.name}."})
    try:
        with transaction.atomic():
            entry = EvaluatorRole.objects.create(program=program, user=user, role=role, created_by=actor)
    except IntegrityError:
        raise ValidationError({"role": f"{user.full_name} already has this role in {program.name}."}) from None
    audit_log(actor=actor, action="evaluator_role.add", obj=entry, after={"user": user.pk, "role": role})
    residents = Membership.objects.filter(program=program, role=Membership.Role.RESIDENT).values_list("user_id", flat=True)
    pairs = [pair for pair, why in blocked_pairs(residents, [user.pk]).items() if why == EVALUATOR]
    requests_close_blocked(pairs=pairs, actor=actor)
    return entry, _active_between(pairs)


@transaction.atomic
def evaluator_role_remove(*, entry, actor, reason="") -> None:
    _require(actor, entry.program)
    audit_log(
        actor=actor, action="evaluator_role.remove", obj=entry,
        before={"user": entry.user_id, "role": entry.role}, reason=(reason or "").strip(),
    )
    entry.delete()


@transaction.atomic
def conflict_add(*, program, actor, mentee, mentor, reason) -> tuple[ConflictOfInterest, list[Mentorship]]:
    """Never pair ``mentee`` (a resident of ``program``) with ``mentor``. Returns the entry and
    the active mentorship between them, if any (left for the coordinator to end)."""
    _require(actor, program)
    reason = _reason(reason)
    _member(program, mentee, Membership.Role.RESIDENT, {"mentee": f"{mentee.full_name} is not a resident of {program.name}."})
    if mentee.pk == mentor.pk:
        raise ValidationError({"mentor": "Choose someone other than the resident."})
    if not hasattr(mentor, "mentor_profile"):
        raise ValidationError({"mentor": f"{mentor.full_name} has no mentor profile."})
    try:
        with transaction.atomic():
            entry = ConflictOfInterest.objects.create(
                program=program, mentee=mentee, mentor=mentor, reason=reason, created_by=actor
            )
    except IntegrityError:
        raise ValidationError(f"{mentee.full_name} and {mentor.full_name} are already kept apart.") from None
    audit_log(actor=actor, action="conflict.add", obj=entry, after={"mentee": mentee.pk, "mentor": mentor.pk}, reason=reason)
    requests_close_blocked(pairs=[(mentee.pk, mentor.pk)], actor=actor)
    return entry, _active_between([(mentee.pk, mentor.pk)])


@transaction.atomic
def conflict_remove(*, entry, actor, reason) -> None:
    _require(actor, entry.program)
    reason = _reason(reason)
    audit_log(
        actor=actor, action="conflict.remove", obj=entry,
        before={"mentee": entry.mentee_id, "mentor": entry.mentor_id, "reason": entry.reason}, reason=reason,
    )
    entry.delete()


@transaction.atomic
def exception_grant(*, program, actor, mentee, mentor, reason) -> PairingException:
    """Let ``mentor``, an evaluator of ``program``, mentor ``mentee``, one of its residents:
    an explicit decision, with its reason in the audit trail. A do-not-pair entry still wins."""
    _require(actor, program)
    reason = _reason(reason)
    _member(program, mentee, Membership.Role.RESIDENT, {"mentee": f"{mentee.full_name} is not a resident of {program.name}."})
    if not EvaluatorRole.objects.filter(program=program, user=mentor).exists():
        raise ValidationError({"mentor": f"{mentor.full_name} has no evaluator role in {program.name}: nothing to allow."})
    try:
        with transaction.atomic():
            entry = PairingException.objects.create(
                program=program, mentee=mentee, mentor=mentor, reason=reason, created_by=actor
            )
    except IntegrityError:
        raise ValidationError(f"{mentor.full_name} may already mentor {mentee.full_name}.") from None
    audit_log(actor=actor, action="exception.grant", obj=entry, after={"mentee": mentee.pk, "mentor": mentor.pk}, reason=reason)
    return entry


@transaction.atomic
def exception_revoke(*, entry, actor, reason="") -> list[Mentorship]:
    """Withdraw an exception; returns an active mentorship it had allowed, if any."""
    _require(actor, entry.program)
    audit_log(
        actor=actor, action="exception.revoke", obj=entry,
        before={"mentee": entry.mentee_id, "mentor": entry.mentor_id}, reason=(reason or "").strip(),
    )
    pair = (entry.mentee_id, entry.mentor_id)
    entry.delete()
    blocked = list(blocked_pairs([pair[0]], [pair[1]]))
    requests_close_blocked(pairs=blocked, actor=actor)
    return _active_between(blocked)


def people_for_conflicts(program) -> tuple[list[User], list[User]]:
    """The program's residents, and the mentors a coordinator may keep apart from them."""
    residents = list(
        User.objects.filter(memberships__program=program, memberships__role=Membership.Role.RESIDENT)
        .distinct().order_by("last_name", "first_name", "pk")
    )
    mentors = list(
        User.objects.filter(mentor_profile__isnull=False, memberships__program=program)
        .distinct().order_by("last_name", "first_name", "pk")
    )
    return residents, mentors
