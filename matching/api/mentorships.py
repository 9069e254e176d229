"""The mentorships API: my mentorships, the agreement, the action plan, resources,
introductions, check-ins, ending and thanks.

The same reads (``matching.selectors.mentorships``), writes (``matching.services.plan`` and
``matching.services.mentorships``) and rules (``matching.rules``) as the pages:
- a mentorship the caller may not see answers 404, as if it did not exist;
- one they may see but not change (a coordinator's read-only view) answers 403;
- bad input answers 400 with field keys; a refusal because of state (the mentorship has
  ended, the introduction was already answered, this month's check-in is in) answers 409
  with ``{"detail": ...}``, as the requests and meetings APIs do.

Check-ins are confidential to the program's coordinators: parties may POST theirs, and
no endpoint here returns anyone's answers, except the author's own in the POST reply.

The shared texts (the agreement, goals, resources) are versioned: a GET answers with an
``ETag``, and a PUT, PATCH or DELETE must send it back in ``If-Match`` (428 without it, 412
with the current ETag when someone saved meanwhile). Create calls honour an
``Idempotency-Key`` (``core/idempotency.py``): a retry creates nothing twice.
"""

from django.db.models import Q
from django.urls import path
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from accounts.models import User
from core.access import ObjectScopedApi, check_object
from core.api.errors import ServiceErrorSerializer, service_refusals
from core.api.permissions import RulesPermission
from core.bounds import PLANNED_DAY
from core.concurrency import (
    CONDITIONAL_RESPONSES,
    ETAG,
    IF_MATCH,
    EditConflict,
    if_match_version,
    stale_response,
    with_etag,
)
from core.forms import max_length_of
from core.idempotency import IDEMPOTENCY_KEY, IDEMPOTENT_RESPONSES, idempotent

from ..models import ActionItem, Agreement, CheckIn, Introduction, Kind, Mentorship, Resource
from ..selectors import mentorships as mentorship_selectors
from ..services import mentorships as mentorship_services
from ..services import plan as plan_services

# --- Shapes. Serializers validate and present; the services decide and save.


class MentorshipPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    full_name = serializers.CharField(read_only=True)


class AgreementSerializer(serializers.ModelSerializer):
    updated_by = MentorshipPersonSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Agreement
        fields = ["cadence", "preferred_channel", "expectations", "first_goals", "updated_by", "updated_at", "version"]
        read_only_fields = ["updated_by", "updated_at", "version"]


# Not "Mentorship": the schema's enum naming strips a "Request" suffix, so that name would
# share "MentorshipStatusEnum" with MentorshipRequest's statuses.
@extend_schema_serializer(component_name="MentorshipDetail")
class MentorshipSerializer(serializers.ModelSerializer):
    """A mentorship as the pair (and its program's coordinators) see it: the list and the detail alike."""

    mentee = MentorshipPersonSerializer(read_only=True)
    mentor = MentorshipPersonSerializer(read_only=True)
    program = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    ended_by = MentorshipPersonSerializer(read_only=True, allow_null=True)
    agreement = AgreementSerializer(read_only=True, allow_null=True)
    rematch_requested = serializers.SerializerMethodField(
        help_text="The mentee's no-fault wish for another mentor, for the coordinator. "
        "null when you are the mentor: the flag is not shown to them."
    )
    thank_you_note = serializers.SerializerMethodField(
        help_text="The mentee's thank-you note, kept by the mentor. null for anyone but the pair."
    )
    my_last_checkin_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="When you last checked in here (null if never). Check-in answers are never returned.",
    )
    can_check_in = serializers.SerializerMethodField(
        help_text="You may submit this month's check-in now (the first opens two weeks into the mentorship)."
    )

    class Meta:
        model = Mentorship
        fields = [
            "id",
            "mentee",
            "mentor",
            "program",
            "kind",
            "source",
            "status",
            "started_at",
            "ended_at",
            "ended_by",
            "end_reason",
            "rematch_requested",
            "thank_you_note",
            "agreement",
            "my_last_checkin_at",
            "can_check_in",
        ]
        read_only_fields = fields

    def _viewer(self):
        return self.context["request"].user

    def get_rematch_requested(self, mentorship) -> bool | None:
        return None if self._viewer().pk == mentorship.mentor_id else mentorship.rematch_requested

    def get_thank_you_note(self, mentorship) -> str | None:
        return mentorship.thank_you_note if self._viewer().pk in (mentorship.mentee_id, mentorship.mentor_id) else None

    def get_can_check_in(self, mentorship) -> bool:
        return mentorship_selectors.checkin_open(
            mentorship, self._viewer(), mentorship.my_last_checkin_at, now=timezone.now()
        )


class AgreementWriteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Agreement
        fields = ["cadence", "preferred_channel", "expectations", "first_goals"]


class MentorshipEndSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=[("completed", "Completed"), ("ended", "Ended")],
        help_text="completed: the pair reached what they set out to do (completing early counts); ended: otherwise.",
    )
    reason = serializers.CharField(
        max_length=max_length_of(Mentorship, "end_reason"), help_text="Why it is ending; the other person sees it."
    )
    rematch = serializers.BooleanField(
        required=False,
        default=False,
        help_text="The mentee asks their coordinator for another mentor (no fault implied). Ignored for the mentor.",
    )


class MentorshipThanksSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=max_length_of(Mentorship, "thank_you_note"))


class ActionItemSerializer(serializers.ModelSerializer):
    owner = MentorshipPersonSerializer(read_only=True)
    created_by = MentorshipPersonSerializer(read_only=True)
    mentorship = serializers.IntegerField(source="mentorship_id", read_only=True)
    is_overdue = serializers.BooleanField(read_only=True, help_text="Open or in progress, and past its due date.")

    class Meta:
        model = ActionItem
        fields = [
            "id",
            "mentorship",
            "title",
            "due_date",
            "owner",
            "status",
            "is_overdue",
            "created_by",
            "created_at",
            "updated_at",
            "completed_at",
            "version",
        ]
        read_only_fields = fields


class _WithinPlannedDays:
    """A due date within ``bounds.PLANNED_DAY``, counted in the caller's time zone. A goal's
    unchanged due date (``context["item"]``) passes: an old goal can still be edited."""

    requires_context = True

    def __call__(self, day, field):
        item = field.context.get("item")
        if item is None or item.due_date != day:
            PLANNED_DAY.check_day(day, zone=field.context["request"].user.time_zone)


_DUE_DATE_HELP = "From a year ago to two years ahead."


class ActionItemCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=max_length_of(ActionItem, "title"))
    due_date = serializers.DateField(
        required=False, allow_null=True, default=None, validators=[_WithinPlannedDays()], help_text=_DUE_DATE_HELP
    )
    owner = serializers.IntegerField(required=False, help_text="The user id of the mentee or the mentor. Default: you.")


# Named like ActionItem so its PATCH body ("PatchedActionItemRequest") shares the status enum's name.
@extend_schema_serializer(component_name="ActionItem")
class ActionItemUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=max_length_of(ActionItem, "title"), required=False)
    due_date = serializers.DateField(
        required=False, allow_null=True, validators=[_WithinPlannedDays()], help_text=_DUE_DATE_HELP
    )
    owner = serializers.IntegerField(required=False, help_text="The user id of the mentee or the mentor.")
    status = serializers.ChoiceField(
        choices=ActionItem.Status.choices,
        required=False,
        help_text="done stamps completed_at; other statuses clear it.",
    )


class ResourceSerializer(serializers.ModelSerializer):
    shared_by = MentorshipPersonSerializer(read_only=True)

    class Meta:
        model = Resource
        fields = ["id", "title", "url", "note", "shared_by", "created_at", "updated_at", "version"]
        read_only_fields = ["id", "shared_by", "created_at", "updated_at", "version"]
        extra_kwargs = {"note": {"required": False}}


class ResourceUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=max_length_of(Resource, "title"), required=False)
    url = serializers.URLField(max_length=max_length_of(Resource, "url"), required=False)
    note = serializers.CharField(max_length=max_length_of(Resource, "note"), required=False, allow_blank=True)


class IntroductionSerializer(serializers.ModelSerializer):
    mentorship = serializers.IntegerField(source="mentorship_id", read_only=True)
    mentee = MentorshipPersonSerializer(source="mentorship.mentee", read_only=True)
    introduced_by = MentorshipPersonSerializer(source="mentorship.mentor", read_only=True)
    colleague = MentorshipPersonSerializer(read_only=True)

    class Meta:
        model = Introduction
        fields = [
            "id",
            "mentorship",
            "mentee",
            "introduced_by",
            "colleague",
            "kind",
            "note",
            "status",
            "response_note",
            "created_at",
            "resolved_at",
        ]
        read_only_fields = fields


class IntroductionCreateSerializer(serializers.Serializer):
    colleague = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True, mentor_profile__isnull=False),
        help_text="The colleague's user id (as in /api/v1/mentors/).",
        error_messages={"does_not_exist": "There is no mentor with id {pk_value}."},
    )
    kind = serializers.ChoiceField(choices=Kind.choices, help_text="The kind of mentorship you have in mind.")
    note = serializers.CharField(
        max_length=max_length_of(Introduction, "note"), help_text="Why these two should meet; the colleague sees it."
    )


class IntroductionRespondSerializer(serializers.Serializer):
    response = serializers.ChoiceField(
        choices=[("meeting", "Meeting"), ("mentorship", "Mentorship"), ("decline", "Decline")],
        help_text="meeting: offer a first conversation (both get each other's e-mail; MentorMatch meetings live "
        "inside a mentorship, so this one is arranged directly); mentorship: start one of the introduction's "
        "kind, within your capacity; decline: a polite no.",
    )
    note = serializers.CharField(
        max_length=max_length_of(Introduction, "response_note"), required=False, allow_blank=True, default=""
    )


class IntroductionRespondResultSerializer(serializers.Serializer):
    introduction = IntroductionSerializer(read_only=True)
    mentorship_started = MentorshipSerializer(
        read_only=True, allow_null=True, help_text="The mentorship an accepted-as-mentorship answer started; else null."
    )


class CheckInSerializer(serializers.ModelSerializer):
    rating = serializers.IntegerField(min_value=1, max_value=5, help_text="1 (not well) to 5 (very well).")
    comment = serializers.CharField(
        max_length=max_length_of(CheckIn, "comment"), required=False, allow_blank=True, default=""
    )

    class Meta:
        model = CheckIn
        fields = ["id", "rating", "comment", "created_at"]
        read_only_fields = ["id", "created_at"]


# --- Filters.


class MentorshipFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Mentorship.Status.choices)
    kind = filters.ChoiceFilter(choices=Kind.choices)

    class Meta:
        model = Mentorship
        fields = ["status", "kind"]


class IntroductionFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Introduction.Status.choices)

    class Meta:
        model = Introduction
        fields = ["status"]


# --- Views.

_ERROR = ServiceErrorSerializer
_400 = OpenApiResponse(description="Field errors: what was sent is not valid.")
_409 = OpenApiResponse(
    _ERROR,
    description="The state no longer allows this: the mentorship has ended, the introduction "
    "was already answered, this month's check-in is in.",
)
_403 = OpenApiResponse(_ERROR, description="You may see this mentorship but not do this in it.")
_404 = OpenApiResponse(_ERROR, description="No such mentorship among those you may see.")
_MENTORSHIP_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The mentorship's id.")


def _mentorships(user):
    return mentorship_selectors.with_my_last_checkin(
        Mentorship.objects.select_related("mentee", "mentor", "program", "ended_by", "agreement__updated_by"), user
    )


