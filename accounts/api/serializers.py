"""Shapes of the accounts API. Serializers validate and present; they never save:
writes go through accounts/services.py.

Vocabularies travel as slugs ("career-planning", "video"), languages as their
ISO codes ("es"), both on the way in and on the way out.
"""

from contextlib import contextmanager

from django.contrib.auth import authenticate
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings

from core.api.fields import WallClockTimeField
from core.forms import max_length_of

from ..models import (
    AcademicRank,
    ApiToken,
    AvailabilityWindow,
    CareerStage,
    Goal,
    Interest,
    Language,
    MeetingFormat,
    Membership,
    MenteeProfile,
    MentorProfile,
    Program,
    Specialty,
    User,
)
from ..roster import invitation_status
from ..selectors import ROSTER_STATUSES
from ..services import KEEP_LOCAL_TIMES, KEEP_MOMENTS


@contextmanager
def django_validation_errors_as_api_errors(field=None):
    """Re-raise a model/service ``ValidationError`` as DRF's, keyed by field.

    Errors that name no field go under ``field`` if given, else ``non_field_errors``.
    """
    try:
        yield
    except DjangoValidationError as exc:
        if hasattr(exc, "error_dict"):
            detail = {
                (api_settings.NON_FIELD_ERRORS_KEY if key == NON_FIELD_ERRORS else key): messages
                for key, messages in exc.message_dict.items()
            }
        else:
            detail = {field or api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
        raise serializers.ValidationError(detail) from exc


class _SlugField(serializers.SlugRelatedField):
    """A slug, or null where allowed: never "" (DRF reads "" as null for a related field, and the
    schema says a slug is not blank)."""

    default_error_messages = {"blank": "Give a slug, or null to clear it."}

    def run_validation(self, data=serializers.empty):
        if data == "":
            self.fail("blank")
        return super().run_validation(data)


def _slugs(model, **kwargs):
    return _SlugField(slug_field="slug", queryset=model.objects.all(), **kwargs)


def _language_codes(**kwargs):
    return serializers.SlugRelatedField(slug_field="code", queryset=Language.objects.all(), **kwargs)


# --- Signing in.


class TokenObtainSerializer(serializers.Serializer):
    email = serializers.EmailField(write_only=True)
    password = serializers.CharField(write_only=True, trim_whitespace=False, style={"input_type": "password"})
    code = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="If you use an authenticator app: its current code, or one of your unused recovery codes "
        "(used up by this). Leave it out otherwise.",
    )
    id = serializers.IntegerField(read_only=True, help_text="The token's id, to revoke it by.")
    name = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=max_length_of(ApiToken, "name"),
        help_text="What the token is for, e.g. the script or device that holds it; shown on the account page.",
    )
    token = serializers.CharField(
        read_only=True, help_text="The secret, shown this once: send it as `Authorization: Token <token>`."
    )
    expires_at = serializers.DateTimeField(
        read_only=True,
        help_text="When the token stops working. A new password, signing out of the site, or DELETE on this "
        "endpoint ends it sooner; then sign in again.",
    )

    def validate(self, attrs):
        request = self.context["request"]
        # The plain Django request, so django-axes records the failure against it and
        # its middleware sees the lockout flag it sets.
        user = authenticate(request=request._request, username=attrs["email"], password=attrs["password"])
        if user is None:
            raise serializers.ValidationError("That e-mail and password don't match an account.", code="authorization")
        attrs["user"] = user
        return attrs


class ApiTokenSerializer(serializers.ModelSerializer):
    """A token as its owner sees it: never the secret, which was shown once."""

    prefix = serializers.CharField(read_only=True, help_text="The secret's first characters, to tell tokens apart.")
    last_used_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Last used, to the nearest few minutes; null if never."
    )

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "expires_at", "last_used_at"]
        read_only_fields = fields


# --- The signed-in user.


