"""Request pages: asking, the list, and one request and what can be done to it.

Personas from tests/conftest.py: Alice (resident) asks Carol (attending, capacity 2);
Bob is another resident, Dave another attending; Cora coordinates the program, Oscar
another; Olivia (outsider) is a resident elsewhere.
"""

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import MentorProfile
from matching.models import Mentorship, MentorshipRequest, Message
from matching.services.requests import request_accept, request_ask_question
from tests.matching.factories import MentorshipFactory
from tests.matching.support import MESSAGE, _ask, _count_queries, _fill, _residents

pytestmark = pytest.mark.django_db


def _url(name, req):
    return reverse(f"matching:{name}", args=[req.pk])


def _follow_messages(client, response):
    return [str(m) for m in client.get(response["Location"]).context["messages"]]


# --- Asking.


class TestRequestForm:
    def test_resident_sees_the_mentor_and_their_open_spots(self, client_for, program, resident, attending):
        _fill(attending, program, 1)
        response = client_for(resident).get(reverse("matching:request-create", args=[attending.pk]))
        html = response.content.decode()
        assert response.status_code == 200
        assert "Ask Carol Chen to mentor you" in html
        assert "1 of 2 open" in html
        assert 'name="kind"' in html and 'name="message"' in html
        assert "You have 0 of 3 pending requests" in html

    def test_a_mentor_without_rank_or_stage_shows_the_specialty_without_a_stray_separator(
        self, client_for, resident, attending
    ):
        profile = attending.mentor_profile
        profile.academic_rank = profile.career_stage = None
        profile.save()
        html = client_for(resident).get(reverse("matching:request-create", args=[attending.pk])).content.decode()
        summary = html.split('id="mentor-h"', 1)[1]
        line = summary.split('<p class="muted small">', 1)[1].split("</p>", 1)[0].strip()
        assert line.startswith(str(profile.specialty)), line

    def test_resident_sends_a_request_and_the_mentor_is_emailed(
        self, client_for, resident, attending, django_capture_on_commit_callbacks
    ):
        client = client_for(resident)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("matching:request-create", args=[attending.pk]), {"kind": "research", "message": MESSAGE}
            )
        request = MentorshipRequest.objects.get(mentee=resident, mentor=attending)
        assert response.status_code == 302 and response["Location"] == request.get_absolute_url()
        assert (request.kind, request.status, request.message) == ("research", "pending", MESSAGE)
        assert [m.to for m in mail.outbox] == [[attending.email]]
        assert "on its way to Carol Chen" in _follow_messages(client, response)[0]

    def test_an_attending_cannot_request_a_mentor(self, client_for, attending, other_attending):
        client = client_for(attending)
        url = reverse("matching:request-create", args=[other_attending.pk])
        assert client.get(url).status_code == 403
        assert client.post(url, {"kind": "career", "message": MESSAGE}).status_code == 403
        assert not MentorshipRequest.objects.exists()

    def test_someone_who_is_not_a_mentor_is_a_404(self, client_for, resident, other_resident):
        client = client_for(resident)
        assert client.get(reverse("matching:request-create", args=[other_resident.pk])).status_code == 404
        assert client.get(reverse("matching:request-create", args=[987654])).status_code == 404

    def test_a_second_request_to_the_same_mentor_leads_to_the_first(self, client_for, resident, attending):
        first = _ask(resident, attending)
        client = client_for(resident)
        url = reverse("matching:request-create", args=[attending.pk])
        response = client.post(url, {"kind": "research", "message": "Again"})
        assert response.status_code == 302 and response["Location"] == first.get_absolute_url()
        assert "You already asked Carol Chen" in _follow_messages(client, response)[0]
        assert MentorshipRequest.objects.filter(mentee=resident).count() == 1

    def test_over_the_pending_cap_is_refused_on_the_form(
        self, client_for, settings, program, resident, attending, other_attending
    ):
        settings.MENTORMATCH = {**settings.MENTORMATCH, "MAX_PENDING_REQUESTS": 1}
        _ask(resident, other_attending)
        response = client_for(resident).post(
            reverse("matching:request-create", args=[attending.pk]), {"kind": "research", "message": MESSAGE}
        )
        html = response.content.decode()
        assert response.status_code == 400
        assert "You have 1 pending requests, the most at once." in html
        assert "Please fix 1 problem below" in html
        assert not MentorshipRequest.objects.filter(mentor=attending).exists()

    def test_a_full_mentor_is_explained_and_refused(self, client_for, program, resident, attending):
        _fill(attending, program, 2)
        client = client_for(resident)
        url = reverse("matching:request-create", args=[attending.pk])
        html = client.get(url).content.decode()
        assert "No open spot right now" in html and "0 of 2 open" in html and "Send request" not in html
        response = client.post(url, {"kind": "career", "message": MESSAGE})
        assert "Carol Chen has no open spot right now." in response.content.decode()
        assert not MentorshipRequest.objects.exists()

    def test_a_mentor_not_accepting_is_explained_and_refused(self, client_for, resident, attending):
        MentorProfile.objects.filter(user=attending).update(accepting_mentees=False)
        client = client_for(resident)
        url = reverse("matching:request-create", args=[attending.pk])
        html = client.get(url).content.decode()
        assert "Not accepting mentees right now" in html and "Send request" not in html
        response = client.post(url, {"kind": "career", "message": MESSAGE})
        assert "Carol Chen is not accepting new mentees right now." in response.content.decode()
        assert not MentorshipRequest.objects.exists()

    def test_an_empty_message_is_an_error_on_that_field(self, client_for, resident, attending):
        response = client_for(resident).post(
            reverse("matching:request-create", args=[attending.pk]), {"kind": "career", "message": "   "}
        )
        html = response.content.decode()
        assert response.status_code == 400 and 'id="id_message_error"' in html
        assert not MentorshipRequest.objects.exists()

    def test_a_service_refusal_naming_a_field_lands_on_that_field(
        self, client_for, program, resident, attending, other_attending
    ):
        # Alice already has a career mentor; the service refuses a second one on "kind".
        MentorshipFactory(mentee=resident, mentor=other_attending, program=program, kind="career")
        response = client_for(resident).post(
            reverse("matching:request-create", args=[attending.pk]), {"kind": "career", "message": MESSAGE}
        )
        html = response.content.decode()
        assert 'id="id_kind_error"' in html and "You already have an active career mentor." in html