class _MentorshipApi(ObjectScopedApi, generics.GenericAPIView):
    # A comment, not a docstring: drf-spectacular would show a docstring to API clients.
    # Views about one mentorship: loaded by ``id`` and shown only to those who may see it.
    # What they may do in it is their service's to say (a 403 through ``service_refusals``).

    permission_classes = [RulesPermission]
    object_permission = "matching.view_mentorship"
    filter_backends = []

    def get_object_queryset(self):
        return _mentorships(self.request.user)

    def present(self, mentorship, *, code=status.HTTP_200_OK):
        fresh = _mentorships(self.request.user).get(pk=mentorship.pk)
        return Response(MentorshipSerializer(fresh, context=self.get_serializer_context()).data, status=code)


@extend_schema(tags=["mentorships"], summary="Your mentorships, as mentee or mentor: active first")
class MentorshipListApi(generics.ListAPIView):
    """Your mentorships, as mentee or mentor: active first, then past ones."""

    serializer_class = MentorshipSerializer
    filterset_class = MentorshipFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return Mentorship.objects.none()
        user = self.request.user
        return mentorship_selectors.with_my_last_checkin(
            mentorship_selectors.mentorships_for_page(user).select_related("ended_by", "agreement__updated_by"), user
        )


@extend_schema(
    tags=["mentorships"], summary="One mentorship with its agreement", responses={200: MentorshipSerializer, 404: _404}
)
class MentorshipDetailApi(_MentorshipApi):
    """One mentorship with its agreement, for the pair and the coordinators of its program."""

    serializer_class = MentorshipSerializer

    def get(self, request, id):
        return self.present(self.get_object())


_WRITE_RESPONSES = {**CONDITIONAL_RESPONSES, 400: _400, 403: _403, 409: _409, 404: _404}


def _against_version(write, present):
    """A write to a shared text against the version its caller named in ``If-Match``:
    ``present(what write() saved)``; a refusal answers 400 or 409 (``service_refusals``);
    a version older than the row's, 412 with the current ETag (``stale_response``)."""
    with service_refusals(conflict=True):
        try:
            saved = write()
        except EditConflict as exc:
            return stale_response(exc)
    return present(saved)


def _shared_row_schema(*, tag, shape, changes, not_found, get, patch, delete):
    """What the schema says of a ``_SharedRowApi``: GET with its ETag, PATCH and DELETE against it."""

    def decorate(view):
        view = extend_schema_view(
            get=extend_schema(summary=get, parameters=[ETAG], responses={200: shape, 404: not_found}),
            patch=extend_schema(
                summary=patch,
                parameters=[IF_MATCH, ETAG],
                request=changes,
                responses={200: shape, **_WRITE_RESPONSES, 404: not_found},
            ),
            delete=extend_schema(
                summary=delete, parameters=[IF_MATCH], responses={204: None, **_WRITE_RESPONSES, 404: not_found}
            ),
        )(view)
        return extend_schema(tags=[tag])(view)

    return decorate


