"""Pages for meetings: propose times (suggested from both people's availability),
the meeting page (confirm, reschedule, cancel, mark held, shared notes) and the
.ics download.

Every time is shown in the viewer's own time zone, named, and the other person's
local time beside it. Times typed into a form are read in the viewer's time zone.
A meeting the viewer may not see is a 404; a coordinator may look but not act (403).

Sending times is handled once however often the button is pressed
(``core.idempotency.create_once``), the "Send anyway" step for a typed time outside
someone's weekly availability included (``forms.meetings.SlotsForm``); the shared notes and the place or video link are
versioned, so a stale save shows both texts instead of overwriting (``core.concurrency``).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from core.access import object_for
from core.forms import add_service_errors, form_status
from core.idempotency import create_once

from ..forms.meetings import (
    DURATION_CHOICES,
    CancelForm,
    ConfirmForm,
    DetailsForm,
    NotesForm,
    ProposeForm,
    SlotsForm,
    zone_label,
)
from ..ics import meeting_ics
from ..models import Meeting, Mentorship
from ..scheduling import suggest_slots, why_no_slots
from ..selectors import meetings as meeting_selectors
from ..services.meetings import (
    can_take_notes,
    meeting_cancel,
    meeting_confirm,
    meeting_mark_held,
    meeting_propose,
    meeting_reschedule,
    meeting_update_details,
    meeting_update_notes,
    meeting_url,
)
from ._edit_conflicts import save_or_conflict, status_after

# --- Loading what the viewer may see.


def _meeting_for(request, pk, perm="matching.view_mentorship") -> Meeting:
    """The meeting if the viewer holds ``perm`` on it: the pair and their coordinators see it,
    only the pair work in it (a coordinator is told 403, anyone else 404)."""
    return object_for(
        request.user, meeting_selectors.meetings_for(request.user), pk, perm, visible_with="matching.view_mentorship"
    )


def _mentorship_for_party(request, pk) -> Mentorship:
    return object_for(
        request.user,
        Mentorship.objects.select_related("mentee", "mentor", "program"),
        pk,
        "matching.work_in_mentorship",
        visible_with="matching.view_mentorship",
    )


def _suggestions(mentorship, duration: int):
    return suggest_slots(
        mentee=mentorship.mentee, mentor=mentorship.mentor, start=timezone.now(), duration_minutes=duration
    )


def _no_times_context(request, form, other, duration: int) -> dict:
    """Where no time is suggested: why (``scheduling.why_no_slots``) and for what length."""
    if form.fields["suggested"].choices:
        return {}
    return {
        "why_no_times": why_no_slots(viewer=request.user, other=other, start=timezone.now(), duration_minutes=duration),
        "duration_label": dict(DURATION_CHOICES).get(duration, f"{duration} minutes"),
    }


def _duration_from(request, default=30) -> int:
    value = request.POST.get("duration_minutes") or request.GET.get("duration")
    return int(value) if value in {str(minutes) for minutes, _ in DURATION_CHOICES} else default


def _once(request, form, scope, create, fallback_url):
    return create_once(
        request,
        form,
        scope=scope,
        create=create,
        fallback_url=fallback_url,
        repeat_message="You sent these times twice: they went out once.",
        aliases={"slots": None},
    )


# --- Pages.


@login_required
@require_http_methods(["GET", "POST"])
def meeting_propose_view(request, pk):
    mentorship = _mentorship_for_party(request, pk)
    if not mentorship.is_active:
        messages.info(request, "This mentorship has ended, so no new meetings can be planned.")
        return redirect(mentorship)
    other = mentorship.other_party(request.user)
    duration = _duration_from(request)
    # "Update suggested times" shows the form again for the length chosen, everything typed kept.
    refresh = ProposeForm.REFRESH in request.POST
    form = ProposeForm(
        None if refresh else request.POST or None,
        viewer=request.user,
        other=other,
        suggestions=_suggestions(mentorship, duration),
        initial={**ProposeForm.kept(request.POST), "duration_minutes": duration}
        if refresh
        else {"duration_minutes": duration},
    )
    # A typed time outside someone's weekly availability stops once at a hint (the same page,
    # everything kept); "Send anyway" sends.
    if request.method == "POST" and form.is_valid() and not form.needs_confirmation:
        data = form.cleaned_data

        def create():
            meeting = meeting_propose(
                mentorship=mentorship,
                actor=request.user,
                slots=data["slots"],
                duration_minutes=data["duration_minutes"],
                format=data["format"],
                location=data["location"],
                video_url=data["video_url"],
            )
            return meeting_url(meeting), f"Your times are sent to {other.full_name}."

        done = _once(request, form, f"propose:{mentorship.pk}", create, mentorship.get_absolute_url())
        if done:
            return done
    return render(
        request,
        "matching/meetings/propose.html",
        {
            "form": form,
            "mentorship": mentorship,
            "other": other,
            "duration": duration,
            "meeting": None,
            **_no_times_context(request, form, other, duration),
        },
        status=form_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def meeting_reschedule_view(request, pk):
    meeting = _meeting_for(request, pk, "matching.work_in_mentorship")
    mentorship = meeting.mentorship
    if not meeting.can_reschedule():
        messages.info(request, f"A {meeting.get_status_display().lower()} meeting cannot be rescheduled.")
        return redirect(meeting_url(meeting))
    other = mentorship.other_party(request.user)
    form = SlotsForm(
        request.POST or None,
        viewer=request.user,
        other=other,
        suggestions=_suggestions(mentorship, meeting.duration_minutes),
        duration_minutes=meeting.duration_minutes,
    )
    if request.method == "POST" and form.is_valid() and not form.needs_confirmation:

        def create():
            meeting_reschedule(meeting=meeting, actor=request.user, slots=form.cleaned_data["slots"])
            return meeting_url(meeting), f"Your new times are sent to {other.full_name}."

        done = _once(request, form, f"reschedule:{meeting.pk}", create, meeting_url(meeting))
        if done:
            return done
    return render(
        request,
        "matching/meetings/propose.html",
        {
            "form": form,
            "mentorship": mentorship,
            "other": other,
            "duration": meeting.duration_minutes,
            "meeting": meeting,
            **_no_times_context(request, form, other, meeting.duration_minutes),
        },
        status=form_status(form),
    )


def _detail_context(request, meeting, **forms_in_play):
    viewer = request.user
    mentorship = meeting.mentorship
    is_party = viewer.has_perm("matching.work_in_mentorship", meeting)
    other = mentorship.other_party(viewer) if is_party else None
    active = mentorship.is_active
    can_confirm = is_party and active and meeting.can_confirm() and viewer.pk != meeting.proposed_by_id
    notes_open = is_party and can_take_notes(meeting)
    # The people whose local time is shown beside the viewer's.
    others = [other] if other else [mentorship.mentee, mentorship.mentor]
    others = [person for person in others if person.time_zone != viewer.time_zone]
    context = {
        "meeting": meeting,
        "mentorship": mentorship,
        "slots": list(meeting.slots.all()),
        "is_party": is_party,
        "other": other,
        "others_in_other_zones": others,
        "viewer_zone": zone_label(viewer),
        "awaiting_other": is_party and meeting.can_confirm() and viewer.pk == meeting.proposed_by_id,
        "can_confirm": can_confirm,
        "can_reschedule": is_party and active and meeting.can_reschedule(),
        "can_cancel": is_party and meeting.can_cancel(),
        "can_mark_held": is_party and meeting.can_mark_held(),
        "show_notes": is_party,
        "notes_open": notes_open,
        "can_edit_details": is_party
        and active
        and meeting.status in (Meeting.Status.PROPOSED, Meeting.Status.CONFIRMED),
        "notes_conflict": forms_in_play.pop("notes_conflict", None),
        "details_conflict": forms_in_play.pop("details_conflict", None),
    }
    if can_confirm:
        context["confirm_form"] = forms_in_play.get("confirm_form") or ConfirmForm(
            meeting=meeting, viewer=viewer, other=other
        )
    if context["can_cancel"]:
        context["cancel_form"] = forms_in_play.get("cancel_form") or CancelForm()
    if notes_open:
        context["notes_form"] = forms_in_play.get("notes_form") or NotesForm(
            initial={"notes": meeting.notes, "version": meeting.version}
        )
    if context["can_edit_details"]:
        context["details_form"] = forms_in_play.get("details_form") or DetailsForm(
            initial={"location": meeting.location, "video_url": meeting.video_url, "version": meeting.version}
        )
    # A refused action whose form is no longer offered (the meeting changed meanwhile):
    # its errors are shown at the top instead.
    context["action_errors"] = [
        error
        for name, form in forms_in_play.items()
        if name not in context and form is not None
        for errors in form.errors.values()
        for error in errors
    ]
    return context


def _render_detail(request, meeting, *, status=200, **forms_in_play):
    return render(
        request, "matching/meetings/detail.html", _detail_context(request, meeting, **forms_in_play), status=status
    )


@login_required
def meeting_detail(request, pk):
    return _render_detail(request, _meeting_for(request, pk))


@login_required
@require_POST
def meeting_confirm_view(request, pk):
    meeting = _meeting_for(request, pk, "matching.work_in_mentorship")
    form = ConfirmForm(
        request.POST, meeting=meeting, viewer=request.user, other=meeting.mentorship.other_party(request.user)
    )
    if form.is_valid():
        try:
            meeting_confirm(meeting=meeting, actor=request.user, start=form.cleaned_data["start"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "The meeting is confirmed. Download the invitation to add it to your calendar.")
            return redirect(meeting_url(meeting))
    return _render_detail(request, _meeting_for(request, pk), status=form_status(form), confirm_form=form)


@login_required
@require_POST
def meeting_cancel_view(request, pk):
    meeting = _meeting_for(request, pk, "matching.work_in_mentorship")
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            meeting_cancel(meeting=meeting, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "The meeting is cancelled; the other person's calendar will update.")
            return redirect(meeting_url(meeting))
    return _render_detail(request, _meeting_for(request, pk), status=form_status(form), cancel_form=form)


@login_required
@require_POST
def meeting_held_view(request, pk):
    meeting = _meeting_for(request, pk, "matching.work_in_mentorship")
    try:
        meeting_mark_held(meeting=meeting, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Marked as held. Add your shared notes below.")
    return redirect(meeting_url(meeting))


@login_required
@require_POST
def meeting_notes_view(request, pk):
    meeting = _meeting_for(request, pk, "matching.work_in_mentorship")
    form = NotesForm(request.POST)
    conflict = None
    if form.is_valid():
        data = form.cleaned_data
        saved, conflict = save_or_conflict(
            form,
            lambda: meeting_update_notes(
                meeting=meeting, actor=request.user, notes=data["notes"], version=data["version"]
            ),
            lambda theirs: [("Shared notes", theirs.notes)],
        )
        if saved:
            messages.success(request, "The notes are saved.")
            return redirect(meeting_url(meeting))
    return _render_detail(
        request,
        _meeting_for(request, pk),
        status=status_after(form, conflict),
        notes_form=form,
        notes_conflict=conflict,
    )


@login_required
@require_POST
def meeting_details_view(request, pk):
    meeting = _meeting_for(request, pk, "matching.work_in_mentorship")
    form = DetailsForm(request.POST)
    conflict = None
    if form.is_valid():
        data = form.cleaned_data
        saved, conflict = save_or_conflict(
            form,
            lambda: meeting_update_details(
                meeting=meeting,
                actor=request.user,
                location=data["location"],
                video_url=data["video_url"],
                version=data["version"],
            ),
            lambda theirs: [("Place", theirs.location), ("Video link", theirs.video_url)],
        )
        if saved:
            messages.success(request, "The meeting's details are saved; the other person's invitation is updated.")
            return redirect(meeting_url(meeting))
    return _render_detail(
        request,
        _meeting_for(request, pk),
        status=status_after(form, conflict),
        details_form=form,
        details_conflict=conflict,
    )


@login_required
def meeting_ics_view(request, pk):
    meeting = _meeting_for(request, pk)
    response = HttpResponse(meeting_ics(meeting), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.pk}.ics"'
    return response


urlpatterns = [
    path("mentorships/<int:pk>/meetings/new/", meeting_propose_view, name="meeting-propose"),
    path("meetings/<int:pk>/", meeting_detail, name="meeting-detail"),
    path("meetings/<int:pk>/confirm/", meeting_confirm_view, name="meeting-confirm"),
    path("meetings/<int:pk>/reschedule/", meeting_reschedule_view, name="meeting-reschedule"),
    path("meetings/<int:pk>/cancel/", meeting_cancel_view, name="meeting-cancel"),
    path("meetings/<int:pk>/held/", meeting_held_view, name="meeting-held"),
    path("meetings/<int:pk>/notes/", meeting_notes_view, name="meeting-notes"),
    path("meetings/<int:pk>/details/", meeting_details_view, name="meeting-details"),
    path("meetings/<int:pk>/invite.ics", meeting_ics_view, name="meeting-ics"),
]
