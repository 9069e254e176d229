"""The right next step: what waits for each person on the dashboard (in their hats), the
directory and recommendations knowing your mentors and requests, residents of two programs,
reasons in plain words, the requester's fit on the request page, and every date on the
viewer's own clock.

Personas from tests/conftest.py: Alice (resident, PGY-1) and Carol (attending) in Internal
Medicine; Dave another attending; Olivia a resident of General Surgery.
"""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AcademicRank, AvailabilityWindow, CareerStage, Membership, MentorProfile
from matching.models import ActionItem, CheckIn, MatchRanking, MatchRun, Meeting, MentorshipRequest, Message
from tests.factories import MembershipFactory, MenteeProfileFactory, MentorProfileFactory, UserFactory
from tests.matching.factories import MentorshipFactory
from tests.matching.support import _ask

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("matching:dashboard")
DIRECTORY = reverse("matching:mentor-directory")


def _proposed_meeting(mentorship, by):
    return Meeting.objects.create(mentorship=mentorship, proposed_by=by, status=Meeting.Status.PROPOSED)


def _ranking_window(program, *, mentees=(), mentors=()):
    run = MatchRun.objects.create(program=program, ranking_deadline=timezone.now() + timedelta(days=3))
    run.mentees.set(mentees)
    run.mentors.set(mentors)
    return run


def _tasks(response, hat):
    return [(t.kind, t.url) for t in response.context[f"{hat}_tasks"]]


