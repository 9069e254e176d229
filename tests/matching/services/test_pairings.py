"""Pairings: a coordinator lists a program's mentorships with filters, pairs a resident
directly, ends a pairing and reassigns a resident, with reasons, audited and told; exports
exactly what the list selects; and sees nothing of another program, on the page, in the
CSV or through the API."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import MentorProfile
from audit.models import AuditEntry
from matching.models import ConflictOfInterest, EvaluatorRole, Meeting, Mentorship, Notification
from matching.services.pairings import (
    ENDED_FOR_PAIR,
    REASSIGNED_FOR_PAIR,
    pairing_create,
    pairing_end,
    pairing_reassign,
)
from tests.matching.factories import MentorshipFactory
from tests.matching.itip import calendar_part
from tests.matching.support import _capacity, _days_ago, _meeting, _mentor

pytestmark = pytest.mark.django_db


Status = Mentorship.Status


Source = Mentorship.Source


def _new_audit(before_ids):
    return list(AuditEntry.objects.exclude(pk__in=before_ids).order_by("pk").values_list("action", flat=True))


# --- Services: pair directly.


def test_a_coordinator_pairs_a_resident_directly_with_a_reason_and_both_are_told(
    program, coordinator, resident, attending, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        m = pairing_create(
            program=program,
            actor=coordinator,
            mentee=resident,
            mentor=attending,
            kind="research",
            reason="Wants to publish before fellowship applications",
        )

    assert (m.mentee, m.mentor, m.kind, m.source, m.status) == (
        resident,
        attending,
        "research",
        Source.COORDINATOR,
        Status.ACTIVE,
    )
    entry = AuditEntry.objects.get(action="mentorship.start", object_id=str(m.pk))
    assert (entry.actor, entry.program, entry.reason) == (
        coordinator,
        program,
        "Wants to publish before fellowship applications",
    )
    assert entry.after == {"kind": "research", "source": "coordinator"}
    told = dict(Notification.objects.filter(event="mentorship.paired").values_list("user__email", "title"))
    assert told == {
        resident.email: "Your research mentor is Carol Chen",
        attending.email: "You are now Alice Adams's research mentor",
    }
    assert sorted(message.to[0] for message in mail.outbox) == sorted([resident.email, attending.email])


def test_pairing_directly_still_respects_the_mentors_capacity(
    program, coordinator, resident, other_resident, attending
):
    _capacity(attending, 1)
    MentorshipFactory(mentee=other_resident, mentor=attending, program=program)
    audit_before = list(AuditEntry.objects.values_list("pk", flat=True))

    with pytest.raises(ValidationError) as refused:
        pairing_create(
            program=program, actor=coordinator, mentee=resident, mentor=attending, kind="career", reason="Fit"
        )

    assert refused.value.message_dict == {"mentor": ["Carol Chen has no open spot left (1 of 1 taken)."]}
    assert not Mentorship.objects.filter(mentee=resident).exists()
    assert _new_audit(audit_before) == []
    assert not Notification.objects.exists()


def test_pairing_directly_refuses_a_conflict_of_interest_and_an_unexcepted_evaluator(
    program, coordinator, resident, other_resident, attending, other_attending
):
    ConflictOfInterest.objects.create(
        program=program, mentee=resident, mentor=attending, reason="Spouse", created_by=coordinator
    )
    EvaluatorRole.objects.create(program=program, user=other_attending, role=EvaluatorRole.Role.PROGRAM_DIRECTOR)

    with pytest.raises(ValidationError) as conflict:
        pairing_create(
            program=program, actor=coordinator, mentee=resident, mentor=attending, kind="career", reason="Fit"
        )
    with pytest.raises(ValidationError) as evaluator:
        pairing_create(
            program=program,
            actor=coordinator,
            mentee=other_resident,
            mentor=other_attending,
            kind="career",
            reason="Fit",
        )

    assert conflict.value.message_dict == {
        "mentor": [
            "Alice Adams and Carol Chen are kept apart under Conflicts of interest › Do not pair: "
            "choose another mentor."
        ]
    }
    assert list(evaluator.value.message_dict) == ["mentor"]
    assert "evaluates residents" in evaluator.value.message_dict["mentor"][0]
    assert "Spouse" not in conflict.value.message_dict["mentor"][0]
    assert not Mentorship.objects.exists()


def test_one_mentor_per_kind_is_said_beside_the_kind(program, coordinator, resident, attending, other_attending):
    MentorshipFactory(mentee=resident, mentor=other_attending, program=program, kind="career")

    with pytest.raises(ValidationError) as refused:
        pairing_create(
            program=program, actor=coordinator, mentee=resident, mentor=attending, kind="career", reason="Fit"
        )

    assert refused.value.message_dict == {"kind": ["Alice Adams already has an active career mentor."]}


def test_pairing_directly_checks_people_kind_and_reason_together(
    program, coordinator, resident, outsider, attending, other_program
):
    elsewhere = _mentor(other_program, "Gil", "Grant")

    with pytest.raises(ValidationError) as refused:
        pairing_create(program=program, actor=coordinator, mentee=outsider, mentor=elsewhere, kind="hobby", reason="  ")

    assert refused.value.message_dict == {
        "kind": ["Choose a kind of mentorship."],
        "mentee": ["Choose a resident of Internal Medicine Residency."],
        "mentor": ["Choose a mentor from the faculty of Internal Medicine Residency."],
        "reason": ["Give the reason; it is kept in the audit trail."],
    }


@pytest.mark.parametrize("who", ["other_coordinator", "resident", "attending"])
def test_only_the_programs_coordinators_may_pair_end_or_reassign(
    request, who, program, resident, other_resident, attending, other_attending
):
    actor = request.getfixturevalue(who)
    m = MentorshipFactory(mentee=other_resident, mentor=attending, program=program)

    with pytest.raises(PermissionDenied):
        pairing_create(program=program, actor=actor, mentee=resident, mentor=attending, kind="career", reason="Fit")
    with pytest.raises(PermissionDenied):
        pairing_end(mentorship=m, actor=actor, reason="Because")
    with pytest.raises(PermissionDenied):
        pairing_reassign(mentorship=m, actor=actor, new_mentor=other_attending, reason="Because")
    m.refresh_from_db()
    assert m.status == Status.ACTIVE and Mentorship.objects.count() == 1


# --- Services: end.


def test_a_coordinator_ends_a_pairing_its_future_meetings_are_cancelled_and_both_are_told(
    program, coordinator, resident, attending, django_capture_on_commit_callbacks
):
    m = MentorshipFactory(mentee=resident, mentor=attending, program=program)
    ahead = _meeting(m, Meeting.Status.CONFIRMED, timezone.now() + timedelta(days=3))
    proposed = Meeting.objects.create(mentorship=m, proposed_by=resident)  # no time chosen yet
    held = _meeting(m, Meeting.Status.HELD, _days_ago(10))

    with django_capture_on_commit_callbacks(execute=True):
        pairing_end(mentorship=m, actor=coordinator, reason="  Carol is leaving the institution  ")

    m.refresh_from_db()
    # The reason goes to the audit trail; the pair read a neutral sentence (its page, the API).
    assert (m.status, m.ended_by, m.end_reason) == (Status.ENDED, coordinator, ENDED_FOR_PAIR)
    statuses = dict(Meeting.objects.values_list("pk", "status"))
    assert statuses == {ahead.pk: "cancelled", proposed.pk: "cancelled", held.pk: "held"}
    entry = AuditEntry.objects.get(action="mentorship.end")
    assert (entry.actor, entry.reason, entry.before, entry.after["status"]) == (
        coordinator,
        "Carol is leaving the institution",
        {"status": "active"},
        "ended",
    )
    assert AuditEntry.objects.filter(action="meeting.cancel", actor=coordinator).count() == 2
    ended = Notification.objects.filter(event="mentorship.ended")
    assert sorted(ended.values_list("user__email", "title")) == [
        (resident.email, "Cora Cole, your program's coordinator, ended your career mentorship with Carol Chen"),
        (attending.email, "Cora Cole, your program's coordinator, ended your career mentorship with Alice Adams"),
    ]
    assert set(ended.values_list("body", flat=True)) == {ENDED_FOR_PAIR}
    # Neither of them cancelled the meetings: both get each calendar cancellation.
    cancelled = Notification.objects.filter(event="meeting.cancelled")
    assert sorted((n.user_id, n.meeting_id) for n in cancelled) == sorted(
        (u.pk, mt.pk) for u in (resident, attending) for mt in (ahead, proposed)
    )
    invitations = [calendar_part(message) for message in mail.outbox]
    assert len([i for i in invitations if i]) == 4 and all(i[0] == "CANCEL" for i in invitations if i)


def test_ending_needs_a_reason_and_an_active_pairing(program, coordinator, resident, attending):
    m = MentorshipFactory(mentee=resident, mentor=attending, program=program)

    with pytest.raises(ValidationError) as no_reason:
        pairing_end(mentorship=m, actor=coordinator, reason=" ")
    assert no_reason.value.message_dict == {
        "reason": ["Give the reason; it is kept in the audit trail and never shown to the pair."]
    }

    pairing_end(mentorship=m, actor=coordinator, reason="Done")
    with pytest.raises(ValidationError) as again:
        pairing_end(mentorship=m, actor=coordinator, reason="Done")
    assert again.value.messages == ["This pairing has already ended."]


def test_a_party_ending_still_tells_only_the_other_one_of_each_cancelled_meeting(program, resident, attending):
    """The refactor behind the coordinator's end leaves the pair's own end as it was."""
    from matching.services.mentorships import mentorship_end

    m = MentorshipFactory(mentee=resident, mentor=attending, program=program)
    _meeting(m, Meeting.Status.CONFIRMED, timezone.now() + timedelta(days=3))

    mentorship_end(mentorship=m, actor=resident, reason="Moving away", completed=False)

    told = Notification.objects.filter(event="meeting.cancelled", read_at__isnull=True)
    assert list(told.values_list("user", flat=True)) == [attending.pk]
    # The resident's own calendar gets the CANCEL too, as a notification already read.
    assert Notification.objects.get(event="meeting.cancelled", user=resident).read_at is not None
    assert list(Notification.objects.filter(event="mentorship.ended").values_list("user", flat=True)) == [attending.pk]


# --- Services: reassign.


def test_reassigning_ends_the_pairing_and_starts_another_of_the_same_kind_audited_and_told(
    program, coordinator, resident, attending, other_attending
):
    old = MentorshipFactory(mentee=resident, mentor=attending, program=program, kind="wellness")
    audit_before = list(AuditEntry.objects.values_list("pk", flat=True))

    new = pairing_reassign(
        mentorship=old, actor=coordinator, new_mentor=other_attending, reason="Schedules never align"
    )

    old.refresh_from_db()
    assert (old.status, old.end_reason) == (Status.ENDED, REASSIGNED_FOR_PAIR)
    assert (new.mentee, new.mentor, new.kind, new.source, new.status) == (
        resident,
        other_attending,
        "wellness",
        Source.COORDINATOR,
        Status.ACTIVE,
    )
    assert _new_audit(audit_before) == ["mentorship.end", "mentorship.start", "mentorship.reassign"]
    reassign = AuditEntry.objects.get(action="mentorship.reassign")
    assert (reassign.object_id, reassign.reason) == (str(new.pk), "Schedules never align")
    assert reassign.before == {"mentorship": old.pk, "mentor": attending.pk}
    assert reassign.after == {"mentorship": new.pk, "mentor": other_attending.pk}
    assert AuditEntry.objects.get(action="mentorship.start").reason == "Schedules never align"
    told = dict(Notification.objects.values_list("user__email", "title"))
    assert told == {
        resident.email: "Your wellness mentor is now Dave Diaz",
        attending.email: "Cora Cole, your program's coordinator, moved Alice Adams to another wellness mentor",
        other_attending.email: "You are now Alice Adams's wellness mentor",
    }


@pytest.mark.parametrize("obstacle", ["full", "conflict", "not accepting"])
def test_reassigning_is_all_or_nothing(
    obstacle, program, coordinator, resident, other_resident, attending, other_attending
):
    old = MentorshipFactory(mentee=resident, mentor=attending, program=program)
    ahead = _meeting(old, Meeting.Status.CONFIRMED, timezone.now() + timedelta(days=3))
    if obstacle == "full":
        _capacity(other_attending, 1)
        MentorshipFactory(mentee=other_resident, mentor=other_attending, program=program)
    elif obstacle == "conflict":
        ConflictOfInterest.objects.create(program=program, mentee=resident, mentor=other_attending, reason="Sibling")
    else:
        MentorProfile.objects.filter(user=other_attending).update(accepting_mentees=False)
    audit_before = list(AuditEntry.objects.values_list("pk", flat=True))

    with pytest.raises(ValidationError) as refused:
        pairing_reassign(mentorship=old, actor=coordinator, new_mentor=other_attending, reason="Fresh start")

    assert list(refused.value.message_dict) == ["mentor"]
    old.refresh_from_db()
    ahead.refresh_from_db()
    assert (old.status, old.ended_at, old.end_reason) == (Status.ACTIVE, None, "")
    assert ahead.status == Meeting.Status.CONFIRMED
    assert Mentorship.objects.filter(mentee=resident).count() == 1
    assert _new_audit(audit_before) == []
    assert not Notification.objects.exists()


def test_reassigning_to_the_same_mentor_or_an_ended_pairing_is_refused(
    program, coordinator, resident, attending, other_attending
):
    m = MentorshipFactory(mentee=resident, mentor=attending, program=program)

    with pytest.raises(ValidationError) as same:
        pairing_reassign(mentorship=m, actor=coordinator, new_mentor=attending, reason="x")
    assert same.value.message_dict == {"mentor": ["Carol Chen already mentors Alice Adams: choose someone else."]}

    pairing_end(mentorship=m, actor=coordinator, reason="Done")
    with pytest.raises(ValidationError) as ended:
        pairing_reassign(mentorship=m, actor=coordinator, new_mentor=other_attending, reason="x")
    assert ended.value.messages == ["This pairing has already ended: pair the resident with a mentor instead."]
