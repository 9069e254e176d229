"""Invitations to join a program (accounts/invitations.py): the invited person's answer and
the coordinator's withdrawal; sign-up invitations sent again to many at once."""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts import invitations, tasks
from accounts.invitations import (
    program_invitation_accept,
    program_invitation_create,
    program_invitation_decline,
    program_invitation_withdraw,
)
from accounts.models import Membership, MentorProfile, ProgramInvitation
from accounts.tasks import send_invitations
from audit.models import AuditEntry
from matching.models import Notification
from tests.factories import ProgramFactory

pytestmark = pytest.mark.django_db


def test_asking_notifies_the_person_and_is_audited_in_the_inviting_program(invitation, resident, other_program):
    note = Notification.objects.get(user=resident, event="program.invitation")
    assert "General Surgery Residency" in note.title and note.url == reverse("accounts:invitations")
    assert AuditEntry.objects.get(action="roster.ask_to_join").program == other_program


def test_asking_twice_or_asking_a_member_creates_nothing(
    invitation, other_program, other_coordinator, resident, program
):
    again = program_invitation_create(
        program=other_program,
        user=resident,
        role="faculty",
        invited_by=other_coordinator,
        email=resident.email,
        first_name="A",
        last_name="B",
    )
    member = program_invitation_create(
        program=program,
        user=resident,
        role="resident",
        invited_by=other_coordinator,
        email=resident.email,
        first_name="A",
        last_name="B",
    )
    assert again is None and member is None
    assert ProgramInvitation.objects.count() == 1


def test_accepting_joins_and_starts_a_missing_profile_from_the_file(invitation, resident, other_program):
    membership = program_invitation_accept(invitation=invitation, actor=resident)

    assert (membership.program, membership.role) == (other_program, "faculty")
    profile = MentorProfile.objects.get(user=resident)
    assert (profile.specialty.slug, profile.career_stage.code) == ("general-surgery", "PGY-3")
    invitation.refresh_from_db()
    assert invitation.status == "accepted" and invitation.responded_at is not None
    # Oscar hears of it.
    assert Notification.objects.filter(event="program.invitation_accepted").count() == 1


def test_accepting_keeps_a_profile_the_person_has(other_program, other_coordinator, attending):
    before = MentorProfile.objects.get(user=attending)
    invitation = program_invitation_create(
        program=other_program,
        user=attending,
        role="faculty",
        invited_by=other_coordinator,
        email=attending.email,
        first_name="C",
        last_name="C",
        specialty=None,
    )
    program_invitation_accept(invitation=invitation, actor=attending)

    after = MentorProfile.objects.get(user=attending)
    assert (after.specialty_id, after.academic_rank_id, after.updated_at) == (
        before.specialty_id,
        before.academic_rank_id,
        before.updated_at,
    )


def test_an_answer_is_given_once(invitation, resident, other_coordinator):
    program_invitation_decline(invitation=invitation, actor=resident)

    for answer in (program_invitation_accept, program_invitation_decline):
        with pytest.raises(ValidationError, match="already declined"):
            answer(invitation=invitation, actor=resident)
    with pytest.raises(ValidationError, match="already declined"):
        program_invitation_withdraw(invitation=invitation, actor=other_coordinator)
    assert not Membership.objects.filter(user=resident, program=invitation.program).exists()


def test_a_withdrawn_invitation_cannot_be_accepted(invitation, resident, other_coordinator):
    program_invitation_withdraw(invitation=invitation, actor=other_coordinator)

    with pytest.raises(ValidationError, match="already withdrawn"):
        program_invitation_accept(invitation=invitation, actor=resident)


def test_only_the_programs_coordinator_may_withdraw(invitation, coordinator, resident):
    for actor in (coordinator, resident):
        with pytest.raises(PermissionDenied):
            program_invitation_withdraw(invitation=invitation, actor=actor)


