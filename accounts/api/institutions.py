"""Institution administrators in the API: an institution's programs (list, create, update) and
each program's coordinators (list, add, remove). The same services and loader as the pages
(accounts/institutions.py): another institution's administrator gets 404, a member of one of
its programs 403."""

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from core.api.errors import ServiceErrorSerializer, service_refusals
from core.forms import max_length_of
from core.idempotency import IDEMPOTENCY_KEY, IDEMPOTENT_RESPONSES, idempotent

from ..institutions import (
    default_time_zone,
    institution_for,
    institution_programs,
    program_administered,
    program_coordinator_add,
    program_coordinator_remove,
    program_coordinators,
    program_create,
    program_update,
    specialty_choices,
)
from ..models import Program, Specialty, User
from ..selectors import awaits_first_sign_in

_403 = OpenApiResponse(
    ServiceErrorSerializer, description="You belong to a program of this institution but do not administer it."
)
_404 = OpenApiResponse(
    ServiceErrorSerializer, description="No such institution (or program) among those you administer."
)
_400 = OpenApiResponse(description="A value is refused; the key names the field and the message says why.")


class InstitutionProgramSerializer(serializers.ModelSerializer):
    specialty = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    specialty_name = serializers.CharField(source="specialty.name", read_only=True)
    coordinators = serializers.SerializerMethodField()
    member_count = serializers.IntegerField(read_only=True, help_text="People on the roster, whatever their roles.")

    class Meta:
        model = Program
        fields = ["slug", "name", "specialty", "specialty_name", "time_zone", "coordinators", "member_count"]
        read_only_fields = fields

    def get_coordinators(self, program) -> list[dict[str, str | int]]:
        return [
            {"id": m.user_id, "name": m.user.full_name, "email": m.user.email}
            for m in getattr(program, "coordinator_memberships", [])
        ]


class ProgramInputSerializer(serializers.Serializer):
    # Lengths and choices are the service's to refuse, in words, beside the field.
    name = serializers.CharField(
        help_text=f"At most {max_length_of(Program, 'name')} characters, unique in the institution."
    )
    specialty = serializers.CharField(
        help_text="The slug of an ACGME specialty (GET /api/v1/specialties/), not a subspecialty."
    )
    time_zone = serializers.CharField(
        required=False,
        help_text="An IANA zone such as America/New_York. Create: defaults to the institution's first program's.",
    )


class ProgramCreateSerializer(ProgramInputSerializer):
    slug = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="The program's web address; made from the name when left out. It cannot change later.",
    )


class CoordinatorSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="full_name", read_only=True)
    invited = serializers.SerializerMethodField(
        help_text="Invited and has not taken their account yet: no password of their own, never signed in."
    )

    class Meta:
        model = User
        fields = ["id", "name", "email", "invited"]
        read_only_fields = fields

    def get_invited(self, user) -> bool:
        return awaits_first_sign_in(user)


class CoordinatorAddSerializer(serializers.Serializer):
    email = serializers.CharField()
    first_name = serializers.CharField(
        required=False, allow_blank=True, help_text="Only for an address without an account."
    )
    last_name = serializers.CharField(
        required=False, allow_blank=True, help_text="Only for an address without an account."
    )


def _specialty(slug: str) -> Specialty | None:
    return specialty_choices().filter(slug=slug).first()


class _InstitutionApi(generics.GenericAPIView):
    filter_backends = []

    def get_institution(self):
        if not hasattr(self, "_institution"):
            self._institution = institution_for(self.request.user, self.kwargs["slug"])
        return self._institution

    def get_program(self):
        if not hasattr(self, "_program"):
            self._program = program_administered(self.request.user, self.kwargs["slug"])
        return self._program

    def present_program(self, program, code=status.HTTP_200_OK):
        fresh = institution_programs(program.institution).get(pk=program.pk)
        return Response(InstitutionProgramSerializer(fresh).data, status=code)