# --- Following.


class TestRequestList:
    def test_resident_sees_their_sent_requests_by_status(self, client_for, resident, attending, other_attending):
        pending = _ask(resident, attending)
        withdrawn = _ask(resident, other_attending)
        MentorshipRequest.objects.filter(pk=withdrawn.pk).update(status="withdrawn")
        client = client_for(resident)

        response = client.get(reverse("matching:requests"))
        assert response.context["role"] == "sent"
        assert list(response.context["requests"]) == [pending]
        assert dict((v, n) for v, _, n in response.context["tabs"]) == {
            "pending": 1,
            "accepted": 0,
            "declined": 0,
            "closed": 1,
        }

        closed = client.get(reverse("matching:requests"), {"status": "closed"})
        assert list(closed.context["requests"]) == [withdrawn]

    def test_attending_sees_requests_waiting_for_them_first(self, client_for, resident, other_resident, attending):
        from_bob = _ask(other_resident, attending)
        from_alice = _ask(resident, attending)  # newer, but Carol asked a question: Alice's move
        request_ask_question(request=from_alice, actor=attending, question="Which rotations are you on in spring?")

        response = client_for(attending).get(reverse("matching:requests"))
        assert response.context["role"] == "received"
        assert list(response.context["requests"]) == [from_bob, from_alice]
        html = response.content.decode()
        assert html.count("Waiting for you") == 1 and "a message waiting for a reply" in html

    def test_empty_states_say_what_to_do(self, client_for, resident, attending):
        assert "No pending requests" in client_for(resident).get(reverse("matching:requests")).content.decode()
        assert "Nothing waiting for you" in client_for(attending).get(reverse("matching:requests")).content.decode()
        declined = client_for(attending).get(reverse("matching:requests"), {"status": "declined"})
        assert "No declined requests" in declined.content.decode()

    def test_nobody_sees_someone_elses_requests_in_the_list(
        self, client_for, resident, other_resident, attending, outsider
    ):
        _ask(other_resident, attending)
        assert not client_for(resident).get(reverse("matching:requests")).context["requests"]
        assert not client_for(outsider).get(reverse("matching:requests")).context["requests"]
        # Asking for a side one does not have falls back to one's own.
        assert not client_for(resident).get(reverse("matching:requests"), {"role": "received"}).context["requests"]

    def test_coordinator_sees_their_programs_requests_only(
        self, client_for, program, resident, attending, coordinator, other_coordinator
    ):
        request = _ask(resident, attending)
        response = client_for(coordinator).get(reverse("matching:requests"))
        assert response.context["role"] == "program" and list(response.context["requests"]) == [request]
        assert not client_for(other_coordinator).get(reverse("matching:requests")).context["requests"]

    def test_the_list_is_paginated(self, client_for, program, attending):
        for mentee in _residents(program, 22):
            _ask(mentee, attending)
        response = client_for(attending).get(reverse("matching:requests"))
        assert len(response.context["requests"]) == 20
        assert "Page 1 of 2" in response.content.decode()
        assert len(client_for(attending).get(reverse("matching:requests"), {"page": 2}).context["requests"]) == 2

    def test_query_budget_does_not_grow_with_requests(
        self, client_for, program, attending, django_assert_max_num_queries
    ):
        client = client_for(attending)
        for mentee in _residents(program, 3):
            _ask(mentee, attending)
        client.get(reverse("matching:requests"))  # the first request of a session also records last_seen
        few = _count_queries(client, reverse("matching:requests"))
        for mentee in _residents(program, 15):
            _ask(mentee, attending)
        # session, user, roles and mentee profile (which sides she has), tab counts, page count,
        # roles (nav), unread notifications (bell), 1 page of requests (mentee, mentor and
        # program joined), and the session save (an UPDATE in a savepoint: 3).
        with django_assert_max_num_queries(12):
            many = _count_queries(client, reverse("matching:requests"))
        assert many == few


