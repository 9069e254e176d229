"""GET /api/v1/me/recommendations/: the resident's best mentors with an open spot, each
score with its reasons — what "Recommended for you" shows on the directory page.

Paged like every list (``{"count", "next", "previous", "results"}``), best first: the first
page holds the best five; ``page_size`` (up to 20) or the older ``n`` asks for more."""

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.views import APIView

from core.api.pagination import PageNumberPagination
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


# The most a resident is offered at once; ``page_size`` is bounded by it.
MAX_RECOMMENDATIONS = 20


class RecommendationsPagination(PageNumberPagination):
    """The API's one page shape; five picks a page unless ``page_size`` says otherwise."""

    page_size = 5
    max_page_size = MAX_RECOMMENDATIONS
    # Before the list was paged, ``?n=`` said how many: it still does, as the page's size.
    legacy_page_size_query_param = "n"

    def get_page_size(self, request):
        legacy = request.query_params.get(self.legacy_page_size_query_param)
        if not legacy or self.page_size_query_param in request.query_params:
            return super().get_page_size(request)
        # As ``n`` always was read, clamped to 1–20; but what is not a number is a 400 naming it, as
        # for ``page_size``, not the default page as if ``n`` had not been sent.
        if not (legacy.isascii() and legacy.isdigit()):
            raise serializers.ValidationError({self.legacy_page_size_query_param: ["Give a whole number from 1."]})
        return min(max(int(legacy), 1), self.max_page_size)


class RecommendationsApi(APIView):
    permission_classes = [RulesPermission]
    permission_required = "accounts.have_mentee_profile"
    pagination_class = RecommendationsPagination

    @extend_schema(
        tags=["mentors"],
        summary="Recommended for you: the best mentors with an open spot, each score with its reasons",
        description="Mentors with an open spot who share something with you beyond the career stage, time, "
        "language and format: your program's specialty, one of your goals or one of your interests. Best fit "
        "first, ties by mentor id. An empty list means nobody with an open spot shares any of those now: "
        "add goals and interests to your mentee profile, or browse `/api/v1/mentors/`.",
        parameters=[
            OpenApiParameter(
                "n",
                int,
                deprecated=True,
                description="The page's size, as before the list was paged: use page_size (ignored when it is sent).",
            )
        ],
        responses={
            200: RecommendationSerializer(many=True),
            404: OpenApiResponse(
                description="Create your mentee profile first: recommendations are computed from it. "
                "(Or a page past the last.)"
            ),
        },
    )
    def get(self, request):
        mentee = getattr(request.user, "mentee_profile", None)
        if mentee is None:
            raise NotFound("Create your mentee profile first: recommendations are computed from it.")
        # The directory's mentors, prepared once and kept (matching.directory_mentors), scored in one call;
        # the picks' spots and names are then read fresh, so a spot taken meanwhile is not offered.
        kept = directory_mentors.directory_mentors()
        me = recommendations.mentee_record(mentee)
        candidates = directory_mentors.recommend(
            me,
            kept,
            n=MAX_RECOMMENDATIONS,
            exclusions=directory_mentors.exclusions(me, kept),
            clock=recommendations.clock_for(request.user),
        )
        names = directory_mentors.open_now(pair.mentor_id for pair in candidates)
        picks = [pair for pair in candidates if pair.mentor_id in names][:MAX_RECOMMENDATIONS]
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(picks, request, view=self)
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
            for pair in page
        ]
        return paginator.get_paginated_response(RecommendationSerializer(data, many=True).data)


urlpatterns = [path("me/recommendations/", RecommendationsApi.as_view(), name="api-recommendations")]