class _SharedRowApi(ObjectScopedApi, generics.GenericAPIView):
    # A comment, not a docstring (drf-spectacular would show it to API clients).
    # One versioned row of a mentorship, a goal or a resource: GET answers it with its ETag;
    # PATCH and DELETE need the caller's permission on it, then its ETag in If-Match.

    permission_classes = [RulesPermission]
    object_permission = "matching.view_mentorship"  # asked of the row's mentorship
    filter_backends = []
    http_method_names = ["get", "patch", "delete", "options"]
    update_serializer_class: type[serializers.Serializer]
    change_permission: str
    delete_permission: str

    def get_object_queryset(self):
        return self.get_queryset()

    def update_row(self, row, *, actor, version, changes):
        raise NotImplementedError

    def remove_row(self, row, *, actor, version):
        raise NotImplementedError

    def changes_from(self, row, data):
        """The validated fields as the service takes them."""
        return data

    def _present(self, row):
        row = self.get_queryset().get(pk=row.pk)
        return with_etag(Response(self.get_serializer_class()(row).data), row)

    def get(self, request, id):
        return self._present(self.get_object())

    def patch(self, request, id):
        row = self.get_object()
        check_object(request.user, row, self.change_permission, visible_with=self.object_permission)
        version = if_match_version(request)
        given = self.update_serializer_class(data=request.data, partial=True, context={"request": request, "item": row})
        given.is_valid(raise_exception=True)
        changes = self.changes_from(row, dict(given.validated_data))
        return _against_version(
            lambda: self.update_row(row, actor=request.user, version=version, changes=changes), self._present
        )

    def delete(self, request, id):
        row = self.get_object()
        check_object(request.user, row, self.delete_permission, visible_with=self.object_permission)
        version = if_match_version(request)
        return _against_version(
            lambda: self.remove_row(row, actor=request.user, version=version),
            lambda _: Response(status=status.HTTP_204_NO_CONTENT),
        )


@extend_schema(tags=["mentorships"])
@extend_schema_view(
    get=extend_schema(
        summary="The pair's agreement, with its version as ETag.",
        parameters=[ETAG],
        responses={200: AgreementSerializer, 404: _404},
    ),
    put=extend_schema(
        summary="Replace the agreement (fields left out return to their defaults), against its ETag.",
        parameters=[IF_MATCH, ETAG],
        request=AgreementWriteSerializer,
        responses={200: AgreementSerializer, **_WRITE_RESPONSES},
    ),
    patch=extend_schema(
        summary="Change some fields of the agreement, against its ETag.",
        parameters=[IF_MATCH, ETAG],
        request=AgreementWriteSerializer,
        responses={200: AgreementSerializer, **_WRITE_RESPONSES},
    ),
)
class MentorshipAgreementApi(_MentorshipApi):
    serializer_class = AgreementSerializer
    http_method_names = ["get", "put", "patch", "options"]

    def get(self, request, id):
        mentorship = self.get_object()
        # Before the pair first saves one, the agreement is its defaults, at version 1.
        agreement = getattr(mentorship, "agreement", None) or Agreement(mentorship=mentorship)
        return with_etag(Response(AgreementSerializer(agreement).data), agreement)

    def put(self, request, id):
        return self._write(partial=False)

    def patch(self, request, id):
        return self._write(partial=True)

    def _write(self, *, partial):
        mentorship = self.get_object()
        # Who may not write hears so (403) before being asked for a version (428).
        check_object(self.request.user, mentorship, "matching.work_in_mentorship", visible_with=self.object_permission)
        version = if_match_version(self.request)
        given = AgreementWriteSerializer(data=self.request.data, partial=partial)
        given.is_valid(raise_exception=True)
        fields = dict(given.validated_data)
        if not partial:
            for name in AgreementWriteSerializer.Meta.fields:
                fields.setdefault(name, Agreement._meta.get_field(name).get_default())
        return _against_version(
            lambda: plan_services.agreement_update(
                mentorship=mentorship, actor=self.request.user, version=version, **fields
            ),
            lambda agreement: with_etag(Response(AgreementSerializer(agreement).data), agreement),
        )


@extend_schema(
    tags=["mentorships"],
    summary="End or complete the mentorship (either party), with a reason",
    request=MentorshipEndSerializer,
    responses={200: MentorshipSerializer, 400: _400, 403: _403, 409: _409, 404: _404},
)
class MentorshipEndApi(_MentorshipApi):
    """End or complete the mentorship (either party), with a reason. Future meetings are cancelled."""

    serializer_class = MentorshipSerializer

    def post(self, request, id):
        mentorship = self.get_object()
        given = MentorshipEndSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        with service_refusals(conflict=True):
            mentorship = mentorship_services.mentorship_end(
                mentorship=mentorship,
                actor=request.user,
                reason=data["reason"],
                completed=data["outcome"] == "completed",
                rematch=data["rematch"],
            )
        return self.present(mentorship)


