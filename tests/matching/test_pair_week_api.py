"""Issue 14 in the API: ETag / If-Match on the shared texts (428 without, 412 when stale),
Idempotency-Key on creates (a replay, not a second creation), goals and resources edited
and removed, the place of a meeting added afterwards."""

import pytest

from audit.models import AuditEntry
from matching.models import ActionItem, CheckIn, Introduction, Meeting, Resource
from matching.services.meetings import meeting_propose
from tests.matching.support import _in

# The pair and its goal, resource and held meeting: tests/matching/pair_week_world.py.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


class TestConditionalWrites:
    def test_meeting_notes_etag_then_428_412_and_200(self, held, resident, attending, api_for):
        alice, carol = api_for(resident), api_for(attending)
        url = f"/api/v1/meetings/{held.pk}/"
        got = carol.get(url)
        assert got["ETag"] == '"1"' and got.json()["version"] == 1

        missing = alice.put(f"{url}notes/", {"notes": "Alice"}, format="json")
        assert missing.status_code == 428
        saved = carol.put(f"{url}notes/", {"notes": "Carol: IRB form."}, format="json", HTTP_IF_MATCH='"1"')
        assert saved.status_code == 200 and saved["ETag"] == '"2"' and saved.json()["notes"] == "Carol: IRB form."

        stale = alice.put(f"{url}notes/", {"notes": "Alice: stats."}, format="json", HTTP_IF_MATCH='"1"')
        assert stale.status_code == 412 and stale["ETag"] == '"2"'
        assert stale.json()["current_version"] == 2 and stale.json()["changed_by"] == "Carol Chen"
        held.refresh_from_db()
        assert held.notes == "Carol: IRB form."

        # POST is the same as PUT, If-Match included.
        assert alice.post(f"{url}notes/", {"notes": "Both."}, format="json").status_code == 428
        ok = alice.post(f"{url}notes/", {"notes": "Both."}, format="json", HTTP_IF_MATCH=stale["ETag"])
        assert ok.status_code == 200 and ok["ETag"] == '"3"'

    def test_100k_notes_are_400(self, held, resident, api_for):
        response = api_for(resident).put(
            f"/api/v1/meetings/{held.pk}/notes/", {"notes": "x" * 100_000}, format="json", HTTP_IF_MATCH="*"
        )
        assert response.status_code == 400 and "notes" in response.json()

    def test_agreement(self, mentorship, resident, attending, api_for):
        url = f"/api/v1/mentorships/{mentorship.pk}/agreement/"
        first = api_for(resident).get(url)
        assert first.status_code == 200 and first["ETag"] == '"1"'
        assert api_for(resident).patch(url, {"expectations": "Monthly"}, format="json").status_code == 428
        done = api_for(attending).patch(url, {"expectations": "Monthly"}, format="json", HTTP_IF_MATCH=first["ETag"])
        assert done.status_code == 200 and done["ETag"] == '"2"'
        stale = api_for(resident).put(
            url, {"cadence": "monthly", "expectations": "Weekly"}, format="json", HTTP_IF_MATCH=first["ETag"]
        )
        assert stale.status_code == 412 and stale["ETag"] == '"2"'

    def test_a_goal_get_patch_and_delete(self, goal, resident, attending, api_for):
        url = f"/api/v1/action-items/{goal.pk}/"
        got = api_for(attending).get(url)
        assert got["ETag"] == '"1"'
        assert api_for(attending).patch(url, {"status": "done"}, format="json").status_code == 428
        done = api_for(attending).patch(url, {"status": "done"}, format="json", HTTP_IF_MATCH='"1"')
        assert done.status_code == 200 and done.json()["version"] == 2
        stale = api_for(resident).patch(url, {"title": "Mine"}, format="json", HTTP_IF_MATCH='"1"')
        assert stale.status_code == 412
        assert api_for(resident).delete(url, HTTP_IF_MATCH='"1"').status_code == 412
        assert api_for(resident).delete(url).status_code == 428
        assert api_for(resident).delete(url, HTTP_IF_MATCH='"2"').status_code == 204
        assert not ActionItem.objects.filter(pk=goal.pk).exists()
        assert AuditEntry.objects.filter(action="action_item.delete", object_id=str(goal.pk)).exists()

    def test_a_year_9999_due_date_is_400(self, goal, resident, api_for):
        response = api_for(resident).patch(
            f"/api/v1/action-items/{goal.pk}/", {"due_date": "9999-12-31"}, format="json", HTTP_IF_MATCH='"1"'
        )
        assert response.status_code == 400 and "due_date" in response.json()

    def test_a_resource_by_its_sharer(self, resource, resident, attending, api_for):
        url = f"/api/v1/resources/{resource.pk}/"
        assert api_for(resident).get(url)["ETag"] == '"1"'
        assert api_for(resident).patch(url, {"title": "Mine"}, format="json", HTTP_IF_MATCH='"1"').status_code == 403
        ok = api_for(attending).patch(url, {"title": "The paper"}, format="json", HTTP_IF_MATCH='"1"')
        assert ok.status_code == 200 and ok.json()["title"] == "The paper" and ok["ETag"] == '"2"'
        assert api_for(attending).delete(url, HTTP_IF_MATCH='"1"').status_code == 412
        assert api_for(attending).delete(url, HTTP_IF_MATCH='"2"').status_code == 204
        assert not Resource.objects.filter(pk=resource.pk).exists()

    def test_meeting_details(self, mentorship, resident, attending, api_for):
        meeting = meeting_propose(mentorship=mentorship, actor=resident, slots=[_in(3)])
        url = f"/api/v1/meetings/{meeting.pk}/details/"
        assert api_for(attending).patch(url, {"location": "Room 4B"}, format="json").status_code == 428
        ok = api_for(attending).patch(url, {"location": "Room 4B"}, format="json", HTTP_IF_MATCH='"1"')
        assert ok.status_code == 200 and ok.json()["location"] == "Room 4B" and ok.json()["sequence"] == 1
        assert api_for(resident).patch(url, {"location": "Café"}, format="json", HTTP_IF_MATCH='"1"').status_code == 412
        bad = api_for(resident).patch(url, {"video_url": "not a link"}, format="json", HTTP_IF_MATCH='"2"')
        assert bad.status_code == 400

    def test_hostile_callers_are_refused_before_any_precondition(
        self, goal, resource, held, coordinator, other_coordinator, outsider, api_for
    ):
        urls = [
            ("patch", f"/api/v1/action-items/{goal.pk}/"),
            ("delete", f"/api/v1/action-items/{goal.pk}/"),
            ("patch", f"/api/v1/resources/{resource.pk}/"),
            ("delete", f"/api/v1/resources/{resource.pk}/"),
            ("put", f"/api/v1/meetings/{held.pk}/notes/"),
            ("patch", f"/api/v1/meetings/{held.pk}/details/"),
            ("patch", f"/api/v1/mentorships/{goal.mentorship_id}/agreement/"),
        ]
        for person, code in ((coordinator, 403), (other_coordinator, 404), (outsider, 404)):
            for method, url in urls:
                response = getattr(api_for(person), method)(url, {"title": "x", "notes": "x"}, format="json")
                assert response.status_code == code, (person, method, url, response.status_code)
                with_tag = getattr(api_for(person), method)(url, {"notes": "x"}, format="json", HTTP_IF_MATCH="*")
                assert with_tag.status_code == code
        goal.refresh_from_db()
        held.refresh_from_db()
        assert goal.version == 1 and held.notes == ""


