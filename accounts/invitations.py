"""Asking an existing account to join a program, and the person's answer; and sign-up
invitations sent again to many people at once (``users_reinvite``).

A roster import creates new people outright, but a person who already has an account
(in another program, or who has signed in) belongs to themselves: the import only
creates a ProgramInvitation. The person accepts (the membership starts, and a profile
they lack is started from what the file said) or declines; the coordinator may
withdraw it. Until they accept, the program holds nothing of theirs and its
coordinator sees only what they typed.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import audit_log
from core.locking import locked
from core.outbox import enqueue_on_commit

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
from .selectors import awaiting_first_sign_in_q
from .signals import program_invitation_accepted, program_invitation_made

Status = ProgramInvitation.Status

# Enqueued by name: services never import the tasks that call them. One task per batch,
# fanned out by the worker into one ``send_invitation`` each (its own claim and retries).
SEND_INVITATIONS = "accounts.tasks.send_invitations"
INVITATION_BATCH = 500


@transaction.atomic  # its own when the caller has none (asking one person to join)
def users_reinvite(*, user_ids: Iterable[int], invited_by: User, not_since: datetime) -> list[int]:
    """Send their sign-up invitation again (a fresh link) to those of ``user_ids`` who have
    still not signed in and were not invited since ``not_since`` (a reminder's "at most once a
    day"); the ids invited. One locking read and one UPDATE whatever their number, then one
    task per ``INVITATION_BATCH`` once the transaction commits: a coordinator reminding two
    hundred people waits for none of the e-mails.

    Inside the caller's transaction, if any. Two reminders at once: the second waits on the rows'
    locks, then finds them invited since ``not_since`` and sends nothing. Should the broker be
    down, ``invited_at`` newer than ``invitation_sent_at`` leaves each for the invitation
    sweeper (``accounts.services.invitations_send_unsent``)."""
    ids = list(
        locked(User.objects.filter(awaiting_first_sign_in_q(), pk__in=list(user_ids), is_active=True))
        .filter(Q(invited_at__isnull=True) | Q(invited_at__lt=not_since))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not ids:
        return []
    User.objects.filter(pk__in=ids).update(invited_at=timezone.now())
    for start in range(0, len(ids), INVITATION_BATCH):
        enqueue_on_commit(SEND_INVITATIONS, ids[start : start + INVITATION_BATCH], invited_by.pk)
    return ids


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
    # Someone who has not signed in yet can open no link but their sign-up invitation's (the
    # notification above waits in their bell): that is sent again instead, at most once a day,
    # and this invitation waits for them once they are in.
    users_reinvite(user_ids=[user.pk], invited_by=invited_by, not_since=timezone.now() - timedelta(days=1))
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