@extend_schema(
    tags=["mentorships"],
    summary="Leave (or rewrite) a thank-you note to your mentor",
    request=MentorshipThanksSerializer,
    responses={200: MentorshipSerializer, 400: _400, 403: _403, 409: _409, 404: _404},
)
class MentorshipThanksApi(_MentorshipApi):
    """The mentee leaves (or rewrites) a thank-you note that the mentor keeps."""

    serializer_class = MentorshipSerializer

    def post(self, request, id):
        mentorship = self.get_object()
        given = MentorshipThanksSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        with service_refusals(conflict=True):
            mentorship = mentorship_services.mentorship_leave_thank_you(
                mentorship=mentorship, actor=request.user, note=given.validated_data["note"]
            )
        return self.present(mentorship)


def _party(mentorship, user_id):
    """The mentee or mentor with this id, else None: the service then refuses the owner,
    after it has asked whether the caller may add goals at all."""
    return {mentorship.mentee_id: mentorship.mentee, mentorship.mentor_id: mentorship.mentor}.get(user_id)


@extend_schema(tags=["action plan"], parameters=[_MENTORSHIP_ID])
@extend_schema_view(
    get=extend_schema(
        summary="The mentorship's goals: open ones first, soonest due first.",
        responses={200: ActionItemSerializer(many=True), 404: _404},
    ),
    post=extend_schema(
        summary="Add a goal.",
        parameters=[IDEMPOTENCY_KEY],
        request=ActionItemCreateSerializer,
        responses={201: ActionItemSerializer, 400: _400, 403: _403, 409: _409, 404: _404, **IDEMPOTENT_RESPONSES},
    ),
)
class ActionItemListApi(_MentorshipApi, generics.ListCreateAPIView):
    serializer_class = ActionItemSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ActionItem.objects.none()
        return mentorship_selectors.action_plan_of(self.get_object())

    @idempotent
    def create(self, request, *args, **kwargs):
        mentorship = self.get_object()
        given = ActionItemCreateSerializer(data=request.data, context={"request": request})
        given.is_valid(raise_exception=True)
        data = dict(given.validated_data)
        data["owner"] = _party(mentorship, data.get("owner", request.user.pk))
        with service_refusals(conflict=True):
            item = plan_services.action_item_create(mentorship=mentorship, actor=request.user, **data)
        return with_etag(Response(ActionItemSerializer(item).data, status=status.HTTP_201_CREATED), item)


_GOAL_404 = OpenApiResponse(_ERROR, description="No such goal among those you may see.")


@_shared_row_schema(
    tag="action plan",
    shape=ActionItemSerializer,
    changes=ActionItemUpdateSerializer,
    not_found=_GOAL_404,
    get="One goal, with its version as ETag.",
    patch="Change a goal: its title, due date, owner or status, against its ETag.",
    delete="Remove a goal (whoever added it or owns it), against its ETag.",
)
class ActionItemApi(_SharedRowApi):
    serializer_class = ActionItemSerializer
    update_serializer_class = ActionItemUpdateSerializer
    change_permission = "matching.work_in_mentorship"
    delete_permission = "matching.delete_action_item"

    def get_queryset(self):
        return ActionItem.objects.select_related("mentorship__mentee", "mentorship__mentor", "owner", "created_by")

    def changes_from(self, item, data):
        if "owner" in data:
            data["owner"] = _party(item.mentorship, data["owner"])
        return data

    def update_row(self, item, *, actor, version, changes):
        return plan_services.action_item_update(item=item, actor=actor, version=version, **changes)

    def remove_row(self, item, *, actor, version):
        plan_services.action_item_delete(item=item, actor=actor, version=version)


