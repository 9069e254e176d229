"""The dashboard: what a resident, an attending, a coordinator and someone on no program see.

Personas from tests/conftest.py: Alice (resident) asks Carol (attending, capacity 2);
Bob is another resident, Dave another attending; Cora coordinates the program, Oscar
another; Olivia (outsider) is a resident elsewhere.
"""

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AvailabilityWindow, Goal, Interest, Language, MeetingFormat, User
from matching.models import ActionItem, Meeting
from tests.factories import MembershipFactory, UserFactory
from tests.matching.factories import ActionItemFactory, MentorshipFactory
from tests.matching.support import _ask, _count_queries, _residents

pytestmark = pytest.mark.django_db


# --- Dashboards.


def _meeting(mentorship, start, status=Meeting.Status.CONFIRMED):
    return Meeting.objects.create(
        mentorship=mentorship, proposed_by=mentorship.mentee, status=status, start=start, duration_minutes=45
    )


class TestResidentDashboard:
    def test_each_section_shows_its_rows(self, client_for, program, resident, attending, other_attending):
        resident.time_zone = "Europe/Berlin"
        resident.save()
        mentorship = MentorshipFactory(mentee=resident, mentor=attending, program=program)
        _ask(resident, other_attending, kind="research")
        _meeting(mentorship, datetime(2099, 1, 15, 12, 0, tzinfo=UTC))
        _meeting(mentorship, timezone.now() - timedelta(days=1))  # past: not "next"
        ActionItemFactory(
            mentorship=mentorship, title="Draft the case report", due_date=timezone.localdate() - timedelta(days=2)
        )
        ActionItemFactory(
            mentorship=mentorship, title="Sign up for the QI course", due_date=timezone.localdate() + timedelta(days=9)
        )
        ActionItemFactory(mentorship=mentorship, title="Finished thing", status=ActionItem.Status.DONE)

        response = client_for(resident).get(reverse("matching:dashboard"))
        html = response.content.decode()
        assert [m.mentor for m in response.context["my_mentorships"]] == [attending]
        assert mentorship.get_absolute_url() in html
        assert [r.mentor for r in response.context["pending_requests"]] == [other_attending]
        assert "Dave Diaz" in html
        # Noon UTC is 1 p.m. in Berlin, Alice's time zone: written as on the meeting's own page.
        assert len(response.context["next_meetings"]) == 1 and "Thu 15 Jan 2099, 13:00 CET" in html
        assert [i.title for i in response.context["open_goals"]] == [
            "Draft the case report",
            "Sign up for the QI course",
        ]
        assert '<li class="overdue">Draft the case report' in html and "Finished thing" not in html
        assert "You don't have a mentor yet" not in html

    def test_the_mentors_are_under_the_sections_heading_and_no_heading_level_is_skipped(
        self, client_for, program, resident, attending
    ):
        MentorshipFactory(mentee=resident, mentor=attending, program=program)
        html = client_for(resident).get(reverse("matching:dashboard")).content.decode()
        headings = re.findall(r"<h([1-6])[^>]*>(.*?)</h\1>", html, flags=re.S)
        texts = [re.sub(r"<[^>]+>", "", text).strip() for _level, text in headings]
        levels = [int(level) for level, _text in headings]
        assert levels[0] == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), headings
        # "Your mentorship" heads its list of mentors: no "My mentors" stacked under it.
        assert "My mentors" not in texts
        mine = texts.index("Your mentorship")
        assert texts[mine + 1] == "Pending requests" and levels[mine : mine + 2] == [2, 3]
        section = html[html.index('id="mentee-h"') : html.index('id="pending-h"')]
        assert 'id="my-mentors"' in section and "Carol Chen" in section

    def test_empty_sections_say_so(self, client_for, resident):
        html = client_for(resident).get(reverse("matching:dashboard")).content.decode()
        assert "You don't have a mentor yet" in html
        assert "No pending requests." in html
        assert "No meetings confirmed yet." in html
        assert "No open goals." in html


