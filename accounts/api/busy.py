"""API for the signed-in person's busy blocks and the calendars they import them from.

The same services as the page (``accounts/busy.py``). Everything is scoped to the person
asking: another person's block or calendar — a resident's, to their coordinator too —
answers 404, as if it did not exist. Imported blocks are read-only here (400): they belong
to their calendar, which is refreshed daily and removed as a whole.
"""

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from core.api.errors import service_refusals

from .. import busy
from ..models import BusyBlock, BusyCalendar

_404 = OpenApiResponse(description="Not one of yours, or no such id.")
_400 = OpenApiResponse(description="Invalid: the errors are keyed by field.")


class BusyBlockSerializer(serializers.ModelSerializer):
    calendar = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text="The imported calendar this block comes from; null for a block typed in.",
    )
    source = serializers.SerializerMethodField(help_text="Where the block comes from, in words.")

    class Meta:
        model = BusyBlock
        fields = ["id", "label", "start_date", "end_date", "calendar", "source"]
        read_only_fields = ["id", "calendar", "source"]

    def get_source(self, obj) -> str:
        return obj.calendar.name if obj.calendar_id else "Typed in"


class BusyBlockInputSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=120)
    start_date = serializers.DateField()
    end_date = serializers.DateField()


class BusyCalendarSerializer(serializers.ModelSerializer):
    block_count = serializers.SerializerMethodField()
    kind = serializers.SerializerMethodField(help_text="url: refreshed daily; file: imported once.")
    # A plain string, not format uri: blank for an uploaded file, and webcal:// is allowed.
    url = serializers.CharField(read_only=True, help_text="The calendar's address; blank for an uploaded file.")

    class Meta:
        model = BusyCalendar
        fields = ["id", "name", "url", "kind", "created_at", "last_synced_at", "last_error", "block_count"]
        read_only_fields = fields

    def get_block_count(self, obj) -> int:
        return len(obj.blocks.all())

    def get_kind(self, obj) -> str:
        return "url" if obj.url else "file"


class BusyCalendarInputSerializer(serializers.Serializer):
    url = serializers.CharField(
        max_length=1000, required=False, help_text="An https://, http:// or webcal:// iCalendar address."
    )
    file = serializers.FileField(required=False, help_text="An .ics file (multipart/form-data).")
    name = serializers.CharField(max_length=120, required=False, allow_blank=True)

    def validate(self, data):
        if bool(data.get("url")) == bool(data.get("file")):
            raise serializers.ValidationError("Give either a calendar address (url) or a file, not both.")
        return data


def _blocks(request):
    return BusyBlock.objects.filter(user=request.user).select_related("calendar").order_by("start_date", "id")


def _calendars(request):
    return BusyCalendar.objects.filter(user=request.user).prefetch_related("blocks")


@extend_schema(tags=["me"])
class BusyBlockListApi(generics.GenericAPIView):
    """Your busy blocks (typed in and imported); POST adds one."""

    serializer_class = BusyBlockSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return BusyBlock.objects.none()
        return _blocks(self.request)

    @extend_schema(summary="Your busy blocks, typed in and imported", responses={200: BusyBlockSerializer(many=True)})
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(BusyBlockSerializer(page, many=True).data)

    @extend_schema(
        summary="Add a busy block", request=BusyBlockInputSerializer, responses={201: BusyBlockSerializer, 400: _400}
    )
    def post(self, request):
        data = BusyBlockInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_refusals():
            block = busy.busy_block_create(user=request.user, **data.validated_data)
        return Response(BusyBlockSerializer(block).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["me"])
