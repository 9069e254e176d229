from datetime import time

import pytest
from django.urls import reverse

from accounts.models import AvailabilityWindow, CareerStage, Goal, MenteeProfile

pytestmark = pytest.mark.django_db

MENTEE_EDIT = reverse("accounts:mentee-profile-edit")


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
        assert response.status_code == 400
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
        assert response.status_code == 400
        assert "The window must end after it starts." in response.content.decode()
        assert not AvailabilityWindow.objects.filter(user=resident).exists()


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
        assert response.status_code == 400 and 'aria-invalid="true"' in response.content.decode()
        resident.refresh_from_db()
        assert resident.time_zone == "America/New_York"
