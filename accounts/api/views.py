"""The accounts API: who am I, my mentee profile and availability, the programs a
coordinator runs, and the vocabularies. (The mentor directory and the mentor profile,
which read and change mentorships, are matching's: ``matching.api``.)

Reads come from ``accounts.selectors`` (the querysets the pages show), writes go
through ``accounts.services``, and who may do what is asked of ``accounts.rules``
through ``RulesPermission``; views only wire these together.
"""

from allauth.mfa.models import Authenticator
from django.shortcuts import get_object_or_404
from django.utils.cache import patch_cache_control
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from core.access import ProgramScopedApi, program_for
from core.api.permissions import RulesPermission

from .. import selectors, services
from ..auth import policy
from ..models import (
    AcademicRank,
    CareerStage,
    Goal,
    Interest,
    Language,
    MeetingFormat,
    MenteeProfile,
    Specialty,
)
from ..throttles import TokenClientThrottle, TokenEmailThrottle
from . import filters, serializers
from .authentication import ApiTokenAuthentication
from .serializers import django_validation_errors_as_api_errors

# --- Signing in.


# What the token endpoint says about a second factor (accounts/auth/policy.py says who needs one).
CODE_MISSING = "Enter the current code from your authenticator app, or one of your recovery codes."
CODE_WRONG = "That code is not right, or it has been used already. Enter a current code or an unused recovery code."
SECURITY_KEY_ONLY = (
    "Your second factor is a security key or passkey, which this endpoint cannot check. "
    "Create a token on the site instead: My profile › Sign-in and security › API tokens."
)
SET_UP_FIRST = "Set up two-factor authentication on the site first; then sign in here with its code."