class TestWaitingForYou:
    def test_two_proposals_from_one_person_are_one_line_that_says_so(self, client_for, program, resident, attending):
        mentorship = MentorshipFactory(mentee=resident, mentor=attending, program=program)
        _proposed_meeting(mentorship, by=attending)
        _proposed_meeting(mentorship, by=attending)

        response = client_for(resident).get(DASHBOARD)
        (task,) = [t for t in response.context["mentee_tasks"] if t.kind == "pick_time"]
        assert task.url == mentorship.get_absolute_url()  # its page lists both meetings
        assert task.text == "Pick a meeting time with Carol Chen" and task.detail == "2 meetings proposed"
        assert response.content.decode().count("Pick a meeting time with Carol Chen") == 1

    def test_a_resident_sees_each_kind_of_task_with_its_link(self, client_for, program, resident, attending):
        mentorship = MentorshipFactory(mentee=resident, mentor=attending, program=program)
        mentorship.started_at = timezone.now() - timedelta(days=20)
        mentorship.save(update_fields=["started_at"])
        meeting = _proposed_meeting(mentorship, by=attending)
        run = _ranking_window(program, mentees=[resident], mentors=[attending])
        Message.objects.create(mentorship=mentorship, author=attending, body="See you Tuesday?")

        response = client_for(resident).get(DASHBOARD)
        html = response.content.decode()
        assert _tasks(response, "mentee") == [
            ("pick_time", reverse("matching:meeting-detail", args=[meeting.pk])),
            ("rank", reverse("matching:match-run-rank", args=[run.pk])),
            ("check_in", mentorship.get_absolute_url() + "#checkin"),
        ]
        assert "Pick a meeting time with Carol Chen" in html and "Rank mentors for Internal Medicine" in html
        assert response.context["unread_messages"] == 1 and "1 unread message" in html
        # Straight to the conversation, not the mentorship's page (one more tap away from it).
        messages_url = reverse("matching:mentorship-messages", args=[mentorship.pk])
        assert f'href="{messages_url}#latest">1 from Carol Chen' in html

    def test_done_things_leave_the_list(self, client_for, program, resident, attending):
        mentorship = MentorshipFactory(mentee=resident, mentor=attending, program=program)
        mentorship.started_at = timezone.now() - timedelta(days=20)
        mentorship.save(update_fields=["started_at"])
        _proposed_meeting(mentorship, by=resident)  # her own proposal: Carol picks
        CheckIn.objects.create(mentorship=mentorship, author=resident, rating=4)
        run = _ranking_window(program, mentees=[resident])
        MatchRanking.objects.create(run=run, author=resident, target=attending, position=1)

        response = client_for(resident).get(DASHBOARD)
        assert _tasks(response, "mentee") == []
        assert "Nothing needs you right now." in response.content.decode()
        # Carol picks the time Alice proposed, and has not checked in this month.
        assert [kind for kind, _url in _tasks(client_for(attending).get(DASHBOARD), "mentor")] == [
            "pick_time",
            "check_in",
        ]

    def test_a_new_mentorship_asks_for_a_first_meeting_not_a_check_in(self, client_for, program, resident, attending):
        mentorship = MentorshipFactory(mentee=resident, mentor=attending, program=program)  # started today
        first = ("first_meeting", reverse("matching:meeting-propose", args=[mentorship.pk]))
        assert _tasks(client_for(resident).get(DASHBOARD), "mentee") == [first]
        assert "Plan a first meeting with Carol Chen" in client_for(resident).get(DASHBOARD).content.decode()
        assert _tasks(client_for(attending).get(DASHBOARD), "mentor") == [first]
        # Once a meeting is proposed, the task is gone (a cancelled one would not count).
        _proposed_meeting(mentorship, by=resident)
        assert _tasks(client_for(resident).get(DASHBOARD), "mentee") == []

    def test_an_overdue_goal_is_waiting_for_its_owner(self, client_for, program, resident, attending):
        mentorship = MentorshipFactory(mentee=resident, mentor=attending, program=program)
        _proposed_meeting(mentorship, by=attending)
        ActionItem.objects.create(
            mentorship=mentorship,
            title="Draft the IRB form",
            owner=resident,
            created_by=attending,
            due_date=timezone.localdate() - timedelta(days=2),
        )
        ActionItem.objects.create(
            mentorship=mentorship,
            title="Read the review",
            owner=resident,
            created_by=attending,
            due_date=timezone.localdate() + timedelta(days=2),
        )
        kinds = _tasks(client_for(resident).get(DASHBOARD), "mentee")
        assert ("overdue_goal", mentorship.get_absolute_url() + "#plan") in kinds
        assert [kind for kind, _url in kinds].count("overdue_goal") == 1
        assert "Overdue goal: Draft the IRB form" in client_for(resident).get(DASHBOARD).content.decode()

    def test_unread_messages_alone_do_not_read_as_nothing_to_do(self, client_for, program, resident, attending):
        mentorship = MentorshipFactory(mentee=resident, mentor=attending, program=program)
        _proposed_meeting(mentorship, by=resident)
        html = client_for(resident).get(DASHBOARD).content.decode()
        assert "Nothing needs you right now." in html
        Message.objects.create(mentorship=mentorship, author=attending, body="See you Tuesday?")
        html = client_for(resident).get(DASHBOARD).content.decode()
        assert "1 unread message" in html
        assert "Nothing else needs you right now." in html and "Nothing needs you right now." not in html

    def test_unread_messages_in_a_request_link_to_its_thread(self, client_for, program, resident, attending):
        request = _ask(resident, attending)
        Message.objects.create(request=request, author=resident, body="One more thing about nights.")
        html = client_for(attending).get(DASHBOARD).content.decode()
        assert f'href="{request.get_absolute_url()}#latest">1 from Alice Adams' in html

    def test_an_attending_sees_requests_to_answer_and_residents_to_rank(self, client_for, program, resident, attending):
        request = _ask(resident, attending)
        run = _ranking_window(program, mentees=[resident], mentors=[attending])
        response = client_for(attending).get(DASHBOARD)
        assert _tasks(response, "mentor") == [
            ("answer_request", request.get_absolute_url()),
            ("rank", reverse("matching:match-run-rank", args=[run.pk])),
        ]
        assert "Answer Alice Adams&#x27;s request" in response.content.decode()
        # Alice waits for Carol's answer: only her own ranking is hers to do.
        assert [kind for kind, _url in _tasks(client_for(resident).get(DASHBOARD), "mentee")] == ["rank"]

    def test_a_question_from_the_mentor_is_the_residents_move(self, client_for, resident, attending):
        request = _ask(resident, attending)
        Message.objects.create(request=request, author=attending, body="Which months are you on nights?")
        assert _tasks(client_for(resident).get(DASHBOARD), "mentee") == [
            ("answer_question", request.get_absolute_url())
        ]
        assert _tasks(client_for(attending).get(DASHBOARD), "mentor") == []

    def test_a_near_peer_sees_two_hats_in_two_sections(self, client_for, program, resident, attending):
        zoe = UserFactory(first_name="Zoe", last_name="Adeyemi")
        MembershipFactory(user=zoe, program=program, role=Membership.Role.RESIDENT)
        MembershipFactory(user=zoe, program=program, role=Membership.Role.FACULTY)
        MenteeProfileFactory(user=zoe, career_stage=CareerStage.objects.get(code="PGY-4"))
        MentorProfileFactory(user=zoe, career_stage=CareerStage.objects.get(code="PGY-4"))
        as_mentee = MentorshipFactory(mentee=zoe, mentor=attending, program=program)
        _proposed_meeting(as_mentee, by=attending)
        request = _ask(resident, zoe)

        response = client_for(zoe).get(DASHBOARD)
        html = response.content.decode()
        assert _tasks(response, "mentor") == [("answer_request", request.get_absolute_url())]
        assert [kind for kind, _url in _tasks(response, "mentee")] == ["pick_time"]
        waiting = html[html.index('id="waiting-for-you-h"') : html.index('id="mentee-h"')]
        mentor_part, mentee_part = waiting.split('id="hat-mentee-h"')
        assert "As a mentor" in mentor_part and "Answer Alice Adams" in mentor_part
        assert "As a mentee" in mentee_part and "Pick a meeting time with Carol Chen" in mentee_part
        # It leads the page: before the sections of each role.
        assert html.index("Waiting for you") < html.index("Your mentorship") < html.index("Mentoring")

    def test_a_near_peers_page_names_their_hat_not_faculty(self, client_for, program, resident):
        zoe = UserFactory(first_name="Zoe", last_name="Adeyemi")
        MembershipFactory(user=zoe, program=program, role=Membership.Role.RESIDENT)
        MembershipFactory(user=zoe, program=program, role=Membership.Role.FACULTY)
        MentorProfileFactory(user=zoe, career_stage=CareerStage.objects.get(code="PGY-4"))
        html = client_for(resident).get(reverse("matching:person", args=[zoe.pk])).content.decode()
        header = html[html.index("<h1>") : html.index("</p>", html.index("<h1>"))]
        assert "PGY-4, near-peer mentor, Internal Medicine Residency" in header
        assert "Faculty" not in header and "Resident" not in header


