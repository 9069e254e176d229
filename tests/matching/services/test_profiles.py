import pytest
from django.core.exceptions import ValidationError

from accounts.models import MeetingFormat, Specialty, User
from matching.services.profiles import mentor_profile_update
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_mentor_profile_update_creates_then_updates():
    user = UserFactory()
    im = Specialty.objects.get(slug="internal-medicine")
    video = MeetingFormat.objects.get(slug="video")
    mentor_profile_update(user=user, specialty=im, capacity=3, meeting_formats=[video])
    profile = mentor_profile_update(user=user, capacity=1)
    assert profile.capacity == 1
    assert profile.specialty == im
    assert list(profile.meeting_formats.all()) == [video]


def test_mentor_profile_update_refuses_a_foreign_subspecialty_and_saves_nothing():
    user = UserFactory()
    with pytest.raises(ValidationError):
        mentor_profile_update(
            user=user,
            specialty=Specialty.objects.get(slug="internal-medicine"),
            subspecialty=Specialty.objects.get(slug="general-surgery-pediatric-surgery"),
        )
    assert not hasattr(User.objects.get(pk=user.pk), "mentor_profile")
