"""API for notifications: the signed-in user's own, and how they are e-mailed.

The same reads and writes as the pages (``matching.notifications``); nobody sees or
marks another person's notifications: those answer 404, as if they did not exist.
"""

from django.urls import path
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.response import Response

from core.filters import StrictBooleanFilter

from .. import notifications as notification_services
from ..models import Notification, NotificationPreference
from ..selectors import notifications as notification_selectors


class NotificationSerializer(serializers.ModelSerializer):
    url = serializers.CharField(read_only=True, help_text="Where the notification points: a path in the app.")
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "event", "title", "body", "url", "created_at", "read_at", "is_read"]
        read_only_fields = fields

    def get_is_read(self, obj) -> bool:
        return obj.read_at is not None


class NotificationPreferenceSerializer(serializers.ModelSerializer):
    delivery = serializers.ChoiceField(
        choices=Notification.Delivery.choices,
        help_text="immediate: an e-mail for each notification; digest: one e-mail a day listing them.",
    )

    class Meta:
        model = NotificationPreference
        fields = ["delivery"]


class ReadAllSerializer(serializers.Serializer):
    marked = serializers.IntegerField(read_only=True, help_text="How many notifications were unread.")


class NotificationFilter(filters.FilterSet):
    unread = StrictBooleanFilter(
        field_name="read_at", lookup_expr="isnull", help_text="true: unread only; false: read only."
    )

    class Meta:
        model = Notification
        fields = ["unread"]


class _OwnNotifications:
    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Notification.objects.none()
        return notification_selectors.notifications_for(self.request.user)


@extend_schema(tags=["notifications"], summary="Your notifications, newest first")
class NotificationListApi(_OwnNotifications, generics.ListAPIView):
    """The signed-in user's notifications, newest first."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter


@extend_schema(tags=["notifications"])
class NotificationReadApi(_OwnNotifications, generics.GenericAPIView):
    """Mark one notification read. Marking it again keeps the first read time."""

    serializer_class = NotificationSerializer

    @extend_schema(
        summary="Mark one notification read (again keeps the first read time)",
        request=None,
        responses={200: NotificationSerializer, 404: OpenApiResponse(description="Not one of your notifications.")},
    )
    def post(self, request, pk):
        notification = self.get_object()
        notification_services.notification_mark_read(notification=notification)
        return Response(self.get_serializer(notification).data)


@extend_schema(tags=["notifications"])
class NotificationReadAllApi(generics.GenericAPIView):
    """Mark every unread notification read."""

    serializer_class = ReadAllSerializer

    @extend_schema(summary="Mark every unread notification read", request=None, responses={200: ReadAllSerializer})
    def post(self, request):
        marked = notification_services.notifications_mark_all_read(user=request.user)
        return Response(self.get_serializer({"marked": marked}).data)


@extend_schema(tags=["notifications"])
@extend_schema_view(
    get=extend_schema(summary="How you are e-mailed: each notification right away, or a daily digest"),
    put=extend_schema(summary="Choose how you are e-mailed"),
)
class NotificationPreferenceApi(generics.GenericAPIView):
    """How the signed-in user is e-mailed: each notification right away, or a daily digest."""

    serializer_class = NotificationPreferenceSerializer
    http_method_names = ["get", "put", "head", "options"]

    def get(self, request):
        return Response({"delivery": notification_selectors.delivery_of(request.user)})

    def put(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        preference = notification_services.notification_preference_set(
            user=request.user, delivery=serializer.validated_data["delivery"]
        )
        return Response(self.get_serializer(preference).data)


urlpatterns = [
    path("notifications/", NotificationListApi.as_view(), name="api-notifications"),
    path("notifications/read-all/", NotificationReadAllApi.as_view(), name="api-notifications-read-all"),
    path("notifications/preferences/", NotificationPreferenceApi.as_view(), name="api-notification-preferences"),
    path("notifications/<int:pk>/read/", NotificationReadApi.as_view(), name="api-notification-read"),
]
