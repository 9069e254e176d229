from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render

from core.forms import add_service_errors

from .. import services
from ..forms import AccountForm, AvailabilityFormSet, MenteeProfileForm
from ..models import AvailabilityWindow, MenteeProfile
from ..rules import coordinates_a_program_of
from ..selectors import profile_completeness


def _profile_or_none(model, user):
    return model.objects.filter(user=user).first()


@login_required
def profile(request):
    return render(request, "accounts/profile.html", profile_context(request.user, viewer=request.user))


def profile_context(user, *, viewer):
    """What ``accounts/profile.html`` shows of ``user`` to ``viewer``: one's own profile page,
    and another person's page (``matching.views.profiles``, which adds how well a mentor fits)."""
    mentee = getattr(user, "mentee_profile", None)
    mentor = getattr(user, "mentor_profile", None)
    is_own = viewer.pk == user.pk
    return {
        "person": user,
        "is_own": is_own,
        "mentee": mentee,
        "mentor": mentor,
        # A resident's goals and own words are for them and their coordinators only; a
        # near-peer mentor's directory visitors see the mentor side alone.
        "show_mentee": mentee is not None and (is_own or coordinates_a_program_of(viewer, user)),
        "mentee_completeness": profile_completeness(mentee) if mentee and is_own else None,
        "mentor_completeness": profile_completeness(mentor) if mentor and is_own else None,
        "availability": AvailabilityWindow.objects.filter(user=user).order_by("weekday", "start"),
        "busy_blocks": user.busy_blocks.all() if is_own else [],
        "memberships": user.memberships.select_related("program"),
        "can_edit_mentee": is_own and viewer.has_perm("accounts.have_mentee_profile"),
        "can_edit_mentor": is_own and viewer.has_perm("accounts.have_mentor_profile"),
    }


@login_required
def account_edit(request):
    form = AccountForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        services.user_update(user=request.user, **form.cleaned_data)
        messages.success(request, "Your account details are saved.")
        return redirect("accounts:profile")
    return render(request, "accounts/profile_form.html", {"form": form, "title": "Name and time zone"})


def profile_edit_page(request, *, model, form_class, update, permission, title, intro):
    """The page editing one of the signed-in user's profiles through ``update`` (a service);
    the mentor profile's page is matching's (``matching.views.profiles``)."""
    if not request.user.has_perm(permission):
        raise PermissionDenied
    instance = _profile_or_none(model, request.user)
    form = form_class(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            update(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Your {title.lower()} is saved.")
            return redirect("accounts:profile")
    return render(request, "accounts/profile_form.html", {"form": form, "title": title, "intro": intro})


@login_required
def mentee_profile_edit(request):
    return profile_edit_page(
        request,
        model=MenteeProfile,
        form_class=MenteeProfileForm,
        update=services.mentee_profile_update,
        permission="accounts.have_mentee_profile",
        title="Mentee profile",
        intro="Mentors see this when you ask them to mentor you, and recommendations use it to find good fits.",
    )


@login_required
def availability_edit(request):
    queryset = AvailabilityWindow.objects.filter(user=request.user).order_by("weekday", "start")
    formset = AvailabilityFormSet(request.POST or None, queryset=queryset)
    if request.method == "POST" and formset.is_valid():
        windows = [
            (f.cleaned_data["weekday"], f.cleaned_data["start"], f.cleaned_data["end"])
            for f in formset.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        services.availability_replace(user=request.user, windows=windows)
        messages.success(request, "Your weekly availability is saved.")
        return redirect("accounts:profile")
    return render(request, "accounts/availability_form.html", {"formset": formset})
