"""Institution administrators' pages: the institution's programs, creating and editing one,
its coordinators, and the institution's administrators. The services are in
accounts/institutions.py; a refusal shows beside the field it is about.

Who sees what: an administrator of the institution (or a superuser) uses these pages; a
member of one of its programs gets 403 (they know it exists); anyone else 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from core.forms import add_service_errors, form_status
from core.idempotency import create_once
from core.zones import zone_choices

from ..institution_forms import PersonAddForm, PersonRemoveForm, ProgramCreateForm, ProgramForm
from ..institutions import (
    default_time_zone,
    institution_admin_add,
    institution_admin_remove,
    institution_admins,
    institution_for,
    institution_programs,
    program_administered,
    program_coordinator_add,
    program_coordinator_remove,
    program_coordinators,
    program_create,
    program_update,
)
from ..models import User


def _institution_url(institution) -> str:
    return reverse("accounts:institution", kwargs={"slug": institution.slug})


def _coordinators_url(program) -> str:
    return reverse("accounts:program-coordinators", kwargs={"slug": program.slug})


def _say_added(request, result, *, already: str, now: str, told: str = "") -> None:
    """What naming someone (an administrator, a coordinator) did: nothing (they already were),
    a new account invited to set a password, or an existing person given the role."""
    who = result.user.full_name or result.user.email
    if not result.added:
        messages.info(request, f"{who} {already}.")
    elif result.account_created:
        messages.success(request, f"{who} {now}; an invitation to set a password is on its way.")
    else:
        messages.success(request, f"{who} {now}{told}.")


@login_required
@require_http_methods(["GET", "POST"])
def institution_detail(request, slug):
    institution = institution_for(request.user, slug)
    admin_form = PersonAddForm(request.POST or None, prefix="admin")
    if request.method == "POST":
        if request.POST.get("action") == "remove-admin":
            return _admin_remove(request, institution)
        if admin_form.is_valid():
            try:
                result = institution_admin_add(institution=institution, actor=request.user, **admin_form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(admin_form, exc)
            else:
                _say_added(
                    request,
                    result,
                    already=f"already administers {institution.name}",
                    now=f"is now an administrator of {institution.name}",
                )
                return redirect(_institution_url(institution) + "#admins-h")
    return render(
        request,
        "accounts/institutions/detail.html",
        {
            "institution": institution,
            "programs": institution_programs(institution),
            "admins": institution_admins(institution),
            "admin_form": admin_form,
        },
        status=form_status(admin_form),
    )


def _admin_remove(request, institution):
    form = PersonRemoveForm(request.POST)
    if form.is_valid():
        user = get_object_or_404(institution_admins(institution), pk=form.cleaned_data["user"])
        try:
            institution_admin_remove(institution=institution, actor=request.user, user=user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"{user.full_name or user.email} no longer administers {institution.name}.")
    return redirect(_institution_url(institution) + "#admins-h")


@login_required
@require_http_methods(["GET", "POST"])
def program_new(request, slug):
    return _program_form(request, institution=institution_for(request.user, slug), program=None)


@login_required
@require_http_methods(["GET", "POST"])
def program_edit(request, slug):
    program = program_administered(request.user, slug)
    return _program_form(request, institution=program.institution, program=program)


def _program_form(request, *, institution, program):
    """The one page for a new program (``program`` None) and for editing one: the same
    fields, refusals beside them, and a web address (slug) only when creating, as it never
    changes. A new program goes on to its coordinators; an edit back to the institution."""
    if program is None:
        zone = default_time_zone(institution)
        form = ProgramCreateForm(request.POST or None, initial={"time_zone": zone})
    else:
        zone = program.time_zone
        initial = {"name": program.name, "specialty": program.specialty, "time_zone": zone}
        form = ProgramForm(request.POST or None, initial=initial)
    # The program's (or, for a new one, the institution's) zone first, then the administrator's own.
    form.fields["time_zone"].choices = zone_choices([zone, request.user.time_zone])
    if request.method == "POST" and form.is_valid():
        if done := _program_save(request, form, institution=institution, program=program):
            return done
    return render(
        request,
        "accounts/institutions/program_form.html",
        {"institution": institution, "form": form, "program": program},
        status=form_status(form),
    )


def _program_save(request, form, *, institution, program):
    """The redirect once saved, or None with the service's refusals on ``form``. Creating is
    done once per form (a double submit goes to the first program's coordinators); saving an
    edit twice changes nothing the second time."""
    if program is None:

        def create():
            created = program_create(institution=institution, actor=request.user, **form.cleaned_data)
            return _coordinators_url(created), f"{created.name} is created. Now name its coordinators."

        return create_once(
            request,
            form,
            scope=f"program:{institution.pk}",
            create=create,
            fallback_url=_institution_url(institution),
            repeat_message="You sent this form twice: the program was created once.",
        )
    try:
        program = program_update(program=program, actor=request.user, **form.cleaned_data)
    except ValidationError as exc:
        add_service_errors(form, exc)
        return None
    messages.success(request, f"{program.name} is saved.")
    return redirect(_institution_url(institution))


@login_required
@require_http_methods(["GET", "POST"])
def program_coordinators_page(request, slug):
    program = program_administered(request.user, slug)
    institution = program.institution
    form = PersonAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = program_coordinator_add(program=program, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            _say_added(
                request,
                result,
                already=f"already coordinates {program.name}",
                now=f"now coordinates {program.name}",
                told=" and is told by e-mail",
            )
            return redirect(_coordinators_url(program))
    return render(
        request,
        "accounts/institutions/coordinators.html",
        {"institution": institution, "program": program, "coordinators": program_coordinators(program), "form": form},
        status=form_status(form),
    )


@login_required
@require_POST
def program_coordinator_remove_view(request, slug):
    program = program_administered(request.user, slug)
    form = PersonRemoveForm(request.POST)
    if form.is_valid():
        user: User = get_object_or_404(program_coordinators(program), pk=form.cleaned_data["user"])
        try:
            program_coordinator_remove(program=program, actor=request.user, user=user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"{user.full_name or user.email} no longer coordinates {program.name}.")
    return redirect(_coordinators_url(program))


# Listed in accounts/urls.py (``*institutions.urlpatterns``), in the accounts namespace. A program
# is addressed by its slug alone, as on the coordinators' pages.
urlpatterns = [
    path("institutions/<slug:slug>/", institution_detail, name="institution"),
    path("institutions/<slug:slug>/programs/new/", program_new, name="institution-program-new"),
    path("programs/<slug:slug>/edit/", program_edit, name="program-edit"),
    path("programs/<slug:slug>/coordinators/", program_coordinators_page, name="program-coordinators"),
    path(
        "programs/<slug:slug>/coordinators/remove/",
        program_coordinator_remove_view,
        name="program-coordinator-remove",
    ),
]