# --- One request and what can be done to it.


class TestRequestDetail:
    def test_the_parties_and_the_programs_coordinator_see_it_nobody_else(
        self, client_for, resident, other_resident, attending, other_attending, coordinator, other_coordinator, outsider
    ):
        request = _ask(resident, attending)
        url = request.get_absolute_url()
        for person in (resident, attending, coordinator):
            assert client_for(person).get(url).status_code == 200
        for person in (other_resident, other_attending, other_coordinator, outsider):
            assert client_for(person).get(url).status_code == 404
        assert client_for(resident).get(reverse("matching:request-detail", args=[987654])).status_code == 404

    def test_each_person_sees_only_the_actions_they_may_take(self, client_for, resident, attending, coordinator):
        request = _ask(resident, attending)
        mentor_page = client_for(attending).get(request.get_absolute_url())
        assert mentor_page.context["actions"] == {"accept": True, "decline": True, "withdraw": False}
        assert "thinking about cardiology fellowship" in mentor_page.content.decode()
        mentee_page = client_for(resident).get(request.get_absolute_url())
        assert mentee_page.context["actions"] == {"accept": False, "decline": False, "withdraw": True}
        html = client_for(coordinator).get(request.get_absolute_url()).content.decode()
        assert not any(client_for(coordinator).get(request.get_absolute_url()).context["actions"].values())
        assert "Accept" not in html and "Withdraw request" not in html

    def test_mentor_reads_the_residents_hopes_before_answering(self, client_for, resident, attending):
        resident.mentee_profile.goals_text = "Publish one case report this year."
        resident.mentee_profile.save()
        request = _ask(resident, attending)
        html = client_for(attending).get(request.get_absolute_url()).content.decode()
        # One more item of the "About Alice" list, like her PGY year and goals (not a heading under it).
        about = html[html.index('id="mentee-h"') :]
        about = about[: about.index("</dl>")]
        assert "<dt>Hoping for</dt><dd>Publish one case report this year.</dd>" in about
        assert "Hoping to get from mentorship" not in html

    def test_accept_starts_the_mentorship_links_it_and_tells_the_resident(
        self, client_for, resident, attending, django_capture_on_commit_callbacks
    ):
        request = _ask(resident, attending)
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(attending).post(
                _url("request-accept", request), {"respond-note": "Happy to! Let's meet."}
            )
        request.refresh_from_db()
        mentorship = Mentorship.objects.get(mentee=resident, mentor=attending)
        assert response.status_code == 302 and response["Location"] == mentorship.get_absolute_url()
        assert (request.status, request.mentorship, request.response_note) == (
            "accepted",
            mentorship,
            "Happy to! Let's meet.",
        )
        assert (mentorship.kind, mentorship.source, mentorship.status) == ("career", "request", "active")
        assert [m.to for m in mail.outbox] == [[resident.email]]
        page = client_for(resident).get(request.get_absolute_url()).content.decode()
        assert mentorship.get_absolute_url() in page and "Happy to! Let&#x27;s meet." in page

    def test_decline_note_reaches_the_residents_page(
        self, client_for, resident, attending, django_capture_on_commit_callbacks
    ):
        request = _ask(resident, attending)
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(attending).post(
                _url("request-decline", request), {"respond-note": "My spots are full; Dr Diaz would be a great fit."}
            )
        assert response.status_code == 302 and response["Location"] == request.get_absolute_url()
        request.refresh_from_db()
        assert request.status == "declined"
        assert [m.to for m in mail.outbox] == [[resident.email]]
        page = client_for(resident).get(request.get_absolute_url())
        html = page.content.decode()
        assert "Dr Diaz would be a great fit." in html and "Note from Carol Chen" in html
        assert not any(page.context["actions"].values())

    def test_the_pair_talk_in_the_requests_thread(
        self, client_for, resident, attending, django_capture_on_commit_callbacks
    ):
        request = _ask(resident, attending)
        carol, alice = client_for(attending), client_for(resident)
        with django_capture_on_commit_callbacks(execute=True):
            sent = carol.post(_url("request-messages", request), {"body": "Which months are you on nights?"})
        message = Message.objects.get(request=request)
        assert sent.status_code == 302 and sent["Location"] == f"{request.get_absolute_url()}#message-{message.pk}"
        assert alice.get(reverse("matching:requests")).context["requests"][0].waiting_for_me
        page = alice.get(request.get_absolute_url())
        assert "Which months are you on nights?" in page.content.decode()
        assert "Only you and Carol Chen can read these messages; program coordinators can't." in page.content.decode()
        message.refresh_from_db()
        assert message.read_at is not None  # opening the page read it

        with django_capture_on_commit_callbacks(execute=True):
            alice.post(_url("request-messages", request), {"body": "November and March."})
        assert "November and March." in carol.get(request.get_absolute_url()).content.decode()
        assert carol.get(reverse("matching:requests")).context["requests"][0].waiting_for_me

    def test_the_old_question_and_answer_forms_post_into_the_thread(self, client_for, resident, attending):
        request = _ask(resident, attending)
        carol, alice = client_for(attending), client_for(resident)
        carol.post(_url("request-question", request), {"question-question": "Which months are you on nights?"})
        again = carol.post(_url("request-question", request), {"question-question": "And another?"})
        assert "You can ask one question while the request is pending." in _follow_messages(carol, again)
        alice.post(_url("request-answer", request), {"answer-answer": "November and March."})
        request.refresh_from_db()
        assert (request.question, request.answer) == ("Which months are you on nights?", "November and March.")
        assert list(Message.objects.filter(request=request).values_list("author", "body")) == [
            (attending.pk, "Which months are you on nights?"),
            (resident.pk, "November and March."),
        ]

    def test_an_empty_message_is_an_error_on_its_field(self, client_for, resident, attending):
        request = _ask(resident, attending)
        response = client_for(attending).post(_url("request-messages", request), {"body": "  "})
        assert response.status_code == 400
        assert 'id="id_body_error"' in response.content.decode()
        assert not Message.objects.exists()

    def test_resident_withdraws(self, client_for, resident, attending):
        request = _ask(resident, attending)
        client = client_for(resident)
        response = client.post(_url("request-withdraw", request), {"confirm": "yes"})
        assert response.status_code == 302
        request.refresh_from_db()
        assert request.status == "withdrawn"
        assert "You withdrew your request to Carol Chen." in _follow_messages(client, response)

    def test_resident_cannot_accept_their_own_request(self, client_for, resident, attending):
        request = _ask(resident, attending)
        assert client_for(resident).post(_url("request-accept", request)).status_code == 403
        assert (
            client_for(resident).post(_url("request-question", request), {"question-question": "?"}).status_code == 403
        )
        request.refresh_from_db()
        assert request.status == "pending" and not Mentorship.objects.exists()

    def test_mentor_cannot_withdraw_or_answer(self, client_for, resident, attending):
        request = _ask(resident, attending)
        request_ask_question(request=request, actor=attending, question="Nights?")
        assert client_for(attending).post(_url("request-withdraw", request)).status_code == 403
        assert client_for(attending).post(_url("request-answer", request), {"answer-answer": "x"}).status_code == 403
        request.refresh_from_db()
        assert request.status == "pending" and request.answer == ""

    def test_coordinator_can_view_but_not_accept(self, client_for, resident, attending, coordinator):
        request = _ask(resident, attending)
        assert client_for(coordinator).post(_url("request-accept", request)).status_code == 403
        assert client_for(coordinator).post(_url("request-decline", request)).status_code == 403
        request.refresh_from_db()
        assert request.status == "pending"

    def test_strangers_get_a_404_from_every_action(self, client_for, resident, attending, outsider, other_attending):
        request = _ask(resident, attending)
        for name in ("request-accept", "request-decline", "request-withdraw", "request-question", "request-answer"):
            assert client_for(outsider).post(_url(name, request)).status_code == 404
            assert client_for(other_attending).post(_url(name, request)).status_code == 404
        request.refresh_from_db()
        assert request.status == "pending"

    def test_accepting_a_withdrawn_request_says_so(self, client_for, resident, attending):
        request = _ask(resident, attending)
        client_for(resident).post(_url("request-withdraw", request), {"confirm": "yes"})
        carol = client_for(attending)
        response = carol.post(_url("request-accept", request))
        assert response.status_code == 302 and response["Location"] == request.get_absolute_url()
        assert "This request is already withdrawn." in _follow_messages(carol, response)
        assert not Mentorship.objects.exists()

    def test_the_request_that_loses_the_last_spot_gets_a_clear_message(
        self, client_for, resident, other_resident, attending
    ):
        MentorProfile.objects.filter(user=attending).update(capacity=1)
        from_alice, from_bob = _ask(resident, attending), _ask(other_resident, attending)
        carol = client_for(attending)
        assert carol.post(_url("request-accept", from_alice)).status_code == 302
        response = carol.post(_url("request-accept", from_bob))
        assert response.status_code == 302 and response["Location"] == from_bob.get_absolute_url()
        assert (
            "You have no open spot left (1 of 1 taken): raise your capacity on your mentor profile to accept, "
            "or decline with a note." in _follow_messages(carol, response)
        )
        from_bob.refresh_from_db()
        assert from_bob.status == "pending"
        assert Mentorship.objects.filter(mentor=attending).count() == 1

    def test_actions_take_post_only(self, client_for, resident, attending):
        request = _ask(resident, attending)
        assert client_for(attending).get(_url("request-accept", request)).status_code == 405


