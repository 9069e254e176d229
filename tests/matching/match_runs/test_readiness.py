"""Readiness before a run (matching/match_runs/readiness.py): each group counted and named
as a coordinator reads it, the reminder sent once a day per person, and nobody outside the
program's coordinators reading or reminding.

The program: Alice (goals and interests, signed in), Bob (nothing entered), Carol (window,
signed in) and Dave (no window) mentor, two spots each."""

from datetime import time, timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import AvailabilityWindow, Goal, Interest, Membership
from audit.models import AuditEntry
from core.bounds import format_day
from matching.match_cohort import load_cohort
from matching.match_runs import readiness as r
from matching.match_runs.readiness import program_readiness, readiness_remind
from matching.models import EvaluatorRole, MatchRun, Notification
from tests.factories import MembershipFactory, MenteeProfileFactory, MentorProfileFactory, UserFactory
from tests.matching.factories import MentorshipFactory

pytestmark = pytest.mark.django_db


def _signed_in(*users):
    for user in users:
        type(user).objects.filter(pk=user.pk).update(last_login=timezone.now(), last_seen=timezone.now())


@pytest.fixture
def ready(program, resident, other_resident, attending, other_attending, coordinator):
    """Alice has goals and interests; Bob has neither. Carol has a free window, Dave none."""
    resident.mentee_profile.goals.set([Goal.objects.get(slug="research")])
    resident.mentee_profile.interests.set([Interest.objects.first()])
    AvailabilityWindow.objects.create(user=attending, weekday=1, start=time(18), end=time(20))
    _signed_in(resident, other_resident, attending, other_attending, coordinator)


def _resident(program, first, *, profile=True, **fields):
    user = UserFactory(first_name=first, last_name="Resident", **fields)
    MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)
    if profile:
        MenteeProfileFactory(user=user)
    return user


def _names(readiness, group):
    return {p.user.full_name: p.note for p in readiness.groups[group].people}


# --- The groups.


def test_residents_without_goals_or_interests_are_counted_and_say_what_is_missing(program, ready):
    gita = _resident(program, "Gita")
    gita.mentee_profile.goals.set([Goal.objects.get(slug="teaching")])
    _signed_in(gita)
    readiness = program_readiness(program, "career")
    assert _names(readiness, r.NO_GOALS) == {
        "Bob Brown": "no goals and no interests",
        "Gita Resident": "no interests",
    }
    assert readiness.groups[r.NO_GOALS].count == 2
    assert "close to a coin toss" in readiness.groups[r.NO_GOALS].why


def test_people_who_never_signed_in_include_invitees_and_mentors(program, ready):
    invitee = _resident(program, "Ivy")
    invitee.set_unusable_password()
    invitee.invited_at = timezone.now() - timedelta(days=3)
    invitee.save()
    never_invited = _resident(program, "Nell")
    never_invited.set_unusable_password()
    never_invited.save()
    quiet = _resident(program, "Quinn")  # a password, but no sign-in recorded
    mentor = UserFactory(first_name="Mona", last_name="Mentor")
    MembershipFactory(user=mentor, program=program, role=Membership.Role.FACULTY)
    MentorProfileFactory(user=mentor)

    group = program_readiness(program, "career").groups[r.NEVER_SIGNED_IN]
    notes = {p.user.full_name: p.note for p in group.people}
    assert set(notes) == {invitee.full_name, never_invited.full_name, quiet.full_name, mentor.full_name}
    invited_on = format_day(timezone.localdate(invitee.invited_at))  # one rule for days shown
    assert notes[invitee.full_name] == f"invited {invited_on}, has not set a password"
    assert notes[never_invited.full_name] == "never invited"
    assert notes[quiet.full_name] == "has a password but has never signed in"
    assert [p.is_mentee for p in group.people if p.user == mentor] == [False]


def test_a_near_peer_who_never_signed_in_is_one_person(program, ready):
    near_peer = _resident(program, "Zoe")  # a resident who also mentors
    MembershipFactory(user=near_peer, program=program, role=Membership.Role.FACULTY)
    MentorProfileFactory(user=near_peer)
    group = program_readiness(program, "career").groups[r.NEVER_SIGNED_IN]
    assert [p.is_mentee for p in group.people if p.user == near_peer] == [True]
    assert group.count == len({p.user.pk for p in group.people})


