"""What a full (or over-full) mentor is told, what a resident sees after a mentorship ends,
how meeting notifications read in the app, and one way of naming time zones.

Personas from tests/conftest.py: Alice (resident), Bob (another resident), Carol (attending,
capacity 2), Dave (another attending)."""

from datetime import time, timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AcademicRank, AvailabilityWindow, Specialty
from matching.capacity import Load, capacity_saved_note
from matching.models import Mentorship, Notification
from matching.services.meetings import meeting_confirm, meeting_propose
from matching.services.mentorships import mentorship_end
from tests.matching.factories import MentorshipFactory
from tests.matching.support import _ask, _capacity, _count_queries, _fill, _in

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("matching:dashboard")
MENTOR_EDIT = reverse("matching:mentor-profile-edit")


def _profile_form(**overrides):
    data = {
        "specialty": Specialty.objects.get(slug="internal-medicine").pk,
        "academic_rank": AcademicRank.objects.get(name="Associate Professor").pk,
        "capacity": 3,
        "accepting_mentees": "on",
    }
    data.update(overrides)
    return data


def _messages(client, response):
    return [str(m) for m in client.get(response["Location"]).context["messages"]]


# --- 1. A capacity saved below the mentees one has.


class TestCapacityBelowMentees:
    def test_saving_a_capacity_below_current_mentees_says_what_it_means(self, client_for, program, attending):
        _capacity(attending, 3)
        _fill(attending, program, 3)
        carol = client_for(attending)
        response = carol.post(MENTOR_EDIT, _profile_form(capacity=1))
        assert response.status_code == 302
        assert _messages(carol, response) == [
            "Your mentor profile is saved. You have 3 mentees, more than your new capacity of 1: your current "
            "mentorships go on; you will get no new requests until your current mentorships have ended."
        ]
        assert Mentorship.objects.filter(mentor=attending, status="active").count() == 3

    def test_a_capacity_with_room_left_is_just_saved(self, client_for, program, attending):
        _fill(attending, program, 1)
        carol = client_for(attending)
        response = carol.post(MENTOR_EDIT, _profile_form(capacity=2))
        assert _messages(carol, response) == ["Your mentor profile is saved."]

    def test_the_note_at_capacity_zero_names_no_impossible_count(self):
        note = capacity_saved_note(Load(taken=2, capacity=0))
        assert note.endswith("you will get no new requests while your capacity is 0.")
        # Above 1, the count that lets requests in again.
        assert capacity_saved_note(Load(taken=4, capacity=2)).endswith("until you have fewer than 2 mentees.")

    def test_the_dashboard_says_over_capacity_not_accepting(self, client_for, program, attending):
        _fill(attending, program, 3)
        _capacity(attending, 1)
        html = client_for(attending).get(DASHBOARD).content.decode()
        assert "Over capacity: 3 mentees, capacity 1" in html
        assert "Accepting mentees" not in html and "You can take up to" not in html

    def test_the_dashboard_says_full_at_capacity(self, client_for, program, attending):
        _fill(attending, program, 2)
        html = client_for(attending).get(DASHBOARD).content.decode()
        assert '<span class="badge badge-warn">Full</span>' in html and "Accepting mentees" not in html

    def test_the_dashboard_still_says_accepting_with_a_spot_free(self, client_for, program, attending):
        _fill(attending, program, 1)
        html = client_for(attending).get(DASHBOARD).content.decode()
        assert '<span class="badge badge-ok">Accepting mentees</span>' in html

    def test_residents_see_full_not_accepting_on_the_mentors_page(self, client_for, program, resident, attending):
        _fill(attending, program, 3)
        _capacity(attending, 1)
        html = client_for(resident).get(reverse("matching:person", args=[attending.pk])).content.decode()
        assert '<span class="badge badge-warn">Full</span>' in html
        assert "Accepting mentees" not in html and "Over capacity" not in html  # that is for Carol

    def test_the_mentor_sees_over_capacity_on_their_own_profile(self, client_for, program, attending):
        _fill(attending, program, 3)
        _capacity(attending, 1)
        html = client_for(attending).get(reverse("accounts:profile")).content.decode()
        assert "Over capacity: 3 mentees, capacity 1" in html and "you have 3 now" in html
        assert "Accepting mentees" not in html


