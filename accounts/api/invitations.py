"""Invitations to join a program, in the API: the invited person's list and answer, and the
coordinator's list and withdrawal. The same services as the pages (accounts/invitations.py)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from core.api.errors import ServiceErrorSerializer, service_refusals

from ..invitations import (
    program_invitation_accept,
    program_invitation_decline,
    program_invitation_withdraw,
)
from ..models import ProgramInvitation
from ..selectors import pending_invitations_for, pending_invitations_of
from .views import RosterProgramApi

_404 = OpenApiResponse(ServiceErrorSerializer, description="No such invitation among those you may see.")
_409 = OpenApiResponse(ServiceErrorSerializer, description="The invitation is already answered or withdrawn.")


class InvitationSerializer(serializers.ModelSerializer):
    """An invitation as the invited person sees it: which program asks, and who asked."""

    program = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    program_name = serializers.CharField(source="program.name", read_only=True)
    institution = serializers.CharField(source="program.institution.name", read_only=True)
    invited_by_name = serializers.SerializerMethodField()

    class Meta:
        model = ProgramInvitation
        fields = ["id", "program", "program_name", "institution", "role", "status", "invited_by_name", "created_at"]
        read_only_fields = fields

    def get_invited_by_name(self, invitation) -> str | None:
        return invitation.invited_by.full_name if invitation.invited_by else None


class ProgramInvitationSerializer(serializers.ModelSerializer):
    """An invitation as the program's coordinators see it: only what they typed."""

    class Meta:
        model = ProgramInvitation
        fields = ["id", "email", "first_name", "last_name", "role", "status", "created_at", "responded_at"]
        read_only_fields = fields


# --- The invited person.


@extend_schema(tags=["me"], summary="Invitations to join a program that wait for your answer.")
class MyInvitationListApi(generics.ListAPIView):
    serializer_class = InvitationSerializer
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ProgramInvitation.objects.none()
        return pending_invitations_for(self.request.user).order_by("-created_at", "-pk")


class _AnswerApi(generics.GenericAPIView):
    serializer_class = InvitationSerializer
    filter_backends = []
    lookup_url_kwarg = "id"
    service = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ProgramInvitation.objects.none()
        # Only the person invited may know the invitation exists.
        return ProgramInvitation.objects.filter(user=self.request.user).select_related(
            "program__institution", "invited_by"
        )

    def post(self, request, *args, **kwargs):
        invitation = self.get_object()
        with service_refusals(conflict=True):
            type(self).service(invitation=invitation, actor=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=invitation.pk)).data)


def _answer_schema(summary):
    return extend_schema(
        tags=["me"], summary=summary, request=None, responses={200: InvitationSerializer, 404: _404, 409: _409}
    )


@_answer_schema("Join the program: your account, profile and mentorships stay yours.")
class MyInvitationAcceptApi(_AnswerApi):
    service = staticmethod(program_invitation_accept)


@_answer_schema("Decline the invitation.")
class MyInvitationDeclineApi(_AnswerApi):
    service = staticmethod(program_invitation_decline)


# --- The program's coordinators.


class _ProgramInvitationApi(RosterProgramApi):
    serializer_class = ProgramInvitationSerializer
    filter_backends = []


@extend_schema(tags=["programs"], summary="Existing accounts asked to join the program, still unanswered.")
class ProgramInvitationListApi(_ProgramInvitationApi, generics.ListAPIView):
    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ProgramInvitation.objects.none()
        return pending_invitations_of(self.get_program())


@extend_schema(
    tags=["programs"],
    summary="Withdraw an unanswered invitation to join.",
    request=None,
    responses={200: ProgramInvitationSerializer, 404: _404, 409: _409},
)
class ProgramInvitationWithdrawApi(_ProgramInvitationApi):
    def post(self, request, *args, **kwargs):
        invitation = get_object_or_404(ProgramInvitation, pk=self.kwargs["id"], program=self.get_program())
        with service_refusals(conflict=True):
            invitation = program_invitation_withdraw(invitation=invitation, actor=request.user)
        return Response(self.get_serializer(invitation).data, status=status.HTTP_200_OK)
