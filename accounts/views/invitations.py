"""A person's invitations to join programs: the list, and their answer."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from ..invitations import program_invitation_accept, program_invitation_decline
from ..models import ProgramInvitation
from ..selectors import pending_invitations_for


@login_required
def invitation_list(request):
    return render(request, "accounts/invitations.html", {"invitations": pending_invitations_for(request.user)})


@login_required
@require_POST
def invitation_accept(request, pk):
    return _answer(request, pk, program_invitation_accept, "You joined {program}.")


@login_required
@require_POST
def invitation_decline(request, pk):
    return _answer(request, pk, program_invitation_decline, "You declined to join {program}.")


def _answer(request, pk, service, done):
    # Only the person invited may know the invitation exists.
    invitation = get_object_or_404(ProgramInvitation.objects.select_related("program"), pk=pk, user=request.user)
    try:
        service(invitation=invitation, actor=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, done.format(program=invitation.program.name))
    return redirect("accounts:invitations")