class TestIdempotentCreates:
    def test_add_goal_replayed(self, mentorship, resident, api_for):
        url = f"/api/v1/mentorships/{mentorship.pk}/action-items/"
        api = api_for(resident)
        first = api.post(url, {"title": "Abstract"}, format="json", HTTP_IDEMPOTENCY_KEY="goal-1")
        again = api.post(url, {"title": "Abstract"}, format="json", HTTP_IDEMPOTENCY_KEY="goal-1")
        assert first.status_code == again.status_code == 201
        assert again["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
        assert ActionItem.objects.count() == 1
        other = api.post(url, {"title": "Another"}, format="json", HTTP_IDEMPOTENCY_KEY="goal-1")
        assert other.status_code == 422 and ActionItem.objects.count() == 1

    def test_share_replayed(self, mentorship, attending, api_for):
        url = f"/api/v1/mentorships/{mentorship.pk}/resources/"
        body = {"title": "A paper", "url": "https://example.org/p"}
        for _ in range(2):
            assert api_for(attending).post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="r1").status_code == 201
        assert Resource.objects.count() == 1

    def test_propose_and_reschedule_replayed(self, mentorship, resident, api_for):
        api = api_for(resident)
        body = {"slots": [_in(3).isoformat()]}
        url = f"/api/v1/mentorships/{mentorship.pk}/meetings/"
        first = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="m1")
        api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="m1")
        assert Meeting.objects.count() == 1
        again = {"slots": [_in(5).isoformat()]}
        move = f"/api/v1/meetings/{first.json()['id']}/reschedule/"
        api.post(move, again, format="json", HTTP_IDEMPOTENCY_KEY="m2")
        replay = api.post(move, again, format="json", HTTP_IDEMPOTENCY_KEY="m2")
        assert replay["Idempotent-Replayed"] == "true"
        assert Meeting.objects.get().sequence == 1  # rescheduled once

    def test_check_in_and_introduction_replayed(self, mentorship, resident, attending, other_attending, api_for):
        checkin = f"/api/v1/mentorships/{mentorship.pk}/checkins/"
        for _ in range(2):
            assert (
                api_for(resident).post(checkin, {"rating": 4}, format="json", HTTP_IDEMPOTENCY_KEY="c1").status_code
                == 201
            )
        assert CheckIn.objects.count() == 1
        intro = f"/api/v1/mentorships/{mentorship.pk}/introductions/"
        body = {"colleague": other_attending.pk, "kind": "research", "note": "Meet Dave."}
        for _ in range(2):
            assert api_for(attending).post(intro, body, format="json", HTTP_IDEMPOTENCY_KEY="i1").status_code == 201
        assert Introduction.objects.count() == 1

    def test_a_refused_create_is_not_replayed(self, mentorship, resident, api_for):
        url = f"/api/v1/mentorships/{mentorship.pk}/action-items/"
        api = api_for(resident)
        bad = api.post(url, {"title": "x", "due_date": "9999-12-31"}, format="json", HTTP_IDEMPOTENCY_KEY="g")
        assert bad.status_code == 400
        assert (
            api.post(url, {"title": "x", "due_date": "9999-12-31"}, format="json", HTTP_IDEMPOTENCY_KEY="g").status_code
            == 400
        )
        assert ActionItem.objects.count() == 0
