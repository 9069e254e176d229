"""Inviting is a separate, explicit step after a roster import (accounts/roster.py:
``roster_invite_all``, ``roster_reinvite_waiting``): the import e-mails no one; the roster then
invites everyone never invited, and re-invites those who have not signed in, at most once a day."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, ProgramInvitation, RosterImport, User
from accounts.roster import REINVITE_AFTER, roster_import_preview, roster_invitations, roster_reinvite_waiting
from audit.models import AuditEntry
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

CSV = (
    "Email Address,First Name,Last Name,Role,PGY Level,Specialty\n"
    "ana.garcia@hospital.example,Ana,García,resident,PGY-1,\n"
    "ben.okafor@hospital.example,Ben,Okafor,resident,PGY-2,\n"
    "rita.shah@hospital.example,Rita,Shah,faculty,,Internal Medicine\n"
)
NEW = ["ana.garcia@hospital.example", "ben.okafor@hospital.example", "rita.shah@hospital.example"]


def _roster_url(program):
    return reverse("accounts:roster", args=[program.slug])


def _upload_and_apply(client, program, coordinator, csv_text=CSV):
    roster_import = roster_import_preview(
        program=program, uploaded_by=coordinator, filename="r.csv", data=csv_text.encode()
    )
    return client.post(reverse("accounts:roster-import-preview", args=[program.slug, roster_import.pk]), follow=True)


def test_applying_sends_no_email_and_the_invite_step_does_once_on_a_double_click(
    client_for, coordinator, program, django_capture_on_commit_callbacks
):
    client = client_for(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        page = _upload_and_apply(client, program, coordinator).content.decode()
    assert mail.outbox == []
    assert "Invite the 3 people who have not been invited" in page

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(_roster_url(program), {"action": "invite"}, follow=True)
    with django_capture_on_commit_callbacks(execute=True):
        second = client.post(_roster_url(program), {"action": "invite"}, follow=True)

    assert sorted(m.to[0] for m in mail.outbox) == sorted(NEW)
    assert "Invitations are on their way to 3 people." in first.content.decode()
    assert "Everyone on the roster has been invited already." in second.content.decode()
    assert "who have not been invited" not in second.content.decode()
    entry = AuditEntry.objects.get(action="roster.invite_all")
    assert (entry.actor, entry.program, entry.after) == (coordinator, program, {"invited": 3, "asked_to_join": 0})


def test_the_invite_step_leaves_out_people_who_signed_in_or_were_invited(
    client_for, coordinator, program, resident, django_capture_on_commit_callbacks
):
    # Alice (``resident``) has a password; Dan was invited last week; Eve signed in by SSO.
    dan = UserFactory(email="dan@hospital.example", password="!x", invited_at=timezone.now() - timedelta(days=7))
    eve = UserFactory(email="eve@hospital.example", password="!x", last_login=timezone.now())
    ned = UserFactory(email="ned@hospital.example", password="!x")
    for user in (dan, eve, ned):
        MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)

    assert roster_invitations(program).never_invited == 1
    with django_capture_on_commit_callbacks(execute=True):
        client_for(coordinator).post(_roster_url(program), {"action": "invite"})

    assert [m.to for m in mail.outbox] == [["ned@hospital.example"]]


def test_reinvite_sends_to_those_invited_over_a_day_ago_who_have_not_signed_in_once_a_day(
    client_for, coordinator, program, resident, django_capture_on_commit_callbacks
):
    now = timezone.now()
    old = UserFactory(email="old@hospital.example", password="!x", invited_at=now - REINVITE_AFTER - timedelta(hours=1))
    fresh = UserFactory(email="fresh@hospital.example", password="!x", invited_at=now - timedelta(hours=2))
    signed_in = UserFactory(
        email="sso@hospital.example", password="!x", invited_at=now - timedelta(days=9), last_login=now
    )
    for user in (old, fresh, signed_in):
        MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)
    client = client_for(coordinator)

    page = client.get(_roster_url(program)).content.decode()
    assert "Re-invite the 1 who has not signed in" in page
    assert "1 invited in the last 24 hours is not sent another yet." in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_roster_url(program), {"action": "reinvite"}, follow=True)
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(_roster_url(program), {"action": "reinvite"}, follow=True)

    assert [m.to for m in mail.outbox] == [["old@hospital.example"]]
    assert "A new invitation is on its way to 1 person." in response.content.decode()
    assert "those invited today are not sent another" in again.content.decode()
    assert AuditEntry.objects.get(action="roster.reinvite_all").after == {"invited": 1}
    # Tomorrow, both are due again.
    assert roster_reinvite_waiting(program=program, actor=coordinator, now=now + timedelta(days=2)) == 2


def test_existing_accounts_are_asked_to_join_on_the_invite_step_not_at_import(
    client_for, coordinator, program, outsider, django_capture_on_commit_callbacks
):
    csv_text = CSV + f"{outsider.email},Liv,Olsen,resident,PGY-2,\n"
    client = client_for(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        page = _upload_and_apply(client, program, coordinator, csv_text).content.decode()

    assert not ProgramInvitation.objects.exists() and mail.outbox == []
    assert "Invite the 4 people who have not been invited" in page
    assert "1 person already has an account and is asked to join instead." in page
    assert RosterImport.objects.get().invited_count == 1

    with django_capture_on_commit_callbacks(execute=True):
        client.post(_roster_url(program), {"action": "invite"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_roster_url(program), {"action": "invite"})

    invitation = ProgramInvitation.objects.get()
    assert (invitation.user, invitation.first_name, invitation.status) == (outsider, "Liv", "pending")
    assert sorted(m.to[0] for m in mail.outbox) == sorted([*NEW, outsider.email])
    assert roster_invitations(program).to_invite == 0


def test_the_invite_step_is_a_coordinators_of_that_program_only(
    client_for, coordinator, other_coordinator, program, resident, django_capture_on_commit_callbacks
):
    ned = UserFactory(email="ned@hospital.example", password="!x")
    MembershipFactory(user=ned, program=program, role=Membership.Role.RESIDENT)

    with django_capture_on_commit_callbacks(execute=True):
        outsider_response = client_for(other_coordinator).post(_roster_url(program), {"action": "invite"})
        resident_response = client_for(resident).post(_roster_url(program), {"action": "reinvite"})

    assert (outsider_response.status_code, resident_response.status_code) == (404, 403)
    assert mail.outbox == [] and User.objects.get(pk=ned.pk).invited_at is None
