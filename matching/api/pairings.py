"""The pairings API, for the program's coordinators only (anyone else: 404).

- ``/programs/{slug}/pairings/``: the pairings (GET, with the page's filters: status, kind,
  mentor, pgy, source, stale) and pairing a resident directly (POST);
- ``/programs/{slug}/pairings/{id}/end/`` and ``…/{id}/reassign/`` (POST, reason required);
- ``/programs/{slug}/unpaired-residents/?kind=…``: residents with no active mentor of a kind.

The same querysets, FilterSets and services (``matching.services.pairings``) and rule
(``matching.manage_pairings``) as the page. A refusal answers 400 (field keys when it names
a field), or 409 when the pairing has already ended.
"""

from django.shortcuts import get_object_or_404
from django.urls import path
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from accounts.models import User
from core.access import ProgramScopedApi
from core.api.errors import ServiceErrorSerializer, service_refusals
from core.api.permissions import RulesPermission
from core.forms import max_length_of

from ..models import Kind, Mentorship
from ..selectors import pairings as pairing_selectors
from ..services import pairings as services

# --- Shapes.

# As on the page: as long as a mentorship's end reason (which holds what the pair read instead).
_REASON_MAX_LENGTH = max_length_of(Mentorship, "end_reason")


def _reason_missing(message: str) -> dict[str, str]:
    """A reason is required, and the schema says so (it said optional, and the service then refused
    one left out: schemathesis' positive_data_acceptance); the message is the service's, as the page's."""
    return {"required": message, "blank": message}


class PairingPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    full_name = serializers.CharField(read_only=True)


class UnpairedResidentSerializer(PairingPersonSerializer):
    email = serializers.EmailField(read_only=True)
    pgy = serializers.CharField(
        source="mentee_profile.career_stage.code",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="The resident's career stage code, e.g. PGY-1.",
    )


# Inline, not a component: a second serializer naming Mentorship.Status "status" would make
# the schema's enum naming fall back to a hash for it (MentorshipDetail has it too).
@extend_schema_field({"type": "string", "enum": Mentorship.Status.values})
class _StatusField(serializers.CharField):
    pass


class PairingSerializer(serializers.ModelSerializer):
    mentee = UnpairedResidentSerializer(read_only=True)
    mentor = PairingPersonSerializer(read_only=True)
    status = _StatusField(read_only=True, help_text="active, completed or ended.")
    last_meeting_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="The latest meeting held or confirmed that has started."
    )
    next_meeting_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="The next confirmed meeting, if one is booked."
    )
    is_stale = serializers.BooleanField(
        read_only=True,
        help_text="Active, with no meeting held or confirmed in the last 60 days (counted from the start; "
        "a confirmed meeting ahead counts as recent).",
    )
    breaks_conflict = serializers.BooleanField(
        read_only=True,
        help_text="Active, and a conflict of interest recorded since forbids it: a do-not-pair entry, or the mentor "
        "evaluates the resident's program without an exception. End it or reassign the resident.",
    )

    class Meta:
        model = Mentorship
        fields = [
            "id",
            "mentee",
            "mentor",
            "kind",
            "source",
            "status",
            "started_at",
            "last_meeting_at",
            "next_meeting_at",
            "is_stale",
            "breaks_conflict",
            "ended_at",
            "end_reason",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "end_reason": {
                "help_text": "What the pair read on the ended mentorship. When a coordinator ended it, a neutral "
                "sentence; the coordinator's reason is in the audit trail only."
            }
        }


class _Scoped(serializers.Serializer):
    """Ids are looked up among the program's people only: anyone else reads as unknown."""

    def __init__(self, *args, program=None, **kwargs):
        super().__init__(*args, **kwargs)
        if program is not None:
            for name, queryset in self.scopes(program).items():
                self.fields[name].queryset = queryset

    def scopes(self, program) -> dict:
        return {"mentor_id": pairing_selectors.mentor_choices(program)}


class PairingCreateSerializer(_Scoped):
    mentee_id = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(), help_text="A resident of the program (user id)."
    )
    mentor_id = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(), help_text="A faculty mentor of the program with an open spot (user id)."
    )
    kind = serializers.ChoiceField(choices=Kind.choices)
    reason = serializers.CharField(
        max_length=_REASON_MAX_LENGTH,
        error_messages=_reason_missing(services.REASON_MISSING),
        help_text="Why (required; kept in the audit trail).",
    )

    def scopes(self, program) -> dict:
        return {**super().scopes(program), "mentee_id": pairing_selectors.residents_of(program)}


class PairingEndSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=_REASON_MAX_LENGTH,
        error_messages=_reason_missing(services.SHARED_REASON_MISSING),
        help_text="Why (required); kept in the audit trail only. The pair are told a neutral sentence.",
    )


class PairingReassignSerializer(_Scoped):
    mentor_id = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(), help_text="The new mentor: faculty of the program with an open spot (user id)."
    )
    reason = serializers.CharField(
        max_length=_REASON_MAX_LENGTH,
        error_messages=_reason_missing(services.SHARED_REASON_MISSING),
        help_text="Why (required); kept in the audit trail only. The people concerned are told a neutral sentence.",
    )


# --- Views.