@extend_schema(tags=["institutions"])
class InstitutionProgramListApi(_InstitutionApi, generics.ListAPIView):
    serializer_class = InstitutionProgramSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Program.objects.none()
        return institution_programs(self.get_institution())

    @extend_schema(
        summary="The institution's programs, with coordinators and member counts.",
        responses={200: InstitutionProgramSerializer(many=True), 403: _403, 404: _404},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a program of the institution.",
        request=ProgramCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: InstitutionProgramSerializer, 400: _400, 403: _403, 404: _404, **IDEMPOTENT_RESPONSES},
    )
    @idempotent
    def post(self, request, *args, **kwargs):
        institution = self.get_institution()
        data = ProgramCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        with service_refusals():
            program = program_create(
                institution=institution,
                actor=request.user,
                name=values["name"],
                specialty=_specialty(values["specialty"]),
                time_zone=values.get("time_zone") or default_time_zone(institution),
                slug=values.get("slug", ""),
            )
        return self.present_program(program, code=status.HTTP_201_CREATED)


@extend_schema(tags=["institutions"])
class InstitutionProgramDetailApi(_InstitutionApi):
    serializer_class = InstitutionProgramSerializer

    @extend_schema(
        summary="One program of the institution.", responses={200: InstitutionProgramSerializer, 403: _403, 404: _404}
    )
    def get(self, request, *args, **kwargs):
        return self.present_program(self.get_program())

    @extend_schema(
        summary="Change a program's name, specialty or time zone (fields left out keep their value). The slug stays.",
        request=ProgramInputSerializer(partial=True),
        responses={200: InstitutionProgramSerializer, 400: _400, 403: _403, 404: _404},
    )
    def patch(self, request, *args, **kwargs):
        program = self.get_program()
        data = ProgramInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        with service_refusals():
            program = program_update(
                program=program,
                actor=request.user,
                name=values.get("name", program.name),
                specialty=_specialty(values["specialty"]) if "specialty" in values else program.specialty,
                time_zone=values.get("time_zone", program.time_zone),
            )
        return self.present_program(program)


@extend_schema(tags=["institutions"])
class ProgramCoordinatorListApi(_InstitutionApi, generics.ListAPIView):
    serializer_class = CoordinatorSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return User.objects.none()
        return program_coordinators(self.get_program())

    def paginate_queryset(self, queryset):
        # Paged like every list, but a program has a handful of coordinators: one query reads them
        # all, and the page and its count come from that list.
        return super().paginate_queryset(list(queryset))

    @extend_schema(
        summary="The program's coordinators.", responses={200: CoordinatorSerializer(many=True), 403: _403, 404: _404}
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Make someone a coordinator by e-mail: an account is added at once; an unknown address gets a new "
        "account and the invitation to set a password (give first_name and last_name). Adding a coordinator again "
        "changes nothing (200).",
        request=CoordinatorAddSerializer,
        responses={201: CoordinatorSerializer, 200: CoordinatorSerializer, 400: _400, 403: _403, 404: _404},
    )
    def post(self, request, *args, **kwargs):
        program = self.get_program()
        data = CoordinatorAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_refusals():
            result = program_coordinator_add(program=program, actor=request.user, **data.validated_data)
        return Response(
            CoordinatorSerializer(result.user).data,
            status=status.HTTP_201_CREATED if result.added else status.HTTP_200_OK,
        )


@extend_schema(tags=["institutions"])
class ProgramCoordinatorDetailApi(_InstitutionApi):
    serializer_class = CoordinatorSerializer

    @extend_schema(
        summary="Remove a coordinator (their other roles stay). The last coordinator cannot be removed (409).",
        request=None,
        responses={
            204: None,
            403: _403,
            404: _404,
            409: OpenApiResponse(ServiceErrorSerializer, description="The only coordinator."),
        },
    )
    def delete(self, request, *args, **kwargs):
        program = self.get_program()
        user = get_object_or_404(program_coordinators(program), pk=self.kwargs["id"])
        with service_refusals(conflict=True):
            program_coordinator_remove(program=program, actor=request.user, user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# Listed in accounts/api/urls.py (``*institutions.urlpatterns``). A program is addressed by its
# slug alone, as elsewhere in the API; ``programs/<slug>/`` itself is the read-only directory's.
urlpatterns = [
    path("institutions/<slug:slug>/programs/", InstitutionProgramListApi.as_view(), name="institution-programs"),
    path("programs/<slug:slug>/settings/", InstitutionProgramDetailApi.as_view(), name="program-settings"),
    path("programs/<slug:slug>/coordinators/", ProgramCoordinatorListApi.as_view(), name="program-coordinators"),
    path(
        "programs/<slug:slug>/coordinators/<int:id>/",
        ProgramCoordinatorDetailApi.as_view(),
        name="program-coordinator",
    ),
]