# --- 2. Accepting while full.


class TestAcceptWhileFull:
    def test_a_full_mentor_is_told_before_the_accept_button(self, client_for, program, resident, attending):
        request = _ask(resident, attending)
        _fill(attending, program, 2)
        html = client_for(attending).get(request.get_absolute_url()).content.decode()
        warning = html.index("You are full (2 of 2)")
        assert warning < html.index(">Accept</button>")
        assert f'href="{MENTOR_EDIT}#id_capacity">raise your capacity</a> to accept, or decline with a note' in html

    def test_a_mentor_with_a_spot_sees_no_warning(self, client_for, resident, attending):
        request = _ask(resident, attending)
        html = client_for(attending).get(request.get_absolute_url()).content.decode()
        assert ">Accept</button>" in html and "You are full" not in html

    def test_the_refusal_speaks_to_the_mentor(self, client_for, program, resident, attending):
        request = _ask(resident, attending)
        _fill(attending, program, 2)
        carol = client_for(attending)
        response = carol.post(reverse("matching:request-accept", args=[request.pk]))
        assert _messages(carol, response) == [
            "You have no open spot left (2 of 2 taken): raise your capacity on your mentor profile to accept, "
            "or decline with a note."
        ]
        request.refresh_from_db()
        assert request.status == "pending"


# --- 3. Meeting notifications read right in the app.


class TestMeetingNotificationBodies:
    def test_a_proposal_lists_its_times_one_a_line(self, client_for, program, resident, attending):
        mentorship = MentorshipFactory(mentee=resident, mentor=attending, program=program)
        meeting_propose(mentorship=mentorship, actor=attending, slots=[_in(3, 15), _in(3, 16)])
        body = Notification.objects.get(user=resident, event="meeting.proposed").body
        lines = body.splitlines()
        assert lines[0] == "Pick one of 2 times:" and lines[1].endswith(";") and lines[2].endswith(".")
        assert lines[3] == "30 minutes, video."
        html = client_for(resident).get(reverse("matching:notifications")).content.decode()
        assert "Pick one of 2 times:<br>" in html

    def test_a_confirmation_does_not_speak_of_this_e_mail(self, program, resident, attending):
        mentorship = MentorshipFactory(mentee=resident, mentor=attending, program=program)
        meeting = meeting_propose(mentorship=mentorship, actor=attending, slots=[_in(3, 15)])
        meeting_confirm(meeting=meeting, actor=resident, start=_in(3, 15))
        body = Notification.objects.get(user=attending, event="meeting.confirmed", read_at__isnull=True).body
        assert body == "Add it to your calendar from the meeting page."


# --- 4. The resident's dashboard after a mentorship ends.


