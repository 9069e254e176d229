"""/api/v1/me/mentor-profile/: the signed-in mentor's profile. Its update is matching's
(``matching.services.profiles``): turning "accepting mentees" off closes pending requests."""

from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_view

from accounts.api import serializers
from accounts.api.views import PROFILE_403, PROFILE_404, OwnProfileApi
from accounts.models import MentorProfile
from accounts.selectors import own_mentor_profile

from ..services.profiles import mentor_profile_update


@extend_schema(tags=["me"], responses={200: serializers.MentorProfileSerializer, 403: PROFILE_403, 404: PROFILE_404})
@extend_schema_view(
    get=extend_schema(summary="Your mentor profile"),
    patch=extend_schema(summary="Change some fields of your mentor profile"),
)
class MentorProfileApi(OwnProfileApi):
    """The signed-in user's mentor profile."""

    serializer_class = serializers.MentorProfileSerializer
    permission_required = "accounts.have_mentor_profile"
    model = MentorProfile
    kind = "mentor"

    def load(self):
        return own_mentor_profile(self.request.user)

    def save(self, **fields):
        return mentor_profile_update(user=self.request.user, **fields)

    @extend_schema(
        summary="Create or replace your mentor profile",
        responses={200: serializers.MentorProfileSerializer, 201: serializers.MentorProfileSerializer},
    )
    def put(self, request):
        return super().put(request)


urlpatterns = [path("me/mentor-profile/", MentorProfileApi.as_view(), name="api-mentor-profile")]
