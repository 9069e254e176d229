"""The pair's messages in the API: a request's or a mentorship's thread, one message, and
what is unread. The same reads (``matching.selectors.messages``), writes
(``matching.services.messages``) and rules (``matching.rules``) as the pages.

Only the two people of a thread read it. A coordinator of the program (who may see the
request or mentorship) gets 403; anyone else 404. A refusal from a service becomes 400 (field
errors), 409 (the thread is closed, the edit window has passed, the message was deleted) or
429 (too many messages too fast).
"""

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import generics, serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import ObjectScopedApi
from core.api.errors import ServiceErrorSerializer, service_refusals
from core.api.permissions import RulesPermission
from core.forms import max_length_of
from core.idempotency import idempotent

from ..models import Message
from ..selectors import messages as message_selectors
from ..selectors.mentorships import mentorships_with_details
from ..selectors.requests import requests_for_page
from ..services import messages as message_services

BODY_MAX = max_length_of(Message, "body")

# --- Shapes.


class MessageAuthorSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    full_name = serializers.CharField(read_only=True)


class MessageSerializer(serializers.ModelSerializer):
    author = MessageAuthorSerializer(read_only=True)
    body = serializers.SerializerMethodField(help_text='The text, plain; empty once deleted ("Message deleted").')
    mentorship = serializers.IntegerField(
        source="mentorship_id", read_only=True, allow_null=True, help_text="The mentorship's thread it is in."
    )
    request = serializers.IntegerField(
        source="request_id",
        read_only=True,
        allow_null=True,
        help_text="The request's thread it is in (a mentorship's thread begins with its request's messages).",
    )
    deleted = serializers.SerializerMethodField()
    editable_until = serializers.SerializerMethodField(
        help_text="Until when the author may edit it (created_at + 10 minutes)."
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "mentorship",
            "request",
            "author",
            "body",
            "created_at",
            "edited_at",
            "deleted",
            "deleted_at",
            "read_at",
            "editable_until",
        ]
        read_only_fields = fields

    def get_body(self, message) -> str:
        return "" if message.is_deleted else message.body

    def get_deleted(self, message) -> bool:
        return message.is_deleted

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_editable_until(self, message) -> str:
        return serializers.DateTimeField().to_representation(message.created_at + Message.EDIT_WINDOW)


class MessageWriteSerializer(serializers.Serializer):
    body = serializers.CharField(
        max_length=BODY_MAX, trim_whitespace=False, help_text="Plain text; links are shown clickable."
    )


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many of the other person's messages were marked read now.")


class UnreadSerializer(serializers.Serializer):
    unread = serializers.IntegerField(help_text="Messages to you, in all your threads, that you have not opened yet.")


_ERROR = ServiceErrorSerializer
_400 = OpenApiResponse(description="Field errors: an empty message, or one over 4,000 characters.")
_403 = OpenApiResponse(
    _ERROR, description="You may see this but not its messages (a coordinator), or the message is not yours."
)
_404 = OpenApiResponse(_ERROR, description="No such thread or message among those you may see.")
_409 = OpenApiResponse(
    _ERROR,
    description="The thread is closed (request answered, mentorship ended), the 10 minutes to edit have passed, "
    "or the message was deleted.",
)
_429 = OpenApiResponse(_ERROR, description="Too many messages too fast: wait (Retry-After) and send again.")
_IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique string per intended message: a retry with the same key and body sends it once "
    "(the first answer is replayed, Idempotent-Replayed: true); the same key with another body is 422.",
)


def _refusals():
    return service_refusals(conflict=True)


def _post(thread, request):
    given = MessageWriteSerializer(data=request.data)
    given.is_valid(raise_exception=True)
    with _refusals():
        try:
            message = message_services.message_post(
                thread=thread, author=request.user, body=given.validated_data["body"]
            )
        except message_services.MessageRateLimited as exc:
            raise Throttled(wait=exc.retry_after, detail=" ".join(exc.messages)) from exc
    fresh = message_selectors.messages_for_page().get(pk=message.pk)
    return Response(MessageSerializer(fresh).data, status=status.HTTP_201_CREATED)


class _ThreadApi(ObjectScopedApi, generics.GenericAPIView):
    # One thread: the request's or the mentorship's, read and written by its pair only.
    serializer_class = MessageSerializer
    permission_classes = [RulesPermission]
    object_permission = "matching.message_thread"
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return Message.objects.none()
        return message_selectors.thread_messages(self.get_object())


class _MentorshipThread:
    object_visible_with = "matching.view_mentorship"

    def get_object_queryset(self):
        return mentorships_with_details()


class _RequestThread:
    object_visible_with = "matching.view_request"

    def get_object_queryset(self):
        return requests_for_page()


