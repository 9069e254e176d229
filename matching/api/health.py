"""The program health API, for the program's coordinators only (anyone else: 404).

- ``GET /programs/{slug}/health/?academic_year=2026&pgy=PGY-1``: every figure of the
  dashboard page (``matching.health``), as one object;
- ``GET /programs/{slug}/health/comments/`` (same filters): the check-in comments of the
  period, newest first, paginated. Confidential to coordinators; no ratings beside them.

The same reads and rule (``matching.view_program_health``) as the page. An unknown
academic year or PGY year is a 400 here (the page quietly shows the default instead).
"""

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.response import Response

from core.access import ProgramScopedApi
from core.api.errors import ServiceErrorSerializer
from core.api.permissions import RulesPermission

from .. import health
from ..models import CheckIn, Kind

# --- Filters.


class HealthFilterSerializer(serializers.Serializer):
    academic_year = serializers.IntegerField(
        required=False, help_text="Start year of the academic year (July 1 – June 30); default: the current one."
    )
    pgy = serializers.CharField(required=False, allow_blank=True, default="", help_text="A PGY year, e.g. PGY-1.")

    def __init__(self, *args, choices: health.FilterChoices, **kwargs):
        super().__init__(*args, **kwargs)
        self.choices = choices

    def validate_academic_year(self, value):
        if value not in self.choices.academic_years:
            years = ", ".join(str(y) for y in self.choices.academic_years)
            raise serializers.ValidationError(f"Choose one of the years with data: {years}.")
        return value

    def validate_pgy(self, value):
        codes = [code for code, _ in self.choices.pgy]
        if value and value not in codes:
            raise serializers.ValidationError(f"Choose one of: {', '.join(codes) or 'no PGY years yet'}.")
        return value


# --- Output.


