"""The requests API: ask a mentor, follow your requests, answer them.

The same reads (``matching.selectors.requests``), writes (``matching.services.requests``) and
rules (``matching.rules``) as the pages. A service's refusal becomes:
- 400 with field keys (``{"kind": [...]}``) when it names a field, else ``{"detail": "..."}``;
- 409 with ``{"detail": "..."}`` when an action meets a request (or mentor) whose state
  no longer allows it: already answered or withdrawn, the mentor's last spot just went;
- 403 when the caller may see the request but not do this to it; 404 when they may not see it.
"""

from django.urls import path
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from accounts.models import Program, User
from core.access import ObjectScopedApi
from core.api.errors import ServiceErrorSerializer, service_refusals
from core.api.permissions import RulesPermission
from core.forms import max_length_of
from core.idempotency import idempotent

from ..models import Kind, MentorshipRequest
from ..selectors import requests as request_selectors
from ..services import requests as request_services

# --- Shapes. Serializers validate and present; the services decide and save.


class MentorshipRequestPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    full_name = serializers.CharField(read_only=True)


class MentorshipRequestSerializer(serializers.ModelSerializer):
    mentee = MentorshipRequestPersonSerializer(read_only=True)
    mentor = MentorshipRequestPersonSerializer(read_only=True)
    program = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    mentorship = serializers.IntegerField(
        source="mentorship_id", read_only=True, allow_null=True, help_text="The mentorship an accepted request started."
    )
    waiting_for_me = serializers.BooleanField(
        read_only=True,
        help_text="Pending, and the next move is yours: an answer (mentor), or the mentor's unread message (mentee).",
    )
    question = serializers.CharField(
        read_only=True,
        help_text="Deprecated: the old one-question flow. The conversation is at /api/v1/requests/{id}/messages/.",
    )
    answer = serializers.CharField(
        read_only=True,
        help_text="Deprecated: the old one-question flow. The conversation is at /api/v1/requests/{id}/messages/.",
    )

    class Meta:
        model = MentorshipRequest
        fields = [
            "id",
            "mentee",
            "mentor",
            "program",
            "kind",
            "message",
            "status",
            "waiting_for_me",
            "question",
            "question_asked_at",
            "answer",
            "answered_at",
            "response_note",
            "created_at",
            "expires_at",
            "resolved_at",
            "mentorship",
        ]
        read_only_fields = fields


class MentorshipRequestCreateSerializer(serializers.Serializer):
    mentor = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True, mentor_profile__isnull=False),
        help_text="The mentor's user id (as in /api/v1/mentors/).",
        error_messages={"does_not_exist": "There is no mentor with id {pk_value}."},
    )
    kind = serializers.ChoiceField(choices=Kind.choices)
    message = serializers.CharField(
        max_length=max_length_of(MentorshipRequest, "message"), help_text="Who you are and what you hope for."
    )
    program = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Program.objects.all(),
        required=False,
        help_text="The program (slug) the request belongs to: one you and the mentor share (or, sharing none, one "
        "of yours); needed only when there is more than one.",
    )


class MentorshipRequestNoteSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=max_length_of(MentorshipRequest, "response_note"), required=False, allow_blank=True, default=""
    )


class MentorshipRequestQuestionSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=max_length_of(MentorshipRequest, "question"))


class MentorshipRequestAnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=max_length_of(MentorshipRequest, "answer"))


# --- Filters.


class MentorshipRequestFilter(filters.FilterSet):
    role = filters.ChoiceFilter(
        choices=list(request_selectors.REQUEST_ROLES.items()),
        method="by_role",
        help_text="sent: requests you sent; received: requests to you; program: requests in programs you coordinate. "
        "Without it: all of these.",
    )
    status = filters.ChoiceFilter(choices=MentorshipRequest.Status.choices)
    kind = filters.ChoiceFilter(choices=Kind.choices)

    class Meta:
        model = MentorshipRequest
        fields = ["role", "status", "kind"]

    def by_role(self, queryset, name, value):
        # The view's queryset is everything the caller may see; each role is a slice of it.
        user = self.request.user
        if value == "sent":
            return queryset.filter(mentee=user)
        if value == "received":
            return queryset.filter(mentor=user)
        return queryset.exclude(mentee=user).exclude(mentor=user)


# --- Views.

_ERROR = ServiceErrorSerializer
_403 = OpenApiResponse(_ERROR, description="You may see this request but not do this to it.")
_404 = OpenApiResponse(_ERROR, description="No such request among those you may see.")
_409 = OpenApiResponse(
    _ERROR,
    description="The request's state no longer allows this: it was answered, withdrawn or expired, "
    "or the mentor's last spot was just taken.",
)


class _RequestApi(ObjectScopedApi, generics.GenericAPIView):
    serializer_class = MentorshipRequestSerializer
    permission_classes = [RulesPermission]
    object_permission = "matching.view_request"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return MentorshipRequest.objects.none()
        return request_selectors.request_list(self.request.user)

    def get_object_queryset(self):
        return self.get_queryset()

    def present(self, pk, *, code=status.HTTP_200_OK):
        """The request as the lists show it (re-read, so it carries ``waiting_for_me``)."""
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data, status=code)