_SLUG = OpenApiParameter("slug", str, OpenApiParameter.PATH, description="The program's slug.")
_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The pairing's (mentorship's) id.")
_404 = OpenApiResponse(ServiceErrorSerializer, description="No such program (or pairing) among those you coordinate.")
_400 = OpenApiResponse(description="Field errors (e.g. the mentor has no open spot, or the reason is missing).")
_409 = OpenApiResponse(ServiceErrorSerializer, description="The pairing has already ended.")


class _ProgramFilterBackend(DjangoFilterBackend):
    """The FilterSet gets the program, to offer only its mentors."""

    def get_filterset_kwargs(self, request, queryset, view):
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        if getattr(view, "filterset_takes_program", False):
            kwargs["program"] = view.get_program()
        return kwargs


class _PairingsApi(ProgramScopedApi, generics.GenericAPIView):
    permission_classes = [RulesPermission]
    program_permission = "matching.manage_pairings"
    filter_backends = []

    def present(self, mentorship, code):
        fresh = pairing_selectors.pairings_of(self.get_program()).get(pk=mentorship.pk)
        return Response(PairingSerializer(fresh, context=self.get_serializer_context()).data, status=code)


@extend_schema(tags=["pairings"], parameters=[_SLUG])
@extend_schema_view(
    get=extend_schema(
        summary="The program's pairings, by resident; active ones unless ``status`` says otherwise.",
        responses={200: PairingSerializer(many=True), 404: _404},
    ),
    post=extend_schema(
        summary="Pair a resident with a mentor directly (capacity and conflicts of interest still hold; audited).",
        request=PairingCreateSerializer,
        responses={201: PairingSerializer, 400: _400, 404: _404},
    ),
)
class PairingListApi(_PairingsApi, generics.ListAPIView):
    serializer_class = PairingSerializer
    filter_backends = [_ProgramFilterBackend]
    filterset_class = services.PairingFilter
    filterset_takes_program = True

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Mentorship.objects.none()
        return pairing_selectors.pairings_of(self.get_program())

    def post(self, request, *args, **kwargs):
        program = self.get_program()
        given = PairingCreateSerializer(data=request.data, program=program)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        with service_refusals():
            mentorship = services.pairing_create(
                program=program,
                actor=request.user,
                mentee=data["mentee_id"],
                mentor=data["mentor_id"],
                kind=data["kind"],
                reason=data["reason"],
            )
        return self.present(mentorship, status.HTTP_201_CREATED)


class _PairingActionApi(_PairingsApi):
    serializer_class = PairingSerializer
    input_serializer = None
    success_code = status.HTTP_200_OK

    def get_queryset(self):
        return Mentorship.objects.filter(program=self.get_program())

    def post(self, request, *args, **kwargs):
        program = self.get_program()
        mentorship = get_object_or_404(self.get_queryset(), pk=self.kwargs["id"])
        kwargs = {"program": program} if issubclass(self.input_serializer, _Scoped) else {}
        given = self.input_serializer(data=request.data, **kwargs)
        given.is_valid(raise_exception=True)
        with service_refusals(conflict=True):
            result = self.act(mentorship, **given.validated_data)
        return self.present(result, self.success_code)


@extend_schema(
    tags=["pairings"],
    parameters=[_SLUG, _ID],
    request=PairingEndSerializer,
    summary="End a pairing; its future meetings are cancelled and both people are told, never the reason.",
    responses={200: PairingSerializer, 400: _400, 404: _404, 409: _409},
)
class PairingEndApi(_PairingActionApi):
    input_serializer = PairingEndSerializer

    def act(self, mentorship, *, reason):
        return services.pairing_end(mentorship=mentorship, actor=self.request.user, reason=reason)


@extend_schema(
    tags=["pairings"],
    parameters=[_SLUG, _ID],
    request=PairingReassignSerializer,
    summary="Move the resident to another mentor (same kind): all or nothing. Answers the new pairing.",
    responses={201: PairingSerializer, 400: _400, 404: _404, 409: _409},
)
class PairingReassignApi(_PairingActionApi):
    input_serializer = PairingReassignSerializer
    success_code = status.HTTP_201_CREATED

    def act(self, mentorship, *, mentor_id, reason):
        return services.pairing_reassign(
            mentorship=mentorship, actor=self.request.user, new_mentor=mentor_id, reason=reason
        )


@extend_schema(
    tags=["pairings"],
    parameters=[_SLUG],
    summary="The program's residents with no active mentor of a kind (``kind`` is required).",
    responses={
        200: UnpairedResidentSerializer(many=True),
        400: OpenApiResponse(description="Filter errors."),
        404: _404,
    },
)
class UnpairedResidentListApi(_PairingsApi, generics.ListAPIView):
    serializer_class = UnpairedResidentSerializer
    filter_backends = [_ProgramFilterBackend]
    filterset_class = services.UnpairedFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return User.objects.none()
        return pairing_selectors.residents_of(self.get_program())


_P = "programs/<slug:slug>/"
urlpatterns = [
    path(f"{_P}pairings/", PairingListApi.as_view(), name="api-pairings"),
    path(f"{_P}pairings/<int:id>/end/", PairingEndApi.as_view(), name="api-pairing-end"),
    path(f"{_P}pairings/<int:id>/reassign/", PairingReassignApi.as_view(), name="api-pairing-reassign"),
    path(f"{_P}unpaired-residents/", UnpairedResidentListApi.as_view(), name="api-unpaired-residents"),
]