def _thread_schema(tag: str, what: str):
    thread_id = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description=f"The {what}'s id.")
    return extend_schema_view(
        get=extend_schema(
            tags=[tag],
            parameters=[thread_id],
            summary=f"The {what}'s messages, oldest first (newest at the end), paginated. Reading them here does "
            "not mark them read: POST …/messages/read/ does.",
            responses={200: MessageSerializer(many=True), 403: _403, 404: _404},
        ),
        post=extend_schema(
            tags=[tag],
            parameters=[thread_id, _IDEMPOTENCY],
            summary=f"Write to the other person of the {what}; they are notified (e-mail per their preference).",
            request=MessageWriteSerializer,
            responses={201: MessageSerializer, 400: _400, 403: _403, 404: _404, 409: _409, 429: _429},
        ),
    )


@_thread_schema("mentorships", "mentorship")
class MentorshipMessageListApi(_MentorshipThread, _ThreadApi, generics.ListCreateAPIView):
    @idempotent
    def post(self, request, *args, **kwargs):
        return _post(self.get_object(), request)


@_thread_schema("requests", "request")
class RequestMessageListApi(_RequestThread, _ThreadApi, generics.ListCreateAPIView):
    @idempotent
    def post(self, request, *args, **kwargs):
        return _post(self.get_object(), request)


def _read_schema(tag: str, what: str):
    return extend_schema(
        tags=[tag],
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description=f"The {what}'s id.")],
        summary=f"Mark the other person's messages in the {what}'s thread read (and their notifications).",
        request=None,
        responses={200: MarkedSerializer, 403: _403, 404: _404},
    )


class _ReadApi(_ThreadApi):
    serializer_class = MarkedSerializer

    def post(self, request, *args, **kwargs):
        marked = message_services.thread_mark_read(thread=self.get_object(), user=request.user)
        return Response({"marked": marked})


@_read_schema("mentorships", "mentorship")
class MentorshipMessagesReadApi(_MentorshipThread, _ReadApi):
    pass


@_read_schema("requests", "request")
class RequestMessagesReadApi(_RequestThread, _ReadApi):
    pass


@extend_schema(tags=["messages"])
@extend_schema_view(
    get=extend_schema(summary="One message of a thread of yours.", responses={200: MessageSerializer, 404: _404}),
    patch=extend_schema(
        summary="Correct your message, within 10 minutes of sending it.",
        request=MessageWriteSerializer,
        responses={200: MessageSerializer, 400: _400, 403: _403, 404: _404, 409: _409},
    ),
    delete=extend_schema(
        summary='Delete your message: it shows as "Message deleted", its text gone.',
        request=None,
        responses={204: None, 403: _403, 404: _404, 409: _409},
    ),
)
class MessageApi(ObjectScopedApi, generics.GenericAPIView):
    serializer_class = MessageSerializer
    permission_classes = [RulesPermission]
    object_permission = "matching.read_message"
    filter_backends = []
    http_method_names = ["get", "patch", "delete", "options"]

    def get_object_queryset(self):
        return message_selectors.messages_for_page()

    def _own(self):
        # Reading needs the thread; changing needs authorship (403 to the other person).
        self.object_permission = "matching.change_message"
        self.object_visible_with = "matching.read_message"
        return self.get_object()

    def get(self, request, id):
        return Response(MessageSerializer(self.get_object()).data)

    def patch(self, request, id):
        message = self._own()
        # A PATCH sends what changes: without ``body`` nothing does, and the message is read back.
        given = MessageWriteSerializer(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        if not given.validated_data:
            return Response(MessageSerializer(message_selectors.messages_for_page().get(pk=message.pk)).data)
        with _refusals():
            message = message_services.message_edit(message=message, actor=request.user, **given.validated_data)
        return Response(MessageSerializer(message_selectors.messages_for_page().get(pk=message.pk)).data)

    def delete(self, request, id):
        message = self._own()
        with _refusals():
            message_services.message_delete(message=message, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    tags=["messages"],
    summary="How many messages wait for you, across your threads (the bell's count).",
    responses={200: UnreadSerializer},
)
class UnreadMessagesApi(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"unread": message_selectors.unread_message_count(request.user)})


urlpatterns = [
    path("mentorships/<int:id>/messages/", MentorshipMessageListApi.as_view(), name="api-mentorship-messages"),
    path(
        "mentorships/<int:id>/messages/read/", MentorshipMessagesReadApi.as_view(), name="api-mentorship-messages-read"
    ),
    path("requests/<int:id>/messages/", RequestMessageListApi.as_view(), name="api-request-messages"),
    path("requests/<int:id>/messages/read/", RequestMessagesReadApi.as_view(), name="api-request-messages-read"),
    path("messages/unread/", UnreadMessagesApi.as_view(), name="api-messages-unread"),
    path("messages/<int:id>/", MessageApi.as_view(), name="api-message"),
]