@extend_schema(tags=["requests"])
@extend_schema_view(
    get=extend_schema(summary="Your requests: sent, received, and (coordinators) your programs'."),
    post=extend_schema(
        summary="Ask a mentor to mentor you. Send an Idempotency-Key header to make a retry safe.",
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description="Any unique string per intended request: a retry with the same key and body creates "
                "one request (the first answer is replayed); the same key with another body is 422.",
            )
        ],
        request=MentorshipRequestCreateSerializer,
        responses={
            201: MentorshipRequestSerializer,
            400: OpenApiResponse(
                description='Field errors, or {"detail": ...}: the mentor is full or not accepting, '
                "you already asked them, or you have the most pending requests at once."
            ),
            403: OpenApiResponse(_ERROR, description="Only residents can request a mentor."),
        },
    ),
)
class MentorshipRequestListApi(_RequestApi, generics.ListCreateAPIView):
    """Requests the caller may see, those waiting for their move first, then the newest."""

    filterset_class = MentorshipRequestFilter

    @idempotent
    def create(self, request, *args, **kwargs):
        data = MentorshipRequestCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_refusals(conflict=False):
            created = request_services.request_create(mentee=request.user, **data.validated_data)
        return self.present(created.pk, code=status.HTTP_201_CREATED)


@extend_schema(tags=["requests"], summary="One request", responses={200: MentorshipRequestSerializer, 404: _404})
class MentorshipRequestDetailApi(_RequestApi, generics.RetrieveAPIView):
    """One request, if you sent it, received it, or coordinate its program."""

    filter_backends = []


class _RequestActionApi(_RequestApi):
    """POST one state change to a request; the service checks the guard under a lock."""

    filter_backends = []
    input_serializer = None

    def act(self, mentorship_request, **data):
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        mentorship_request = self.get_object()
        data = {}
        if self.input_serializer is not None:
            given = self.input_serializer(data=request.data)
            given.is_valid(raise_exception=True)
            data = given.validated_data
        with service_refusals(conflict=True):
            self.act(mentorship_request, **data)
        return self.present(mentorship_request.pk)


def _action_schema(summary, input_serializer, *, deprecated=False):
    return extend_schema(
        tags=["requests"],
        summary=summary,
        deprecated=deprecated,
        request=input_serializer,
        responses={
            200: MentorshipRequestSerializer,
            **({400: OpenApiResponse(description="Field errors.")} if input_serializer else {}),
            403: _403,
            404: _404,
            409: _409,
        },
    )


@_action_schema(
    "Accept (the mentor): the mentorship starts, within the mentor's capacity.", MentorshipRequestNoteSerializer
)
class MentorshipRequestAcceptApi(_RequestActionApi):
    input_serializer = MentorshipRequestNoteSerializer

    def act(self, mentorship_request, **data):
        return request_services.request_accept(request=mentorship_request, actor=self.request.user, **data)


@_action_schema("Decline (the mentor), with an optional note to the resident.", MentorshipRequestNoteSerializer)
class MentorshipRequestDeclineApi(_RequestActionApi):
    input_serializer = MentorshipRequestNoteSerializer

    def act(self, mentorship_request, **data):
        return request_services.request_decline(request=mentorship_request, actor=self.request.user, **data)


@_action_schema("Withdraw (the resident) a pending request.", None)
class MentorshipRequestWithdrawApi(_RequestActionApi):
    def act(self, mentorship_request, **data):
        return request_services.request_withdraw(request=mentorship_request, actor=self.request.user)


@_action_schema(
    "Deprecated: ask (the mentor) one question before answering. It is posted as a message in the request's "
    "thread: use POST /api/v1/requests/{id}/messages/.",
    MentorshipRequestQuestionSerializer,
    deprecated=True,
)
class MentorshipRequestQuestionApi(_RequestActionApi):
    input_serializer = MentorshipRequestQuestionSerializer

    def act(self, mentorship_request, **data):
        return request_services.request_ask_question(request=mentorship_request, actor=self.request.user, **data)


@_action_schema(
    "Deprecated: answer (the resident) the mentor's question. It is posted as a message in the request's "
    "thread: use POST /api/v1/requests/{id}/messages/.",
    MentorshipRequestAnswerSerializer,
    deprecated=True,
)
class MentorshipRequestAnswerApi(_RequestActionApi):
    input_serializer = MentorshipRequestAnswerSerializer

    def act(self, mentorship_request, **data):
        return request_services.request_answer(request=mentorship_request, actor=self.request.user, **data)


urlpatterns = [
    path("requests/", MentorshipRequestListApi.as_view(), name="api-request-list"),
    path("requests/<int:id>/", MentorshipRequestDetailApi.as_view(), name="api-request-detail"),
    path("requests/<int:id>/accept/", MentorshipRequestAcceptApi.as_view(), name="api-request-accept"),
    path("requests/<int:id>/decline/", MentorshipRequestDeclineApi.as_view(), name="api-request-decline"),
    path("requests/<int:id>/withdraw/", MentorshipRequestWithdrawApi.as_view(), name="api-request-withdraw"),
    path("requests/<int:id>/question/", MentorshipRequestQuestionApi.as_view(), name="api-request-question"),
    path("requests/<int:id>/answer/", MentorshipRequestAnswerApi.as_view(), name="api-request-answer"),
]
