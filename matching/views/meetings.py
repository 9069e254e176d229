"""Pages for meetings: propose times (suggested from both people's availability),
the meeting page (confirm, reschedule, cancel, mark held, shared notes) and the
.ics download.

Every time is shown in the viewer's own time zone, named, and the other person's
local time beside it. Times typed into a form are read in the viewer's time zone.
A meeting the viewer may not see is a 404; a coordinator may look but not act (403).
"""

import zoneinfo
from datetime import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from core.bounds import SCHEDULED, localize
from core.forms import add_service_errors, max_length_of

from .. import selectors
from ..ics import meeting_ics
from ..models import Meeting, Mentorship
from ..scheduling import suggest_slots
from ..services.meetings import (
    MAX_SLOTS,
    can_take_notes,
    format_in_zone,
    meeting_cancel,
    meeting_confirm,
    meeting_mark_held,
    meeting_propose,
    meeting_reschedule,
    meeting_update_notes,
    meeting_url,
)

DURATION_CHOICES = [(15, "15 minutes"), (30, "30 minutes"), (45, "45 minutes"), (60, "1 hour"), (90, "1½ hours")]
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _zone_label(user) -> str:
    return user.time_zone.replace("_", " ")


def _time_label(when: datetime, viewer, other) -> str:
    """ "Mon 15 Mar 2027, 13:00 EDT (10:00 PDT for Carol Chen)": the viewer's time, and
    the other person's when their clock differs (with the day when that differs too)."""
    label = format_in_zone(when, viewer)
    if other is not None and other.time_zone != viewer.time_zone:
        mine, theirs = localize(when, viewer.time_zone), localize(when, other.time_zone)
        theirs_label = theirs.strftime("%H:%M %Z" if theirs.date() == mine.date() else "%a %H:%M %Z")
        label += f" ({theirs_label} for {other.full_name})"
    return label