class TestDirectoryKnowsYourMentors:
    def test_a_current_mentor_is_not_recommended_and_is_labelled(
        self, client_for, program, resident, attending, other_attending
    ):
        MentorshipFactory(mentee=resident, mentor=attending, program=program)
        response = client_for(resident).get(DIRECTORY)
        assert attending not in [m.user for m, _pair in response.context["recommended"]]
        assert other_attending in [m.user for m, _pair in response.context["recommended"]]
        card = {m.user: m.relation for m in response.context["mentors"]}
        assert card[attending] == "mentor" and card[other_attending] == ""
        html = response.content.decode()
        assert "Your mentor" in html
        # No "Request as mentor" on your own mentor's card; the others keep theirs.
        assert reverse("matching:request-create", args=[attending.pk]) not in html
        assert reverse("matching:request-create", args=[other_attending.pk]) in html

    def test_a_mentors_own_page_says_your_mentor_or_requested(self, client_for, program, resident, attending):
        page = reverse("matching:person", args=[attending.pk])
        request_create = reverse("matching:request-create", args=[attending.pk])
        html = client_for(resident).get(page).content.decode()
        assert request_create in html and "Your mentor</span>" not in html
        _ask(resident, attending)
        html = client_for(resident).get(page).content.decode()
        assert "Requested</span>" in html and request_create not in html and "See your request" in html
        MentorshipRequest.objects.filter(mentee=resident).update(status=MentorshipRequest.Status.DECLINED)
        MentorshipFactory(mentee=resident, mentor=attending, program=program)
        html = client_for(resident).get(page).content.decode()
        assert "Your mentor</span>" in html and request_create not in html and "See the mentorship" in html

    def test_control_without_the_mentorship_carol_is_recommended(self, client_for, resident, attending):
        response = client_for(resident).get(DIRECTORY)
        assert attending in [m.user for m, _pair in response.context["recommended"]]

    def test_a_requested_mentor_is_labelled_requested(self, client_for, resident, attending, other_attending):
        _ask(resident, attending)
        response = client_for(resident).get(DIRECTORY)
        recommended = {m.user: m.relation for m, _pair in response.context["recommended"]}
        assert recommended[attending] == "requested" and recommended[other_attending] == ""
        assert "Requested</span>" in response.content.decode()
        assert reverse("matching:request-create", args=[attending.pk]) not in response.content.decode()
        assert "See your request" in response.content.decode()
        # A request answered is no longer "Requested".
        MentorshipRequest.objects.filter(mentee=resident).update(status=MentorshipRequest.Status.DECLINED)
        assert "Requested</span>" not in client_for(resident).get(DIRECTORY).content.decode()

    def test_the_api_leaves_out_a_current_mentor(self, api_for, program, resident, attending, other_attending):
        url = "/api/v1/me/recommendations/"
        assert {r["mentor_id"] for r in api_for(resident).get(url).json()["results"]} == {
            attending.pk,
            other_attending.pk,
        }
        MentorshipFactory(mentee=resident, mentor=attending, program=program)
        assert [r["mentor_id"] for r in api_for(resident).get(url).json()["results"]] == [other_attending.pk]

    def test_a_resident_of_two_programs_gets_recommendations_for_each(
        self, client_for, program, other_program, resident, attending
    ):
        MembershipFactory(user=resident, program=other_program, role=Membership.Role.RESIDENT)
        surgeon = UserFactory(first_name="Sam", last_name="Surgeon")
        MembershipFactory(user=surgeon, program=other_program, role=Membership.Role.FACULTY)
        MentorProfileFactory(user=surgeon, specialty=other_program.specialty)
        response = client_for(resident).get(DIRECTORY)
        groups = response.context["recommended_groups"]
        assert [g["program"] for g in groups] == [other_program, program]  # by name: General Surgery first
        top = {g["program"]: g["picks"][0][0].user for g in groups}
        assert top == {other_program: surgeon, program: attending}
        html = response.content.decode()
        assert "For General Surgery Residency" in html and "For Internal Medicine Residency" in html

    def test_one_program_shows_no_program_headings(self, client_for, resident, attending):
        response = client_for(resident).get(DIRECTORY)
        assert [g["program"] for g in response.context["recommended_groups"]] == [None]
        assert "For Internal Medicine Residency" not in response.content.decode()