class TestAttendingDashboard:
    def test_each_section_shows_its_rows(self, client_for, program, resident, other_resident, attending):
        mentorship = MentorshipFactory(mentee=other_resident, mentor=attending, program=program)
        waiting = _ask(resident, attending)
        _meeting(mentorship, timezone.now() + timedelta(days=2))
        _meeting(mentorship, timezone.now() + timedelta(days=3), status=Meeting.Status.PROPOSED)  # not confirmed

        response = client_for(attending).get(reverse("matching:dashboard"))
        html = response.content.decode()
        assert list(response.context["requests_waiting"]) == [waiting]
        assert waiting.get_absolute_url() in html and "Waiting for you" in html
        assert [m.mentee for m in response.context["my_mentees"]] == [other_resident]
        assert response.context["free_spots"] == 1 and "of 2 spots free" in html
        assert len(response.context["next_meetings"]) == 1 and "Bob Brown" in html

    def test_empty_sections_say_so(self, client_for, attending):
        response = client_for(attending).get(reverse("matching:dashboard"))
        html = response.content.decode()
        assert "No requests are waiting for you." in html
        assert "No mentees yet." in html
        assert response.context["free_spots"] == 2
        assert "No meetings confirmed yet." in html

    def test_profile_hints_and_coordinator_section_stay(self, client_for, program, attending):
        MembershipFactory(user=attending, program=program, role="coordinator")
        html = client_for(attending).get(reverse("matching:dashboard")).content.decode()
        assert "Your mentor profile is" in html and "Programs you coordinate" in html

    def test_query_budget_does_not_grow_with_rows(self, client_for, program, attending, django_assert_max_num_queries):
        client = client_for(attending)

        def add(n):
            for mentee in _residents(program, n):
                _ask(mentee, attending)

        add(2)
        client.get(reverse("matching:dashboard"))  # the first request also records last_seen
        few = _count_queries(client, reverse("matching:dashboard"))
        add(12)
        MentorshipFactory(mentee=_residents(program, 1)[0], mentor=attending, program=program)
        # session, user, both profiles, profile completeness (one query), rules (4),
        # 3 lists (next meetings, mentees, requests waiting; each one joined query), open ranking
        # windows, invitations to join, nav roles, bell, coordinated programs, the session save (3),
        # and "Waiting for you": meetings to pick a time for, check-ins due, unread messages.
        with django_assert_max_num_queries(23):
            many = _count_queries(client, reverse("matching:dashboard"))
        assert many == few


# --- Profile hints, coordinators, people on no program, and invitations to join.


class TestDashboard:
    def test_resident_sees_what_their_profile_is_missing(self, client_for, resident):
        html = client_for(resident).get(reverse("matching:dashboard")).content.decode()
        assert "Your mentee profile is" in html
        assert "your goals" in html and "when you are free" in html
        assert "Find a mentor" in html
        # The reason has a singular antecedent however many things are missing.
        assert "from mentorship: mentors read your profile, and recommendations are made from it." in html
        assert "use them" not in html

    def test_complete_profile_shows_no_hint(self, client_for, resident):
        profile = resident.mentee_profile
        profile.goals.set(Goal.objects.all()[:2])
        profile.interests.set(Interest.objects.all()[:2])
        profile.languages.set(Language.objects.filter(code="en"))
        profile.meeting_formats.set(MeetingFormat.objects.all())
        profile.goals_text = "Fellowship."
        profile.save()
        AvailabilityWindow.objects.create(user=resident, weekday=1, start=time(7), end=time(8))
        html = client_for(resident).get(reverse("matching:dashboard")).content.decode()
        assert "Your mentee profile is" not in html

    def test_coordinator_sees_only_their_programs_with_head_counts(
        self, client_for, program, coordinator, resident, other_resident, attending, outsider
    ):
        invitee = User.objects.create_user("invitee@hospital.example", first_name="I", last_name="Nvitee")
        MembershipFactory(user=invitee, program=program, role="resident")
        response = client_for(coordinator).get(reverse("matching:dashboard"))
        [summary] = response.context["coordinated_programs"]
        # Alice, Bob and the invitee are residents; Carol is faculty; only the invitee has no password.
        assert (summary.resident_count, summary.faculty_count, summary.awaiting_count) == (3, 1, 1)
        html = response.content.decode()
        assert "Internal Medicine Residency" in html
        assert "General Surgery Residency" not in html
        # Every page of the program is one click away, match runs and pairings included.
        for name in ("accounts:roster", "matching:program-health", "matching:match-runs", "matching:pairings"):
            assert f'href="{reverse(name, args=[program.slug])}"' in html, name

    def test_user_on_no_program_is_told_what_to_do(self, client_for):
        html = client_for(UserFactory()).get(reverse("matching:dashboard")).content.decode()
        assert "You're not on a program yet" in html


def test_the_dashboard_points_to_waiting_invitations(client_for, invitation, resident):
    page = client_for(resident).get(reverse("matching:dashboard")).content.decode()
    assert "1 program invited you to join" in page and reverse("accounts:invitations") in page
