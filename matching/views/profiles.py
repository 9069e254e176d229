"""A person's page, with how well a mentor fits the resident looking, and the mentor
profile page (its update resolves the requests a mentor stops taking)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import path

from accounts.models import MentorProfile, User
from accounts.views.profiles import profile_context, profile_edit_page

from ..capacity import Load, capacity_saved_note
from ..forms.profiles import MentorProfileForm
from ..recommendations import breakdown_for
from ..selectors.directory import active_mentee_count, person, relations_to_mentors
from ..services.profiles import mentor_profile_update


@login_required
def person_detail(request, pk):
    try:
        other = person(pk)
    except User.DoesNotExist:
        raise Http404 from None
    to_rank = False
    if not request.user.has_perm("accounts.view_person", other):
        to_rank = request.user.has_perm("matching.view_person_to_rank", other)
        if not to_rank:
            raise Http404  # don't reveal who exists
    context = profile_context(other, viewer=request.user)
    if to_rank:
        # A mentor asked to rank this resident sees what the resident wrote for matching (goals,
        # interests, their own words), for as long as the ranking window is open.
        context["show_mentee"] = context["mentee"] is not None
    mentor = context["mentor"]
    # How well the mentor fits the viewing resident: the engine's components and reasons.
    context["breakdown"] = (
        breakdown_for(getattr(request.user, "mentee_profile", None), mentor)
        if mentor is not None and not context["is_own"]
        else None
    )
    if mentor is not None and not context["is_own"]:
        # "Your mentor" / "Requested", as on the directory's cards (and the request button follows).
        mentor.relation = relations_to_mentors(request.user).get(other.pk, "")
    return render(request, "accounts/profile.html", context)


@login_required
def mentor_profile_edit(request):
    return profile_edit_page(
        request,
        model=MentorProfile,
        form_class=MentorProfileForm,
        update=mentor_profile_update,
        permission="accounts.have_mentor_profile",
        title="Mentor profile",
        intro="Residents see this in the mentor directory. Set your capacity to the number of mentees you can really see regularly.",
        saved_note=_capacity_note,
    )


def _capacity_note(profile: MentorProfile) -> str:
    """A capacity saved below the mentees one has: said plainly, not as a bare "saved"."""
    load = Load(taken=active_mentee_count(profile.user), capacity=profile.capacity, accepting=profile.accepting_mentees)
    return capacity_saved_note(load)


urlpatterns = [
    path("profile/mentor/", mentor_profile_edit, name="mentor-profile-edit"),
    path("people/<int:pk>/", person_detail, name="person"),
]
