from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from core.forms import add_service_errors, form_status

from .. import busy, services
from ..busy_forms import BusyBlockForm, BusyCalendarUploadForm, BusyCalendarUrlForm
from ..forms import AccountForm, AvailabilityFormSet, MenteeProfileForm
from ..models import AvailabilityWindow, BusyBlock, BusyCalendar, MenteeProfile
from ..rules import coordinates_a_program_of
from ..selectors import profile_completeness
from ..uploads import limit_uploads


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
    # A mentor's active mentees, beside their capacity: the badge says "Full" (or, to the mentor,
    # "Over capacity") rather than "Accepting" when no spot is left. Another person's page has it
    # annotated (``matching.selectors.directory.person``); one's own is counted here.
    mentor_taken = getattr(user, "active_mentee_count", None)
    if mentor is not None and mentor_taken is None:
        mentor_taken = user.mentorships_as_mentor.filter(status="active").count()
    return {
        "mentor_taken": mentor_taken,
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
        "busy_blocks": user.busy_blocks.select_related("calendar") if is_own else [],
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
    return render(
        request, "accounts/profile_form.html", {"form": form, "title": "Name and time zone"}, status=form_status(form)
    )


def profile_edit_page(request, *, model, form_class, update, permission, title, intro, saved_note=None):
    """The page editing one of the signed-in user's profiles through ``update`` (a service);
    the mentor profile's page is matching's (``matching.views.profiles``). ``saved_note``: given
    the saved profile, what the save means beyond "saved" (a warning), or ""."""
    if not request.user.has_perm(permission):
        raise PermissionDenied
    instance = _profile_or_none(model, request.user)
    form = form_class(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            saved = update(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            note = saved_note(saved) if saved_note else ""
            if note:
                messages.warning(request, f"Your {title.lower()} is saved. {note}")
            else:
                messages.success(request, f"Your {title.lower()} is saved.")
            return redirect("accounts:profile")
    return render(
        request,
        "accounts/profile_form.html",
        {"form": form, "title": title, "intro": intro},
        status=form_status(form),
    )


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
    return render(request, "accounts/availability_form.html", {"formset": formset}, status=form_status(formset))


# --- Busy blocks: typed in, or imported from a calendar (accounts/busy.py).


def _own_block(request, pk) -> BusyBlock:
    """One of the signed-in person's blocks; anyone else's answers 404."""
    return get_object_or_404(BusyBlock.objects.select_related("calendar"), pk=pk, user=request.user)


def _own_calendar(request, pk) -> BusyCalendar:
    return get_object_or_404(BusyCalendar, pk=pk, user=request.user)


def _busy_page(request, *, block_form=None, upload_form=None, url_form=None, status=200):
    user = request.user
    limit = settings.BUSY_CALENDAR_MAX_BYTES
    return render(
        request,
        "accounts/busy_blocks.html",
        {
            "blocks": user.busy_blocks.filter(calendar__isnull=True),
            "calendars": user.busy_calendars.prefetch_related("blocks"),
            "block_form": block_form or BusyBlockForm(zone=user.time_zone),
            "upload_form": upload_form or BusyCalendarUploadForm(limit=limit),
            "url_form": url_form or BusyCalendarUrlForm(),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def busy_blocks(request):
    """The list, with the form that adds a block (POST here)."""
    if request.method != "POST":
        return _busy_page(request)
    form = BusyBlockForm(request.POST, zone=request.user.time_zone)
    if form.is_valid():
        try:
            busy.busy_block_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"“{form.cleaned_data['label']}” is in your busy blocks.")
            return redirect("accounts:busy-blocks")
    return _busy_page(request, block_form=form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def busy_block_edit(request, pk):
    block = _own_block(request, pk)
    if block.calendar_id is not None:
        messages.warning(request, f"“{block.label}” comes from the calendar “{block.calendar.name}”: change it there.")
        return redirect("accounts:busy-blocks")
    initial = {"label": block.label, "start_date": block.start_date, "end_date": block.end_date}
    form = BusyBlockForm(request.POST or None, initial=initial, zone=request.user.time_zone)
    if request.method == "POST" and form.is_valid():
        try:
            busy.busy_block_update(block=block, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "The busy block is saved.")
            return redirect("accounts:busy-blocks")
    return render(
        request, "accounts/busy_block_form.html", {"form": form, "busy_block": block}, status=form_status(form)
    )


@login_required
@require_POST
def busy_block_delete(request, pk):
    block = _own_block(request, pk)
    try:
        busy.busy_block_delete(block=block, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"“{block.label}” is removed.")
    return redirect("accounts:busy-blocks")


# csrf_exempt, then csrf_protect inside: the size limit must be in place before the CSRF
# check reads the body (Django's pattern for per-view upload handlers).
@csrf_exempt
@login_required
@require_POST
def busy_calendar_upload(request):
    limiter = limit_uploads(request, settings.BUSY_CALENDAR_MAX_BYTES)
    return _busy_calendar_upload(request, limiter)


@csrf_protect
def _busy_calendar_upload(request, limiter):
    form = BusyCalendarUploadForm(
        request.POST, request.FILES, cut_off=limiter.refused, limit=settings.BUSY_CALENDAR_MAX_BYTES
    )
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            calendar = busy.busy_calendar_import_file(
                user=request.user, content=upload.read(), name=form.cleaned_data["name"], filename=upload.name
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            count = calendar.blocks.count()
            messages.success(request, f"Imported {count} busy block{'s' if count != 1 else ''} from “{calendar.name}”.")
            return redirect("accounts:busy-blocks")
    return _busy_page(request, upload_form=form, status=400)


@login_required
@require_POST
def busy_calendar_subscribe(request):
    form = BusyCalendarUrlForm(request.POST)
    if form.is_valid():
        try:
            calendar = busy.busy_calendar_add_url(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            count = calendar.blocks.count()
            messages.success(
                request,
                f"Imported {count} busy block{'s' if count != 1 else ''} from “{calendar.name}”; it refreshes daily.",
            )
            return redirect("accounts:busy-blocks")
    return _busy_page(request, url_form=form, status=400)


@login_required
@require_POST
def busy_calendar_refresh(request, pk):
    calendar = _own_calendar(request, pk)
    try:
        calendar = busy.busy_calendar_refresh(calendar=calendar, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if calendar.last_error:
            messages.error(request, f"“{calendar.name}” could not be refreshed: {calendar.last_error}")
        else:
            messages.success(request, f"“{calendar.name}” is up to date.")
    return redirect("accounts:busy-blocks")


@login_required
@require_POST
def busy_calendar_delete(request, pk):
    calendar = _own_calendar(request, pk)
    busy.busy_calendar_delete(calendar=calendar, actor=request.user)
    messages.success(request, f"“{calendar.name}” and its busy blocks are removed.")
    return redirect("accounts:busy-blocks")
