"""The conflicts-of-interest API, for the program's coordinators only (anyone else: 404).

- ``/programs/{slug}/evaluator-roles/``, ``/programs/{slug}/conflicts/`` and
  ``/programs/{slug}/pairing-exceptions/``: list (GET) and record (POST);
- ``…/{id}/remove/`` (POST, with an optional or required ``reason``): remove, audited.

The same services (``matching.services.conflicts``) and rule (``matching.manage_conflicts``)
as the page.
"""

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from accounts.models import User
from core.access import ProgramScopedApi
from core.api.errors import ServiceErrorSerializer, service_refusals
from core.api.permissions import RulesPermission

from ..models import ConflictOfInterest, EvaluatorRole, PairingException
from ..selectors.conflicts import people_to_choose
from ..services import conflicts as services


class _Person(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    full_name = serializers.CharField(read_only=True)


def _someone(source, help_text):
    return serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(),
        write_only=True,
        source=source,
        help_text=help_text,
        error_messages={"does_not_exist": "Person #{pk_value} is not one to choose here."},
    )


class _ScopedToProgram(serializers.ModelSerializer):
    """Ids are looked up among the program's people only (``people_to_choose``, as the
    page offers them): an id from elsewhere is not a valid choice, and the answer never says
    whose it is (issue 11). ``scopes``: field → which of those people."""

    scopes = {}

    def get_fields(self):
        fields = super().get_fields()
        if program := self.context.get("program"):
            people = people_to_choose(program)
            for name, which in self.scopes.items():
                fields[name].queryset = people[which]
        return fields


class EvaluatorRoleSerializer(_ScopedToProgram):
    user = _Person(read_only=True)
    user_id = _someone("user", "A faculty member of the program (user id).")
    scopes = {"user_id": "faculty"}

    class Meta:
        model = EvaluatorRole
        fields = ["id", "user", "user_id", "role", "created_at"]
        read_only_fields = ["id", "created_at"]


class _PairSerializer(_ScopedToProgram):
    mentee = _Person(read_only=True)
    mentor = _Person(read_only=True)
    mentee_id = _someone("mentee", "A resident of the program (user id).")
    mentor_id = _someone("mentor", "A mentor of the program (user id).")
    created_by = _Person(read_only=True, allow_null=True)

    class Meta:
        fields = ["id", "mentee", "mentor", "mentee_id", "mentor_id", "reason", "created_by", "created_at"]
        read_only_fields = ["id", "created_at"]


class ConflictSerializer(_PairSerializer):
    scopes = {"mentee_id": "residents", "mentor_id": "mentors"}

    class Meta(_PairSerializer.Meta):
        model = ConflictOfInterest


class PairingExceptionSerializer(_PairSerializer):
    mentor_id = _someone(
        "mentor", "An evaluator of the program (user id): program director, associate PD or CCC member."
    )
    scopes = {"mentee_id": "residents", "mentor_id": "evaluators"}

    class Meta(_PairSerializer.Meta):
        model = PairingException


class RemoveSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=services.REASON_MAX_LENGTH, required=False, allow_blank=True, default="")


_SLUG = OpenApiParameter("slug", str, OpenApiParameter.PATH, description="The program's slug.")
_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The entry's id.")
_404 = OpenApiResponse(ServiceErrorSerializer, description="No such program (or entry) among those you coordinate.")


class _ProgramEntryApi(ProgramScopedApi, generics.GenericAPIView):
    permission_classes = [RulesPermission]
    program_permission = "matching.manage_conflicts"
    filter_backends = []
    model = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        return self.model.objects.filter(program=self.get_program()).select_related(*self.related)


class _ListCreate(_ProgramEntryApi, generics.ListAPIView):
    def record(self, program, data):
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        program = self.get_program()
        serializer = self.get_serializer(
            data=request.data, context={**self.get_serializer_context(), "program": program}
        )
        serializer.is_valid(raise_exception=True)
        with service_refusals():
            entry = self.record(program, serializer.validated_data)
        return Response(self.get_serializer(entry).data, status=status.HTTP_201_CREATED)


