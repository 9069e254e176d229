"""Request pages, the mentor card and person page that lead to them, and the dashboards.

Personas from tests/conftest.py: Alice (resident) asks Carol (attending, capacity 2);
Bob is another resident, Dave another attending; Cora coordinates the program, Oscar
another; Olivia (outsider) is a resident elsewhere.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from matching.models import ActionItem, Meeting
from matching.services.requests import request_create
from tests.factories import MembershipFactory, MenteeProfileFactory, UserFactory
from tests.matching.factories import ActionItemFactory, MentorshipFactory

pytestmark = pytest.mark.django_db


MESSAGE = "I'm a PGY-1 thinking about cardiology fellowship and would value your advice."


def _ask(mentee, mentor, kind="career"):
    return request_create(mentee=mentee, mentor=mentor, kind=kind, message=MESSAGE)


def _residents(program, n):
    people = []
    for _ in range(n):
        user = UserFactory()
        MembershipFactory(user=user, program=program, role="resident")
        MenteeProfileFactory(user=user)
        people.append(user)
    return people


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


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
        # Noon UTC is 1 p.m. in Berlin, Alice's time zone.
        assert len(response.context["next_meetings"]) == 1 and "Thu, Jan 15, 1:00 p.m." in html
        assert [i.title for i in response.context["open_goals"]] == [
            "Draft the case report",
            "Sign up for the QI course",
        ]
        assert '<li class="overdue">Draft the case report' in html and "Finished thing" not in html
        assert "You don't have a mentor yet" not in html

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
        # session, user, both profiles, profile completeness (specialty + 5 checks), rules (4),
        # 3 lists (next meetings, mentees, requests waiting; each one joined query), open ranking
        # windows, invitations to join, nav roles, bell, coordinated programs, and the session save (3).
        with django_assert_max_num_queries(25):
            many = _count_queries(client, reverse("matching:dashboard"))
        assert many == few