class BusyBlockDetailApi(generics.GenericAPIView):
    """One of your busy blocks: read, change (PUT/PATCH) or remove it."""

    serializer_class = BusyBlockSerializer
    http_method_names = ["get", "put", "patch", "delete", "head", "options"]

    def get_object(self):
        return get_object_or_404(_blocks(self.request), pk=self.kwargs["id"])

    @extend_schema(summary="One of your busy blocks", responses={200: BusyBlockSerializer, 404: _404})
    def get(self, request, id):
        return Response(BusyBlockSerializer(self.get_object()).data)

    def _update(self, request, *, partial):
        block = self.get_object()
        data = BusyBlockInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        fields = {"label": block.label, "start_date": block.start_date, "end_date": block.end_date}
        fields.update(data.validated_data)
        with service_refusals():
            block = busy.busy_block_update(block=block, actor=request.user, **fields)
        return Response(BusyBlockSerializer(block).data)

    @extend_schema(
        summary="Replace a busy block",
        request=BusyBlockInputSerializer,
        responses={200: BusyBlockSerializer, 400: _400, 404: _404},
    )
    def put(self, request, id):
        return self._update(request, partial=False)

    @extend_schema(
        summary="Change some fields of a busy block",
        request=BusyBlockInputSerializer,
        responses={200: BusyBlockSerializer, 400: _400, 404: _404},
    )
    def patch(self, request, id):
        return self._update(request, partial=True)

    @extend_schema(summary="Remove a busy block", responses={204: None, 400: _400, 404: _404})
    def delete(self, request, id):
        block = self.get_object()
        with service_refusals():
            busy.busy_block_delete(block=block, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["me"])
class BusyCalendarListApi(generics.GenericAPIView):
    """Calendars your busy blocks are imported from; POST imports one: ``url`` (JSON, refreshed
    daily) or ``file`` (multipart, imported once). A bad address or file is 400 and saves nothing."""

    serializer_class = BusyCalendarSerializer
    parser_classes = [JSONParser, MultiPartParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return BusyCalendar.objects.none()
        return _calendars(self.request)

    @extend_schema(
        summary="The calendars your busy blocks are imported from", responses={200: BusyCalendarSerializer(many=True)}
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(BusyCalendarSerializer(page, many=True).data)

    @extend_schema(
        summary="Import busy blocks from a calendar address (JSON) or an .ics file (multipart)",
        request=BusyCalendarInputSerializer,
        responses={201: BusyCalendarSerializer, 400: _400},
    )
    def post(self, request):
        data = BusyCalendarInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        name = data.validated_data.get("name", "")
        with service_refusals():
            if data.validated_data.get("url"):
                calendar = busy.busy_calendar_add_url(user=request.user, url=data.validated_data["url"], name=name)
            else:
                upload = data.validated_data["file"]
                if upload.size > settings.BUSY_CALENDAR_MAX_BYTES:
                    raise serializers.ValidationError({"file": ["The file is too large."]})
                calendar = busy.busy_calendar_import_file(
                    user=request.user, content=upload.read(), name=name, filename=upload.name
                )
        return Response(BusyCalendarSerializer(calendar).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["me"])
class BusyCalendarDetailApi(generics.GenericAPIView):
    """One imported calendar; DELETE removes it with its blocks."""

    serializer_class = BusyCalendarSerializer
    http_method_names = ["get", "delete", "head", "options"]

    def get_object(self):
        return get_object_or_404(_calendars(self.request), pk=self.kwargs["id"])

    @extend_schema(summary="One imported calendar", responses={200: BusyCalendarSerializer, 404: _404})
    def get(self, request, id):
        return Response(BusyCalendarSerializer(self.get_object()).data)

    @extend_schema(summary="Remove an imported calendar with its busy blocks", responses={204: None, 404: _404})
    def delete(self, request, id):
        busy.busy_calendar_delete(calendar=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    tags=["me"],
    summary="Fetch a subscribed calendar again now",
    request=None,
    responses={200: BusyCalendarSerializer, 400: _400, 404: _404},
)
class BusyCalendarRefreshApi(generics.GenericAPIView):
    """Fetch a subscribed calendar again now. A failed fetch keeps the blocks and is
    reported in ``last_error`` (200: the calendar is as it was)."""

    serializer_class = BusyCalendarSerializer

    def post(self, request, id):
        calendar = get_object_or_404(_calendars(request), pk=id)
        with service_refusals():
            calendar = busy.busy_calendar_refresh(calendar=calendar, actor=request.user)
        return Response(BusyCalendarSerializer(_calendars(request).get(pk=calendar.pk)).data)
