"""The mentor profile page and the person page (matching/views/profiles.py)."""

import pytest
from django.urls import reverse

from accounts.models import AcademicRank, CareerStage, MenteeProfile, MentorProfile, Specialty
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

MENTEE_EDIT = reverse("accounts:mentee-profile-edit")
MENTOR_EDIT = reverse("matching:mentor-profile-edit")


class TestMentorProfilePage:
    def _valid(self, **overrides):
        data = {
            "specialty": Specialty.objects.get(slug="internal-medicine").pk,
            "academic_rank": AcademicRank.objects.get(name="Associate Professor").pk,
            "capacity": 3,
            "accepting_mentees": "on",
        }
        data.update(overrides)
        return data

    def test_attending_saves_their_profile(self, client_for, attending):
        cardiology = Specialty.objects.get(slug="internal-medicine-cardiovascular-disease")
        response = client_for(attending).post(MENTOR_EDIT, self._valid(subspecialty=cardiology.pk))
        assert response.status_code == 302
        profile = MentorProfile.objects.get(user=attending)
        assert (profile.subspecialty, profile.capacity, profile.accepting_mentees) == (cardiology, 3, True)

    def test_capacity_over_twenty_is_refused(self, client_for, attending):
        response = client_for(attending).post(MENTOR_EDIT, self._valid(capacity=25))
        assert "Ensure this value is less than or equal to 20." in response.content.decode()
        assert MentorProfile.objects.get(user=attending).capacity == 2

    def test_subspecialty_from_another_specialty_is_refused_on_that_field(self, client_for, attending):
        surgery_sub = Specialty.objects.get(slug="general-surgery-pediatric-surgery")
        response = client_for(attending).post(MENTOR_EDIT, self._valid(subspecialty=surgery_sub.pk))
        assert response.status_code == 400
        assert "Pediatric Surgery is not a subspecialty of Internal Medicine." in response.content.decode()
        assert MentorProfile.objects.get(user=attending).subspecialty is None

    def test_rank_or_career_stage_is_required(self, client_for, attending):
        response = client_for(attending).post(MENTOR_EDIT, self._valid(academic_rank=""))
        assert "Give your academic rank (faculty) or your career stage" in response.content.decode()

    def test_resident_without_faculty_role_cannot_open_mentor_profile(self, client_for, resident):
        assert client_for(resident).get(MENTOR_EDIT).status_code == 403

    def test_near_peer_mentor_may_keep_both_profiles(self, client_for, program, resident):
        MembershipFactory(user=resident, program=program, role="faculty")
        client = client_for(resident)
        assert client.get(MENTEE_EDIT).status_code == 200
        response = client.post(
            MENTOR_EDIT, self._valid(academic_rank="", career_stage=CareerStage.objects.get(code="PGY-4").pk)
        )
        assert response.status_code == 302
        assert MentorProfile.objects.get(user=resident).career_stage.code == "PGY-4"


class TestViewingPeople:
    def test_resident_can_view_a_mentor(self, client_for, resident, attending):
        response = client_for(resident).get(reverse("matching:person", args=[attending.pk]))
        assert response.status_code == 200 and "Mentor profile" in response.content.decode()

    def test_resident_cannot_view_another_resident(self, client_for, resident, other_resident):
        assert client_for(resident).get(reverse("matching:person", args=[other_resident.pk])).status_code == 404

    def test_coordinator_sees_their_residents_profile_but_not_another_programs(
        self, client_for, coordinator, resident, outsider
    ):
        client = client_for(coordinator)
        page = client.get(reverse("matching:person", args=[resident.pk]))
        assert page.status_code == 200 and "Mentee profile" in page.content.decode()
        assert client.get(reverse("matching:person", args=[outsider.pk])).status_code == 404

    def test_directory_visitor_sees_only_the_mentor_side_of_a_near_peer(
        self, client_for, program, resident, other_resident
    ):
        MembershipFactory(user=other_resident, program=program, role="faculty")
        MentorProfile.objects.create(user=other_resident, career_stage=CareerStage.objects.get(code="PGY-4"))
        MenteeProfile.objects.filter(user=other_resident).update(goals_text="Private hopes for fellowship")
        html = client_for(resident).get(reverse("matching:person", args=[other_resident.pk])).content.decode()
        assert "Mentor profile" in html and "Private hopes for fellowship" not in html
