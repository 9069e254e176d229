"""Meeting services: every transition and refusal, below the pages and the API.

Alice (resident) and Carol (attending) are paired; Bob is another resident, Cora
coordinates their program, Olivia (outsider) is a resident elsewhere.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from icalendar import Calendar

from audit.models import AuditEntry
from matching.models import Meeting, Mentorship, Notification
from matching.services.meetings import (
    meeting_cancel,
    meeting_confirm,
    meeting_mark_held,
    meeting_propose,
    meeting_reschedule,
    meeting_update_notes,
)
from matching.services.mentorships import mentorship_end
from tests.matching.itip import calendar_part
from tests.matching.support import _in

pytestmark = pytest.mark.django_db


SLOTS = [_in(3), _in(4), _in(5)]


@pytest.fixture
def proposed(mentorship, resident):
    return meeting_propose(
        mentorship=mentorship,
        actor=resident,
        slots=SLOTS,
        duration_minutes=30,
        format="video",
        video_url="https://meet.example/alice-carol",
    )


def _started(meeting, *, hours_ago=1):
    """Move a confirmed meeting into the past, as time would."""
    Meeting.objects.filter(pk=meeting.pk).update(start=timezone.now() - timedelta(hours=hours_ago))
    meeting.refresh_from_db()
    return meeting


def _ics(message) -> Calendar:
    """The iTIP part of the e-mail (tests/matching/test_ics_email.py checks its MIME place)."""
    part = calendar_part(message)
    assert part is not None, "the e-mail has no calendar part"
    return part[1]


class TestPropose:
    def test_resident_proposes_three_times_and_the_mentor_gets_the_invitation(
        self, mentorship, resident, attending, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            meeting = meeting_propose(
                mentorship=mentorship,
                actor=resident,
                slots=[SLOTS[2], SLOTS[0], SLOTS[1]],
                duration_minutes=45,
                format="in-person",
                location="Cafeteria, 2nd floor",
            )
        assert meeting.status == Meeting.Status.PROPOSED
        assert meeting.proposed_by == resident
        assert [slot.start for slot in meeting.slots.all()] == SLOTS
        notification = Notification.objects.get(user=attending)
        assert notification.event == "meeting.proposed"
        assert notification.meeting == meeting
        assert notification.dedup_key == f"meeting:{meeting.pk}:proposed:0"
        # Three times open: no calendar part (matching/ics.py), so no copy to the proposer either.
        assert [m.to for m in mail.outbox] == [[attending.email]]
        assert calendar_part(mail.outbox[0]) is None
        assert AuditEntry.objects.filter(action="meeting.propose", object_id=str(meeting.pk)).exists()

    def test_the_mentor_may_propose_too(self, mentorship, attending, resident):
        meeting = meeting_propose(mentorship=mentorship, actor=attending, slots=SLOTS[:1])
        assert Notification.objects.get(read_at__isnull=True).user == resident
        assert meeting.slots.count() == 1

    def test_at_most_three_times(self, mentorship, resident):
        with pytest.raises(ValidationError) as exc:
            meeting_propose(mentorship=mentorship, actor=resident, slots=SLOTS + [_in(6)])
        assert exc.value.message_dict == {"slots": ["Propose at most 3 times."]}

    def test_at_least_one_time(self, mentorship, resident):
        with pytest.raises(ValidationError, match="at least one"):
            meeting_propose(mentorship=mentorship, actor=resident, slots=[])

    def test_times_must_differ(self, mentorship, resident):
        with pytest.raises(ValidationError, match="different times"):
            meeting_propose(mentorship=mentorship, actor=resident, slots=[SLOTS[0], SLOTS[0]])

    def test_a_past_time_is_refused_in_the_proposers_time_zone(self, mentorship, resident):
        past = timezone.now() - timedelta(hours=2)
        with pytest.raises(ValidationError, match="has already passed") as exc:
            meeting_propose(mentorship=mentorship, actor=resident, slots=[SLOTS[0], past])
        assert "EST" in exc.value.messages[0] or "EDT" in exc.value.messages[0]
        assert not Meeting.objects.exists()

    def test_naive_times_are_refused(self, mentorship, resident):
        with pytest.raises(ValidationError, match="time zone"):
            meeting_propose(mentorship=mentorship, actor=resident, slots=[SLOTS[0].replace(tzinfo=None)])

    def test_bad_duration_and_link_name_their_fields(self, mentorship, resident):
        with pytest.raises(ValidationError) as exc:
            meeting_propose(mentorship=mentorship, actor=resident, slots=SLOTS, duration_minutes=5, video_url="nope")
        assert set(exc.value.message_dict) == {"duration_minutes", "video_url"}

    def test_not_on_an_ended_mentorship(self, mentorship, resident):
        Mentorship.objects.filter(pk=mentorship.pk).update(status=Mentorship.Status.ENDED)
        with pytest.raises(ValidationError, match="has ended"):
            meeting_propose(mentorship=mentorship, actor=resident, slots=SLOTS)

    @pytest.mark.parametrize("who", ["coordinator", "other_resident", "outsider"])
    def test_only_the_pair_may_propose(self, mentorship, who, request):
        with pytest.raises(PermissionDenied):
            meeting_propose(mentorship=mentorship, actor=request.getfixturevalue(who), slots=SLOTS)


class TestConfirm:
    def test_the_other_person_confirms_one_of_the_times(
        self, proposed, attending, resident, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            meeting = meeting_confirm(meeting=proposed, actor=attending, start=SLOTS[1])
        assert meeting.status == Meeting.Status.CONFIRMED
        assert meeting.start == SLOTS[1]
        notification = Notification.objects.get(user=resident)
        assert notification.event == "meeting.confirmed"
        assert notification.dedup_key == f"meeting:{meeting.pk}:confirmed:1"
        event = _ics(mail.outbox[-1]).walk("VEVENT")[0]
        assert str(event["STATUS"]) == "CONFIRMED"
        assert event.decoded("DTSTART") == SLOTS[1]

    def test_the_proposer_cannot_confirm_their_own_times(self, proposed, resident):
        with pytest.raises(ValidationError) as exc:
            meeting_confirm(meeting=proposed, actor=resident, start=SLOTS[0])
        assert exc.value.messages == ["Only Carol Chen can confirm: you proposed these times."]

    def test_a_time_that_was_not_proposed_is_refused(self, proposed, attending):
        with pytest.raises(ValidationError) as exc:
            meeting_confirm(meeting=proposed, actor=attending, start=_in(9))
        assert exc.value.message_dict == {"start": ["Choose one of the proposed times."]}

    def test_the_same_instant_in_another_zone_is_the_same_time(self, proposed, attending):
        from zoneinfo import ZoneInfo

        meeting = meeting_confirm(meeting=proposed, actor=attending, start=SLOTS[0].astimezone(ZoneInfo("Asia/Tokyo")))
        assert meeting.start == SLOTS[0]

    def test_a_time_that_has_passed_is_refused(self, proposed, attending):
        past = timezone.now() - timedelta(hours=1)
        proposed.slots.create(start=past.replace(second=0, microsecond=0))
        with pytest.raises(ValidationError, match="passed"):
            meeting_confirm(meeting=proposed, actor=attending, start=past)

    def test_twice_is_refused(self, proposed, attending):
        meeting_confirm(meeting=proposed, actor=attending, start=SLOTS[0])
        with pytest.raises(ValidationError, match="already confirmed"):
            meeting_confirm(meeting=proposed, actor=attending, start=SLOTS[1])

    @pytest.mark.parametrize("who", ["coordinator", "other_resident", "outsider"])
    def test_nobody_outside_the_pair_confirms(self, proposed, who, request):
        with pytest.raises(PermissionDenied):
            meeting_confirm(meeting=proposed, actor=request.getfixturevalue(who), start=SLOTS[0])


class TestReschedule:
    def test_new_times_bump_the_sequence_and_hand_the_confirmation_over(
        self, proposed, attending, resident, django_capture_on_commit_callbacks
    ):
        meeting_confirm(meeting=proposed, actor=attending, start=SLOTS[0])
        Meeting.objects.filter(pk=proposed.pk).update(reminded_at=timezone.now())
        new = [_in(10), _in(11)]
        with django_capture_on_commit_callbacks(execute=True):
            meeting = meeting_reschedule(meeting=proposed, actor=attending, slots=new)
        assert (meeting.status, meeting.start, meeting.proposed_by, meeting.sequence) == (
            "proposed",
            None,
            attending,
            2,
        )
        assert meeting.reminded_at is None
        assert [slot.start for slot in meeting.slots.all()] == new
        assert Notification.objects.get(user=resident, event="meeting.rescheduled").dedup_key == (
            f"meeting:{meeting.pk}:rescheduled:2"
        )
        event = _ics(mail.outbox[-1]).walk("VEVENT")[0]
        assert event["SEQUENCE"] == 2
        # Now Alice confirms, and Carol may not.
        with pytest.raises(ValidationError, match="Only Alice Adams can confirm"):
            meeting_confirm(meeting=meeting, actor=attending, start=new[0])
        assert meeting_confirm(meeting=meeting, actor=resident, start=new[1]).start == new[1]

    def test_each_reschedule_is_news(self, proposed, resident):
        meeting_reschedule(meeting=proposed, actor=resident, slots=[_in(10)])
        meeting_reschedule(meeting=proposed, actor=resident, slots=[_in(12)])
        keys = set(
            Notification.objects.filter(event="meeting.rescheduled", read_at__isnull=True).values_list(
                "dedup_key", flat=True
            )
        )
        assert keys == {f"meeting:{proposed.pk}:rescheduled:1", f"meeting:{proposed.pk}:rescheduled:2"}

    def test_a_cancelled_meeting_cannot_be_rescheduled(self, proposed, resident):
        meeting_cancel(meeting=proposed, actor=resident)
        with pytest.raises(ValidationError, match="cannot be rescheduled"):
            meeting_reschedule(meeting=proposed, actor=resident, slots=[_in(10)])

    def test_more_than_three_times_are_refused(self, proposed, resident):
        with pytest.raises(ValidationError, match="at most 3"):
            meeting_reschedule(meeting=proposed, actor=resident, slots=[_in(n) for n in range(10, 14)])

    def test_coordinator_cannot_reschedule(self, proposed, coordinator):
        with pytest.raises(PermissionDenied):
            meeting_reschedule(meeting=proposed, actor=coordinator, slots=[_in(10)])


class TestCancel:
    def test_cancel_sends_the_calendar_cancellation(
        self, proposed, attending, resident, django_capture_on_commit_callbacks
    ):
        meeting_confirm(meeting=proposed, actor=attending, start=SLOTS[0])
        with django_capture_on_commit_callbacks(execute=True):
            meeting = meeting_cancel(meeting=proposed, actor=attending, reason="On call that day, sorry.")
        assert (meeting.status, meeting.cancelled_by, meeting.sequence) == ("cancelled", attending, 2)
        notification = Notification.objects.get(user=resident, event="meeting.cancelled")
        assert notification.body == "On call that day, sorry."
        calendar = _ics(mail.outbox[-1])
        assert str(calendar["METHOD"]) == "CANCEL"
        event = calendar.walk("VEVENT")[0]
        assert str(event["STATUS"]) == "CANCELLED"
        assert str(event["UID"]) == f"{meeting.uid}@mentormatch"
        assert AuditEntry.objects.get(action="meeting.cancel").reason == "On call that day, sorry."

    def test_cancel_twice_is_refused(self, proposed, resident):
        meeting_cancel(meeting=proposed, actor=resident)
        with pytest.raises(ValidationError, match="already cancelled"):
            meeting_cancel(meeting=proposed, actor=resident)

    def test_a_held_meeting_cannot_be_cancelled(self, proposed, attending, resident):
        meeting_confirm(meeting=proposed, actor=attending, start=SLOTS[0])
        meeting_mark_held(meeting=_started(proposed), actor=resident)
        with pytest.raises(ValidationError, match="already held"):
            meeting_cancel(meeting=proposed, actor=resident)

    def test_coordinator_cannot_cancel(self, proposed, coordinator):
        with pytest.raises(PermissionDenied):
            meeting_cancel(meeting=proposed, actor=coordinator)

    def test_ending_the_mentorship_cancels_its_future_meetings(self, proposed, mentorship, attending, resident):
        meeting_confirm(meeting=proposed, actor=attending, start=SLOTS[0])
        mentorship_end(mentorship=mentorship, actor=resident, reason="Moving to another program.", completed=False)
        proposed.refresh_from_db()
        assert (proposed.status, proposed.sequence, proposed.cancelled_by) == ("cancelled", 2, resident)
        assert Notification.objects.filter(user=attending, event="meeting.cancelled", meeting=proposed).exists()


class TestHeldAndNotes:
    def test_held_before_the_start_is_refused(self, proposed, attending, resident):
        meeting_confirm(meeting=proposed, actor=attending, start=SLOTS[0])
        with pytest.raises(ValidationError, match="once it has started"):
            meeting_mark_held(meeting=proposed, actor=resident)

    def test_a_proposed_meeting_cannot_be_held(self, proposed, resident):
        with pytest.raises(ValidationError, match="Only a confirmed meeting"):
            meeting_mark_held(meeting=proposed, actor=resident)

    def test_held_then_shared_notes(self, proposed, attending, resident):
        meeting_confirm(meeting=proposed, actor=attending, start=SLOTS[0])
        meeting = meeting_mark_held(meeting=_started(proposed), actor=resident)
        assert meeting.status == Meeting.Status.HELD
        held = Notification.objects.get(user=attending, event="meeting.held")
        assert held.meeting is None  # nothing changes in the calendar
        meeting = meeting_update_notes(meeting=meeting, actor=attending, notes="  Draft the fellowship CV by May.  ")
        assert meeting.notes == "Draft the fellowship CV by May."
        assert Notification.objects.get(user=resident, event="meeting.notes")
        entry = AuditEntry.objects.get(action="meeting.notes")
        assert "fellowship" not in str(entry.after)  # the notes stay the pair's

    def test_notes_on_a_confirmed_meeting_that_started(self, proposed, attending, resident):
        meeting_confirm(meeting=proposed, actor=attending, start=SLOTS[0])
        meeting = meeting_update_notes(meeting=_started(proposed), actor=resident, notes="Talked about research.")
        assert meeting.notes == "Talked about research."

    def test_notes_before_the_meeting_are_refused(self, proposed, resident):
        with pytest.raises(ValidationError, match="once the meeting has taken place"):
            meeting_update_notes(meeting=proposed, actor=resident, notes="Too early")

    def test_coordinator_cannot_write_notes(self, proposed, attending, coordinator):
        meeting_confirm(meeting=proposed, actor=attending, start=SLOTS[0])
        with pytest.raises(PermissionDenied):
            meeting_update_notes(meeting=_started(proposed), actor=coordinator, notes="Hi")