class TestRequestPageFixes:
    def test_one_note_box_goes_with_decline(self, client_for, resident, attending):
        request = _ask(resident, attending)
        html = client_for(attending).get(request.get_absolute_url()).content.decode()
        assert html.count('name="respond-note"') == 1
        assert f'formaction="{_url("request-accept", request)}"' in html
        assert f'formaction="{_url("request-decline", request)}"' in html
        client_for(attending).post(_url("request-decline", request), {"respond-note": "Try Dr Diaz."})
        request.refresh_from_db()
        assert (request.status, request.response_note) == ("declined", "Try Dr Diaz.")

    def test_a_pair_already_paired_another_way_cannot_accept(self, client_for, program, resident, attending):
        request = _ask(resident, attending, kind="research")
        MentorshipFactory(mentee=resident, mentor=attending, program=program, kind="career")
        carol = client_for(attending)
        page = carol.get(request.get_absolute_url())
        assert page.context["actions"]["accept"] is False and page.context["actions"]["decline"] is True
        assert "already have a career mentorship" in page.content.decode()
        refused = carol.post(_url("request-accept", request), {"respond-note": ""})
        assert any("You and Alice Adams are already paired" in m for m in _follow_messages(carol, refused))
        request.refresh_from_db()
        assert request.status == "pending" and Mentorship.objects.count() == 1

    def test_the_form_preselects_a_kind_the_resident_lacks(
        self, client_for, program, resident, attending, other_attending
    ):
        MentorshipFactory(mentee=resident, mentor=other_attending, program=program, kind="career")
        form = client_for(resident).get(reverse("matching:request-create", args=[attending.pk])).context["form"]
        assert form.initial["kind"] == "research"
        assert 'maxlength="2000"' in str(form["message"])

    def test_a_double_submit_makes_one_request(self, client_for, resident, attending):
        alice = client_for(resident)
        url = reverse("matching:request-create", args=[attending.pk])
        once = alice.get(url).context["form"].initial["once"]
        data = {"kind": "career", "message": MESSAGE, "once": once}
        first, second = alice.post(url, data), alice.post(url, data)
        request = MentorshipRequest.objects.get()
        assert first["Location"] == second["Location"] == request.get_absolute_url()

    def test_the_api_create_honours_an_idempotency_key(self, api_for, resident, attending):
        body = {"mentor": attending.pk, "kind": "career", "message": MESSAGE}
        first = api_for(resident).post("/api/v1/requests/", body, format="json", HTTP_IDEMPOTENCY_KEY="req-1")
        again = api_for(resident).post("/api/v1/requests/", body, format="json", HTTP_IDEMPOTENCY_KEY="req-1")
        assert first.status_code == again.status_code == 201 and again["Idempotent-Replayed"] == "true"
        assert MentorshipRequest.objects.count() == 1


def test_an_answered_requests_heading_no_longer_asks(client_for, resident, attending):
    request = _ask(resident, attending)
    page = reverse("matching:request-detail", args=[request.pk])
    assert f"{resident.full_name} asks you to mentor them</h1>" in client_for(attending).get(page).content.decode()
    request_accept(request=request, actor=attending)
    html = client_for(attending).get(page).content.decode()
    assert "asks you to mentor them" not in html
    assert f"{resident.full_name}'s request to you</h1>" in html
