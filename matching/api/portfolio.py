"""``GET /me/portfolio/?from=&to=``: the signed-in mentor's mentoring portfolio, the same
record as the page (``matching.portfolio``). Someone without a mentor profile gets a 404."""

from django.http import Http404
from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.response import Response

from core.api.errors import ServiceErrorSerializer

from ..portfolio import last_twelve_months, mentor_portfolio


class PeriodSerializer(serializers.Serializer):
    def get_fields(self):
        # "from" is a Python keyword: declared here rather than as class attributes.
        return {
            "from": serializers.DateField(required=False, allow_null=True, default=None),
            "to": serializers.DateField(required=False, allow_null=True, default=None),
        }

    def validate(self, data):
        if data.get("from") and data.get("to") and data["to"] < data["from"]:
            raise serializers.ValidationError({"to": "The end date is before the start date."})
        return data


class PortfolioMenteeSerializer(serializers.Serializer):
    mentorship = serializers.IntegerField(source="mentorship.pk")
    mentee = serializers.CharField()
    stage = serializers.CharField(help_text="The mentee's career stage code (PGY-1 …), if known.")
    kind = serializers.CharField()
    program = serializers.CharField()
    started = serializers.DateField()
    ended = serializers.DateField(allow_null=True)
    status = serializers.CharField()
    meetings_held = serializers.IntegerField()
    hours = serializers.DecimalField(max_digits=8, decimal_places=2)
    goals_reached = serializers.IntegerField()


class PortfolioMeetingSerializer(serializers.Serializer):
    held_on = serializers.DateField()
    mentee = serializers.CharField()
    format = serializers.CharField()
    minutes = serializers.IntegerField()
    hours = serializers.DecimalField(max_digits=8, decimal_places=2)


class PortfolioGoalSerializer(serializers.Serializer):
    reached_on = serializers.DateField()
    mentee = serializers.CharField()
    title = serializers.CharField()


class PortfolioThanksSerializer(serializers.Serializer):
    finished_on = serializers.DateField()
    mentee = serializers.CharField()
    note = serializers.CharField()


class PortfolioTotalsSerializer(serializers.Serializer):
    mentees = serializers.IntegerField()
    meetings_held = serializers.IntegerField()
    hours = serializers.DecimalField(max_digits=8, decimal_places=2)
    goals_reached = serializers.IntegerField()
    thank_you_notes = serializers.IntegerField()


class PortfolioSerializer(serializers.Serializer):
    mentor = serializers.CharField(source="mentor.full_name")
    rank = serializers.CharField(help_text="Academic rank, or career stage for a near-peer mentor.")
    start = serializers.DateField(help_text="First day of the period, included.")
    end = serializers.DateField(help_text="Last day of the period, included.")
    totals = serializers.SerializerMethodField()
    mentees = PortfolioMenteeSerializer(many=True)
    meetings = PortfolioMeetingSerializer(many=True, help_text="Meetings marked held that started in the period.")
    goals = PortfolioGoalSerializer(many=True, help_text="Goals of the pair's action plans marked done in the period.")
    thanks = PortfolioThanksSerializer(
        many=True, help_text="Mentees' thank-you notes on mentorships that finished in the period."
    )

    @extend_schema_field(PortfolioTotalsSerializer)
    def get_totals(self, portfolio):
        return PortfolioTotalsSerializer(
            {
                "mentees": len(portfolio.mentees),
                "meetings_held": portfolio.meetings_held,
                "hours": portfolio.hours,
                "goals_reached": len(portfolio.goals),
                "thank_you_notes": len(portfolio.thanks),
            }
        ).data


@extend_schema(
    tags=["portfolio"],
    parameters=[
        OpenApiParameter(
            "from",
            OpenApiTypes.DATE,
            description="First day (your time zone); default: the last academic year's July 1.",
        ),
        OpenApiParameter(
            "to", OpenApiTypes.DATE, description="Last day, included; default: the last academic year's June 30."
        ),
    ],
    summary="Your mentoring portfolio over a period: mentees, meetings held and hours, goals reached, thank-you notes.",
    responses={
        200: PortfolioSerializer,
        400: OpenApiResponse(description="A date is not valid (the key names it)."),
        404: OpenApiResponse(ServiceErrorSerializer, description="You have no mentor profile."),
    },
)
class PortfolioApi(generics.GenericAPIView):
    serializer_class = PortfolioSerializer
    filter_backends = []

    def get(self, request):
        user = request.user
        if not hasattr(user, "mentor_profile"):
            raise Http404
        period = PeriodSerializer(data=request.query_params)
        period.is_valid(raise_exception=True)
        start, end = last_twelve_months(timezone.localdate(timezone=user.zone))
        start, end = period.validated_data["from"] or start, period.validated_data["to"] or end
        if end < start:
            raise serializers.ValidationError({"from": ["Give both dates: the period would end before it starts."]})
        return Response(PortfolioSerializer(mentor_portfolio(user, start=start, end=end)).data)


urlpatterns = [
    path("me/portfolio/", PortfolioApi.as_view(), name="api-portfolio"),
]
