"""The ranking window API, for the run's coordinators (any other caller gets 404): who has
submitted (names and times, never the lists), remind those who have not, close the window
now (the run starts), extend it. The same services as the window page
(``matching.match_runs.ranking``); a refusal answers 409 (the window has closed) or 400.
"""

from django.http import Http404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response

from core.access import object_for
from core.api.errors import ServiceErrorSerializer, service_refusals
from core.api.permissions import RulesPermission

from ..match_runs import ranking
from ..models import MatchRun
from .match_runs import MatchRunSerializer

# --- Shapes.


class RankerSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="person.pk", read_only=True)
    full_name = serializers.CharField(source="person.full_name", read_only=True)
    submitted_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="Null: not submitted yet.")
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="The last change to the list.")


class RankingWindowSerializer(serializers.Serializer):
    ranking_deadline = serializers.DateTimeField(read_only=True)
    window_open = serializers.BooleanField(read_only=True)
    ranking_reminded_at = serializers.DateTimeField(read_only=True, allow_null=True)
    submitted = serializers.IntegerField(read_only=True)
    total = serializers.IntegerField(read_only=True)
    residents = RankerSerializer(many=True, read_only=True)
    mentors = RankerSerializer(many=True, read_only=True)


class RemindedSerializer(serializers.Serializer):
    reminded = serializers.IntegerField(read_only=True, help_text="People reminded now.")
    skipped = serializers.IntegerField(
        read_only=True,
        help_text="People still waiting who were not reminded: each was reminded for this run in the last 24 hours.",
    )


class ExtendSerializer(serializers.Serializer):
    ranking_deadline = serializers.DateTimeField(help_text="The new, later deadline (at most two years ahead).")


# --- Views.

_ERROR = ServiceErrorSerializer
_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The match run's id.")
_404 = OpenApiResponse(_ERROR, description="No such match run with a ranking window among those you coordinate.")
_409 = OpenApiResponse(_ERROR, description="The ranking window has closed (or everyone has submitted, for a reminder).")


class _WindowApi(generics.GenericAPIView):
    permission_classes = [RulesPermission]
    filter_backends = []
    serializer_class = RankingWindowSerializer

    def get_queryset(self):
        return MatchRun.objects.select_related("program")

    def get_run(self) -> MatchRun:
        run = object_for(self.request.user, self.get_queryset(), self.kwargs["id"], "matching.manage_match_runs")
        if run.ranking_deadline is None:
            raise Http404
        return run

    def present_run(self, run: MatchRun) -> Response:
        fresh = MatchRun.objects.select_related("program").prefetch_related("mentees", "mentors").get(pk=run.pk)
        return Response(MatchRunSerializer(fresh, context=self.get_serializer_context()).data)


@extend_schema(tags=["match runs"], parameters=[_ID])
class RankingWindowApi(_WindowApi):
    @extend_schema(
        summary="Who has submitted their ranking, residents and mentors apart (never the lists).",
        responses={200: RankingWindowSerializer, 404: _404},
    )
    def get(self, request, *args, **kwargs):
        run = self.get_run()
        window = ranking.ranking_window_status(run)
        data = {
            "ranking_deadline": run.ranking_deadline,
            "window_open": run.ranking_window_open() and run.archived_at is None,
            "ranking_reminded_at": run.ranking_reminded_at,
            "submitted": window.submitted_count,
            "total": window.total,
            "residents": window.residents,
            "mentors": window.mentors,
        }
        return Response(RankingWindowSerializer(data).data)


@extend_schema(tags=["match runs"], parameters=[_ID])
class RankingWindowRemindApi(_WindowApi):
    serializer_class = RemindedSerializer

    @extend_schema(
        summary="Remind everyone who has not submitted (once an hour at most).",
        request=None,
        responses={200: RemindedSerializer, 404: _404, 409: _409},
    )
    def post(self, request, *args, **kwargs):
        run = self.get_run()
        with service_refusals(conflict=True):
            done = ranking.ranking_window_remind_waiting(run=run, actor=request.user)
        return Response({"reminded": done.reminded, "skipped": done.skipped})


@extend_schema(tags=["match runs"], parameters=[_ID])
class RankingWindowCloseApi(_WindowApi):
    serializer_class = MatchRunSerializer

    @extend_schema(
        summary="Close the ranking window now; the match starts.",
        request=None,
        responses={200: MatchRunSerializer, 404: _404, 409: _409},
    )
    def post(self, request, *args, **kwargs):
        run = self.get_run()
        with service_refusals(conflict=True):
            ranking.ranking_window_close(run=run, actor=request.user)
        return self.present_run(run)


@extend_schema(tags=["match runs"], parameters=[_ID])
class RankingWindowExtendApi(_WindowApi):
    serializer_class = MatchRunSerializer

    @extend_schema(
        summary="Move the ranking deadline later; everyone in the cohort is told.",
        request=ExtendSerializer,
        responses={200: MatchRunSerializer, 400: OpenApiResponse(description="Field errors."), 404: _404, 409: _409},
    )
    def post(self, request, *args, **kwargs):
        run = self.get_run()
        given = ExtendSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        # Field errors (a deadline too far or not later) answer 400; a closed window 409.
        with service_refusals(conflict=True):
            ranking.ranking_window_extend(
                run=run, actor=request.user, deadline=given.validated_data["ranking_deadline"]
            )
        return self.present_run(run)


urlpatterns = [
    path("match-runs/<int:id>/ranking-window/", RankingWindowApi.as_view(), name="api-ranking-window"),
    path(
        "match-runs/<int:id>/ranking-window/remind/",
        RankingWindowRemindApi.as_view(),
        name="api-ranking-window-remind",
    ),
    path("match-runs/<int:id>/ranking-window/close/", RankingWindowCloseApi.as_view(), name="api-ranking-window-close"),
    path(
        "match-runs/<int:id>/ranking-window/extend/",
        RankingWindowExtendApi.as_view(),
        name="api-ranking-window-extend",
    ),
]
