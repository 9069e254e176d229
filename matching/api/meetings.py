"""The meetings API: propose times, confirm one, reschedule, cancel, mark held,
shared notes, the .ics invitation and time suggestions.

The same reads (``matching.selectors.meetings``), writes (``matching.services.meetings``) and
rules (``matching.rules``) as the pages:
- a meeting or mentorship the caller may not see answers 404, as if it did not exist;
- one they may see but not change (a coordinator's read-only view) answers 403;
- bad input answers 400 with field keys; a refusal because of the meeting's or the
  mentorship's state (already cancelled, not yours to confirm, the mentorship ended) answers
  409 with ``{"detail": ...}``, as the requests API does.

Times are ISO 8601. A time given without an offset is read in the caller's own
time zone (``/api/v1/me/``); answers carry the offset.

What both people edit (the shared notes, the place and video link) is versioned: a GET of
the meeting answers with an ``ETag``, and a change must send it in ``If-Match`` (428 without,
412 with the current ETag when the other person saved meanwhile). Proposing and
rescheduling honour an ``Idempotency-Key``: a retry sends no second set of times.
"""

import zoneinfo

from django.http import HttpResponse
from django.urls import path, reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import generics, serializers, status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from core.access import ObjectScopedApi, object_for
from core.api.errors import ServiceErrorSerializer, service_refusals
from core.api.permissions import RulesPermission
from core.bounds import SCHEDULED
from core.concurrency import (
    CONDITIONAL_RESPONSES,
    ETAG,
    IF_MATCH,
    EditConflict,
    if_match_version,
    stale_response,
    with_etag,
)
from core.forms import max_length_of
from core.idempotency import IDEMPOTENCY_KEY, IDEMPOTENT_RESPONSES, idempotent

from ..ics import meeting_ics
from ..models import Meeting, Mentorship
from ..scheduling import suggest_slots
from ..selectors import meetings as meeting_selectors
from ..services import meetings as meeting_services

# --- Shapes. Serializers validate and present; the services decide and save.


class MeetingPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    full_name = serializers.CharField(read_only=True)
    time_zone = serializers.CharField(read_only=True)


class MeetingSerializer(serializers.ModelSerializer):
    mentorship = serializers.IntegerField(source="mentorship_id", read_only=True)
    mentee = MeetingPersonSerializer(source="mentorship.mentee", read_only=True)
    mentor = MeetingPersonSerializer(source="mentorship.mentor", read_only=True)
    proposed_by = MeetingPersonSerializer(read_only=True)
    cancelled_by = MeetingPersonSerializer(read_only=True, allow_null=True)
    slots = serializers.SerializerMethodField(help_text="The proposed start times (1–3).")
    end = serializers.DateTimeField(read_only=True, allow_null=True)
    # Empty when the meeting has no link: not declared a URI, which "" would not be.
    video_url = serializers.CharField(read_only=True, help_text="The video link, or empty.")
    notes = serializers.SerializerMethodField(help_text="Shared notes: for the pair only (null for coordinators).")
    can_confirm = serializers.SerializerMethodField(
        help_text="Proposed, and yours to confirm: you are the other person, not the proposer."
    )
    ics_url = serializers.SerializerMethodField(help_text="The .ics invitation.")

    class Meta:
        model = Meeting
        fields = [
            "id",
            "mentorship",
            "mentee",
            "mentor",
            "status",
            "format",
            "duration_minutes",
            "location",
            "video_url",
            "slots",
            "start",
            "end",
            "proposed_by",
            "cancelled_by",
            "can_confirm",
            "notes",
            "uid",
            "sequence",
            "version",
            "ics_url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def _viewer(self):
        return self.context["request"].user

    @extend_schema_field(serializers.ListField(child=serializers.DateTimeField()))
    def get_slots(self, meeting):
        field = serializers.DateTimeField()
        return [field.to_representation(slot.start) for slot in meeting.slots.all()]

    def get_notes(self, meeting) -> str | None:
        return meeting.notes if self._viewer().has_perm("matching.work_in_mentorship", meeting) else None

    def get_can_confirm(self, meeting) -> bool:
        viewer = self._viewer()
        return (
            meeting.can_confirm()
            and meeting.mentorship.is_active
            and viewer.pk != meeting.proposed_by_id
            and viewer.has_perm("matching.work_in_mentorship", meeting)
        )

    def get_ics_url(self, meeting) -> str:
        return self.context["request"].build_absolute_uri(reverse("api-meeting-ics", kwargs={"id": meeting.pk}))


class _WithinMeetingBounds:
    """Each time within ``bounds.SCHEDULED``, counted in the caller's own time zone."""

    requires_context = True

    def __call__(self, slots, field):
        for when in slots:
            SCHEDULED.check_instant(when, zone=field.context["request"].user.time_zone)


def _slots_field():
    return serializers.ListField(
        child=serializers.DateTimeField(),
        min_length=1,
        max_length=meeting_services.MAX_SLOTS,
        validators=[_WithinMeetingBounds()],
        help_text="1–3 different future start times, at most two years ahead.",
    )


class MeetingProposeSerializer(serializers.Serializer):
    slots = _slots_field()
    duration_minutes = serializers.IntegerField(min_value=10, max_value=240, default=30)
    format = serializers.ChoiceField(choices=Meeting.Format.choices, default=Meeting.Format.VIDEO)
    location = serializers.CharField(
        max_length=max_length_of(Meeting, "location"), required=False, allow_blank=True, default=""
    )
    video_url = serializers.URLField(
        max_length=max_length_of(Meeting, "video_url"), required=False, allow_blank=True, default=""
    )


class MeetingConfirmSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="One of the meeting's proposed times.")


