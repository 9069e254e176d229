"""``POST /mentorships/{id}/nudge/``: a coordinator e-mails both people of an active pairing
a friendly reminder to meet (``matching.services.nudges.pairing_nudge``).

A mentorship the caller may not see is a 404; one they may see but not nudge (they are one
of the pair) a 403; a pairing that ended, or was nudged in the last 7 days, a 409.
"""

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response

from core.access import object_for
from core.api.errors import ServiceErrorSerializer, service_refusals
from core.api.permissions import RulesPermission

from ..models import Mentorship
from ..selectors.nudges import NUDGE_INTERVAL, last_nudge
from ..services.nudges import pairing_nudge


class NudgeSerializer(serializers.Serializer):
    mentorship = serializers.IntegerField(read_only=True)
    nudged_at = serializers.DateTimeField(read_only=True)
    next_nudge_from = serializers.DateTimeField(read_only=True, help_text="The pair can be nudged again from then.")


@extend_schema(
    tags=["nudges"],
    request=None,
    parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The mentorship's id.")],
    summary="E-mail both people of a pairing a reminder to meet (coordinators of its program; once a week).",
    responses={
        200: NudgeSerializer,
        403: OpenApiResponse(ServiceErrorSerializer, description="You may see this mentorship but not nudge it."),
        404: OpenApiResponse(ServiceErrorSerializer, description="No such mentorship among those you may see."),
        409: OpenApiResponse(ServiceErrorSerializer, description="It has ended, or was nudged in the last 7 days."),
    },
)
class MentorshipNudgeApi(generics.GenericAPIView):
    permission_classes = [RulesPermission]
    serializer_class = NudgeSerializer
    filter_backends = []

    def post(self, request, id):
        mentorship = object_for(
            request.user,
            Mentorship.objects.all(),
            id,
            "matching.nudge_pairing",
            visible_with="matching.view_mentorship",
        )
        with service_refusals(conflict=True):
            pairing_nudge(mentorship=mentorship, actor=request.user)
        entry = last_nudge(mentorship)
        return Response(
            NudgeSerializer(
                {
                    "mentorship": mentorship.pk,
                    "nudged_at": entry.created_at,
                    "next_nudge_from": entry.created_at + NUDGE_INTERVAL,
                }
            ).data
        )


urlpatterns = [
    path("mentorships/<int:id>/nudge/", MentorshipNudgeApi.as_view(), name="api-mentorship-nudge"),
]