@extend_schema(tags=["auth"])
class TokenObtainApi(generics.GenericAPIView):
    """Exchange an e-mail address and password for an API token (POST), or sign out of
    the API by revoking the token you present (DELETE).

    Throttled, and checked by django-axes like the sign-in page: after repeated
    failures the e-mail/address pair is locked out for a while. Someone with an
    authenticator app sends its current code (or an unused recovery code) as ``code``;
    someone whose only second factor is a security key creates tokens on the site. The
    token is in the response only; it expires at ``expires_at`` and dies sooner with a new
    password or when you sign out of the site (which revokes all of your tokens).
    """

    serializer_class = serializers.TokenObtainSerializer
    # No session authentication, so no CSRF check: the credentials are the proof.
    authentication_classes = []
    permission_classes = [AllowAny]
    # Per client address and per canonical e-mail (accounts/throttles.py). They also bound
    # guesses at a second-factor code, which are made only after the password is right.
    throttle_classes = [TokenClientThrottle, TokenEmailThrottle]

    def _signing_out(self):
        # (No request yet while drf-spectacular builds its mock one.)
        return getattr(self.request, "method", None) == "DELETE"

    def get_authenticators(self):
        # Signing out needs the token itself, and nothing else will do. Signing in ignores
        # any Authorization header, so a client whose token expired can always sign in again.
        if self._signing_out():
            return [ApiTokenAuthentication()]
        return super().get_authenticators()

    def get_permissions(self):
        if self._signing_out():
            return [IsAuthenticated()]
        return super().get_permissions()

    @extend_schema(
        auth=[],
        operation_id="auth_token_create",
        summary="Sign in: a new API token for an e-mail address, password and (if you have one) second-factor code",
        responses={
            200: serializers.TokenObtainSerializer,
            400: OpenApiResponse(
                description="Wrong e-mail or password; or a second-factor code missing, wrong or already used "
                "(under `code`); or a security key is your only second factor (create a token on the site)."
            ),
            403: OpenApiResponse(description="You must use a second factor and have not set one up on the site yet."),
        },
    )
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        self._check_second_factor(user, serializer.validated_data.get("code", ""))
        with django_validation_errors_as_api_errors():
            token, secret = services.api_token_issue(user=user, name=serializer.validated_data.get("name", ""))
        data = {"id": token.pk, "name": token.name, "token": secret, "expires_at": token.expires_at}
        response = Response(self.get_serializer(data).data)
        # The secret is in this body only: no cache, shared or the client's own, may keep it.
        patch_cache_control(response, no_store=True)
        response["Pragma"] = "no-cache"
        return response

    @staticmethod
    def _check_second_factor(user, code):
        """After the password: the code of the user's authenticator app, if they have one."""
        factors = set(Authenticator.objects.filter(user=user).values_list("type", flat=True))
        if Authenticator.Type.TOTP in factors:
            if not code:
                raise ValidationError({"code": [CODE_MISSING]})
            if not services.second_factor_verify(user=user, code=code):
                raise ValidationError({"code": [CODE_WRONG]})
        elif factors & set(policy.SECOND_FACTORS):
            # Only a security key: it signs a challenge in a browser, nothing a script can type.
            raise ValidationError({"code": [SECURITY_KEY_ONLY]})
        elif policy.mfa_required(user):
            raise PermissionDenied(SET_UP_FIRST)

    @extend_schema(
        summary="Sign out: revoke the token this request presents",
        request=None,
        responses={204: OpenApiResponse(description="The token is revoked.")},
    )
    def delete(self, request):
        services.api_token_revoke(user=request.user, token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"], summary="Your live API tokens (never their secrets)")
class TokenListApi(generics.ListAPIView):
    """Your API tokens that have not expired, newest first: what each is for, when it expires
    and when it was last used. The secrets are not here: each was shown once, when it was made."""

    serializer_class = serializers.ApiTokenSerializer
    filter_backends = []

    def get_queryset(self):
        return selectors.api_tokens_of(self.request.user)


@extend_schema(tags=["auth"])
class TokenRevokeApi(generics.GenericAPIView):
    """Revoke one of your API tokens, by its id (from the list). Anyone else's token, or one
    already revoked or expired, is 404."""

    serializer_class = serializers.ApiTokenSerializer
    http_method_names = ["delete", "options"]

    def get_queryset(self):
        return selectors.api_tokens_of(self.request.user)

    @extend_schema(
        summary="Revoke one of your API tokens",
        request=None,
        responses={
            204: OpenApiResponse(description="The token is revoked."),
            404: OpenApiResponse(description="No token of yours with this id is live."),
        },
    )
    def delete(self, request, id):
        token = get_object_or_404(self.get_queryset(), pk=id)
        services.api_token_revoke(user=request.user, token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- The signed-in user.


@extend_schema(tags=["me"])
@extend_schema_view(
    get=extend_schema(summary="You: name, time zone and roles in each program"),
    patch=extend_schema(summary="Change your name or time zone"),
)
class MeApi(generics.RetrieveUpdateAPIView):
    """The signed-in user: name, time zone and roles in each program."""

    serializer_class = serializers.MeSerializer
    permission_classes = [RulesPermission]
    object_permission_required = {
        "GET": "accounts.view_person",
        "HEAD": "accounts.view_person",
        "PATCH": "accounts.change_person",
    }
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        user = selectors.account_of(self.request.user)
        self.check_object_permissions(self.request, user)
        return user

    def perform_update(self, serializer):
        services.user_update(user=serializer.instance, **serializer.validated_data)


class OwnProfileApi(generics.GenericAPIView):
    """GET, PUT (create or replace) and PATCH one of the signed-in user's profiles: the mentee
    profile here, the mentor profile in ``matching.api.profiles``."""

    permission_classes = [RulesPermission]
    object_permission_required = "accounts.change_profile"
    http_method_names = ["get", "put", "patch", "head", "options"]
    permission_required = None  # who may keep this kind of profile at all, as on the profile pages
    model = None
    kind = ""

    def load(self):
        raise NotImplementedError

    def save(self, **fields):
        raise NotImplementedError

    def get_object(self):
        profile = self.load()
        if profile is None:
            if self.request.method != "PUT":
                raise NotFound(f"You have no {self.kind} profile yet; PUT one to create it.")
            # Asked about the profile PUT would create, so the same rule decides.
            profile = self.model(user=self.request.user)
        self.check_object_permissions(self.request, profile)
        return profile

    def get(self, request):
        return Response(self.get_serializer(self.get_object()).data)

    def put(self, request):
        return self._write(partial=False)

    def patch(self, request):
        return self._write(partial=True)

    def _write(self, *, partial):
        profile = self.get_object()
        created = profile.pk is None
        serializer = self.get_serializer(profile, data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data) if partial else serializer.replace_values()
        with django_validation_errors_as_api_errors():
            self.save(**fields)
        data = self.get_serializer(self.load()).data
        return Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


PROFILE_404 = OpenApiResponse(description="No profile yet.")
PROFILE_403 = OpenApiResponse(
    description="Not your kind of profile: residents keep mentee profiles, faculty mentor profiles."
)


@extend_schema(tags=["me"], responses={200: serializers.MenteeProfileSerializer, 403: PROFILE_403, 404: PROFILE_404})
@extend_schema_view(
    get=extend_schema(summary="Your mentee profile"),
    patch=extend_schema(summary="Change some fields of your mentee profile"),
)
class MenteeProfileApi(OwnProfileApi):
    """The signed-in user's mentee profile."""

    serializer_class = serializers.MenteeProfileSerializer
    permission_required = "accounts.have_mentee_profile"
    model = MenteeProfile
    kind = "mentee"

    def load(self):
        return selectors.own_mentee_profile(self.request.user)

    def save(self, **fields):
        return services.mentee_profile_update(user=self.request.user, **fields)

    @extend_schema(
        summary="Create or replace your mentee profile",
        responses={200: serializers.MenteeProfileSerializer, 201: serializers.MenteeProfileSerializer},
    )
    def put(self, request):
        return super().put(request)


@extend_schema(tags=["me"])
@extend_schema_view(
    get=extend_schema(summary="Your weekly availability, in your time zone"),
    put=extend_schema(summary="Replace your weekly availability (every window at once)"),
)
class AvailabilityApi(generics.GenericAPIView):
    """The signed-in user's weekly availability, in their own time zone.

    PUT replaces every window at once; overlapping windows on a day are merged.
    """

    serializer_class = serializers.AvailabilitySerializer
    permission_classes = [RulesPermission]
    object_permission_required = {
        "GET": "accounts.view_person",
        "HEAD": "accounts.view_person",
        "PUT": "accounts.change_person",
    }
    http_method_names = ["get", "put", "head", "options"]

    def _current(self):
        return {"windows": selectors.availability_of(self.request.user)}

    def get(self, request):
        self.check_object_permissions(request, request.user)
        return Response(self.get_serializer(self._current()).data)

    def put(self, request):
        self.check_object_permissions(request, request.user)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        windows = [(w["weekday"], w["start"], w["end"]) for w in serializer.validated_data["windows"]]
        with django_validation_errors_as_api_errors(field="windows"):
            services.availability_replace(user=request.user, windows=windows)
        return Response(self.get_serializer(self._current()).data)


# --- Programs, for their coordinators.


@extend_schema(tags=["programs"])
@extend_schema_view(
    list=extend_schema(summary="The programs you coordinate"),
    retrieve=extend_schema(summary="One program you coordinate"),
)
class ProgramViewSet(viewsets.ReadOnlyModelViewSet):
    """The programs you coordinate (every program, for a superuser). Someone who coordinates none
    gets 403; a program you are a member of but do not coordinate is 403, any other program 404."""

    serializer_class = serializers.ProgramSerializer
    permission_classes = [RulesPermission]
    lookup_field = "slug"

    @property
    def permission_required(self) -> str | None:
        return "accounts.coordinate" if self.action == "list" else None

    def get_queryset(self):
        return selectors.programs_managed_by(self.request.user)

    def get_object(self):
        return program_for(self.request.user, self.kwargs[self.lookup_field], "accounts.view_program")


class RosterProgramApi(ProgramScopedApi, generics.GenericAPIView):
    """One program, for its coordinators: its other members get 403, anyone else 404."""

    permission_classes = [RulesPermission]
    program_permission = "accounts.manage_roster"


@extend_schema(
    tags=["programs"],
    summary="A program's roster: residents and faculty, filtered as on the roster page",
    parameters=[filters.RosterQuery],
    responses={
        200: serializers.RosterMemberSerializer(many=True),
        400: OpenApiResponse(description="A filter is not valid, e.g. a search of too many words (the key names it)."),
    },
)
class ProgramRosterApi(RosterProgramApi, generics.ListAPIView):
    """Residents and faculty of a program the signed-in user coordinates, filtered as on the roster page."""

    serializer_class = serializers.RosterMemberSerializer
    filter_backends = []  # RosterQuery and selectors.roster_search do the filtering

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return selectors.roster_of(None).none()
        program = self.get_program()
        query = filters.RosterQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.roster_search(program, **query.validated_data)


# --- Vocabularies: read-only lists every signed-in user may read.


class _VocabularyViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """A read-only, paginated list every signed-in user may read."""


@extend_schema(tags=["vocabularies"], summary="Specialties (ACGME) and their subspecialties")
class SpecialtyViewSet(_VocabularyViewSet):
    """ACGME specialties and their subspecialties."""

    queryset = Specialty.objects.select_related("parent").order_by("name", "pk")
    serializer_class = serializers.SpecialtySerializer
    filterset_class = filters.SpecialtyFilter


@extend_schema(tags=["vocabularies"], summary="Mentoring goals")
class GoalViewSet(_VocabularyViewSet):
    queryset = Goal.objects.all()
    serializer_class = serializers.GoalSerializer


@extend_schema(tags=["vocabularies"], summary="Interests")
class InterestViewSet(_VocabularyViewSet):
    queryset = Interest.objects.all()
    serializer_class = serializers.InterestSerializer


@extend_schema(tags=["vocabularies"], summary="Career stages (MS4, PGY-1 … PGY-7, fellow, junior faculty)")
class CareerStageViewSet(_VocabularyViewSet):
    queryset = CareerStage.objects.all()
    serializer_class = serializers.CareerStageSerializer


@extend_schema(tags=["vocabularies"], summary="Academic ranks")
class AcademicRankViewSet(_VocabularyViewSet):
    queryset = AcademicRank.objects.all()
    serializer_class = serializers.AcademicRankSerializer


@extend_schema(tags=["vocabularies"], summary="Languages")
class LanguageViewSet(_VocabularyViewSet):
    queryset = Language.objects.all()
    serializer_class = serializers.LanguageSerializer


@extend_schema(tags=["vocabularies"], summary="Meeting formats (in person, video, phone)")
class MeetingFormatViewSet(_VocabularyViewSet):
    queryset = MeetingFormat.objects.all()
    serializer_class = serializers.MeetingFormatSerializer
