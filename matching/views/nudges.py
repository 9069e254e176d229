"""The coordinator's one-click nudge: e-mail both people of a pairing a friendly reminder to meet.

A POST from the pairings list (or the mentorship page), answered with a redirect back to
``next`` when it is a safe, local address, else to the mentorship page. The service
(``matching.services.nudges.pairing_nudge``) decides; a pairing the user may not nudge is a 404,
or a 403 for one of the pair (core/access.py).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from core.access import object_for

from ..models import Mentorship
from ..services.nudges import pairing_nudge


def _next_url(request) -> str | None:
    url = request.POST.get("next") or request.GET.get("next")
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


@require_POST
@login_required
def pairing_nudge_view(request, slug, mentorship_id):
    mentorship = object_for(
        request.user,
        Mentorship.objects.select_related("mentee", "mentor", "program").filter(program__slug=slug),
        mentorship_id,
        "matching.nudge_pairing",
        visible_with="matching.view_mentorship",
    )
    try:
        pairing_nudge(mentorship=mentorship, actor=request.user)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"Nudged {mentorship.mentor.full_name} and {mentorship.mentee.full_name}: each got a friendly "
            "e-mail reminder to meet, with a link to their mentorship page.",
        )
    return redirect(_next_url(request) or mentorship.get_absolute_url())


urlpatterns = [
    path("programs/<slug:slug>/pairings/<int:mentorship_id>/nudge/", pairing_nudge_view, name="pairing-nudge"),
]