def test_a_decline_is_not_asked_again_by_the_next_import(
    invitation, resident, other_program, other_coordinator, django_capture_on_commit_callbacks
):
    from accounts.roster import roster_import_apply, roster_import_preview, roster_invite_all

    program_invitation_decline(invitation=invitation, actor=resident)
    data = "email,first_name,last_name,role,pgy,specialty,academic_rank,time_zone\n" + (
        f"{resident.email},Alicia,A.,faculty,,General Surgery,,\n"
    )
    roster_import = roster_import_preview(
        program=other_program, uploaded_by=other_coordinator, filename="r.csv", data=data.encode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = roster_import_apply(roster_import=roster_import, actor=other_coordinator)
        invited = roster_invite_all(program=other_program, actor=other_coordinator)

    assert (result.to_ask, invited.asked) == (0, 0)
    assert list(ProgramInvitation.objects.values_list("status", flat=True)) == ["declined"]
    assert Notification.objects.filter(user=resident, event="program.invitation").count() == 1


def test_the_coordinator_hears_the_persons_own_name_when_they_join(invitation, resident):
    program_invitation_accept(invitation=invitation, actor=resident)

    note = Notification.objects.get(event="program.invitation_accepted")
    assert note.title == f"{resident.full_name} joined General Surgery Residency"


# --- Sign-up invitations sent again to many (users_reinvite): the bulk path of reminders.


def _not_signed_in_yet(user, *, invited_days_ago=3):
    user.set_unusable_password()
    user.last_login = user.last_seen = None
    user.invited_at = timezone.now() - timedelta(days=invited_days_ago)
    user.save()
    return user


def test_reinviting_many_queues_one_task_per_batch_and_each_gets_a_fresh_link_once(
    monkeypatch, coordinator, resident, other_resident, attending, other_attending, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(invitations, "INVITATION_BATCH", 2)
    waiting = [_not_signed_in_yet(u) for u in (resident, other_resident, attending)]
    today = _not_signed_in_yet(other_attending, invited_days_ago=0)  # already invited today
    since = timezone.now() - timedelta(hours=1)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invited = invitations.users_reinvite(
            user_ids=[u.pk for u in [*waiting, today, coordinator]], invited_by=coordinator, not_since=since
        )
    assert invited == sorted(u.pk for u in waiting)  # not today's, nor the coordinator (signed in)
    assert len(callbacks) == 2  # three people, batches of two: two tasks, not three
    for callback in callbacks:
        callback()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in waiting)
    assert all("/accounts/invitation/" in m.body for m in mail.outbox)

    # A second reminder within the day, or the batch delivered twice, sends nothing more.
    assert invitations.users_reinvite(user_ids=[u.pk for u in waiting], invited_by=coordinator, not_since=since) == []
    send_invitations([u.pk for u in waiting], coordinator.pk)
    assert len(mail.outbox) == 3


def test_asking_someone_who_never_signed_in_sends_their_sign_up_invitation_again(
    other_program, other_coordinator, resident, django_capture_on_commit_callbacks
):
    _not_signed_in_yet(resident)
    with django_capture_on_commit_callbacks(execute=True):
        invitation = program_invitation_create(
            program=other_program,
            user=resident,
            role="faculty",
            invited_by=other_coordinator,
            email=resident.email,
            first_name="Alicia",
            last_name="A.",
        )

    assert invitation is not None
    # The link they can open (set a password), not the "join" page that would ask for one.
    assert [m.to for m in mail.outbox] == [[resident.email]]
    assert "/accounts/invitation/" in mail.outbox[0].body
    # The ask itself waits in their bell and on their invitations page.
    assert Notification.objects.get(user=resident, event="program.invitation").emailed_at is None


def _ask(program, coordinator, user, captured):
    with captured(execute=True):
        return program_invitation_create(
            program=program,
            user=user,
            role="resident",
            invited_by=coordinator,
            email=user.email,
            first_name=user.first_name,
            last_name=user.last_name,
        )


def test_the_invitation_sent_again_names_the_program_asking_as_well_as_their_own(
    program, other_program, other_coordinator, resident, django_capture_on_commit_callbacks
):
    """Alice belongs to Internal Medicine; General Surgery asks her to join before she has
    signed in, so her sign-up invitation goes again: it must say who is asking."""
    _not_signed_in_yet(resident)
    assert _ask(other_program, other_coordinator, resident, django_capture_on_commit_callbacks)

    [sent] = mail.outbox
    assert sent.subject == "You're invited to MentorMatch — General Surgery Residency, Internal Medicine Residency"
    assert "for General Surgery Residency, Internal Medicine Residency" in sent.body
    assert "General Surgery Residency asks you to join" in sent.body
    html = sent.alternatives[0][0]
    assert "General Surgery Residency asks you to join" in html


def test_the_single_send_names_the_programs_asking_too_and_not_those_already_answered(
    program, other_program, other_coordinator, resident, django_capture_on_commit_callbacks
):
    """The one-by-one path (a retry, the sweeper) says the same as the batch; a withdrawn
    ask is no longer named."""
    third = ProgramFactory(name="Pediatrics Residency", slug="peds")
    _not_signed_in_yet(resident)
    asked = _ask(other_program, other_coordinator, resident, django_capture_on_commit_callbacks)
    _ask(third, other_coordinator, resident, django_capture_on_commit_callbacks)  # invited today already: no mail
    assert len(mail.outbox) == 1
    asked.status = ProgramInvitation.Status.WITHDRAWN
    asked.save()
    mail.outbox.clear()
    type(resident).objects.filter(pk=resident.pk).update(invited_at=timezone.now())  # a fresh send is due

    assert tasks.send_invitation(resident.pk, other_coordinator.pk) is True

    [sent] = mail.outbox
    assert "for Internal Medicine Residency, Pediatrics Residency" in sent.body
    assert "Pediatrics Residency asks you to join" in sent.body
    assert "General Surgery" not in sent.body


def test_a_first_invitation_with_nobody_asking_says_nothing_of_joining(program, coordinator, resident):
    _not_signed_in_yet(resident)
    type(resident).objects.filter(pk=resident.pk).update(invited_at=timezone.now())

    assert send_invitations([resident.pk], coordinator.pk) == 1

    [sent] = mail.outbox
    assert "for Internal Medicine Residency," in sent.body
    assert "asks you to join" not in sent.body and "ask you to join" not in sent.body


def test_a_send_that_fails_in_a_batch_is_given_back_and_retried_on_its_own(
    monkeypatch, coordinator, resident, other_resident, attending
):
    waiting = [_not_signed_in_yet(u) for u in (resident, other_resident, attending)]
    ids = [u.pk for u in waiting]
    type(resident).objects.filter(pk__in=ids).update(invited_at=timezone.now())  # invited, not yet sent
    real = tasks.send_templated_email
    refuse_once = {other_resident.email}

    def greylisting(*, to, **kwargs):
        if to[0] in refuse_once:
            refuse_once.discard(to[0])
            raise smtplib.SMTPRecipientsRefused({to[0]: (450, b"try again later")})
        return real(to=to, **kwargs)

    monkeypatch.setattr(tasks, "send_templated_email", greylisting)
    assert send_invitations(ids, coordinator.pk) == 2

    # Its own task (run in-process here) sent it: each got one e-mail, and all are marked sent.
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in waiting)
    assert not type(resident).objects.filter(pk__in=ids, invitation_sent_at__isnull=True).exists()
    assert send_invitations(ids, coordinator.pk) == 0  # delivered twice: nothing more
    assert len(mail.outbox) == 3