class MeetingRescheduleSerializer(serializers.Serializer):
    slots = _slots_field()


class MeetingCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class MeetingNotesSerializer(serializers.Serializer):
    notes = serializers.CharField(max_length=max_length_of(Meeting, "notes"), allow_blank=True)


class MeetingDetailsSerializer(serializers.Serializer):
    location = serializers.CharField(
        max_length=max_length_of(Meeting, "location"), required=False, allow_blank=True, help_text="The place."
    )
    video_url = serializers.URLField(
        max_length=max_length_of(Meeting, "video_url"), required=False, allow_blank=True, help_text="The video link."
    )


class MeetingSuggestionsSerializer(serializers.Serializer):
    slots = serializers.ListField(child=serializers.DateTimeField(), help_text="Start times when both people are free.")
    duration_minutes = serializers.IntegerField()
    time_zones = serializers.DictField(
        child=serializers.CharField(), help_text="Each person's time zone, by role: mentee and mentor."
    )


def _validated(serializer_class, request):
    """Validate ``request.data``, reading times without an offset in the caller's time zone."""
    serializer = serializer_class(data=request.data, context={"request": request})
    with timezone.override(zoneinfo.ZoneInfo(request.user.time_zone)):
        serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ICalendarRenderer(BaseRenderer):
    """Lets a client that asks for ``Accept: text/calendar`` through content negotiation; the
    invitation itself is sent as is, and errors are JSON whatever was asked for."""

    media_type = "text/calendar"
    format = "ics"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data, "application/json", renderer_context)


# --- Views.

_ERROR = ServiceErrorSerializer
_400 = OpenApiResponse(
    description="Field errors: e.g. a time not among those proposed, one that has passed, too many times."
)
_409 = OpenApiResponse(
    _ERROR,
    description="The meeting's or mentorship's state no longer allows this (already cancelled, "
    "not yours to confirm, not yet started, the mentorship ended).",
)
_403 = OpenApiResponse(_ERROR, description="You may see this but not change it (a coordinator).")
_404 = OpenApiResponse(_ERROR, description="Not found among what you may see.")