def test_sso_users_who_signed_in_are_not_counted_as_never_signed_in(program, ready):
    """Someone who signs in only by SSO has no password of their own: the sign-in is what
    counts, as it is for the notifications that wait for a first sign-in."""
    sso = _resident(program, "Sami")
    sso.set_unusable_password()
    sso.invited_at = timezone.now() - timedelta(days=3)
    sso.last_login = timezone.now()  # what Django's login() stamps on an SSO sign-in
    sso.save()
    waiting = _resident(program, "Wren")
    waiting.set_unusable_password()
    waiting.invited_at = timezone.now() - timedelta(days=3)
    waiting.save()

    names = set(_names(program_readiness(program, "career"), r.NEVER_SIGNED_IN))
    assert sso.full_name not in names
    assert waiting.full_name in names


def test_mentors_without_availability_only_among_those_who_can_be_matched(program, ready, other_attending):
    full = UserFactory(first_name="Fay", last_name="Full")
    MembershipFactory(user=full, program=program, role=Membership.Role.FACULTY)
    MentorProfileFactory(user=full, accepting_mentees=False)  # no window either
    _signed_in(full)
    readiness = program_readiness(program, "career")
    assert _names(readiness, r.NO_AVAILABILITY) == {"Dave Diaz": "no weekly free time"}


def test_mentors_not_accepting_or_at_capacity_are_named_and_not_offered(
    program, ready, resident, attending, other_attending
):
    other_attending.mentor_profile.accepting_mentees = False
    other_attending.mentor_profile.save()
    attending.mentor_profile.capacity = 1
    attending.mentor_profile.save()
    MentorshipFactory(mentee=resident, mentor=attending, program=program, kind="research")
    readiness = program_readiness(program, "career")
    assert _names(readiness, r.MENTORS_FULL) == {
        "Carol Chen": "Full (1 of 1 mentee)",
        "Dave Diaz": "Not accepting",
    }
    assert readiness.cohort_mentors == []


def test_residents_left_out_say_why_and_name_the_mentor(program, ready, resident, attending):
    MentorshipFactory(mentee=resident, mentor=attending, program=program, kind="career")
    gone = _resident(program, "Gus", is_active=False)
    bare = _resident(program, "Bea", profile=False)
    career = program_readiness(program, "career")
    assert _names(career, r.LEFT_OUT) == {
        "Alice Adams": "already has a career mentor: Carol Chen",
        gone.full_name: "account deactivated",
        bare.full_name: "no mentee profile",
    }
    assert resident not in career.cohort_residents
    # A research run leaves Alice in: her mentor is a career mentor.
    research = program_readiness(program, "research")
    assert "Alice Adams" not in _names(research, r.LEFT_OUT)
    assert resident in research.cohort_residents
    # Only the one without a profile can do something about it.
    assert [p.user for p in career.groups[r.LEFT_OUT].remind_targets()] == [bare]


def test_left_out_follows_the_rules_of_load_cohort(program, ready, coordinator, resident, other_resident, attending):
    MentorshipFactory(mentee=resident, mentor=attending, program=program, kind="career")
    gone = _resident(program, "Gus", is_active=False)
    run = MatchRun.objects.create(program=program, kind="career", algorithm="stable", created_by=coordinator)
    run.mentees.set([resident, other_resident, gone])
    run.mentors.set([attending])
    expected = load_cohort(run).left_out
    assert r.left_out_reasons([resident.pk, other_resident.pk, gone.pk], "career") == expected
    assert expected == {resident.pk: r.LEFT_OUT_MENTORED, gone.pk: r.LEFT_OUT_NO_PROFILE}


def test_people_who_are_both_resident_and_mentor_are_named(program, ready, resident, other_resident):
    MentorProfileFactory(user=other_resident, capacity=1)
    # Alice's mentor profile is closed: the start form does not offer her as a mentor.
    MentorProfileFactory(user=resident, accepting_mentees=False)
    readiness = program_readiness(program, "career")
    assert _names(readiness, r.BOTH_ROLES) == {"Bob Brown": "resident (PGY-1) and mentor (1 open spot)"}
    assert readiness.groups[r.BOTH_ROLES].remind_targets() == []


def test_readiness_costs_the_same_queries_for_more_residents(program, ready, attending):
    def queries():
        with CaptureQueriesContext(connection) as ctx:
            program_readiness(program, "career")
        return len(ctx.captured_queries)

    few = queries()
    for i in range(12):
        user = _resident(program, f"More{i}", is_active=i % 4 != 0)
        user.mentee_profile.goals.set([Goal.objects.get(slug="research")])
        if i % 3 == 0:
            MentorshipFactory(mentee=user, mentor=attending, program=program, kind="career")
    # Residents (with has-goals/has-interests), their mentors of the kind, the left-out
    # profiles check, and the mentors (with spots and has-availability): four, whatever the size.
    assert queries() == few == 4


