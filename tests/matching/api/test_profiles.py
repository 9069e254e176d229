"""The mentor profile API (matching/api/profiles.py). Personas come from tests/conftest.py."""

import pytest

from accounts.models import (
    Membership,
    MentorProfile,
)
from tests.factories import (
    MembershipFactory,
)

pytestmark = pytest.mark.django_db

API = "/api/v1"


# --- Mentor profile.


@pytest.mark.django_db
def test_mentor_profile_put_creates_it_for_a_near_peer(api_for, resident, program):
    # Near-peer mentors hold a faculty membership as well as their resident one.
    MembershipFactory(user=resident, program=program, role=Membership.Role.FACULTY)
    payload = {
        "specialty": "internal-medicine",
        "subspecialty": "internal-medicine-cardiovascular-disease",
        "career_stage": "pgy-3",
        "expertise": ["board-preparation"],
        "languages": ["es"],
        "meeting_formats": ["video", "phone"],
        "capacity": 1,
        "accepting_mentees": True,
    }

    response = api_for(resident).put(f"{API}/me/mentor-profile/", payload, format="json")

    assert response.status_code == 201, response.content
    profile = MentorProfile.objects.get(user=resident)
    assert profile.subspecialty.slug == "internal-medicine-cardiovascular-disease"
    assert profile.capacity == 1
    assert sorted(response.json()["meeting_formats"]) == ["phone", "video"]


@pytest.mark.django_db
def test_mentor_profile_rejects_capacity_above_twenty(api_for, attending):
    response = api_for(attending).patch(f"{API}/me/mentor-profile/", {"capacity": 21}, format="json")

    assert response.status_code == 400
    assert "capacity" in response.json()
    assert MentorProfile.objects.get(user=attending).capacity == 2


@pytest.mark.django_db
def test_mentor_profile_rejects_a_subspecialty_of_another_specialty(api_for, attending):
    # The rule lives in MentorProfile.clean(); the service raises it and the API keys it by field.
    response = api_for(attending).patch(
        f"{API}/me/mentor-profile/", {"subspecialty": "general-surgery-vascular-surgery"}, format="json"
    )

    assert response.status_code == 400
    assert "subspecialty" in response.json()
    assert MentorProfile.objects.get(user=attending).subspecialty is None


@pytest.mark.django_db
def test_mentor_profile_rejects_a_subspecialty_as_specialty(api_for, attending):
    response = api_for(attending).patch(
        f"{API}/me/mentor-profile/", {"specialty": "internal-medicine-nephrology"}, format="json"
    )

    assert response.status_code == 400
    assert "specialty" in response.json()


@pytest.mark.django_db
def test_mentor_profile_rejects_an_unknown_specialty(api_for, attending):
    response = api_for(attending).patch(f"{API}/me/mentor-profile/", {"specialty": "astrology"}, format="json")

    assert response.status_code == 400
    assert "specialty" in response.json()