def _list_create_schema(what, serializer):
    return extend_schema_view(
        get=extend_schema(summary=f"The program's {what}.", responses={200: serializer(many=True), 404: _404}),
        post=extend_schema(
            summary=f"Record one of the program's {what} (audited).",
            responses={201: serializer, 400: OpenApiResponse(description="Field errors."), 404: _404},
        ),
    )


@extend_schema(tags=["conflicts of interest"], parameters=[_SLUG])
@_list_create_schema("evaluator roles", EvaluatorRoleSerializer)
class EvaluatorRoleListApi(_ListCreate):
    serializer_class = EvaluatorRoleSerializer
    model, related = EvaluatorRole, ["user"]

    def record(self, program, data):
        entry, _ = services.evaluator_role_add(
            program=program, actor=self.request.user, user=data["user"], role=data["role"]
        )
        return entry


@extend_schema(tags=["conflicts of interest"], parameters=[_SLUG])
@_list_create_schema("do-not-pair entries", ConflictSerializer)
class ConflictListApi(_ListCreate):
    serializer_class = ConflictSerializer
    model, related = ConflictOfInterest, ["mentee", "mentor", "created_by"]

    def record(self, program, data):
        entry, _ = services.conflict_add(
            program=program,
            actor=self.request.user,
            mentee=data["mentee"],
            mentor=data["mentor"],
            reason=data["reason"],
        )
        return entry


@extend_schema(tags=["conflicts of interest"], parameters=[_SLUG])
@_list_create_schema("pairing exceptions", PairingExceptionSerializer)
class PairingExceptionListApi(_ListCreate):
    serializer_class = PairingExceptionSerializer
    model, related = PairingException, ["mentee", "mentor", "created_by"]

    def record(self, program, data):
        return services.exception_grant(
            program=program,
            actor=self.request.user,
            mentee=data["mentee"],
            mentor=data["mentor"],
            reason=data["reason"],
        )


class _Remove(_ProgramEntryApi):
    serializer_class = RemoveSerializer
    remove = None

    def post(self, request, *args, **kwargs):
        entry = get_object_or_404(self.get_queryset(), pk=self.kwargs["id"])
        serializer = RemoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_refusals():
            self.remove(entry=entry, actor=request.user, reason=serializer.validated_data["reason"])
        return Response(status=status.HTTP_204_NO_CONTENT)


def _remove_schema(what):
    return extend_schema(
        tags=["conflicts of interest"],
        parameters=[_SLUG, _ID],
        request=RemoveSerializer,
        summary=f"Remove {what}; the audit trail keeps it with the reason.",
        responses={204: None, 400: OpenApiResponse(description="A reason is required."), 404: _404},
    )


@_remove_schema("an evaluator role")
class EvaluatorRoleRemoveApi(_Remove):
    model, related = EvaluatorRole, []
    remove = staticmethod(services.evaluator_role_remove)


@_remove_schema("a do-not-pair entry (reason required)")
class ConflictRemoveApi(_Remove):
    model, related = ConflictOfInterest, []
    remove = staticmethod(services.conflict_remove)


@_remove_schema("a pairing exception")
class PairingExceptionRemoveApi(_Remove):
    model, related = PairingException, []
    remove = staticmethod(services.exception_revoke)


_P = "programs/<slug:slug>/"
urlpatterns = [
    path(f"{_P}evaluator-roles/", EvaluatorRoleListApi.as_view(), name="api-evaluator-roles"),
    path(f"{_P}evaluator-roles/<int:id>/remove/", EvaluatorRoleRemoveApi.as_view(), name="api-evaluator-role-remove"),
    path(f"{_P}conflicts/", ConflictListApi.as_view(), name="api-conflicts"),
    path(f"{_P}conflicts/<int:id>/remove/", ConflictRemoveApi.as_view(), name="api-conflict-remove"),
    path(f"{_P}pairing-exceptions/", PairingExceptionListApi.as_view(), name="api-pairing-exceptions"),
    path(
        f"{_P}pairing-exceptions/<int:id>/remove/",
        PairingExceptionRemoveApi.as_view(),
        name="api-pairing-exception-remove",
    ),
]