# --- The reminder.


def test_reminding_residents_without_goals_notifies_each_once_a_day(
    program, ready, coordinator, other_resident, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = readiness_remind(program=program, actor=coordinator, group=r.NO_GOALS, kind="career")
    assert (first.notified, first.invited, first.already_today) == (1, 0, 0)
    notification = Notification.objects.get(user=other_resident, event="match.readiness_reminder")
    assert notification.title == f"Add your goals and interests before the {program.name} match"
    assert "no goals and no interests yet" in notification.body
    assert notification.url == "/profile/mentee/"

    # A double click: nothing new is sent.
    with django_capture_on_commit_callbacks(execute=True):
        second = readiness_remind(program=program, actor=coordinator, group=r.NO_GOALS, kind="career")
    assert (second.notified, second.already_today) == (0, 1)
    assert Notification.objects.filter(user=other_resident, event="match.readiness_reminder").count() == 1
    entries = AuditEntry.objects.filter(action="match_run.readiness_remind").order_by("pk")
    assert [e.after for e in entries] == [
        {"group": "no-goals", "kind": "career", "notified": 1, "invited": 0, "already_reminded_today": 0},
        {"group": "no-goals", "kind": "career", "notified": 0, "invited": 0, "already_reminded_today": 1},
    ]


def test_invitees_who_never_signed_in_get_the_invitation_again_once_a_day(
    program, ready, coordinator, django_capture_on_commit_callbacks
):
    invitee = _resident(program, "Ivy", email="ivy@hospital.example")
    invitee.set_unusable_password()
    invitee.invited_at = timezone.now() - timedelta(days=3)
    invitee.save()
    quiet = _resident(program, "Quinn")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        result = readiness_remind(program=program, actor=coordinator, group=r.NEVER_SIGNED_IN, kind="career")
    assert (result.invited, result.notified) == (1, 1)
    invitee.refresh_from_db()
    assert timezone.now() - invitee.invited_at < timedelta(minutes=1)
    assert [m.to for m in mail.outbox if "ivy@hospital.example" in m.to] == [["ivy@hospital.example"]]
    assert not Notification.objects.filter(user=invitee).exists()  # an invitation, not a bell they cannot see
    assert Notification.objects.filter(user=quiet, event="match.readiness_reminder").count() == 1

    sent_at = invitee.invited_at
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        again = readiness_remind(program=program, actor=coordinator, group=r.NEVER_SIGNED_IN, kind="career")
    assert (again.invited, again.notified, again.already_today) == (0, 0, 2)
    invitee.refresh_from_db()
    assert invitee.invited_at == sent_at and mail.outbox == []


def _invitee(program, first, **fields):
    """Imported and invited three days ago; has not accepted (no password, never signed in)."""
    user = _resident(program, first, **fields)
    user.set_unusable_password()
    user.invited_at = timezone.now() - timedelta(days=3)
    user.save()
    return user


def test_a_goals_reminder_to_someone_who_has_not_signed_in_is_their_invitation_again(
    program, ready, coordinator, other_resident, django_capture_on_commit_callbacks
):
    # Ivy has no goals either, but the profile page would ask her for a password she does not have.
    invitee = _invitee(program, "Ivy", email="ivy@hospital.example")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        result = readiness_remind(program=program, actor=coordinator, group=r.NO_GOALS, kind="career")

    assert (result.notified, result.invited, result.already_today) == (1, 1, 0)
    to_ivy = [m for m in mail.outbox if m.to == ["ivy@hospital.example"]]
    assert len(to_ivy) == 1 and "/accounts/invitation/" in to_ivy[0].body  # the accept link
    assert not Notification.objects.filter(user=invitee).exists()
    assert Notification.objects.filter(user=other_resident, event="match.readiness_reminder").exists()
    entry = AuditEntry.objects.get(action="match_run.readiness_remind")
    assert entry.after["invited_users"] == [invitee.pk]

    # The same day, from another group's button: her invitation is not sent a second time.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        again = readiness_remind(program=program, actor=coordinator, group=r.NEVER_SIGNED_IN, kind="career")
    assert again.invited == 0 and not [m for m in mail.outbox if m.to == ["ivy@hospital.example"]]


def test_reminding_many_costs_the_queries_of_reminding_two(
    program, ready, coordinator, django_capture_on_commit_callbacks
):
    """The bulk path: one insert of the notifications, one update of the invitations and one
    task per batch of e-mails, whatever the number of people (the e-mails go from the worker)."""

    def remind(group):
        with CaptureQueriesContext(connection) as ctx, django_capture_on_commit_callbacks() as callbacks:
            result = readiness_remind(program=program, actor=coordinator, group=group, kind="career")
        return len(ctx.captured_queries), len(callbacks), result

    for i in range(2):
        _invitee(program, f"Few{i}")
    _signed_in(*[_resident(program, f"Some{i}") for i in range(2)])
    few_goals = remind(r.NO_GOALS)
    Notification.objects.all().delete()  # today's reminders, which would leave the same people out
    type(coordinator).objects.filter(invited_at__isnull=False).update(invited_at=timezone.now() - timedelta(days=3))
    # 40: SQLite splits a larger insert to stay under its 999 parameters, PostgreSQL does not.
    for i in range(40):
        _invitee(program, f"Many{i}")
    _signed_in(*[_resident(program, f"More{i}") for i in range(40)])
    many_goals = remind(r.NO_GOALS)

    assert many_goals[2].notified == 43 and many_goals[2].invited == 42
    assert many_goals[:2] == few_goals[:2], (few_goals, many_goals)


def test_mentors_are_reminded_with_their_own_situation(program, ready, coordinator, other_attending):
    other_attending.mentor_profile.accepting_mentees = False
    other_attending.mentor_profile.save()
    readiness_remind(program=program, actor=coordinator, group=r.MENTORS_FULL, kind="career")
    notification = Notification.objects.get(user=other_attending)
    assert "You are not accepting new mentees." in notification.body
    assert notification.url == "/profile/mentor/"


def test_another_programs_coordinator_is_refused(program, ready, other_coordinator):
    with pytest.raises(PermissionDenied):
        readiness_remind(program=program, actor=other_coordinator, group=r.NO_GOALS, kind="career")
    assert not Notification.objects.exists()
    assert not AuditEntry.objects.filter(action="match_run.readiness_remind").exists()


def test_a_group_without_a_reminder_or_a_made_up_kind_is_refused(program, ready, coordinator):
    with pytest.raises(ValidationError, match="the choice is yours"):
        readiness_remind(program=program, actor=coordinator, group=r.BOTH_ROLES, kind="career")
    with pytest.raises(ValidationError, match="Choose a kind"):
        readiness_remind(program=program, actor=coordinator, group=r.NO_GOALS, kind="everything")
    assert not Notification.objects.exists()


def test_evaluators_are_listed_apart_and_not_offered_as_mentors(program, ready, other_attending, coordinator):
    EvaluatorRole.objects.create(program=program, user=other_attending, role=EvaluatorRole.Role.CCC_MEMBER)
    readiness = program_readiness(program, "career")

    assert _names(readiness, r.KEPT_APART) == {other_attending.full_name: "Evaluates this program's residents"}
    assert other_attending.pk not in {p.user_id for p in readiness.cohort_mentors}
    assert other_attending.full_name not in _names(readiness, r.MENTORS_FULL)
    assert not readiness.groups[r.KEPT_APART].remind_label  # nothing for them to do


# --- Cohort size against capacity.


def test_readiness_compares_the_residents_it_can_match_with_the_open_spots(
    program, ready, resident, attending, other_attending
):
    readiness = program_readiness(program, "career")
    assert (readiness.open_spots, bool(readiness.capacity)) == (4, False)  # Alice and Bob; two spots each

    for first in ("Femi", "Gita", "Hugo"):
        _resident(program, first)
    # Alice has a career mentor now: left out, and she takes one of Carol's spots.
    MentorshipFactory(mentee=resident, mentor=attending, program=program, kind="career")
    capacity = program_readiness(program, "career").capacity
    assert (capacity.residents, capacity.spots, capacity.unmatched) == (4, 3, 1)

    # A mentor kept apart from every resident has spots the residents cannot take.
    EvaluatorRole.objects.create(program=program, user=other_attending, role=EvaluatorRole.Role.CCC_MEMBER)
    capacity = program_readiness(program, "career").capacity
    assert (capacity.residents, capacity.spots, capacity.unmatched) == (4, 1, 3)
