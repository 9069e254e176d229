"""Notifications for what accounts announces (``accounts.signals``): accounts sits below
matching and may not call ``notify`` itself. Connected in ``MatchingConfig.ready()``; each
receiver runs in the sender's transaction."""

from django.urls import reverse

from accounts.models import Membership

from .notifications import notify


def notify_program_invitation_made(sender, *, invitation, **kwargs):
    program = invitation.program
    notify(
        event="program.invitation",
        user=invitation.user,
        url=reverse("accounts:invitations"),
        title=f"You are invited to join {program.name} as {Membership.Role(invitation.role).label.lower()}",
        body=(
            f"{program.name} ({program.institution}) asks you to join its roster. Join, and its coordinators "
            "see your profile and can pair you with its people; your account, profile and mentorships stay "
            "yours. Decline if this is not you or not your program."
        ),
        dedup_key=f"program-invitation:{invitation.pk}",
    )


def notify_program_invitation_accepted(sender, *, invitation, actor, **kwargs):
    notify(
        event="program.invitation_accepted",
        user=invitation.invited_by,
        url=reverse("accounts:roster", kwargs={"slug": invitation.program.slug}),
        # Their own name now: they are the program's, and what the file said may differ.
        title=f"{actor.full_name or actor.email} joined {invitation.program.name}",
        dedup_key=f"program-invitation:{invitation.pk}:accepted",
    )


def notify_program_coordinator_added(sender, *, membership, actor, new_account, **kwargs):
    """An institution administrator made an existing account a coordinator: tell them where
    their program is (a new account learns it from its invitation e-mail)."""
    if new_account:
        return
    program = membership.program
    notify(
        event="program.coordinator_added",
        user=membership.user,
        url=reverse("accounts:roster", kwargs={"slug": program.slug}),
        title=f"You now coordinate {program.name}",
        body=f"{actor.full_name} made you a coordinator of {program.name} ({program.institution}).",
        dedup_key=f"program-coordinator:{membership.pk}",
    )
