"""Asking an existing account to join a program, and the person's answer.

A roster import creates new people outright, but a person who already has an account
(in another program, or who has signed in) belongs to themselves: the import only
creates a ProgramInvitation. The person accepts (the membership starts, and a profile
they lack is started from what the file said) or declines; the coordinator may
withdraw it. Until they accept, the program holds nothing of theirs and its
coordinator sees only what they typed.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import audit_log
from core.locking import locked

from .models import (
    AcademicRank,
    CareerStage,
    Membership,
    MenteeProfile,
    MentorProfile,
    Program,
    ProgramInvitation,
    Specialty,
    User,
)
from .signals import program_invitation_accepted, program_invitation_made

Status = ProgramInvitation.Status


def program_invitation_create(
    *,
    program: Program,
    user: User,
    role: str,
    invited_by: User,
    email: str,
    first_name: str,
    last_name: str,
    career_stage: CareerStage | None = None,
    specialty: Specialty | None = None,
    academic_rank: AcademicRank | None = None,
) -> ProgramInvitation | None:
    """Ask ``user`` to join ``program`` as ``role``; None if they are a member, already asked,
    or declined before.

    Called inside the roster import's transaction; the e-mail goes once it commits.
    """
    if Membership.objects.filter(user=user, program=program, role=role).exists():
        return None
    # A person who said no is not asked again (each re-import would e-mail them anew).
    if ProgramInvitation.objects.filter(program=program, user=user, role=role, status=Status.DECLINED).exists():
        return None
    invitation, created = ProgramInvitation.objects.get_or_create(
        program=program,
        user=user,
        role=role,
        status=Status.PENDING,
        defaults={
            "invited_by": invited_by,
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "career_stage": career_stage,
            "specialty": specialty,
            "academic_rank": academic_rank,
        },
    )
    if not created:
        return None
    audit_log(
        actor=invited_by,
        action="roster.ask_to_join",
        obj=invitation,
        program=program,
        after={"role": role, "status": invitation.status},
    )
    program_invitation_made.send(sender=ProgramInvitation, invitation=invitation)
    return invitation


def _check_answerable(invitation: ProgramInvitation, actor: User) -> None:
    if invitation.user_id != actor.pk:
        raise PermissionDenied
    if invitation.status != Status.PENDING:
        raise ValidationError(f"This invitation is already {invitation.get_status_display().lower()}.", code="answered")


@transaction.atomic
def program_invitation_accept(*, invitation: ProgramInvitation, actor: User) -> Membership:
    """The invited person joins the program. A profile they lack for the role is started
    from what the coordinator's file said; one they have is left as it is."""
    invitation = locked(ProgramInvitation.objects.select_related("program"), of=("self", "program")).get(
        pk=invitation.pk
    )
    _check_answerable(invitation, actor)
    membership, _ = Membership.objects.get_or_create(user=actor, program=invitation.program, role=invitation.role)
    if invitation.role == Membership.Role.RESIDENT:
        MenteeProfile.objects.get_or_create(user=actor, defaults={"career_stage": invitation.career_stage})
    else:
        MentorProfile.objects.get_or_create(
            user=actor,
            defaults={
                "specialty": invitation.specialty,
                "academic_rank": invitation.academic_rank,
                "career_stage": invitation.career_stage,
            },
        )
    _answer(invitation, actor=actor, status=Status.ACCEPTED)
    if invitation.invited_by_id:
        program_invitation_accepted.send(sender=ProgramInvitation, invitation=invitation, actor=actor)
    return membership


@transaction.atomic
def program_invitation_decline(*, invitation: ProgramInvitation, actor: User) -> ProgramInvitation:
    invitation = locked(ProgramInvitation.objects.select_related("program"), of=("self", "program")).get(
        pk=invitation.pk
    )
    _check_answerable(invitation, actor)
    return _answer(invitation, actor=actor, status=Status.DECLINED)


@transaction.atomic
def program_invitation_withdraw(*, invitation: ProgramInvitation, actor: User) -> ProgramInvitation:
    """A coordinator of the program takes back an unanswered invitation."""
    invitation = locked(ProgramInvitation.objects.select_related("program"), of=("self", "program")).get(
        pk=invitation.pk
    )
    if not actor.has_perm("accounts.manage_roster", invitation.program):
        raise PermissionDenied
    if invitation.status != Status.PENDING:
        raise ValidationError(f"This invitation is already {invitation.get_status_display().lower()}.", code="answered")
    return _answer(invitation, actor=actor, status=Status.WITHDRAWN)


def _answer(invitation: ProgramInvitation, *, actor: User, status: str) -> ProgramInvitation:
    before = {"status": invitation.status}
    invitation.status = status
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "responded_at"])
    audit_log(
        actor=actor,
        action=f"roster.join_{status}",
        obj=invitation,
        program=invitation.program,
        before=before,
        after={"status": status},
    )
    return invitation