class TestReasonsInPlainWords:
    def test_the_mentor_page_names_the_stages_and_when_you_are_both_free(self, client_for, resident, attending):
        MentorProfile.objects.filter(user=attending).update(
            academic_rank=AcademicRank.objects.get(name="Associate Professor")
        )
        resident.time_zone = "Europe/Madrid"
        resident.save()
        attending.time_zone = "America/Los_Angeles"
        attending.save()
        # Her Tuesday evening in Madrid is his Tuesday morning in Los Angeles.
        AvailabilityWindow.objects.create(user=resident, weekday=1, start=time(17), end=time(20))
        AvailabilityWindow.objects.create(user=attending, weekday=1, start=time(9), end=time(10))
        html = client_for(resident).get(reverse("matching:person", args=[attending.pk])).content.decode()
        assert "Associate Professor; you are PGY-1" in html
        offset = (
            datetime.now(UTC).astimezone(resident.zone).utcoffset()
            - datetime.now(UTC).astimezone(attending.zone).utcoffset()
        )
        hours = int(offset.total_seconds() // 3600)  # 9, or 8 in the weeks the two zones change apart
        assert f"1 h a week in common: Tue {9 + hours - 12}–{10 + hours - 12} pm your time" in html
        assert f"Tue {9 + hours - 12}–{10 + hours - 12} pm your time (Tue 9–10 am in Los Angeles)" in html

    def test_the_mentor_sees_the_requesters_fit_on_the_request(self, client_for, resident, attending):
        AvailabilityWindow.objects.create(user=resident, weekday=1, start=time(18), end=time(19))
        AvailabilityWindow.objects.create(user=attending, weekday=1, start=time(18), end=time(20))
        request = _ask(resident, attending)
        html = client_for(attending).get(request.get_absolute_url()).content.decode()
        assert "How well Alice fits you" in html
        assert "1 h a week in common: Tue 6–7 pm your time" in html
        assert "Faculty; the resident is PGY-1" in html  # Carol gave no academic rank
        # The resident's own page of her request shows no such card.
        assert "How well" not in client_for(resident).get(request.get_absolute_url()).content.decode()


class TestDatesOnTheViewersClock:
    def test_the_dashboard_and_the_mentorship_page_agree_on_the_day(self, client_for, program, resident, attending):
        resident.time_zone = "Europe/Madrid"
        resident.save()
        mentorship = MentorshipFactory(mentee=resident, mentor=attending, program=program)
        # 23:30 UTC on December 3: December 4 in Madrid, still December 3 in New York (the server's zone).
        mentorship.started_at = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)
        mentorship.save(update_fields=["started_at"])
        dashboard = client_for(resident).get(DASHBOARD).content.decode()
        page = client_for(resident).get(mentorship.get_absolute_url()).content.decode()
        assert "since 4 Dec 2026" in dashboard and "since 4 Dec 2026" in page
        # Carol, in New York, reads December 3 on both.
        carol = client_for(attending)
        assert "since 3 Dec 2026" in carol.get(DASHBOARD).content.decode()
        assert "since 3 Dec 2026" in carol.get(mentorship.get_absolute_url()).content.decode()


class TestTypedTimesInADaylightSavingGap:
    def test_proposing_a_time_the_clock_skips_says_so_in_plain_words(self, client_for, program, resident, attending):
        resident.time_zone = "Europe/Madrid"
        resident.save()
        mentorship = MentorshipFactory(mentee=resident, mentor=attending, program=program)
        url = reverse("matching:meeting-propose", args=[mentorship.pk])
        response = client_for(resident).post(
            url, {"custom_1": "2027-03-28T02:30", "duration_minutes": "30", "format": "video"}
        )
        assert response.status_code == 400 and not Meeting.objects.exists()
        html = response.content.decode()
        assert "2:30 am doesn&#x27;t exist on March 28 in Europe/Madrid: clocks jump from 2:00 to 3:00." in html
        assert "couldn’t be interpreted" not in html
        # Control: an hour later exists, and is proposed.
        response = client_for(resident).post(
            url, {"custom_1": "2027-03-28T03:30", "duration_minutes": "30", "format": "video"}
        )
        assert response.status_code == 302 and Meeting.objects.get().slots.get().start == datetime(
            2027, 3, 28, 1, 30, tzinfo=UTC
        )
