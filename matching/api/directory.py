"""/api/v1/mentors/: the mentor directory, the same selector and FilterSet as its page
(``matching.views.directory``), each mentor with the spots their mentorships leave."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.routers import SimpleRouter

from accounts.api import serializers
from accounts.filters import MentorDirectoryFilter
from core.api.pagination import PageNumberPagination
from core.api.permissions import RulesPermission
from core.paging import IdsFirstPagination

from ..selectors.directory import mentor_directory


class MentorDirectoryPagination(IdsFirstPagination, PageNumberPagination):
    """The directory's ids-first paging with the API's bounded ``page_size``."""


@extend_schema(tags=["mentors"])
@extend_schema_view(
    list=extend_schema(summary="Browse mentors: capacity, open spots and whether they accept mentees"),
    retrieve=extend_schema(summary="One mentor of the directory"),
)
class MentorViewSet(viewsets.ReadOnlyModelViewSet):
    """Mentors every signed-in user may browse, with their capacity and whether they accept mentees."""

    serializer_class = serializers.MentorDirectorySerializer
    filterset_class = MentorDirectoryFilter
    permission_classes = [RulesPermission]
    # Sort and page 5,000 profiles as ids, then load the page's 25 with their joins and counts.
    pagination_class = MentorDirectoryPagination
    permission_required = "accounts.browse_mentors"
    object_permission_required = "accounts.view_person"
    hide_forbidden_objects = True
    # Mentors are people: their id is the user id the rest of the API uses.
    lookup_field = "user_id"
    lookup_url_kwarg = "id"
    # Only digits route here: /mentors/abc/ is the API's JSON 404, not a ValueError in the lookup.
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        # As on the directory page, nobody is listed to themselves.
        return mentor_directory().exclude(user_id=self.request.user.pk)

    def get_object(self):
        queryset = self.filter_queryset(self.get_queryset())
        profile = get_object_or_404(queryset, user_id=self.kwargs["id"])
        # The rule is about the person, not their profile row.
        self.check_object_permissions(self.request, profile.user)
        return profile


router = SimpleRouter()
router.register("mentors", MentorViewSet, basename="api-mentor")

urlpatterns = router.urls