def _parse_instant(value: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return when if timezone.is_aware(when) else None


# --- Forms. They check shapes and read local times; the services check the rules.


class TimesField(forms.MultipleChoiceField):
    """Suggested times as ISO instants. Any future instant is accepted, not only the
    ones offered: suggestions move as time passes between showing and sending."""

    def valid_value(self, value):
        return _parse_instant(value) is not None

    def clean(self, value):
        return [_parse_instant(v) for v in super().clean(value)]


class SlotsForm(forms.Form):
    """1–3 times: suggested ones ticked, or typed in the viewer's own time zone."""

    suggested = TimesField(label="Suggested times", required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, viewer, other, suggestions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zoneinfo.ZoneInfo(viewer.time_zone)
        self.fields["suggested"].choices = [(s.isoformat(), _time_label(s, viewer, other)) for s in suggestions]
        self.fields["suggested"].help_text = (
            f"When you are both free, from your weekly availability and busy blocks. "
            f"Times in your time zone, {_zone_label(viewer)}."
        )
        if not suggestions:
            self.fields["suggested"].widget = forms.MultipleHiddenInput()
        for n in range(1, MAX_SLOTS + 1):
            self.fields[f"custom_{n}"] = forms.DateTimeField(
                label=f"Another time ({n})" if n > 1 else "Another time",
                required=False,
                input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M"],
                widget=forms.DateTimeInput(
                    attrs={"type": "datetime-local", **SCHEDULED.html_times(self.zone)}, format=DATETIME_LOCAL
                ),
                help_text=f"In your time zone, {_zone_label(viewer)}." if n == 1 else "",
            )

    def full_clean(self):
        # Typed times are the viewer's wall-clock times; a time that does not exist or
        # happens twice on a daylight-saving change is refused by the field.
        with timezone.override(self.zone):
            super().full_clean()

    def clean(self):
        data = super().clean()
        given = [("suggested", when) for when in data.get("suggested") or []]
        given += [(f"custom_{n}", data[f"custom_{n}"]) for n in range(1, MAX_SLOTS + 1) if data.get(f"custom_{n}")]
        for name, when in given:
            try:
                SCHEDULED.check_instant(when, zone=self.zone)
            except ValidationError as exc:
                if name not in self.errors:  # one error beside each field is enough
                    self.add_error(name, exc)
        slots = [when for _, when in given]
        if not slots and not self.errors:
            raise ValidationError("Tick a suggested time or enter one of your own.")
        if len(slots) > MAX_SLOTS:
            raise ValidationError(f"Propose at most {MAX_SLOTS} times; you chose {len(slots)}.")
        data["slots"] = slots
        return data


class ProposeForm(SlotsForm):
    """The times first, then how long, how and where."""

    duration_minutes = forms.TypedChoiceField(label="Length", choices=DURATION_CHOICES, coerce=int, initial=30)
    format = forms.ChoiceField(label="How you meet", choices=Meeting.Format.choices, initial=Meeting.Format.VIDEO)
    location = forms.CharField(
        label="Place", max_length=max_length_of(Meeting, "location"), required=False,
        help_text="For an in-person meeting: a room or a café.",
    )
    video_url = forms.URLField(
        label="Video link", max_length=max_length_of(Meeting, "video_url"), required=False, assume_scheme="https",
        help_text="For a video meeting: Teams, Zoom, Webex…",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(["suggested", *(f"custom_{n}" for n in range(1, MAX_SLOTS + 1))])


class ConfirmForm(forms.Form):
    start = forms.ChoiceField(label="Choose a time", widget=forms.RadioSelect)

    def __init__(self, *args, meeting, viewer, other, **kwargs):
        super().__init__(*args, **kwargs)
        now = timezone.now()
        self.fields["start"].choices = [
            (slot.start.isoformat(), _time_label(slot.start, viewer, other))
            for slot in meeting.slots.all()
            if slot.start > now
        ]
        self.fields["start"].help_text = f"Times in your time zone, {_zone_label(viewer)}."

    def clean_start(self):
        return _parse_instant(self.cleaned_data["start"])


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Reason (optional)", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Sent to the other person with the cancellation.",
    )


class NotesForm(forms.Form):
    notes = forms.CharField(
        label="Shared notes", required=False, max_length=max_length_of(Meeting, "notes"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="What you discussed and what comes next. You both see and edit these notes.",
    )


# --- Loading what the viewer may see.


def _get_meeting_for_user(request, pk) -> Meeting:
    """The meeting, if the viewer may see it; otherwise a 404, so its existence stays private."""
    meeting = selectors.meetings_for(request.user).filter(pk=pk).first()
    if meeting is None or not request.user.has_perm("matching.view_mentorship", meeting):
        raise Http404
    return meeting


def _get_mentorship_for_party(request, pk) -> Mentorship:
    mentorship = selectors.mentorships_for(request.user).filter(pk=pk).first()
    if mentorship is None:
        mentorship = Mentorship.objects.select_related("mentee", "mentor", "program").filter(pk=pk).first()
        if mentorship is None or not request.user.has_perm("matching.view_mentorship", mentorship):
            raise Http404
    if not request.user.has_perm("matching.work_in_mentorship", mentorship):
        raise PermissionDenied
    return mentorship


def _suggestions(mentorship, duration: int):
    return suggest_slots(
        mentee=mentorship.mentee, mentor=mentorship.mentor, start=timezone.now(), duration_minutes=duration
    )


def _duration_from(request, default=30) -> int:
    value = request.POST.get("duration_minutes") or request.GET.get("duration")
    return int(value) if value in {str(minutes) for minutes, _ in DURATION_CHOICES} else default


# --- Pages.


@login_required
@require_http_methods(["GET", "POST"])
def meeting_propose_view(request, pk):
    mentorship = _get_mentorship_for_party(request, pk)
    if not mentorship.is_active:
        messages.info(request, "This mentorship has ended, so no new meetings can be planned.")
        return redirect(mentorship)
    other = mentorship.other_party(request.user)
    duration = _duration_from(request)
    form = ProposeForm(
        request.POST or None, viewer=request.user, other=other, suggestions=_suggestions(mentorship, duration),
        initial={"duration_minutes": duration},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            meeting = meeting_propose(
                mentorship=mentorship, actor=request.user, slots=data["slots"],
                duration_minutes=data["duration_minutes"], format=data["format"],
                location=data["location"], video_url=data["video_url"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc, aliases={"slots": None})
        else:
            messages.success(request, f"Your times are sent to {other.full_name}.")
            return redirect(meeting_url(meeting))
    return render(
        request, "matching/meetings/propose.html",
        {"form": form, "mentorship": mentorship, "other": other, "duration": duration, "meeting": None},
    )


@login_required
@require_http_methods(["GET", "POST"])
def meeting_reschedule_view(request, pk):
    meeting = _get_meeting_for_user(request, pk)
    mentorship = meeting.mentorship
    if not request.user.has_perm("matching.work_in_mentorship", meeting):
        raise PermissionDenied
    if not meeting.can_reschedule():
        messages.info(request, f"A {meeting.get_status_display().lower()} meeting cannot be rescheduled.")
        return redirect(meeting_url(meeting))
    other = mentorship.other_party(request.user)
    form = SlotsForm(
        request.POST or None, viewer=request.user, other=other,
        suggestions=_suggestions(mentorship, meeting.duration_minutes),
    )
    if request.method == "POST" and form.is_valid():
        try:
            meeting_reschedule(meeting=meeting, actor=request.user, slots=form.cleaned_data["slots"])
        except ValidationError as exc:
            add_service_errors(form, exc, aliases={"slots": None})
        else:
            messages.success(request, f"Your new times are sent to {other.full_name}.")
            return redirect(meeting_url(meeting))
    return render(
        request, "matching/meetings/propose.html",
        {"form": form, "mentorship": mentorship, "other": other, "duration": meeting.duration_minutes, "meeting": meeting},
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
        "viewer_zone": _zone_label(viewer),
        "awaiting_other": is_party and meeting.can_confirm() and viewer.pk == meeting.proposed_by_id,
        "can_confirm": can_confirm,
        "can_reschedule": is_party and active and meeting.can_reschedule(),
        "can_cancel": is_party and meeting.can_cancel(),
        "can_mark_held": is_party and meeting.can_mark_held(),
        "show_notes": is_party,
        "notes_open": notes_open,
    }
    if can_confirm:
        context["confirm_form"] = forms_in_play.get("confirm_form") or ConfirmForm(
            meeting=meeting, viewer=viewer, other=other
        )
    if context["can_cancel"]:
        context["cancel_form"] = forms_in_play.get("cancel_form") or CancelForm()
    if notes_open:
        context["notes_form"] = forms_in_play.get("notes_form") or NotesForm(initial={"notes": meeting.notes})
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
    return _render_detail(request, _get_meeting_for_user(request, pk))


@login_required
@require_POST
def meeting_confirm_view(request, pk):
    meeting = _get_meeting_for_user(request, pk)
    if not request.user.has_perm("matching.work_in_mentorship", meeting):
        raise PermissionDenied
    form = ConfirmForm(request.POST, meeting=meeting, viewer=request.user, other=meeting.mentorship.other_party(request.user))
    if form.is_valid():
        try:
            meeting_confirm(meeting=meeting, actor=request.user, start=form.cleaned_data["start"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "The meeting is confirmed. Download the invitation to add it to your calendar.")
            return redirect(meeting_url(meeting))
    return _render_detail(request, _get_meeting_for_user(request, pk), confirm_form=form)


@login_required
@require_POST
def meeting_cancel_view(request, pk):
    meeting = _get_meeting_for_user(request, pk)
    if not request.user.has_perm("matching.work_in_mentorship", meeting):
        raise PermissionDenied
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            meeting_cancel(meeting=meeting, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "The meeting is cancelled; the other person's calendar will update.")
            return redirect(meeting_url(meeting))
    return _render_detail(request, _get_meeting_for_user(request, pk), cancel_form=form)


@login_required
@require_POST
def meeting_held_view(request, pk):
    meeting = _get_meeting_for_user(request, pk)
    if not request.user.has_perm("matching.work_in_mentorship", meeting):
        raise PermissionDenied
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
    meeting = _get_meeting_for_user(request, pk)
    if not request.user.has_perm("matching.work_in_mentorship", meeting):
        raise PermissionDenied
    form = NotesForm(request.POST)
    if form.is_valid():
        try:
            meeting_update_notes(meeting=meeting, actor=request.user, notes=form.cleaned_data["notes"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "The notes are saved.")
            return redirect(meeting_url(meeting))
    return _render_detail(request, _get_meeting_for_user(request, pk), notes_form=form)


@login_required
def meeting_ics_view(request, pk):
    meeting = _get_meeting_for_user(request, pk)
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
    path("meetings/<int:pk>/invite.ics", meeting_ics_view, name="meeting-ics"),
]