class _MentorshipScopedApi(generics.GenericAPIView):
    """Views under /mentorships/<id>/: the mentorship is loaded and its rule asked."""

    permission_classes = [RulesPermission]
    filter_backends = []

    def get_mentorship(self, *, change: bool) -> Mentorship:
        return object_for(
            self.request.user,
            Mentorship.objects.select_related("mentee", "mentor", "program"),
            self.kwargs["id"],
            "matching.work_in_mentorship" if change else "matching.view_mentorship",
            visible_with="matching.view_mentorship",
        )


@extend_schema(tags=["meetings"])
@extend_schema_view(
    get=extend_schema(
        summary="A mentorship's meetings: upcoming first, then past and cancelled.",
        responses={200: MeetingSerializer, 404: _404},
    ),
    post=extend_schema(
        summary="Propose a meeting: 1–3 times; the other person confirms one.",
        parameters=[IDEMPOTENCY_KEY],
        request=MeetingProposeSerializer,
        responses={201: MeetingSerializer, 400: _400, 403: _403, 404: _404, 409: _409, **IDEMPOTENT_RESPONSES},
    ),
)
class MentorshipMeetingListApi(_MentorshipScopedApi, generics.ListCreateAPIView):
    serializer_class = MeetingSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return Meeting.objects.none()
        return meeting_selectors.meetings_of(self.get_mentorship(change=False))

    @idempotent
    def create(self, request, *args, **kwargs):
        mentorship = self.get_mentorship(change=True)
        data = _validated(MeetingProposeSerializer, request)
        with service_refusals(conflict=True):
            meeting = meeting_services.meeting_propose(mentorship=mentorship, actor=request.user, **data)
        return self.present(meeting, code=status.HTTP_201_CREATED)

    def present(self, meeting, *, code=status.HTTP_200_OK):
        fresh = meeting_selectors.meetings_for(self.request.user).get(pk=meeting.pk)
        return Response(MeetingSerializer(fresh, context=self.get_serializer_context()).data, status=code)


@extend_schema(
    tags=["meetings"],
    summary="Times when both people are free: their weekly availability, each in their own time zone, "
    "minus busy blocks and confirmed meetings, spread over different days.",
    parameters=[
        OpenApiParameter("duration_minutes", int, description="Meeting length, 10–240 (default 30)."),
        OpenApiParameter("days", int, description="How many days ahead to look, 1–60 (default 14)."),
    ],
    responses={200: MeetingSuggestionsSerializer, 400: _400, 403: _403, 404: _404},
)
class MeetingSuggestionsApi(_MentorshipScopedApi):
    serializer_class = MeetingSuggestionsSerializer

    class Query(serializers.Serializer):
        duration_minutes = serializers.IntegerField(min_value=10, max_value=240, default=30)
        days = serializers.IntegerField(min_value=1, max_value=60, default=14)

    def get(self, request, id):
        # Both people's free time is theirs: the pair may ask, not their coordinator.
        mentorship = self.get_mentorship(change=True)
        query = self.Query(data=request.query_params)
        query.is_valid(raise_exception=True)
        slots = suggest_slots(
            mentee=mentorship.mentee,
            mentor=mentorship.mentor,
            start=timezone.now(),
            days=query.validated_data["days"],
            duration_minutes=query.validated_data["duration_minutes"],
        )
        data = {
            "slots": slots,
            "duration_minutes": query.validated_data["duration_minutes"],
            "time_zones": {"mentee": mentorship.mentee.time_zone, "mentor": mentorship.mentor.time_zone},
        }
        return Response(self.get_serializer(data).data)


class _MeetingApi(ObjectScopedApi, generics.GenericAPIView):
    serializer_class = MeetingSerializer
    permission_classes = [RulesPermission]
    object_permission = "matching.view_mentorship"
    object_visible_with = "matching.view_mentorship"
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Meeting.objects.none()
        return meeting_selectors.meetings_for(self.request.user)

    def get_object_queryset(self):
        return self.get_queryset()

    def present(self, pk):
        meeting = self.get_queryset().get(pk=pk)
        return with_etag(Response(self.get_serializer(meeting).data), meeting)