@extend_schema(tags=["resources"], parameters=[_MENTORSHIP_ID])
@extend_schema_view(
    get=extend_schema(
        summary="Links the mentor shared, newest first.", responses={200: ResourceSerializer(many=True), 404: _404}
    ),
    post=extend_schema(
        summary="Share a link (the mentor).",
        parameters=[IDEMPOTENCY_KEY],
        request=ResourceSerializer,
        responses={201: ResourceSerializer, 400: _400, 403: _403, 409: _409, 404: _404, **IDEMPOTENT_RESPONSES},
    ),
)
class ResourceListApi(_MentorshipApi, generics.ListCreateAPIView):
    serializer_class = ResourceSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Resource.objects.none()
        return mentorship_selectors.resources_of(self.get_object())

    @idempotent
    def create(self, request, *args, **kwargs):
        mentorship = self.get_object()
        given = ResourceSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        with service_refusals(conflict=True):
            resource = plan_services.resource_share(mentorship=mentorship, actor=request.user, **given.validated_data)
        return with_etag(Response(ResourceSerializer(resource).data, status=status.HTTP_201_CREATED), resource)


_RESOURCE_404 = OpenApiResponse(_ERROR, description="No such resource among those you may see.")


@_shared_row_schema(
    tag="resources",
    shape=ResourceSerializer,
    changes=ResourceUpdateSerializer,
    not_found=_RESOURCE_404,
    get="One shared link, with its version as ETag.",
    patch="Correct a link you shared: its title, address or note, against its ETag.",
    delete="Take back a link you shared, against its ETag.",
)
class ResourceApi(_SharedRowApi):
    serializer_class = ResourceSerializer
    update_serializer_class = ResourceUpdateSerializer
    change_permission = delete_permission = "matching.change_resource"

    def get_queryset(self):
        return Resource.objects.select_related("mentorship__mentee", "mentorship__mentor", "shared_by")

    def update_row(self, resource, *, actor, version, changes):
        return plan_services.resource_update(resource=resource, actor=actor, version=version, **changes)

    def remove_row(self, resource, *, actor, version):
        plan_services.resource_delete(resource=resource, actor=actor, version=version)


@extend_schema(
    tags=["introductions"],
    summary="Introduce your mentee to a colleague in the directory (the mentor)",
    parameters=[IDEMPOTENCY_KEY],
    request=IntroductionCreateSerializer,
    responses={201: IntroductionSerializer, 400: _400, 403: _403, 409: _409, 404: _404, **IDEMPOTENT_RESPONSES},
)
@extend_schema_view(post=extend_schema(operation_id="mentorships_introductions_create"))
class IntroductionCreateApi(_MentorshipApi):
    """The mentor introduces their mentee to a colleague in the directory."""

    serializer_class = IntroductionSerializer

    @idempotent
    def post(self, request, id):
        mentorship = self.get_object()
        given = IntroductionCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        with service_refusals(conflict=True):
            introduction = plan_services.introduction_create(
                mentorship=mentorship, actor=request.user, **given.validated_data
            )
        return Response(IntroductionSerializer(introduction).data, status=status.HTTP_201_CREATED)


def _introductions():
    return Introduction.objects.select_related("mentorship__mentee", "mentorship__mentor", "colleague")


@extend_schema(tags=["introductions"], summary="Introductions to you (the colleague): waiting ones first")
class IntroductionListApi(generics.ListAPIView):
    """Introductions to you (you are the colleague): waiting ones first."""

    serializer_class = IntroductionSerializer
    filterset_class = IntroductionFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Introduction.objects.none()
        return mentorship_selectors.introductions_received_by(self.request.user).select_related("colleague")


