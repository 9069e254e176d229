"""The requests API under /api/v1/requests/: the same services and rules as the pages.

Personas from tests/conftest.py: Alice (resident) asks Carol (attending, capacity 2);
Bob is another resident, Dave another attending; Cora coordinates the program, Oscar
another; Olivia (outsider) is a resident elsewhere.
"""

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts.models import MentorProfile
from matching.models import Mentorship, MentorshipRequest
from matching.services.requests import request_ask_question
from tests.factories import MembershipFactory
from tests.matching.factories import MentorshipFactory
from tests.matching.support import MESSAGE, _ask, _count_queries, _residents

pytestmark = pytest.mark.django_db

API = "/api/v1/requests"


def _post(client, url, data=None):
    return client.post(url, data or {}, format="json")


# --- Asking.


class TestCreate:
    def test_resident_requests_a_mentor(self, api_for, resident, attending, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            response = _post(
                api_for(resident), f"{API}/", {"mentor": attending.pk, "kind": "research", "message": MESSAGE}
            )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["mentor"] == {"id": attending.pk, "full_name": "Carol Chen"}
        assert body["mentee"]["id"] == resident.pk
        assert (body["kind"], body["status"], body["program"], body["mentorship"]) == (
            "research",
            "pending",
            "im",
            None,
        )
        assert body["waiting_for_me"] is False
        assert [m.to for m in mail.outbox] == [[attending.email]]

    def test_an_attending_cannot_request(self, api_for, attending, other_attending):
        response = _post(
            api_for(attending), f"{API}/", {"mentor": other_attending.pk, "kind": "career", "message": MESSAGE}
        )
        assert response.status_code == 403
        assert not MentorshipRequest.objects.exists()

    def test_unknown_mentor_and_bad_kind_are_field_errors(self, api_for, resident, other_resident):
        response = _post(api_for(resident), f"{API}/", {"mentor": other_resident.pk, "kind": "golf", "message": ""})
        assert response.status_code == 400
        assert set(response.json()) == {"mentor", "kind", "message"}
        assert response.json()["mentor"] == [f"There is no mentor with id {other_resident.pk}."]

    def test_second_pending_request_to_the_same_mentor_is_refused(self, api_for, resident, attending):
        _ask(resident, attending)
        response = _post(api_for(resident), f"{API}/", {"mentor": attending.pk, "kind": "research", "message": MESSAGE})
        assert response.status_code == 400
        assert response.json() == {"detail": "You already have a pending request to Carol Chen."}

    def test_over_the_pending_cap_is_refused(self, api_for, settings, program, resident, attending, other_attending):
        settings.MENTORMATCH = {**settings.MENTORMATCH, "MAX_PENDING_REQUESTS": 1}
        _ask(resident, other_attending)
        response = _post(api_for(resident), f"{API}/", {"mentor": attending.pk, "kind": "research", "message": MESSAGE})
        assert response.status_code == 400
        assert response.json()["detail"].startswith("You have 1 pending requests, the most at once.")

    def test_a_full_mentor_is_refused(self, api_for, program, resident, attending):
        for mentee in _residents(program, 2):
            MentorshipFactory(mentee=mentee, mentor=attending, program=program)
        response = _post(api_for(resident), f"{API}/", {"mentor": attending.pk, "kind": "career", "message": MESSAGE})
        assert response.status_code == 400
        assert response.json() == {"detail": "Carol Chen has no open spot right now."}

    def test_a_mentor_not_accepting_is_refused(self, api_for, resident, attending):
        MentorProfile.objects.filter(user=attending).update(accepting_mentees=False)
        response = _post(api_for(resident), f"{API}/", {"mentor": attending.pk, "kind": "career", "message": MESSAGE})
        assert response.status_code == 400
        assert response.json() == {"detail": "Carol Chen is not accepting new mentees right now."}

    def test_a_refusal_naming_a_field_keeps_its_key(self, api_for, program, resident, attending, other_attending):
        MentorshipFactory(mentee=resident, mentor=other_attending, program=program, kind="career")
        response = _post(api_for(resident), f"{API}/", {"mentor": attending.pk, "kind": "career", "message": MESSAGE})
        assert response.status_code == 400
        assert response.json() == {"kind": ["You already have an active career mentor."]}

    def test_anonymous_is_refused(self, attending):
        assert APIClient().get(f"{API}/").status_code in (401, 403)


# --- Reading.


class TestList:
    def test_each_person_sees_their_own_requests(
        self, api_for, resident, other_resident, attending, other_attending, outsider
    ):
        to_carol = _ask(resident, attending)
        bobs = _ask(other_resident, other_attending)
        assert [r["id"] for r in api_for(resident).get(f"{API}/").json()["results"]] == [to_carol.pk]
        assert [r["id"] for r in api_for(attending).get(f"{API}/").json()["results"]] == [to_carol.pk]
        assert [r["id"] for r in api_for(other_attending).get(f"{API}/").json()["results"]] == [bobs.pk]
        assert api_for(outsider).get(f"{API}/").json()["count"] == 0

    def test_filters_by_role_and_status(self, api_for, program, resident, attending, other_attending):
        # Carol is a near-peer-like case here: she also requests a mentor as a resident.
        MembershipFactory(user=attending, program=program, role="resident")
        received = _ask(resident, attending)
        sent = _ask(attending, other_attending)
        client = api_for(attending)
        assert [r["id"] for r in client.get(f"{API}/", {"role": "sent"}).json()["results"]] == [sent.pk]
        assert [r["id"] for r in client.get(f"{API}/", {"role": "received"}).json()["results"]] == [received.pk]
        assert client.get(f"{API}/", {"status": "accepted"}).json()["count"] == 0
        assert client.get(f"{API}/", {"status": "pending"}).json()["count"] == 2
        assert client.get(f"{API}/", {"role": "nonsense"}).status_code == 400

    def test_requests_waiting_for_me_come_first(self, api_for, resident, other_resident, attending):
        from_bob = _ask(other_resident, attending)
        from_alice = _ask(resident, attending)
        request_ask_question(request=from_alice, actor=attending, question="Nights?")
        rows = api_for(attending).get(f"{API}/").json()["results"]
        assert [(r["id"], r["waiting_for_me"]) for r in rows] == [(from_bob.pk, True), (from_alice.pk, False)]
        assert api_for(resident).get(f"{API}/").json()["results"][0]["waiting_for_me"] is True

    def test_coordinator_lists_their_programs_requests(
        self, api_for, resident, attending, coordinator, other_coordinator
    ):
        request = _ask(resident, attending)
        assert [r["id"] for r in api_for(coordinator).get(f"{API}/", {"role": "program"}).json()["results"]] == [
            request.pk
        ]
        assert api_for(other_coordinator).get(f"{API}/").json()["count"] == 0

    def test_the_list_is_paginated(self, api_for, program, attending):
        for mentee in _residents(program, 27):
            _ask(mentee, attending)
        body = api_for(attending).get(f"{API}/").json()
        assert body["count"] == 27 and len(body["results"]) == 25 and body["next"]

    def test_query_budget_does_not_grow_with_requests(self, api_for, program, attending, django_assert_max_num_queries):
        client = api_for(attending)
        for mentee in _residents(program, 3):
            _ask(mentee, attending)
        few = _count_queries(client, f"{API}/")
        for mentee in _residents(program, 20):
            _ask(mentee, attending)
        # 1 count, 1 page of requests (mentee, mentor and program joined).
        with django_assert_max_num_queries(2):
            many = _count_queries(client, f"{API}/")
        assert many == few


class TestDetail:
    def test_parties_and_the_programs_coordinator_see_it_others_get_404(
        self, api_for, resident, other_resident, attending, other_attending, coordinator, other_coordinator, outsider
    ):
        request = _ask(resident, attending)
        for person in (resident, attending, coordinator):
            response = api_for(person).get(f"{API}/{request.pk}/")
            assert response.status_code == 200 and response.json()["message"] == MESSAGE
        for person in (other_resident, other_attending, other_coordinator, outsider):
            assert api_for(person).get(f"{API}/{request.pk}/").status_code == 404
        assert api_for(resident).get(f"{API}/987654/").status_code == 404


# --- Answering.


class TestActions:
    def test_accept_starts_the_mentorship(self, api_for, resident, attending, django_capture_on_commit_callbacks):
        request = _ask(resident, attending)
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            response = _post(api_for(attending), f"{API}/{request.pk}/accept/", {"note": "Glad to."})
        assert response.status_code == 200, response.json()
        mentorship = Mentorship.objects.get(mentee=resident, mentor=attending)
        body = response.json()
        assert (body["status"], body["mentorship"], body["response_note"]) == ("accepted", mentorship.pk, "Glad to.")
        assert [m.to for m in mail.outbox] == [[resident.email]]

    def test_accept_without_a_note(self, api_for, resident, attending):
        request = _ask(resident, attending)
        assert _post(api_for(attending), f"{API}/{request.pk}/accept/").status_code == 200

    def test_decline_with_a_note(self, api_for, resident, attending):
        request = _ask(resident, attending)
        response = _post(api_for(attending), f"{API}/{request.pk}/decline/", {"note": "Try Dr Diaz."})
        assert response.status_code == 200
        assert (response.json()["status"], response.json()["response_note"]) == ("declined", "Try Dr Diaz.")
        assert api_for(resident).get(f"{API}/{request.pk}/").json()["response_note"] == "Try Dr Diaz."

    def test_question_then_answer(self, api_for, resident, attending):
        request = _ask(resident, attending)
        asked = _post(api_for(attending), f"{API}/{request.pk}/question/", {"question": "Nights in March?"})
        assert asked.status_code == 200 and asked.json()["question"] == "Nights in March?"
        again = _post(api_for(attending), f"{API}/{request.pk}/question/", {"question": "Another?"})
        assert again.status_code == 409
        assert again.json() == {"detail": "You can ask one question while the request is pending."}
        answered = _post(api_for(resident), f"{API}/{request.pk}/answer/", {"answer": "Only two weeks."})
        assert answered.status_code == 200 and answered.json()["answer"] == "Only two weeks."
        assert _post(api_for(resident), f"{API}/{request.pk}/answer/", {"answer": "More"}).status_code == 409

    def test_an_empty_question_is_a_field_error(self, api_for, resident, attending):
        request = _ask(resident, attending)
        response = _post(api_for(attending), f"{API}/{request.pk}/question/", {"question": "  "})
        assert response.status_code == 400 and "question" in response.json()

    def test_withdraw(self, api_for, resident, attending):
        request = _ask(resident, attending)
        response = _post(api_for(resident), f"{API}/{request.pk}/withdraw/")
        assert response.status_code == 200 and response.json()["status"] == "withdrawn"

    def test_resident_cannot_accept_their_own_request(self, api_for, resident, attending):
        request = _ask(resident, attending)
        client = api_for(resident)
        for action in ("accept", "decline", "question"):
            assert _post(client, f"{API}/{request.pk}/{action}/", {"question": "?"}).status_code == 403
        request.refresh_from_db()
        assert request.status == "pending" and request.question == ""

    def test_mentor_cannot_withdraw_or_answer(self, api_for, resident, attending):
        request = _ask(resident, attending)
        request_ask_question(request=request, actor=attending, question="Nights?")
        assert _post(api_for(attending), f"{API}/{request.pk}/withdraw/").status_code == 403
        assert _post(api_for(attending), f"{API}/{request.pk}/answer/", {"answer": "x"}).status_code == 403

    def test_coordinator_can_read_but_not_accept(self, api_for, resident, attending, coordinator):
        request = _ask(resident, attending)
        assert _post(api_for(coordinator), f"{API}/{request.pk}/accept/").status_code == 403
        request.refresh_from_db()
        assert request.status == "pending"

    def test_strangers_get_404_from_every_action(self, api_for, resident, attending, outsider, other_coordinator):
        request = _ask(resident, attending)
        for person in (outsider, other_coordinator):
            for action in ("accept", "decline", "withdraw", "question", "answer"):
                assert (
                    _post(
                        api_for(person), f"{API}/{request.pk}/{action}/", {"question": "?", "answer": "!"}
                    ).status_code
                    == 404
                )

    def test_accepting_a_withdrawn_request_is_a_conflict(self, api_for, resident, attending):
        request = _ask(resident, attending)
        _post(api_for(resident), f"{API}/{request.pk}/withdraw/")
        response = _post(api_for(attending), f"{API}/{request.pk}/accept/")
        assert response.status_code == 409
        assert response.json() == {"detail": "This request is already withdrawn."}
        assert not Mentorship.objects.exists()

    def test_the_request_that_loses_the_last_spot_gets_409(self, api_for, resident, other_resident, attending):
        MentorProfile.objects.filter(user=attending).update(capacity=1)
        from_alice, from_bob = _ask(resident, attending), _ask(other_resident, attending)
        client = api_for(attending)
        assert _post(client, f"{API}/{from_alice.pk}/accept/").status_code == 200
        response = _post(client, f"{API}/{from_bob.pk}/accept/")
        assert response.status_code == 409
        # Said to Carol, the mentor accepting, in the second person.
        assert response.json() == {
            "detail": "You have no open spot left (1 of 1 taken): raise your capacity on your mentor profile "
            "to accept, or decline with a note."
        }
        from_bob.refresh_from_db()
        assert from_bob.status == "pending"

    def test_actions_take_post_only(self, api_for, resident, attending):
        request = _ask(resident, attending)
        assert api_for(attending).get(f"{API}/{request.pk}/accept/").status_code == 405


def test_schema_documents_the_request_endpoints(tmp_path):
    import yaml
    from django.core.management import call_command

    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    paths = yaml.safe_load(out.read_text())["paths"]
    for action in ("accept", "decline", "withdraw", "question", "answer"):
        assert set(paths[f"/api/v1/requests/{{id}}/{action}/"]["post"]["responses"]) >= {"200", "403", "404", "409"}
    assert {p["name"] for p in paths["/api/v1/requests/"]["get"]["parameters"]} >= {"page", "role", "status"}