class TestRecentlyEnded:
    def test_a_mentorship_ended_lately_gets_a_card(self, client_for, program, resident, attending):
        mentorship = MentorshipFactory(mentee=resident, mentor=attending, program=program)
        mentorship_end(mentorship=mentorship, actor=attending, reason="I'm going on sabbatical.", completed=False)
        html = unescape(client_for(resident).get(DASHBOARD).content.decode())
        day = f"{timezone.localtime(Mentorship.objects.get().ended_at):%b} "
        assert "Your career mentorship with Carol Chen ended on <time" in html and day in html
        assert f'<a href="{mentorship.get_absolute_url()}">Read the closing note</a>' in html
        assert "You don't have a career mentor now" in html and "mentor yet" not in html

    def test_an_ending_older_than_thirty_days_has_no_card_but_still_says_now(
        self, client_for, program, resident, attending
    ):
        MentorshipFactory(
            mentee=resident,
            mentor=attending,
            program=program,
            status=Mentorship.Status.ENDED,
            ended_at=timezone.now() - timedelta(days=45),
        )
        html = unescape(client_for(resident).get(DASHBOARD).content.decode())
        assert "recently-ended" not in html
        assert "You don't have a career mentor now" in html

    def test_a_resident_who_never_had_a_mentor_has_none_yet(self, client_for, resident):
        html = unescape(client_for(resident).get(DASHBOARD).content.decode())
        assert "You don't have a mentor yet" in html and "recently-ended" not in html

    def test_a_current_mentor_is_listed_beside_the_ended_card(
        self, client_for, program, resident, attending, other_attending
    ):
        ended = MentorshipFactory(mentee=resident, mentor=attending, program=program)
        mentorship_end(mentorship=ended, actor=resident, reason="Moving on.", completed=True)
        current = MentorshipFactory(mentee=resident, mentor=other_attending, program=program)
        response = client_for(resident).get(DASHBOARD)
        assert response.context["my_mentorships"] == [current]
        assert response.context["recently_ended"] == [Mentorship.objects.get(pk=ended.pk)]
        html = response.content.decode()
        assert "Your career mentorship with Carol Chen was completed on" in html and "You ended it." in html

    def test_the_ended_card_costs_no_query(self, client_for, program, resident, attending):
        """Active and past mentorships come in one query: a resident whose mentorship ended costs
        what one who never had a mentor does."""
        client = client_for(resident)
        client.get(DASHBOARD)
        never = _count_queries(client, DASHBOARD)
        mentorship = MentorshipFactory(mentee=resident, mentor=attending, program=program)
        mentorship_end(mentorship=mentorship, actor=attending, reason="Sabbatical.", completed=False)
        client.get(DASHBOARD)
        html = client.get(DASHBOARD).content.decode()
        assert "recently-ended" in html
        assert _count_queries(client, DASHBOARD) == never


# --- 5. An ended mentorship's page invites nothing.


class TestEndedMentorshipPage:
    def test_it_invites_no_writing_and_no_introduction(self, client_for, program, resident, attending):
        mentorship = MentorshipFactory(mentee=resident, mentor=attending, program=program)
        mentorship_end(mentorship=mentorship, actor=attending, reason="Sabbatical.", completed=False)
        for user in (attending, resident):
            html = client_for(user).get(mentorship.get_absolute_url()).content.decode()
            assert "between meetings" not in html and "Open the conversation" not in html
            assert "Introduce Alice" not in html and "Introduce a colleague" not in html
            # What was written stays readable.
            assert reverse("matching:mentorship-messages", args=[mentorship.pk]) in html
            assert "Read the messages" in html

    def test_an_active_one_still_invites_both(self, client_for, program, resident, attending):
        mentorship = MentorshipFactory(mentee=resident, mentor=attending, program=program)
        html = client_for(attending).get(mentorship.get_absolute_url()).content.decode()
        assert "Write to Alice Adams between meetings" in html and "Introduce Alice to a colleague" in html


# --- 6. One way to name a time zone.


class TestZoneNames:
    @pytest.mark.parametrize(
        "url",
        [
            DASHBOARD,
            reverse("accounts:profile"),
            reverse("accounts:availability-edit"),
            reverse("accounts:busy-blocks"),
        ],
    )
    def test_zones_are_named_without_underscores(self, client_for, program, resident, attending, url):
        resident.time_zone = "America/New_York"
        resident.save()
        mentorship = MentorshipFactory(mentee=resident, mentor=attending, program=program)
        meeting = meeting_propose(mentorship=mentorship, actor=attending, slots=[_in(3, 15)])
        meeting_confirm(meeting=meeting, actor=resident, start=_in(3, 15))
        AvailabilityWindow.objects.create(user=resident, weekday=1, start=time(18), end=time(20))
        html = client_for(resident).get(url).content.decode()
        assert "America/New York" in html and "America/New_York" not in html.replace('value="America/New_York"', "")