@extend_schema(
    tags=["meetings"],
    summary="One meeting, with its version as ETag",
    parameters=[ETAG],
    responses={200: MeetingSerializer, 404: _404},
)
class MeetingDetailApi(_MeetingApi, generics.RetrieveAPIView):
    """One meeting, for the pair and the coordinators of its program. The ETag is the version
    of what the pair edit (notes, place, video link): send it in If-Match to change them."""

    def retrieve(self, request, *args, **kwargs):
        return self.present(self.get_object().pk)


class _MeetingActionApi(_MeetingApi):
    """POST one state change; the service checks the guard and the caller under a lock."""

    object_permission = "matching.work_in_mentorship"
    input_serializer = None

    def act(self, meeting, **data):
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        meeting = self.get_object()
        data = _validated(self.input_serializer, request) if self.input_serializer else {}
        with service_refusals(conflict=True):
            self.act(meeting, **data)
        return self.present(meeting.pk)


def _action_schema(summary, input_serializer, *, parameters=(), responses=None):
    return extend_schema(
        tags=["meetings"],
        summary=summary,
        parameters=list(parameters),
        request=input_serializer,
        responses={200: MeetingSerializer, 400: _400, 403: _403, 404: _404, 409: _409, **(responses or {})},
    )


@_action_schema("Confirm one of the proposed times (the other person, not the proposer).", MeetingConfirmSerializer)
class MeetingConfirmApi(_MeetingActionApi):
    """The person who did not propose picks one of the proposed times; the proposer
    gets the invitation."""

    input_serializer = MeetingConfirmSerializer

    def act(self, meeting, **data):
        return meeting_services.meeting_confirm(meeting=meeting, actor=self.request.user, **data)


@_action_schema(
    "Propose new times: the meeting goes back to proposed and its invitation's SEQUENCE grows.",
    MeetingRescheduleSerializer,
    parameters=[IDEMPOTENCY_KEY],
    responses=IDEMPOTENT_RESPONSES,
)
class MeetingRescheduleApi(_MeetingActionApi):
    """Either person proposes 1–3 new times; the other confirms one of them."""

    input_serializer = MeetingRescheduleSerializer

    @idempotent
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def act(self, meeting, **data):
        return meeting_services.meeting_reschedule(meeting=meeting, actor=self.request.user, **data)


@_action_schema("Cancel; the other person's e-mail carries the calendar cancellation.", MeetingCancelSerializer)
class MeetingCancelApi(_MeetingActionApi):
    """Either person cancels a proposed or confirmed meeting, with an optional reason."""

    input_serializer = MeetingCancelSerializer

    def act(self, meeting, **data):
        return meeting_services.meeting_cancel(meeting=meeting, actor=self.request.user, **data)


@_action_schema("Mark a confirmed meeting that has started as held.", None)
class MeetingHeldApi(_MeetingActionApi):
    """Either person records that the meeting took place; shared notes stay open."""

    def act(self, meeting, **data):
        return meeting_services.meeting_mark_held(meeting=meeting, actor=self.request.user)


class _VersionedMeetingApi(_MeetingApi):
    """A change to what both people edit: checked against ``If-Match`` under the lock."""

    object_permission = "matching.work_in_mentorship"
    input_serializer: type[serializers.Serializer]

    def act(self, meeting, *, version, **data):
        raise NotImplementedError

    def write(self, request):
        meeting = self.get_object()
        version = if_match_version(request)
        data = _validated(self.input_serializer, request)
        with service_refusals(conflict=True):
            try:
                self.act(meeting, version=version, **data)
            except EditConflict as exc:
                return stale_response(exc)
        return self.present(meeting.pk)


_NOTES_SUMMARY = "Replace the shared notes of a meeting that has taken place, against the meeting's ETag."


