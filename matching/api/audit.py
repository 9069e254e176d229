"""The audit trail API, for the program's coordinators only (anyone else: 404).

``GET /programs/{slug}/audit/``: the same entries, filters and order as the page
(``matching.audit_trail.audit_search``), paginated. Read-only: there is no endpoint that changes or
deletes an entry, so PUT, PATCH, DELETE and POST answer 405.
"""

import zoneinfo

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers

from accounts.api.filters import SearchQueryField
from audit.actions import ACTION_GROUPS, SYSTEM, action_group, action_label
from audit.models import AuditEntry
from core.access import ProgramScopedApi
from core.api.errors import ServiceErrorSerializer
from core.api.permissions import RulesPermission
from core.forms import EARLIEST_DAY, LATEST_DAY
from core.search import SEARCH_HELP, SEARCH_MAX_LENGTH

from ..audit_trail import ObjectRef, audit_search, describe_changes, describe_objects, person_names

_FIRST_DAY, _LAST_DAY = EARLIEST_DAY, LATEST_DAY  # as the page's DateRangeForm
_Q_HELP = "Words that must all match the action, its label, the reason, the actor, or the people the entry is about."


# A person's id (digits, fewer than the database's integers hold) or "system"; empty is not given.
ACTOR_PATTERN = r"^([0-9]{1,18}|system)?$"


class AuditFilterSerializer(serializers.Serializer):
    """The query parameters (validated; a bad one is a 400 naming it)."""

    q = SearchQueryField(help_text=_Q_HELP)
    group = serializers.ChoiceField(choices=list(ACTION_GROUPS), required=False, allow_blank=True, default="")
    actor = serializers.CharField(required=False, allow_blank=True, default="")

    def get_fields(self):
        fields = super().get_fields()
        # "from" is a Python keyword: declared here rather than as class attributes.
        fields["from"] = serializers.DateField(required=False, allow_null=True, default=None)
        fields["to"] = serializers.DateField(required=False, allow_null=True, default=None)
        return fields

    def validate_actor(self, value):
        # ASCII digits within the database's integer range: int("²") fails, and SQLite
        # cannot even compare an id past 2**63 - 1. At most 18 of them, as the schema's pattern says.
        if value in ("", SYSTEM) or (value.isascii() and value.isdigit() and len(value) <= 18):
            return value
        raise serializers.ValidationError('Give a person\'s id, or "system" for automatic changes.')

    def validate(self, data):
        # A day's bounds are computed in the program's zone, one day past "to": the
        # calendar's first and last days would overflow.
        for key in ("from", "to"):
            if data.get(key) and not _FIRST_DAY <= data[key] <= _LAST_DAY:
                raise serializers.ValidationError({key: f"Give a date between {_FIRST_DAY} and {_LAST_DAY}."})
        if data.get("from") and data.get("to") and data["to"] < data["from"]:
            raise serializers.ValidationError({"to": "The end date is before the start date."})
        return data


class AuditActorSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    full_name = serializers.CharField(read_only=True)


class AuditObjectSerializer(serializers.Serializer):
    label = serializers.CharField(read_only=True, help_text="What the entry is about, in words.")
    url = serializers.CharField(
        read_only=True, help_text="The page that shows it, when it still exists and belongs to the program; else empty."
    )


class AuditChangeSerializer(serializers.Serializer):
    field = serializers.CharField(read_only=True)
    before = serializers.CharField(read_only=True, allow_null=True, help_text="null: not there before (added).")
    after = serializers.CharField(read_only=True, allow_null=True, help_text="null: not there after (removed).")


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = AuditActorSerializer(
        read_only=True, allow_null=True, help_text="null: MentorMatch itself (an expiry, a finished run)."
    )
    action_label = serializers.SerializerMethodField(help_text='The action in words, e.g. "Published a match run".')
    group = serializers.SerializerMethodField(help_text="The filter group of the action (empty if none).")
    object = serializers.SerializerMethodField()
    changes = serializers.SerializerMethodField(
        help_text="before → after, readable: people by name, times in your zone."
    )

    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "created_at",
            "actor",
            "action",
            "action_label",
            "group",
            "object_type",
            "object_id",
            "object",
            "before",
            "after",
            "changes",
            "reason",
        ]
        read_only_fields = fields

    def get_action_label(self, entry) -> str:
        return action_label(entry.action)

    def get_group(self, entry) -> str:
        return action_group(entry.action)

    @extend_schema_field(AuditObjectSerializer)
    def get_object(self, entry):
        ref = self.context.get("objects", {}).get(entry.pk, ObjectRef(label=f"{entry.object_type} #{entry.object_id}"))
        return {"label": ref.label, "url": ref.url}

    @extend_schema_field(AuditChangeSerializer(many=True))
    def get_changes(self, entry):
        changes = describe_changes(entry, names=self.context.get("names", {}), tz=self.context.get("tz"))
        return [{"field": c.field, "before": c.before, "after": c.after} for c in changes]


_SLUG = OpenApiParameter("slug", str, OpenApiParameter.PATH, description="The program's slug.")
_FILTERS = [
    OpenApiParameter("q", {"type": "string", "maxLength": SEARCH_MAX_LENGTH}, description=f"{_Q_HELP} {SEARCH_HELP}"),
    OpenApiParameter(
        "group",
        str,
        enum=list(ACTION_GROUPS),
        description="A kind of action: " + ", ".join(f"{k} ({v[0]})" for k, v in ACTION_GROUPS.items()) + ".",
    ),
    OpenApiParameter(
        "actor",
        str,
        description='Who acted: a person\'s id, or "system" for automatic changes.',
        pattern=ACTOR_PATTERN,
    ),
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (in your time zone), included."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day (in your time zone), included."),
]


@extend_schema(
    tags=["audit"],
    parameters=[_SLUG, *_FILTERS],
    summary="The program's audit trail, newest first (coordinators only).",
    responses={
        200: AuditEntrySerializer(many=True),
        400: OpenApiResponse(description="A filter is not valid (the key names it)."),
        404: OpenApiResponse(ServiceErrorSerializer, description="No such program among those you coordinate."),
    },
)
class AuditEntryListApi(ProgramScopedApi, generics.ListAPIView):
    permission_classes = [RulesPermission]
    program_permission = "matching.view_audit"
    serializer_class = AuditEntrySerializer
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return AuditEntry.objects.none()
        self.program = self.get_program()
        params = AuditFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        f = params.validated_data
        return audit_search(
            self.program,
            q=f["q"],
            group=f["group"],
            actor=f["actor"],
            date_from=f["from"],
            date_to=f["to"],
            time_zone=self.request.user.time_zone,
        )

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        try:
            tz = zoneinfo.ZoneInfo(request.user.time_zone)
        except (KeyError, ValueError, zoneinfo.ZoneInfoNotFoundError):
            tz = zoneinfo.ZoneInfo("UTC")
        context = {
            **self.get_serializer_context(),
            "objects": describe_objects(page, program=self.program),
            "names": person_names(page),
            "tz": tz,
        }
        return self.get_paginated_response(AuditEntrySerializer(page, many=True, context=context).data)


urlpatterns = [
    path("programs/<slug:slug>/audit/", AuditEntryListApi.as_view(), name="api-audit"),
]
