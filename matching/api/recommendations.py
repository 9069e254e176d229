"""GET /api/v1/me/recommendations/: the resident's best mentors with an open spot, each
score with its reasons — what "Recommended for you" shows on the directory page."""

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.permissions import RulesPermission

from .. import directory_mentors, recommendations


class ComponentSerializer(serializers.Serializer):
    name = serializers.CharField(
        help_text="specialty, goals, interests, career, availability, language or meeting_format"
    )
    label = serializers.CharField()
    reason = serializers.CharField()
    points = serializers.FloatField(help_text="Contribution to the 0–100 score.")
    max_points = serializers.FloatField(help_text="The most this component can contribute (its weight).")


class RecommendationSerializer(serializers.Serializer):
    mentor_id = serializers.IntegerField(help_text="The mentor's user id, as in /api/v1/mentors/{id}/.")
    full_name = serializers.CharField()
    score = serializers.FloatField(help_text="0–100.")
    components = ComponentSerializer(many=True)


class RecommendationsApi(APIView):
    permission_classes = [RulesPermission]
    permission_required = "accounts.have_mentee_profile"

    @extend_schema(
        tags=["mentors"],
        parameters=[OpenApiParameter("n", int, description="How many (1–20, default 5).")],
        responses=RecommendationSerializer(many=True),
    )
    def get(self, request):
        mentee = getattr(request.user, "mentee_profile", None)
        if mentee is None:
            raise NotFound("Create your mentee profile first: recommendations are computed from it.")
        try:
            n = min(max(int(request.query_params.get("n", 5)), 1), 20)
        except ValueError:
            n = 5
        # The directory's mentors, prepared once and kept (matching.directory_mentors), scored in one call;
        # the picks' spots and names are then read fresh, so a spot taken meanwhile is not offered.
        kept = directory_mentors.directory_mentors()
        me = recommendations.mentee_record(mentee)
        candidates = directory_mentors.recommend(
            me,
            kept,
            n=n,
            exclusions=directory_mentors.exclusions(me, kept),
            clock=recommendations.clock_for(request.user),
        )
        names = directory_mentors.open_now(pair.mentor_id for pair in candidates)
        picks = [pair for pair in candidates if pair.mentor_id in names][:n]
        data = [
            {
                "mentor_id": pair.mentor_id,
                "full_name": " ".join(names[pair.mentor_id]).strip(),
                "score": pair.score,
                "components": [
                    {
                        "name": c.name,
                        "label": row.label,
                        "reason": row.reason,
                        "points": c.points,
                        "max_points": row.max_points,
                    }
                    for c, row in zip(pair.components, recommendations.breakdown_rows(pair), strict=True)
                ],
            }
            for pair in picks
        ]
        return Response(RecommendationSerializer(data, many=True).data)


urlpatterns = [path("me/recommendations/", RecommendationsApi.as_view(), name="api-recommendations")]