@extend_schema(
    tags=["introductions"],
    summary="Answer an introduction (the colleague): a meeting, a mentorship, or decline",
    request=IntroductionRespondSerializer,
    responses={
        200: IntroductionRespondResultSerializer,
        400: _400,
        409: _409,
        403: OpenApiResponse(_ERROR, description="Only the introduced colleague answers."),
        404: OpenApiResponse(_ERROR, description="No such introduction among those you may see."),
    },
)
class IntroductionRespondApi(ObjectScopedApi, generics.GenericAPIView):
    """Answer an introduction (the colleague): a meeting, a mentorship, or decline."""

    serializer_class = IntroductionRespondResultSerializer
    filter_backends = []
    # The colleague answers; the pair who made it may know it (and are told 403).
    object_permission = "matching.respond_to_introduction"
    object_visible_with = "matching.work_in_mentorship"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Introduction.objects.none()
        user = self.request.user
        # Only the colleague and the pair may know of it; anyone else, coordinators included, gets 404.
        return _introductions().filter(Q(colleague=user) | Q(mentorship__mentee=user) | Q(mentorship__mentor=user))

    def get_object_queryset(self):
        return self.get_queryset()

    def post(self, request, id):
        introduction = self.get_object()
        given = IntroductionRespondSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        with service_refusals(conflict=True):
            introduction = plan_services.introduction_respond(
                introduction=introduction, actor=request.user, **given.validated_data
            )
        introduction = _introductions().get(pk=introduction.pk)
        started = None
        if introduction.status == Introduction.Status.ACCEPTED_MENTORSHIP:
            started = (
                _mentorships(request.user)
                .filter(
                    mentee_id=introduction.mentorship.mentee_id,
                    mentor_id=introduction.colleague_id,
                    source=Mentorship.Source.INTRODUCTION,
                    status=Mentorship.Status.ACTIVE,
                )
                .first()
            )
        result = {"introduction": introduction, "mentorship_started": started}
        return Response(IntroductionRespondResultSerializer(result, context=self.get_serializer_context()).data)


@extend_schema(
    tags=["check-ins"],
    summary="Submit your monthly check-in (confidential to the program's coordinators)",
    parameters=[IDEMPOTENCY_KEY],
    request=CheckInSerializer,
    responses={201: CheckInSerializer, 400: _400, 403: _403, 409: _409, 404: _404, **IDEMPOTENT_RESPONSES},
)
@extend_schema_view(post=extend_schema(operation_id="mentorships_checkins_create"))
class CheckInCreateApi(_MentorshipApi):
    """Submit your monthly check-in: 1–5 and an optional comment, at most one a calendar month.

    Confidential to the program's coordinators: there is no GET, and the other person never sees it.
    """

    serializer_class = CheckInSerializer

    @idempotent
    def post(self, request, id):
        mentorship = self.get_object()
        given = CheckInSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        with service_refusals(conflict=True):
            checkin = plan_services.checkin_submit(mentorship=mentorship, actor=request.user, **given.validated_data)
        return Response(CheckInSerializer(checkin).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("mentorships/", MentorshipListApi.as_view(), name="api-mentorship-list"),
    path("mentorships/<int:id>/", MentorshipDetailApi.as_view(), name="api-mentorship-detail"),
    path("mentorships/<int:id>/agreement/", MentorshipAgreementApi.as_view(), name="api-mentorship-agreement"),
    path("mentorships/<int:id>/end/", MentorshipEndApi.as_view(), name="api-mentorship-end"),
    path("mentorships/<int:id>/thanks/", MentorshipThanksApi.as_view(), name="api-mentorship-thanks"),
    path("mentorships/<int:id>/action-items/", ActionItemListApi.as_view(), name="api-action-item-list"),
    path("action-items/<int:id>/", ActionItemApi.as_view(), name="api-action-item"),
    path("mentorships/<int:id>/resources/", ResourceListApi.as_view(), name="api-resource-list"),
    path("resources/<int:id>/", ResourceApi.as_view(), name="api-resource"),
    path("mentorships/<int:id>/introductions/", IntroductionCreateApi.as_view(), name="api-introduction-create"),
    path("mentorships/<int:id>/checkins/", CheckInCreateApi.as_view(), name="api-checkin-create"),
    path("introductions/", IntroductionListApi.as_view(), name="api-introduction-list"),
    path("introductions/<int:id>/respond/", IntroductionRespondApi.as_view(), name="api-introduction-respond"),
]
