"""The invited person accepts while a coordinator withdraws the same invitation, on PostgreSQL.

Every answer locks the invitation's row first (``core.locking``) and checks it
is still pending inside the lock, so the two queue: the second finds it answered and is
refused, and the membership exists exactly when the invitation says "accepted". The first
call is held inside its transaction after its check; the control reads the row without the
lock, and nothing else, and shows the race happens.
"""

import pytest

from accounts import invitations
from accounts.invitations import program_invitation_accept, program_invitation_create, program_invitation_withdraw
from accounts.models import Membership, ProgramInvitation
from tests.factories import MembershipFactory, ProgramFactory, UserFactory
from tests.integration.races import hold_step, overlap

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def asked():
    program = ProgramFactory()
    coordinator = UserFactory()
    MembershipFactory(user=coordinator, program=program, role=Membership.Role.COORDINATOR)
    person = UserFactory()
    invitation = program_invitation_create(
        program=program,
        user=person,
        role="resident",
        invited_by=coordinator,
        email=person.email,
        first_name="A",
        last_name="B",
    )
    return invitation, person, coordinator


def _calls(invitation, person, coordinator):
    return (
        lambda: program_invitation_accept(invitation=invitation, actor=person),
        lambda: program_invitation_withdraw(invitation=invitation, actor=coordinator),
    )


def test_accept_and_withdraw_at_once_one_wins_and_the_state_agrees(monkeypatch, asked):
    invitation, person, coordinator = asked
    hold = hold_step(monkeypatch, invitations, "_answer")  # after the accept's check, inside its lock

    outcomes, errors, blocked = overlap(*_calls(invitation, person, coordinator), hold=hold)

    assert errors == [] and blocked == 1
    assert outcomes == ["ok", "This invitation is already accepted."]
    assert ProgramInvitation.objects.get(pk=invitation.pk).status == "accepted"
    assert Membership.objects.filter(user=person, program=invitation.program).count() == 1


def test_control_without_the_row_lock_both_go_through_and_disagree(monkeypatch, unlock, asked):
    invitation, person, coordinator = asked
    unlock(ProgramInvitation)
    hold = hold_step(monkeypatch, invitations, "_answer")

    outcomes, errors, blocked = overlap(*_calls(invitation, person, coordinator), hold=hold)

    assert errors == [] and blocked == 0 and outcomes == ["ok", "ok"]
    # A member of the program, under an invitation that says "accepted" (the last writer won),
    # after a coordinator was told it was withdrawn.
    assert Membership.objects.filter(user=person, program=invitation.program).count() == 1
    assert ProgramInvitation.objects.get(pk=invitation.pk).status == "accepted"