@extend_schema_view(
    put=_action_schema(
        _NOTES_SUMMARY, MeetingNotesSerializer, parameters=[IF_MATCH, ETAG], responses=CONDITIONAL_RESPONSES
    ),
    post=[
        _action_schema(
            _NOTES_SUMMARY + " (POST is the same as PUT.)",
            MeetingNotesSerializer,
            parameters=[IF_MATCH, ETAG],
            responses=CONDITIONAL_RESPONSES,
        ),
        extend_schema(operation_id="meetings_notes_post"),
    ],
)
class MeetingNotesApi(_VersionedMeetingApi):
    """The pair's shared notes, replaced as a whole, once the meeting has taken place."""

    input_serializer = MeetingNotesSerializer
    http_method_names = ["put", "post", "options"]

    def act(self, meeting, *, version, **data):
        return meeting_services.meeting_update_notes(meeting=meeting, actor=self.request.user, version=version, **data)

    def put(self, request, *args, **kwargs):
        return self.write(request)

    def post(self, request, *args, **kwargs):
        return self.write(request)


@extend_schema_view(
    patch=_action_schema(
        "Add or change the place or video link of a proposed or confirmed meeting, against its ETag; "
        "the invitation's SEQUENCE grows and the other person gets the new version.",
        MeetingDetailsSerializer,
        parameters=[IF_MATCH, ETAG],
        responses=CONDITIONAL_RESPONSES,
    ),
)
class MeetingDetailsApi(_VersionedMeetingApi):
    """Either person adds the details that were not given when the times were proposed."""

    input_serializer = MeetingDetailsSerializer
    http_method_names = ["patch", "options"]

    def act(self, meeting, *, version, **data):
        return meeting_services.meeting_update_details(
            meeting=meeting, actor=self.request.user, version=version, **data
        )

    def patch(self, request, *args, **kwargs):
        return self.write(request)


@extend_schema(
    tags=["meetings"],
    summary="The meeting's iCalendar invitation (METHOD:CANCEL once cancelled).",
    responses={(200, "text/calendar"): OpenApiTypes.STR, 404: _404},
    # Two renderers only so errors can be JSON: no ?format= choice to offer.
    parameters=[OpenApiParameter("format", exclude=True)],
)
class MeetingIcsApi(_MeetingApi):
    """The same file the e-mails attach: import it into any calendar."""

    renderer_classes = [JSONRenderer, ICalendarRenderer]

    def handle_exception(self, exc):
        # The schema promises JSON errors (core/api/schema.py), even to a client asking for text/calendar.
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response

    def get(self, request, id):
        meeting = self.get_object()
        response = HttpResponse(meeting_ics(meeting), content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.pk}.ics"'
        return response


urlpatterns = [
    path("mentorships/<int:id>/meetings/", MentorshipMeetingListApi.as_view(), name="api-meeting-list"),
    path("mentorships/<int:id>/meeting-suggestions/", MeetingSuggestionsApi.as_view(), name="api-meeting-suggestions"),
    path("meetings/<int:id>/", MeetingDetailApi.as_view(), name="api-meeting-detail"),
    path("meetings/<int:id>/confirm/", MeetingConfirmApi.as_view(), name="api-meeting-confirm"),
    path("meetings/<int:id>/reschedule/", MeetingRescheduleApi.as_view(), name="api-meeting-reschedule"),
    path("meetings/<int:id>/cancel/", MeetingCancelApi.as_view(), name="api-meeting-cancel"),
    path("meetings/<int:id>/held/", MeetingHeldApi.as_view(), name="api-meeting-held"),
    path("meetings/<int:id>/notes/", MeetingNotesApi.as_view(), name="api-meeting-notes"),
    path("meetings/<int:id>/details/", MeetingDetailsApi.as_view(), name="api-meeting-details"),
    path("meetings/<int:id>/ics/", MeetingIcsApi.as_view(), name="api-meeting-ics"),
]
