"""The roster's actions in the API: invite everyone not yet invited, re-invite those who have
not signed in, and mark people as leaving (a class graduating). The same services as the
roster page's buttons (accounts/roster.py, accounts/leaving.py); the program's coordinators
only (``RosterProgramApi``: its other members get 403, anyone else 404)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from core.api.errors import service_refusals
from core.bounds import MAX_ID

from .. import roster as roster_services
from ..leaving import LEAVE_REASONS, MAX_LEAVING, roster_members_leave
from ..selectors import roster_of
from .views import RosterProgramApi

# The service's own sentence for ids that are not (or no longer) on the roster: it names no one.
NOT_ON_ROSTER = "Some of the people chosen are no longer on this roster. Reload the roster and choose again."
# Ids beyond a bigint are nobody; refused before they reach the database.

_400 = OpenApiResponse(
    description="Field errors keyed by field (an empty or oversized list, not an id, an unknown reason), or "
    '``{"detail": ...}``: someone chosen is not (or no longer) on this roster; the sentence names no one.'
)


class RosterInviteResultSerializer(serializers.Serializer):
    invited = serializers.IntegerField(help_text="Sign-up invitations e-mailed to people never invited before.")
    asked = serializers.IntegerField(help_text="Existing accounts asked to join (they accept or decline).")


class RosterReinviteResultSerializer(serializers.Serializer):
    invited = serializers.IntegerField(
        help_text="People invited more than a day ago who have not signed in, sent a new link."
    )


class RosterLeaveInputSerializer(serializers.Serializer):
    user_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        allow_empty=False,
        max_length=MAX_LEAVING,
        help_text=f"Residents and faculty of this program (the roster's ``user_id``), at most {MAX_LEAVING:,}. "
        "Each leaves in every roster role they hold here.",
        error_messages={
            "empty": "Choose who is leaving.",
            "max_length": f"At most {MAX_LEAVING:,} people can leave at once; send them in smaller groups.",
        },
    )
    reason = serializers.ChoiceField(
        choices=list(LEAVE_REASONS.items()),
        error_messages={"invalid_choice": "Choose whether they graduated or left the program."},
    )


class RosterLeaveResultSerializer(serializers.Serializer):
    memberships = serializers.IntegerField(help_text="Roster memberships removed.")
    people = serializers.IntegerField(help_text="Distinct people who left.")
    deactivated = serializers.IntegerField(
        help_text="Of them, those who now belong to no program: they can no longer sign in."
    )


@extend_schema(
    tags=["programs"],
    summary="Invite everyone on the roster who has not been invited (idempotent).",
    request=None,
    responses={200: RosterInviteResultSerializer},
)
class RosterInviteApi(RosterProgramApi):
    serializer_class = RosterInviteResultSerializer

    def post(self, request, *args, **kwargs):
        result = roster_services.roster_invite_all(program=self.get_program(), actor=request.user)
        return Response(RosterInviteResultSerializer(result).data)


@extend_schema(
    tags=["programs"],
    summary="Send a new link to those invited more than a day ago who have not signed in (idempotent).",
    request=None,
    responses={200: RosterReinviteResultSerializer},
)
class RosterReinviteApi(RosterProgramApi):
    serializer_class = RosterReinviteResultSerializer

    def post(self, request, *args, **kwargs):
        sent = roster_services.roster_reinvite_waiting(program=self.get_program(), actor=request.user)
        return Response(RosterReinviteResultSerializer({"invited": sent}).data)


@extend_schema(
    tags=["programs"],
    summary="Mark people as leaving the program: all of them or none.",
    description="Their pending requests and active mentorships in this program end, and whoever they were "
    "paired with is told a neutral sentence. People who then belong to no program can no longer sign in. "
    "Not repeatable: a second call finds them gone and is refused.",
    request=RosterLeaveInputSerializer,
    responses={200: RosterLeaveResultSerializer, 400: _400},
)
class RosterLeaveApi(RosterProgramApi):
    serializer_class = RosterLeaveInputSerializer

    def post(self, request, *args, **kwargs):
        program = self.get_program()
        data = RosterLeaveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user_ids = set(data.validated_data["user_ids"])
        # Every roster role each holds here (a near-peer mentor may be resident and faculty);
        # coordinators are not on the roster, so a coordinator's id is "not on this roster".
        memberships = list(roster_of(program).filter(user_id__in=user_ids).values_list("pk", "user_id"))
        with service_refusals():
            if {user_id for _, user_id in memberships} != user_ids:
                raise DjangoValidationError(NOT_ON_ROSTER, code="gone")
            result = roster_members_leave(
                program=program,
                memberships=[pk for pk, _ in memberships],
                actor=request.user,
                reason=data.validated_data["reason"],
            )
        return Response(RosterLeaveResultSerializer(result).data)


urlpatterns = [
    path("programs/<slug:slug>/roster/invite/", RosterInviteApi.as_view(), name="program-roster-invite"),
    path("programs/<slug:slug>/roster/reinvite/", RosterReinviteApi.as_view(), name="program-roster-reinvite"),
    path("programs/<slug:slug>/roster/leave/", RosterLeaveApi.as_view(), name="program-roster-leave"),
]
