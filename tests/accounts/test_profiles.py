from datetime import time

import pytest
from django.urls import reverse

from accounts.models import AcademicRank, AvailabilityWindow, CareerStage, Goal, MenteeProfile, MentorProfile, Specialty
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

MENTEE_EDIT = reverse("accounts:mentee-profile-edit")
MENTOR_EDIT = reverse("matching:mentor-profile-edit")


def _ids(queryset):
    return [str(pk) for pk in queryset.values_list("pk", flat=True)]


class TestMenteeProfilePage:
    def test_resident_saves_their_profile(self, client_for, resident):
        pgy2 = CareerStage.objects.get(code="PGY-2")
        response = client_for(resident).post(
            MENTEE_EDIT,
            {
                "career_stage": pgy2.pk,
                "goals": _ids(Goal.objects.filter(slug__in=["research", "leadership"])),
                "goals_text": "I want to publish one paper before fellowship applications.",
            },
        )
        assert response.status_code == 302
        profile = MenteeProfile.objects.get(user=resident)
        assert profile.career_stage == pgy2
        assert set(profile.goals.values_list("slug", flat=True)) == {"research", "leadership"}

    def test_missing_pgy_year_is_an_error_on_that_field_and_nothing_changes(self, client_for, resident):
        before = resident.mentee_profile.career_stage
        response = client_for(resident).post(MENTEE_EDIT, {"goals_text": "changed"})
        html = response.content.decode()
        assert response.status_code == 200
        assert 'id="id_career_stage_error"' in html
        assert (
            'aria-describedby="id_career_stage_error"' in html
            or 'aria-describedby="id_career_stage_helptext id_career_stage_error"' in html
        )
        assert 'aria-invalid="true"' in html
        profile = MenteeProfile.objects.get(user=resident)
        assert profile.career_stage == before and profile.goals_text == ""

    def test_a_user_field_in_the_post_cannot_redirect_the_edit_to_someone_else(
        self, client_for, resident, other_resident
    ):
        pgy3 = CareerStage.objects.get(code="PGY-3")
        client_for(other_resident).post(MENTEE_EDIT, {"career_stage": pgy3.pk, "user": resident.pk})
        assert MenteeProfile.objects.get(user=other_resident).career_stage == pgy3
        assert MenteeProfile.objects.get(user=resident).career_stage.code == "PGY-1"

    def test_attending_without_resident_role_cannot_open_mentee_profile(self, client_for, attending):
        assert client_for(attending).get(MENTEE_EDIT).status_code == 403


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
        assert response.status_code == 200
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


class TestAvailabilityPage:
    def test_saving_windows_replaces_them(self, client_for, resident):
        AvailabilityWindow.objects.create(user=resident, weekday=5, start=time(9), end=time(10))
        existing = AvailabilityWindow.objects.get(user=resident)
        data = {
            "form-TOTAL_FORMS": "3",
            "form-INITIAL_FORMS": "1",
            "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "21",
            "form-0-id": existing.pk,
            "form-0-weekday": "5",
            "form-0-start": "09:00",
            "form-0-end": "10:00",
            "form-0-DELETE": "on",
            "form-1-weekday": "1",
            "form-1-start": "18:00",
            "form-1-end": "19:30",
            "form-2-weekday": "",
            "form-2-start": "",
            "form-2-end": "",
        }
        response = client_for(resident).post(reverse("accounts:availability-edit"), data)
        assert response.status_code == 302
        assert [(w.weekday, w.start, w.end) for w in AvailabilityWindow.objects.filter(user=resident)] == [
            (1, time(18), time(19, 30))
        ]

    def test_a_window_ending_before_it_starts_is_an_error_and_nothing_changes(self, client_for, resident):
        data = {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "0",
            "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "21",
            "form-0-weekday": "1",
            "form-0-start": "19:00",
            "form-0-end": "18:00",
        }
        response = client_for(resident).post(reverse("accounts:availability-edit"), data)
        assert response.status_code == 200
        assert "The window must end after it starts." in response.content.decode()
        assert not AvailabilityWindow.objects.filter(user=resident).exists()


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


class TestAccountPage:
    def test_name_and_time_zone_are_saved(self, client_for, resident):
        response = client_for(resident).post(
            reverse("accounts:account-edit"),
            {"first_name": "Alicia", "last_name": "Adams", "time_zone": "America/Chicago"},
        )
        assert response.status_code == 302
        resident.refresh_from_db()
        assert (resident.first_name, resident.time_zone) == ("Alicia", "America/Chicago")

    def test_unknown_time_zone_is_an_error(self, client_for, resident):
        response = client_for(resident).post(
            reverse("accounts:account-edit"), {"first_name": "A", "last_name": "B", "time_zone": "Mars/Base"}
        )
        assert response.status_code == 200 and 'aria-invalid="true"' in response.content.decode()
        resident.refresh_from_db()
        assert resident.time_zone == "America/New_York"


class TestDirectoryPage:
    def test_filters_narrow_the_page_like_the_api(self, client_for, resident, attending, other_attending):
        from accounts.models import Language

        attending.mentor_profile.languages.set([Language.objects.get(code="es")])
        html = client_for(resident).get(reverse("matching:mentor-directory"), {"language": "es"}).content.decode()
        assert "Carol Chen" in html and "Dave Diaz" not in html
        assert "1 mentor matches your filters" in html

    def test_nobody_sees_themselves_and_empty_results_say_so(self, client_for, attending):
        html = client_for(attending).get(reverse("matching:mentor-directory"), {"q": "zzzz"}).content.decode()
        assert "No mentors match these filters" in html
        response = client_for(attending).get(reverse("matching:mentor-directory"))
        assert attending.mentor_profile not in response.context["mentors"]

    def test_directory_is_paginated(self, client_for, resident):
        from tests.factories import MentorProfileFactory

        MentorProfileFactory.create_batch(14)
        response = client_for(resident).get(reverse("matching:mentor-directory"))
        assert len(response.context["mentors"]) == 12
        assert "Page 1 of 2" in response.content.decode()

    def test_accepting_filter_keeps_its_choice_and_narrows(self, client_for, resident, attending, other_attending):
        MentorProfile.objects.filter(user=other_attending).update(accepting_mentees=False)
        response = client_for(resident).get(reverse("matching:mentor-directory"), {"accepting": "true"})
        assert [m.user for m in response.context["mentors"]] == [attending]
        assert '<option value="true" selected>Accepting now</option>' in response.content.decode()
