"""Issue 14, "nothing typed is ever lost", below the pages and the API: versioned saves of
the shared texts (agreement, goals, resources, meeting notes and details), editing and
removing goals and resources with their audit entries, undoing a status change."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEntry
from core.concurrency import EditConflict
from matching.models import ActionItem, Notification, Resource
from matching.services.meetings import meeting_propose, meeting_update_details, meeting_update_notes
from matching.services.plan import (
    action_item_delete,
    action_item_update,
    agreement_update,
    resource_delete,
    resource_update,
)
from tests.matching.factories import ActionItemFactory
from tests.matching.support import _in

# The pair and its goal, resource and held meeting: tests/matching/pair_week_world.py.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


def _audit(action, obj):
    return AuditEntry.objects.filter(action=action, object_id=str(obj.pk))


class TestMeetingNotes:
    def test_the_second_save_from_the_same_version_is_refused_not_lost(self, held, resident, attending):
        # Both opened the notes at version 1.
        meeting_update_notes(meeting=held, actor=attending, notes="Carol: submit the IRB form.", version=1)
        with pytest.raises(EditConflict) as caught:
            meeting_update_notes(meeting=held, actor=resident, notes="Alice: book the stats consult.", version=1)
        held.refresh_from_db()
        assert held.notes == "Carol: submit the IRB form." and held.version == 2
        # The refusal names who saved and carries their text, for the side-by-side page.
        assert caught.value.editor == attending
        assert caught.value.current.notes == "Carol: submit the IRB form."
        # Saving again from the version shown is deliberate, and goes through.
        meeting_update_notes(meeting=held, actor=resident, notes="Both lines.", version=2)
        held.refresh_from_db()
        assert held.notes == "Both lines." and held.version == 3

    def test_an_unchanged_save_is_no_conflict_and_no_new_version(self, held, attending):
        meeting_update_notes(meeting=held, actor=attending, notes="Same", version=1)
        meeting_update_notes(meeting=held, actor=attending, notes="Same", version=1)
        held.refresh_from_db()
        assert held.version == 2

    def test_100k_characters_are_refused(self, held, attending):
        with pytest.raises(ValidationError) as caught:
            meeting_update_notes(meeting=held, actor=attending, notes="x" * 100_000, version=1)
        assert "notes" in caught.value.message_dict
        held.refresh_from_db()
        assert held.notes == "" and held.version == 1


class TestMeetingDetails:
    def test_either_person_adds_the_place_and_the_invitation_changes(
        self, mentorship, resident, attending, django_capture_on_commit_callbacks
    ):
        meeting = meeting_propose(mentorship=mentorship, actor=resident, slots=[_in(3)])
        sequence = meeting.sequence
        updated = meeting_update_details(
            meeting=meeting, actor=attending, location="Room 4B", video_url="https://meet.example/x", version=1
        )
        assert (updated.location, updated.video_url) == ("Room 4B", "https://meet.example/x")
        assert updated.sequence == sequence + 1 and updated.version == 2
        entry = _audit("meeting.details", meeting).get()
        assert entry.actor == attending and entry.after["location"] == "Room 4B"
        assert Notification.objects.filter(user=resident, event="meeting.details").exists()

    def test_a_stale_change_is_refused(self, mentorship, resident, attending):
        meeting = meeting_propose(mentorship=mentorship, actor=resident, slots=[_in(3)])
        meeting_update_details(meeting=meeting, actor=attending, location="Room 4B", version=1)
        with pytest.raises(EditConflict) as caught:
            meeting_update_details(meeting=meeting, actor=resident, location="Café", version=1)
        assert caught.value.editor == attending
        meeting.refresh_from_db()
        assert meeting.location == "Room 4B"

    def test_no_change_no_new_sequence(self, mentorship, resident):
        meeting = meeting_propose(mentorship=mentorship, actor=resident, slots=[_in(3)], location="Room 1")
        meeting_update_details(meeting=meeting, actor=resident, location="Room 1", version=1)
        meeting.refresh_from_db()
        assert meeting.sequence == 0 and not _audit("meeting.details", meeting).exists()

    def test_bad_link_and_held_meeting_are_refused(self, mentorship, resident, held):
        meeting = meeting_propose(mentorship=mentorship, actor=resident, slots=[_in(3)])
        with pytest.raises(ValidationError) as caught:
            meeting_update_details(meeting=meeting, actor=resident, video_url="javascript:alert(1)")
        assert "video_url" in caught.value.message_dict
        with pytest.raises(ValidationError):
            meeting_update_details(meeting=meeting, actor=resident, location="x" * 100_000)
        with pytest.raises(ValidationError):
            meeting_update_details(meeting=held, actor=resident, location="Room 1")

    def test_someone_outside_the_pair_may_not(self, mentorship, resident, coordinator, outsider):
        meeting = meeting_propose(mentorship=mentorship, actor=resident, slots=[_in(3)])
        for stranger in (coordinator, outsider):
            with pytest.raises(PermissionDenied):
                meeting_update_details(meeting=meeting, actor=stranger, location="Room 1")


class TestAgreement:
    def test_a_stale_save_names_who_saved(self, mentorship, resident, attending):
        agreement_update(mentorship=mentorship, actor=attending, expectations="Monthly.", version=1)
        with pytest.raises(EditConflict) as caught:
            agreement_update(mentorship=mentorship, actor=resident, expectations="Weekly.", version=1)
        assert caught.value.editor == attending
        assert caught.value.current.expectations == "Monthly."
        agreement = agreement_update(mentorship=mentorship, actor=resident, expectations="Weekly.", version=2)
        assert agreement.expectations == "Weekly." and agreement.version == 3


class TestGoals:
    def test_edit_bumps_the_version_and_a_stale_edit_is_refused(self, goal, resident, attending):
        action_item_update(item=goal, actor=attending, title="Draft the abstract, v2", version=1)
        with pytest.raises(EditConflict) as caught:
            action_item_update(item=goal, actor=resident, title="Draft the abstract, v3", version=1)
        assert caught.value.editor == attending
        goal.refresh_from_db()
        assert goal.title == "Draft the abstract, v2" and goal.version == 2

    def test_a_year_9999_due_date_is_refused(self, goal, resident):
        with pytest.raises(ValidationError) as caught:
            action_item_update(item=goal, actor=resident, due_date=date(9999, 12, 31), version=1)
        assert "due_date" in caught.value.message_dict

    def test_undo_puts_the_status_back_with_its_own_audit_entry(self, goal, resident):
        done = action_item_update(item=goal, actor=resident, status="done")
        assert done.completed_at is not None
        back = action_item_update(item=goal, actor=resident, status="open", version=done.version, undo=True)
        assert back.status == "open" and back.completed_at is None
        entry = _audit("action_item.undo", goal).get()
        assert entry.before == {"status": "done"} and entry.after == {"status": "open"}

    def test_undo_after_the_other_persons_change_is_refused(self, goal, resident, attending):
        done = action_item_update(item=goal, actor=resident, status="done")
        action_item_update(item=goal, actor=attending, status="in_progress")
        with pytest.raises(EditConflict):
            action_item_update(item=goal, actor=resident, status="open", version=done.version, undo=True)
        goal.refresh_from_db()
        assert goal.status == "in_progress"

    def test_delete_by_its_creator_is_audited_and_the_owner_told(self, mentorship, resident, attending):
        item = ActionItemFactory(
            mentorship=mentorship, title="Read the guidelines", owner=resident, created_by=attending
        )
        action_item_delete(item=item, actor=attending, version=1)
        assert not ActionItem.objects.filter(pk=item.pk).exists()
        entry = _audit("action_item.delete", item).get()
        assert entry.actor == attending and entry.before["title"] == "Read the guidelines"
        assert Notification.objects.filter(user=resident, event="action_item.deleted").exists()

    def test_the_other_person_may_not_delete_your_own_goal(self, goal, attending, coordinator, other_coordinator):
        # Alice added it and owns it: Carol may edit it (the plan is shared), not remove it.
        for person in (attending, coordinator, other_coordinator):
            with pytest.raises(PermissionDenied):
                action_item_delete(item=goal, actor=person)
        assert ActionItem.objects.filter(pk=goal.pk).exists()

    def test_a_stale_delete_is_refused(self, goal, resident, attending):
        action_item_update(item=goal, actor=attending, title="Changed meanwhile", version=1)
        with pytest.raises(EditConflict):
            action_item_delete(item=goal, actor=resident, version=1)
        assert ActionItem.objects.filter(pk=goal.pk).exists()


class TestResources:
    def test_the_sharer_corrects_it_and_a_stale_edit_is_refused(self, resource, attending):
        updated = resource_update(resource=resource, actor=attending, title="The paper", version=1)
        assert updated.title == "The paper" and updated.version == 2
        assert _audit("resource.update", resource).get().after == {"title": "The paper"}
        with pytest.raises(EditConflict):
            resource_update(resource=resource, actor=attending, title="Another", version=1)

    def test_only_the_sharer_edits_or_removes_it(self, resource, resident, coordinator, outsider):
        for person in (resident, coordinator, outsider):
            with pytest.raises(PermissionDenied):
                resource_update(resource=resource, actor=person, title="Mine now")
            with pytest.raises(PermissionDenied):
                resource_delete(resource=resource, actor=person)
        resource.refresh_from_db()
        assert resource.title == "A paper"

    def test_absurd_values_are_refused(self, resource, attending):
        with pytest.raises(ValidationError):
            resource_update(resource=resource, actor=attending, note="x" * 100_000)
        with pytest.raises(ValidationError) as caught:
            resource_update(resource=resource, actor=attending, url="ftp://example.org/file")
        assert "url" in caught.value.message_dict
        resource.refresh_from_db()
        assert resource.version == 1

    def test_delete_is_audited(self, resource, attending):
        resource_delete(resource=resource, actor=attending, version=1)
        assert not Resource.objects.filter(pk=resource.pk).exists()
        entry = _audit("resource.delete", resource).get()
        assert entry.before == {"title": "A paper", "url": "https://example.org/p"}
