"""The mentorships API: the same rules and services as the pages."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import MentorProfile
from matching.models import Agreement, CheckIn, Introduction, Meeting, Mentorship
from matching.services.mentorships import mentorship_end
from matching.services.plan import checkin_submit, introduction_create
from tests.matching.factories import ActionItemFactory, MentorshipFactory

pytestmark = pytest.mark.django_db

SECRET = "I feel dismissed in our meetings, SECRET-4412"


@pytest.fixture
def api():
    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def _m(mentorship, rest=""):
    return f"/api/v1/mentorships/{mentorship.pk}/{rest}"


class TestList:
    def test_my_mentorships_paginated_and_filtered(self, api, program, resident, attending, other_attending):
        MentorshipFactory(mentee=resident, mentor=attending, program=program)
        past = MentorshipFactory(mentee=resident, mentor=other_attending, program=program, kind="research")
        mentorship_end(mentorship=past, actor=resident, reason="Done", completed=True)

        body = api(resident).get("/api/v1/mentorships/").json()
        assert body["count"] == 2
        assert [m["status"] for m in body["results"]] == ["active", "completed"]

        assert api(resident).get("/api/v1/mentorships/?status=completed").json()["count"] == 1
        assert (
            api(resident).get("/api/v1/mentorships/?kind=research").json()["results"][0]["mentor"]["full_name"]
            == "Dave Diaz"
        )
        assert api(resident).get("/api/v1/mentorships/?status=nonsense").status_code == 400

    def test_only_my_own(self, api, mentorship, coordinator, other_resident):
        assert api(coordinator).get("/api/v1/mentorships/").json()["count"] == 0
        assert api(other_resident).get("/api/v1/mentorships/").json()["count"] == 0

    def test_anonymous_is_refused(self, mentorship):
        assert APIClient().get("/api/v1/mentorships/").status_code in (401, 403)

    def test_query_budget(self, api, program, resident, attending, other_attending, django_assert_max_num_queries):
        MentorshipFactory(mentee=resident, mentor=attending, program=program)
        MentorshipFactory(mentee=resident, mentor=other_attending, program=program, kind="research")
        client = api(resident)
        # count, then one page of mentorships joined to people, program and agreement,
        # with the caller's last check-in date as a subquery: not one query per row.
        with django_assert_max_num_queries(3):
            client.get("/api/v1/mentorships/")


class TestDetail:
    def test_includes_the_agreement(self, api, mentorship, resident):
        Agreement.objects.filter(mentorship=mentorship).update(cadence="weekly")
        Mentorship.objects.filter(pk=mentorship.pk).update(started_at=timezone.now() - timedelta(days=14))
        body = api(resident).get(_m(mentorship)).json()
        assert body["agreement"]["cadence"] == "weekly"
        assert body["can_check_in"] is True and body["my_last_checkin_at"] is None

    def test_no_check_in_is_due_in_the_first_two_weeks(self, api, mentorship, resident):
        # As the page and the dashboard's reminder count it.
        Mentorship.objects.filter(pk=mentorship.pk).update(started_at=timezone.now() - timedelta(days=13))
        assert api(resident).get(_m(mentorship)).json()["can_check_in"] is False
        assert api(resident).get("/api/v1/mentorships/").json()["results"][0]["can_check_in"] is False

    def test_outsider_and_other_programs_coordinator_get_404(self, api, mentorship, outsider, other_coordinator):
        assert api(outsider).get(_m(mentorship)).status_code == 404
        assert api(other_coordinator).get(_m(mentorship)).status_code == 404
        assert api(outsider).get("/api/v1/mentorships/99999/").status_code == 404

    def test_the_programs_coordinator_reads_it(self, api, mentorship, coordinator):
        body = api(coordinator).get(_m(mentorship)).json()
        assert body["id"] == mentorship.pk
        assert body["can_check_in"] is False and body["thank_you_note"] is None


class TestAgreement:
    def test_patch_then_put(self, api, mentorship, resident):
        client = api(resident)
        etag = client.get(_m(mentorship, "agreement/"))["ETag"]
        patched = client.patch(
            _m(mentorship, "agreement/"), {"preferred_channel": "Signal"}, format="json", headers={"If-Match": etag}
        )
        body = patched.json()
        assert body["preferred_channel"] == "Signal" and body["updated_by"]["id"] == resident.pk
        # Each save answers with the new version's ETag, which the next save names.
        assert patched["ETag"] != etag

        put = client.put(
            _m(mentorship, "agreement/"), {"cadence": "weekly"}, format="json", headers={"If-Match": patched["ETag"]}
        )
        assert (put.json()["cadence"], put.json()["preferred_channel"]) == ("weekly", "")

    def test_bad_cadence_is_400(self, api, mentorship, attending):
        assert (
            api(attending)
            .patch(_m(mentorship, "agreement/"), {"cadence": "hourly"}, format="json", headers={"If-Match": "*"})
            .status_code
            == 400
        )

    def test_coordinator_403_outsider_404(self, api, mentorship, coordinator, outsider):
        assert (
            api(coordinator).patch(_m(mentorship, "agreement/"), {"cadence": "weekly"}, format="json").status_code
            == 403
        )
        assert (
            api(outsider).patch(_m(mentorship, "agreement/"), {"cadence": "weekly"}, format="json").status_code == 404
        )

    def test_ended_mentorship_is_409(self, api, mentorship, resident):
        mentorship_end(mentorship=mentorship, actor=resident, reason="x", completed=True)
        response = api(resident).patch(
            _m(mentorship, "agreement/"), {"cadence": "weekly"}, format="json", headers={"If-Match": "*"}
        )
        assert response.status_code == 409 and "read-only" in response.json()["detail"]


class TestActionItems:
    def test_create_list_and_patch(self, api, mentorship, resident, attending):
        client = api(resident)
        due = (timezone.localdate() + timedelta(days=7)).isoformat()
        created = client.post(
            _m(mentorship, "action-items/"), {"title": "Book ITE review", "due_date": due}, format="json"
        )
        assert created.status_code == 201
        assert created.json()["owner"]["id"] == resident.pk

        listed = client.get(_m(mentorship, "action-items/")).json()
        assert [i["title"] for i in listed["results"]] == ["Book ITE review"]

        goal = f"/api/v1/action-items/{created.json()['id']}/"
        patched = api(attending).patch(goal, {"status": "done"}, format="json", headers={"If-Match": created["ETag"]})
        assert patched.status_code == 200
        assert patched.json()["status"] == "done" and patched.json()["completed_at"] is not None

    def test_an_overdue_goal_says_so(self, api, mentorship, resident):
        ActionItemFactory(mentorship=mentorship, due_date=timezone.localdate() - timedelta(days=1))
        assert api(resident).get(_m(mentorship, "action-items/")).json()["results"][0]["is_overdue"] is True

    def test_owner_must_be_one_of_the_pair(self, api, mentorship, resident, other_resident):
        response = api(resident).post(
            _m(mentorship, "action-items/"), {"title": "x", "owner": other_resident.pk}, format="json"
        )
        assert response.status_code == 400 and "owner" in response.json()

    def test_coordinator_reads_but_cannot_write(self, api, mentorship, coordinator, resident):
        item = ActionItemFactory(mentorship=mentorship)
        client = api(coordinator)
        assert client.get(_m(mentorship, "action-items/")).status_code == 200
        assert client.post(_m(mentorship, "action-items/"), {"title": "x"}, format="json").status_code == 403
        assert client.patch(f"/api/v1/action-items/{item.pk}/", {"status": "done"}, format="json").status_code == 403

    def test_outsider_gets_404(self, api, mentorship, outsider):
        item = ActionItemFactory(mentorship=mentorship)
        client = api(outsider)
        assert client.get(_m(mentorship, "action-items/")).status_code == 404
        assert client.patch(f"/api/v1/action-items/{item.pk}/", {"status": "done"}, format="json").status_code == 404
        item.refresh_from_db()
        assert item.status == "open"

    def test_bad_status_is_400(self, api, mentorship, resident):
        item = ActionItemFactory(mentorship=mentorship)
        assert (
            api(resident)
            .patch(
                f"/api/v1/action-items/{item.pk}/", {"status": "finished"}, format="json", headers={"If-Match": '"1"'}
            )
            .status_code
            == 400
        )


class TestResources:
    def test_the_mentor_shares_and_the_mentee_lists(self, api, mentorship, attending, resident):
        created = api(attending).post(
            _m(mentorship, "resources/"),
            {"title": "NRMP data", "url": "https://www.nrmp.org/", "note": "Charting outcomes"},
            format="json",
        )
        assert created.status_code == 201
        listed = api(resident).get(_m(mentorship, "resources/")).json()
        assert listed["results"][0]["title"] == "NRMP data"

    def test_the_mentee_cannot_share(self, api, mentorship, resident):
        response = api(resident).post(
            _m(mentorship, "resources/"), {"title": "x", "url": "https://example.org/"}, format="json"
        )
        assert response.status_code == 403


class TestIntroductions:
    def test_introduce_list_received_and_accept_as_mentorship(
        self, api, mentorship, attending, other_attending, resident
    ):
        created = api(attending).post(
            _m(mentorship, "introductions/"),
            {"colleague": other_attending.pk, "kind": "research", "note": "Alice wants a project."},
            format="json",
        )
        assert created.status_code == 201

        received = api(other_attending).get("/api/v1/introductions/").json()
        assert [i["mentee"]["id"] for i in received["results"]] == [resident.pk]
        assert api(resident).get("/api/v1/introductions/").json()["count"] == 0

        answer = api(other_attending).post(
            f"/api/v1/introductions/{created.json()['id']}/respond/", {"response": "mentorship"}, format="json"
        )
        assert answer.status_code == 200
        body = answer.json()
        assert body["introduction"]["status"] == "accepted_mentorship"
        assert body["mentorship_started"]["kind"] == "research"
        assert body["mentorship_started"]["source"] == "introduction"

    def test_accept_as_a_meeting(self, api, mentorship, attending, other_attending):
        introduction = introduction_create(
            mentorship=mentorship, actor=attending, colleague=other_attending, note="n", kind="career"
        )
        body = (
            api(other_attending)
            .post(f"/api/v1/introductions/{introduction.pk}/respond/", {"response": "meeting"}, format="json")
            .json()
        )
        assert body["introduction"]["status"] == "accepted_meeting" and body["mentorship_started"] is None

    def test_not_to_the_mentee(self, api, mentorship, attending, resident):
        response = api(attending).post(
            _m(mentorship, "introductions/"), {"colleague": resident.pk, "kind": "research", "note": "n"}, format="json"
        )
        assert response.status_code == 400 and "colleague" in response.json()

    def test_not_to_the_mentor_themselves(self, api, mentorship, attending):
        response = api(attending).post(
            _m(mentorship, "introductions/"),
            {"colleague": attending.pk, "kind": "research", "note": "n"},
            format="json",
        )
        assert response.status_code == 400 and "colleague" in response.json()

    def test_the_mentee_cannot_introduce(self, api, mentorship, resident, other_attending):
        response = api(resident).post(
            _m(mentorship, "introductions/"),
            {"colleague": other_attending.pk, "kind": "research", "note": "n"},
            format="json",
        )
        assert response.status_code == 403

    def test_only_the_colleague_responds(self, api, mentorship, attending, other_attending, resident, outsider):
        introduction = introduction_create(
            mentorship=mentorship, actor=attending, colleague=other_attending, note="n", kind="career"
        )
        url = f"/api/v1/introductions/{introduction.pk}/respond/"
        assert api(attending).post(url, {"response": "meeting"}, format="json").status_code == 403
        assert api(resident).post(url, {"response": "meeting"}, format="json").status_code == 403
        assert api(outsider).post(url, {"response": "meeting"}, format="json").status_code == 404
        assert Introduction.objects.get().status == "pending"

    def test_a_full_colleague_gets_a_clear_409(self, api, mentorship, attending, other_attending):
        introduction = introduction_create(
            mentorship=mentorship, actor=attending, colleague=other_attending, note="n", kind="research"
        )
        MentorProfile.objects.filter(user=other_attending).update(capacity=0)
        response = api(other_attending).post(
            f"/api/v1/introductions/{introduction.pk}/respond/", {"response": "mentorship"}, format="json"
        )
        assert response.status_code == 409
        assert "no open spot" in response.json()["detail"]


class TestCheckIns:
    def test_check_in_then_a_second_in_the_month_is_409(self, api, mentorship, resident):
        client = api(resident)
        first = client.post(_m(mentorship, "checkins/"), {"rating": 4, "comment": "ok"}, format="json")
        assert first.status_code == 201
        second = client.post(_m(mentorship, "checkins/"), {"rating": 5}, format="json")
        assert second.status_code == 409 and "already checked in" in second.json()["detail"]
        detail = client.get(_m(mentorship)).json()
        assert detail["can_check_in"] is False and detail["my_last_checkin_at"] is not None

    @pytest.mark.parametrize("rating", [0, 6])
    def test_rating_outside_1_to_5_is_400(self, api, mentorship, resident, rating):
        response = api(resident).post(_m(mentorship, "checkins/"), {"rating": rating}, format="json")
        assert response.status_code == 400 and "rating" in response.json()
        assert not CheckIn.objects.exists()

    def test_there_is_no_get(self, api, mentorship, resident, attending):
        checkin_submit(mentorship=mentorship, actor=resident, rating=2, comment=SECRET)
        assert api(attending).get(_m(mentorship, "checkins/")).status_code == 405

    def test_the_other_party_never_sees_the_answers(self, api, mentorship, resident, attending, coordinator):
        checkin_submit(mentorship=mentorship, actor=resident, rating=2, comment=SECRET)
        for user in (attending, coordinator):
            client = api(user)
            for url in (
                "/api/v1/mentorships/",
                _m(mentorship),
                _m(mentorship, "action-items/"),
                _m(mentorship, "resources/"),
            ):
                response = client.get(url)
                assert SECRET not in json.dumps(response.json()), url
            detail = client.get(_m(mentorship)).json()
            assert detail["my_last_checkin_at"] is None

    def test_coordinator_cannot_check_in(self, api, mentorship, coordinator):
        assert api(coordinator).post(_m(mentorship, "checkins/"), {"rating": 3}, format="json").status_code == 403


class TestEndAndThanks:
    def test_complete_early_with_a_rematch_and_meetings_cancelled(self, api, mentorship, resident, attending):
        meeting = Meeting.objects.create(
            mentorship=mentorship,
            proposed_by=attending,
            status=Meeting.Status.CONFIRMED,
            start=timezone.now() + timedelta(days=5),
        )
        response = api(resident).post(
            _m(mentorship, "end/"), {"outcome": "completed", "reason": "Matched early", "rematch": True}, format="json"
        )
        assert response.status_code == 200
        body = response.json()
        assert (body["status"], body["rematch_requested"]) == ("completed", True)
        meeting.refresh_from_db()
        assert meeting.status == Meeting.Status.CANCELLED

    def test_the_mentor_cannot_raise_the_rematch_flag_nor_see_it(self, api, mentorship, attending):
        body = (
            api(attending)
            .post(_m(mentorship, "end/"), {"outcome": "ended", "reason": "Sabbatical", "rematch": True}, format="json")
            .json()
        )
        assert body["status"] == "ended" and body["rematch_requested"] is None
        assert Mentorship.objects.get().rematch_requested is False

    def test_reason_required_and_already_ended(self, api, mentorship, resident):
        client = api(resident)
        assert client.post(_m(mentorship, "end/"), {"outcome": "ended", "reason": ""}, format="json").status_code == 400
        client.post(_m(mentorship, "end/"), {"outcome": "ended", "reason": "x"}, format="json")
        again = client.post(_m(mentorship, "end/"), {"outcome": "ended", "reason": "x"}, format="json")
        assert again.status_code == 409

    def test_thanks_from_the_mentee_kept_by_the_mentor(self, api, mentorship, resident, attending):
        mentorship_end(mentorship=mentorship, actor=attending, reason="Graduation", completed=True)
        assert api(resident).post(_m(mentorship, "thanks/"), {"note": "Thank you!"}, format="json").status_code == 200
        assert api(attending).get(_m(mentorship)).json()["thank_you_note"] == "Thank you!"
        assert api(attending).post(_m(mentorship, "thanks/"), {"note": "x"}, format="json").status_code == 403

    def test_outsider_404_coordinator_403(self, api, mentorship, outsider, coordinator):
        payload = {"outcome": "ended", "reason": "x"}
        assert api(outsider).post(_m(mentorship, "end/"), payload, format="json").status_code == 404
        assert api(coordinator).post(_m(mentorship, "end/"), payload, format="json").status_code == 403
        assert Mentorship.objects.get().is_active