class HealthPerson(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()


class HealthKindGap(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Kind.choices)
    label = serializers.CharField()
    count = serializers.IntegerField()
    residents = HealthPerson(many=True)


class HealthCoverageRow(serializers.Serializer):
    stage = serializers.CharField(help_text='A PGY year; "" = not set; "all" in the total row.')
    label = serializers.CharField()
    residents = serializers.IntegerField(help_text="Residents in the row.")
    with_mentor_count = serializers.IntegerField()
    without_mentor_count = serializers.IntegerField()
    without_mentor = HealthPerson(many=True, help_text="Residents with no active mentorship of any kind.")
    by_kind = HealthKindGap(many=True, help_text="For each kind, the residents with no active mentorship of it.")


class HealthCoverage(serializers.Serializer):
    rows = HealthCoverageRow(many=True)
    total = HealthCoverageRow()


class HealthBar(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class HealthMentorLoadRow(serializers.Serializer):
    mentor = HealthPerson()
    active = serializers.IntegerField(help_text="Active mentorships, in every program.")
    capacity = serializers.IntegerField()
    accepting = serializers.BooleanField()
    status = serializers.ChoiceField(choices=health.LOAD_BANDS)
    kept_apart = serializers.CharField(
        help_text="Why their spots cannot go to this program's residents: evaluator, conflicts, or empty."
    )
    open_spots = serializers.IntegerField(help_text="Spots this program's residents can request.")


class HealthMentorLoad(serializers.Serializer):
    capacity = serializers.IntegerField()
    active = serializers.IntegerField()
    open_spots = serializers.IntegerField(help_text="Spots this program's residents can request.")
    kept_apart_spots = serializers.IntegerField(
        help_text="Free spots of mentors kept apart from every resident of the program (not in open_spots)."
    )
    at_or_over_capacity = serializers.IntegerField()
    bands = HealthBar(many=True)
    mentors = HealthMentorLoadRow(many=True)


class HealthFunnel(serializers.Serializer):
    sent = serializers.IntegerField()
    accepted = serializers.IntegerField()
    declined = serializers.IntegerField()
    expired = serializers.IntegerField()
    withdrawn = serializers.IntegerField()
    closed = serializers.IntegerField()
    pending = serializers.IntegerField()
    answered = serializers.IntegerField(help_text="Accepted + declined.")
    acceptance_rate = serializers.FloatField(allow_null=True, help_text="Accepted ÷ answered.")
    median_answer_hours = serializers.FloatField(
        allow_null=True, help_text="Median of resolved_at − created_at over the answered requests."
    )


class HealthMonth(serializers.Serializer):
    key = serializers.CharField(help_text="YYYY-MM, in the program's time zone.")
    label = serializers.CharField()
    count = serializers.IntegerField()


class HealthCadence(serializers.Serializer):
    held = serializers.IntegerField(help_text="Meetings held in the period.")
    pairings = serializers.IntegerField(help_text="Pairings active at some point in the period.")
    pairing_months = serializers.FloatField(help_text="Days pairings were active in the period, summed, ÷ 30.44.")
    per_pairing_month = serializers.FloatField(allow_null=True, help_text="held ÷ pairing_months.")
    by_month = HealthMonth(many=True)


class HealthStalePairing(serializers.Serializer):
    mentorship_id = serializers.IntegerField()
    mentee = HealthPerson()
    mentor = HealthPerson()
    kind = serializers.ChoiceField(choices=Kind.choices)
    started_at = serializers.DateTimeField()
    last_meeting_at = serializers.DateTimeField(allow_null=True)
    days_without_meeting = serializers.IntegerField()


class HealthStale(serializers.Serializer):
    stale_after_days = serializers.SerializerMethodField()
    active_pairings = serializers.IntegerField()
    count = serializers.IntegerField()
    pairings = HealthStalePairing(many=True)

    def get_stale_after_days(self, obj) -> int:
        return health.STALE_AFTER_DAYS


class HealthRematchRequest(serializers.Serializer):
    mentorship_id = serializers.IntegerField()
    mentee = HealthPerson()
    mentor = HealthPerson()
    kind = serializers.ChoiceField(choices=Kind.choices)
    requested_at = serializers.DateTimeField(allow_null=True)
    waiting = serializers.BooleanField(help_text="The resident has no active mentorship of this kind yet.")


class HealthRematch(serializers.Serializer):
    requested = serializers.IntegerField(help_text="Re-match requests made in the period.")
    waiting = serializers.IntegerField(help_text="Re-match requests (whenever made) still waiting.")
    requests = HealthRematchRequest(many=True)


class HealthRatingGroup(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    responses = serializers.IntegerField()
    average = serializers.FloatField(allow_null=True, help_text="Null when hidden or without responses.")
    hidden = serializers.BooleanField()
    hidden_reason = serializers.ChoiceField(
        choices=[("", "Shown"), (health.FEW, "Too few responses"), (health.COMPLEMENT, "Would reveal a smaller group")]
    )
    hidden_text = serializers.CharField()


class HealthSatisfaction(serializers.Serializer):
    threshold = serializers.IntegerField(help_text="Responses a group needs before its average is shown.")
    overall = HealthRatingGroup()
    by_side = HealthRatingGroup(many=True, help_text="Residents' and mentors' check-ins.")
    by_kind = HealthRatingGroup(many=True)
    distribution = serializers.ListField(
        child=serializers.IntegerField(),
        allow_null=True,
        help_text="Check-ins rating 1, 2, 3, 4 and 5; null when the overall average is hidden.",
    )


class HealthPeriod(serializers.Serializer):
    academic_year = serializers.IntegerField(source="year.start_year")
    label = serializers.CharField(source="year.label")
    start = serializers.DateTimeField(source="year.start")
    end = serializers.DateTimeField(source="year.end", help_text="Exclusive.")
    window_end = serializers.DateTimeField(help_text="The end, or now for the current year.")
    is_current = serializers.BooleanField()
    pgy = serializers.CharField(help_text='"" for every PGY year.')


class HealthYearChoice(serializers.Serializer):
    academic_year = serializers.IntegerField()
    label = serializers.CharField()


class HealthProgramRef(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()


class ProgramHealthSerializer(serializers.Serializer):
    program = HealthProgramRef()
    period = HealthPeriod()
    academic_years = serializers.SerializerMethodField(help_text="Years with data, newest first.")
    pgy_years = serializers.SerializerMethodField(help_text="The PGY years of the program's residents.")
    coverage = HealthCoverage(help_text="Right now: residents without an active mentor.")
    mentor_load = HealthMentorLoad(source="load", help_text="Right now: mentors' active mentees against capacity.")
    stale = HealthStale(help_text="Right now: active pairings with no meeting in 60 days.")
    rematch = HealthRematch()
    requests = HealthFunnel(source="funnel", help_text="Requests sent in the period, by outcome.")
    meetings = HealthCadence(source="cadence", help_text="Meetings held in the period, per pairing-month.")
    satisfaction = HealthSatisfaction(help_text="Check-ins of the period; averages only for groups of 3 or more.")

    @extend_schema_field(HealthYearChoice(many=True))
    def get_academic_years(self, h):
        tz = health.program_zone(h.program)
        return [{"academic_year": y, "label": health.AcademicYear.of(y, tz).label} for y in h.academic_years]

    def get_pgy_years(self, h) -> list[str]:
        return [code for code, _ in h.pgy_choices]


class CheckInCommentSerializer(serializers.ModelSerializer):
    author = HealthPerson(read_only=True)
    side = serializers.ChoiceField(choices=health.SIDES, read_only=True, help_text="Who wrote it.")
    mentorship_id = serializers.IntegerField(read_only=True)
    mentee = HealthPerson(source="mentorship.mentee", read_only=True)
    mentor = HealthPerson(source="mentorship.mentor", read_only=True)
    kind = serializers.ChoiceField(source="mentorship.kind", choices=Kind.choices, read_only=True)

    class Meta:
        model = CheckIn
        fields = ["id", "created_at", "comment", "author", "side", "mentorship_id", "mentee", "mentor", "kind"]
        read_only_fields = fields


# --- Views.

_SLUG = OpenApiParameter("slug", str, OpenApiParameter.PATH, description="The program's slug.")
_FILTERS = [
    OpenApiParameter("academic_year", int, description="Start year of the academic year, e.g. 2026 for 2026–27."),
    OpenApiParameter("pgy", str, description="Only residents of this PGY year, e.g. PGY-1."),
]
_404 = OpenApiResponse(ServiceErrorSerializer, description="No such program among those you coordinate.")
_400 = OpenApiResponse(description="An academic year without data, or a PGY year the program does not have.")


class _HealthApi(ProgramScopedApi, generics.GenericAPIView):
    permission_classes = [RulesPermission]
    program_permission = "matching.view_program_health"
    filter_backends = []

    def filters(self, program):
        choices = health.filter_choices(program)
        given = HealthFilterSerializer(data=self.request.query_params, choices=choices)
        given.is_valid(raise_exception=True)
        return choices, given.validated_data


@extend_schema(
    tags=["program health"],
    parameters=[_SLUG, *_FILTERS],
    summary="Every figure of the program health dashboard.",
    responses={200: ProgramHealthSerializer, 400: _400, 404: _404},
)
class ProgramHealthApi(_HealthApi):
    serializer_class = ProgramHealthSerializer

    def get(self, request, *args, **kwargs):
        program = self.get_program()
        choices, filters = self.filters(program)
        h = health.program_health(program, choices=choices, **filters)
        return Response(ProgramHealthSerializer(h).data)


@extend_schema(
    tags=["program health"],
    parameters=[_SLUG, *_FILTERS],
    summary="The period's check-in comments (coordinators only; no ratings).",
    responses={200: CheckInCommentSerializer(many=True), 400: _400, 404: _404},
)
class CheckInCommentListApi(_HealthApi, generics.ListAPIView):
    serializer_class = CheckInCommentSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CheckIn.objects.none()
        program = self.get_program()
        _, filters = self.filters(program)
        period = health.program_period(program, **filters)
        return health.checkin_comments(program, period)


_P = "programs/<slug:slug>/health/"
urlpatterns = [
    path(_P, ProgramHealthApi.as_view(), name="api-program-health"),
    path(f"{_P}comments/", CheckInCommentListApi.as_view(), name="api-program-health-comments"),
]