class RoleSerializer(serializers.ModelSerializer):
    program = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    program_name = serializers.CharField(source="program.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["program", "program_name", "role"]
        read_only_fields = fields


class MeSerializer(serializers.ModelSerializer):
    roles = RoleSerializer(source="memberships", many=True, read_only=True)
    keep_availability = serializers.ChoiceField(
        choices=[KEEP_LOCAL_TIMES, KEEP_MOMENTS],
        default=KEEP_LOCAL_TIMES,
        write_only=True,
        help_text=f"With a new time_zone: {KEEP_LOCAL_TIMES} (the default) keeps your weekly availability's "
        f"clock times (9 am stays 9 am); {KEEP_MOMENTS} moves the windows so they cover the same moments.",
    )

    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "time_zone", "roles", "keep_availability"]
        read_only_fields = ["id", "email", "roles"]


# --- Profiles.


class _ProfileSerializer(serializers.ModelSerializer):
    def replace_values(self):
        """The values a PUT gives the fields it leaves out: their model defaults,
        so a PUT replaces the whole profile rather than merging into it."""
        model = self.Meta.model
        values = {}
        for name, field in self.fields.items():
            if field.read_only or name in self.validated_data:
                continue
            model_field = model._meta.get_field(field.source)
            if model_field.many_to_many:
                values[name] = []
            elif model_field.has_default():
                values[name] = model_field.get_default()
            elif model_field.null:
                values[name] = None
            else:
                values[name] = ""
        return {**values, **self.validated_data}


class MenteeProfileSerializer(_ProfileSerializer):
    career_stage = _slugs(CareerStage, allow_null=True, required=False, help_text="Career stage slug, e.g. pgy-2.")
    goals = _slugs(Goal, many=True, required=False, help_text="Goal slugs, e.g. career-planning.")
    interests = _slugs(Interest, many=True, required=False)
    subspecialty_interests = _slugs(
        Specialty, many=True, required=False, help_text="Specialty or subspecialty slugs you are considering."
    )
    languages = _language_codes(many=True, required=False, help_text="ISO 639 codes, e.g. en, es.")
    meeting_formats = _slugs(MeetingFormat, many=True, required=False, help_text="in-person, video, phone.")

    class Meta:
        model = MenteeProfile
        fields = [
            "career_stage",
            "goals",
            "goals_text",
            "interests",
            "subspecialty_interests",
            "languages",
            "meeting_formats",
            "bio",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]


class MentorProfileSerializer(_ProfileSerializer):
    specialty = _slugs(Specialty, allow_null=True, required=False, help_text="Specialty slug, e.g. internal-medicine.")
    subspecialty = _slugs(Specialty, allow_null=True, required=False, help_text="A subspecialty of the specialty.")
    academic_rank = _slugs(AcademicRank, allow_null=True, required=False)
    career_stage = _slugs(CareerStage, allow_null=True, required=False)
    expertise = _slugs(Goal, many=True, required=False, help_text="Goal slugs you can help mentees with.")
    interests = _slugs(Interest, many=True, required=False)
    languages = _language_codes(many=True, required=False, help_text="ISO 639 codes, e.g. en, es.")
    meeting_formats = _slugs(MeetingFormat, many=True, required=False, help_text="in-person, video, phone.")

    class Meta:
        model = MentorProfile
        fields = [
            "specialty",
            "subspecialty",
            "academic_rank",
            "career_stage",
            "expertise",
            "interests",
            "languages",
            "meeting_formats",
            "bio",
            "capacity",
            "accepting_mentees",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]


# --- Availability.


class AvailabilityWindowSerializer(serializers.ModelSerializer):
    start = WallClockTimeField()
    end = WallClockTimeField()

    class Meta:
        model = AvailabilityWindow
        fields = ["weekday", "start", "end"]

    def validate(self, attrs):
        with django_validation_errors_as_api_errors():
            AvailabilityWindow(**attrs).clean()
        return attrs


class AvailabilitySerializer(serializers.Serializer):
    """The whole weekly availability, replaced as one."""

    windows = AvailabilityWindowSerializer(many=True, max_length=50)


# --- The mentor directory.


class MentorDirectorySerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="user_id", read_only=True, help_text="The mentor's user id.")
    first_name = serializers.CharField(source="user.first_name", read_only=True)
    last_name = serializers.CharField(source="user.last_name", read_only=True)
    full_name = serializers.CharField(source="user.full_name", read_only=True)
    specialty = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    subspecialty = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    academic_rank = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    career_stage = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    expertise = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    interests = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    languages = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    meeting_formats = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    availability = AvailabilityWindowSerializer(source="user.availability", many=True, read_only=True)

    class Meta:
        model = MentorProfile
        fields = [
            "id",
            "first_name",
            "last_name",
            "full_name",
            "specialty",
            "subspecialty",
            "academic_rank",
            "career_stage",
            "expertise",
            "interests",
            "languages",
            "meeting_formats",
            "bio",
            "capacity",
            "accepting_mentees",
            "availability",
        ]
        read_only_fields = fields


# --- Programs and their rosters.


class ProgramSerializer(serializers.ModelSerializer):
    specialty = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    institution = serializers.CharField(source="institution.name", read_only=True)

    class Meta:
        model = Program
        fields = ["slug", "name", "institution", "specialty", "time_zone"]
        read_only_fields = fields


class RosterMemberSerializer(serializers.ModelSerializer):
    """A roster row, described as the roster page and its CSV export describe it."""

    user_id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    first_name = serializers.CharField(source="user.first_name", read_only=True)
    last_name = serializers.CharField(source="user.last_name", read_only=True)
    pgy = serializers.SerializerMethodField(
        help_text="Career stage code: a resident's PGY year (PGY-1 … PGY-7, FELLOW), or a near-peer mentor's stage."
    )
    specialty = serializers.SerializerMethodField(help_text="Faculty: specialty slug from the mentor profile.")
    academic_rank = serializers.SerializerMethodField(help_text="Faculty: academic rank slug from the mentor profile.")
    invitation_status = serializers.SerializerMethodField()
    invited_at = serializers.DateTimeField(
        source="user.invited_at", read_only=True, allow_null=True, help_text="Null: never invited (e.g. demo users)."
    )

    class Meta:
        model = Membership
        fields = [
            "id",
            "user_id",
            "email",
            "first_name",
            "last_name",
            "role",
            "pgy",
            "specialty",
            "academic_rank",
            "invitation_status",
            "invited_at",
        ]
        read_only_fields = fields

    @staticmethod
    def _profile(membership):
        # Residents are described by their mentee profile, faculty by their mentor profile.
        name = "mentee_profile" if membership.role == Membership.Role.RESIDENT else "mentor_profile"
        return getattr(membership.user, name, None)

    def get_pgy(self, membership) -> str | None:
        profile = self._profile(membership)
        return profile.career_stage.code if profile and profile.career_stage else None

    def get_specialty(self, membership) -> str | None:
        profile = self._profile(membership)
        specialty = getattr(profile, "specialty", None)
        return specialty.slug if specialty else None

    def get_academic_rank(self, membership) -> str | None:
        profile = self._profile(membership)
        rank = getattr(profile, "academic_rank", None)
        return rank.slug if rank else None

    @extend_schema_field(serializers.ChoiceField(choices=list(ROSTER_STATUSES.items())))
    def get_invitation_status(self, membership) -> str:
        # The export's wording ("not invited") as the filter's value ("not_invited").
        return invitation_status(membership.user).replace(" ", "_")


# --- Vocabularies.


class SpecialtySerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)

    class Meta:
        model = Specialty
        fields = ["slug", "name", "parent"]


class GoalSerializer(serializers.ModelSerializer):
    class Meta:
        model = Goal
        fields = ["slug", "name", "description"]


class InterestSerializer(serializers.ModelSerializer):
    class Meta:
        model = Interest
        fields = ["slug", "name"]


class CareerStageSerializer(serializers.ModelSerializer):
    class Meta:
        model = CareerStage
        fields = ["slug", "code", "name", "order"]


class AcademicRankSerializer(serializers.ModelSerializer):
    class Meta:
        model = AcademicRank
        fields = ["slug", "name", "order"]


class LanguageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Language
        fields = ["code", "name"]


class MeetingFormatSerializer(serializers.ModelSerializer):
    class Meta:
        model = MeetingFormat
        fields = ["slug", "name"]
