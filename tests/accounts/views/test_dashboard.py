from datetime import time

import pytest
from django.urls import reverse

from accounts.models import AvailabilityWindow, Goal
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


class TestDashboard:
    def test_resident_sees_what_their_profile_is_missing(self, client_for, resident):
        html = client_for(resident).get(reverse("matching:dashboard")).content.decode()
        assert "Your mentee profile is" in html
        assert "your goals" in html and "when you are free" in html
        assert "Find a mentor" in html

    def test_complete_profile_shows_no_hint(self, client_for, resident):
        from accounts.models import Interest, Language, MeetingFormat

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
        from accounts.models import User

        invitee = User.objects.create_user("invitee@hospital.example", first_name="I", last_name="Nvitee")
        MembershipFactory(user=invitee, program=program, role="resident")
        response = client_for(coordinator).get(reverse("matching:dashboard"))
        [summary] = response.context["coordinated_programs"]
        # Alice, Bob and the invitee are residents; Carol is faculty; only the invitee has no password.
        assert (summary.resident_count, summary.faculty_count, summary.awaiting_count) == (3, 1, 1)
        html = response.content.decode()
        assert "Internal Medicine Residency" in html
        assert "General Surgery Residency" not in html

    def test_user_on_no_program_is_told_what_to_do(self, client_for):
        html = client_for(UserFactory()).get(reverse("matching:dashboard")).content.decode()
        assert "You're not on a program yet" in html


def test_the_dashboard_points_to_waiting_invitations(client_for, invitation, resident):
    page = client_for(resident).get(reverse("matching:dashboard")).content.decode()
    assert "1 program invited you to join" in page and reverse("accounts:invitations") in page
