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
from django.urls import reverse
from django.utils import timezone

from .models import Membership, MenteeProfile, MentorProfile, ProgramInvitation

Status = ProgramInvitation.Status


def pending_invitations_for(user):
    """The invitations waiting for ``user``'s answer, newest first."""
    return ProgramInvitation.objects.filter(user=user, status=Status.PENDING).select_related("program", "invited_by")


def pending_invitations_of(program):
    """A program's unanswered invitations: what its coordinators typed, nothing of the person."""
    return ProgramInvitation.objects.filter(program=program, status=Status.PENDING).order_by(
        "last_name", "first_name", "pk"
    )


def _notify(**kwargs):
    from matching.notifications import notify  # the bell and e-mail live with the rest of the notifications

    return notify(**kwargs)


def _audit(**kwargs):
    from matching.audit import audit_log

    return audit_log(**kwargs)


def program_invitation_create(
    *, program, user, role, invited_by, email, first_name, last_name,
    career_stage=None, specialty=None, academic_rank=None,
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
        program=program, user=user, role=role, status=Status.PENDING,
        defaults={
            "invited_by": invited_by, "email": email, "first_name": first_name, "last_name": last_name,
            "career_stage": career_stage, "specialty": specialty, "academic_rank": academic_rank,
        },
    )
    if not created:
        return None
    _audit(actor=invited_by, action="roster.ask_to_join", obj=invitation, program=program,
           after={"role": role, "status": invitation.status})
    _notify(
        event="program.invitation", user=user, url=reverse("accounts:invitations"),
        title=f"You are invited to join {program.name} as {Membership.Role(role).label.lower()}",
        body=(
            f"{program.name} ({program.institution}) asks you to join its roster. Join, and its coordinators "
            "see your profile and can pair you with its people; your account, profile and mentorships stay "
            "yours. Decline if this is not you or not your program."
        ),
        dedup_key=f"program-invitation:{invitation.pk}",
    )
    return invitation


def _locked(invitation) -> ProgramInvitation:
    return ProgramInvitation.objects.select_for_update().select_related("program").get(pk=invitation.pk)


def _check_answerable(invitation, actor):
    if invitation.user_id != actor.pk:
        raise PermissionDenied
    if invitation.status != Status.PENDING:
        raise ValidationError(f"This invitation is already {invitation.get_status_display().lower()}.", code="answered")


@transaction.atomic
def program_invitation_accept(*, invitation, actor) -> Membership:
    """The invited person joins the program. A profile they lack for the role is started
    from what the coordinator's file said; one they have is left as it is."""
    invitation = _locked(invitation)
    _check_answerable(invitation, actor)
    membership, _ = Membership.objects.get_or_create(user=actor, program=invitation.program, role=invitation.role)
    if invitation.role == Membership.Role.RESIDENT:
        MenteeProfile.objects.get_or_create(user=actor, defaults={"career_stage": invitation.career_stage})
    else:
        MentorProfile.objects.get_or_create(user=actor, defaults={
            "specialty": invitation.specialty, "academic_rank": invitation.academic_rank,
            "career_stage": invitation.career_stage,
        })
    _answer(invitation, actor=actor, status=Status.ACCEPTED)
    if invitation.invited_by_id:
        _notify(
            event="program.invitation_accepted", user=invitation.invited_by,
            url=reverse("accounts:roster", kwargs={"slug": invitation.program.slug}),
            # Their own name now: they are the program's, and what the file said may differ.
            title=f"{actor.full_name or actor.email} joined {invitation.program.name}",
            dedup_key=f"program-invitation:{invitation.pk}:accepted",
        )
    return membership


@transaction.atomic
def program_invitation_decline(*, invitation, actor) -> ProgramInvitation:
    invitation = _locked(invitation)
    _check_answerable(invitation, actor)
    return _answer(invitation, actor=actor, status=Status.DECLINED)


@transaction.atomic
def program_invitation_withdraw(*, invitation, actor) -> ProgramInvitation:
    """A coordinator of the program takes back an unanswered invitation."""
    invitation = _locked(invitation)
    if not actor.has_perm("accounts.manage_roster", invitation.program):
        raise PermissionDenied
    if invitation.status != Status.PENDING:
        raise ValidationError(f"This invitation is already {invitation.get_status_display().lower()}.", code="answered")
    return _answer(invitation, actor=actor, status=Status.WITHDRAWN)


def _answer(invitation, *, actor, status) -> ProgramInvitation:
    before = {"status": invitation.status}
    invitation.status = status
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "responded_at"])
    _audit(actor=actor, action=f"roster.join_{status}", obj=invitation, program=invitation.program,
           before=before, after={"status": status})
    return invitation
