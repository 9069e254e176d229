"""Proposing, confirming and cancelling meetings, and their notes. Times typed in are read
in the viewer's own time zone."""

import zoneinfo
from datetime import UTC, datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.bounds import SCHEDULED, localize
from core.concurrency import VersionField
from core.forms import max_length_of
from core.idempotency import OnceFormMixin
from core.zones import ZonedDateTimeField

from ..models import Meeting
from ..scheduling import outside_weekly_availability
from ..services.meetings import MAX_SLOTS, format_in_zone

DURATION_CHOICES = [(15, "15 minutes"), (30, "30 minutes"), (45, "45 minutes"), (60, "1 hour"), (90, "1½ hours")]
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def zone_label(user) -> str:
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


class TimesField(forms.MultipleChoiceField):
    """Suggested times as ISO instants. Any future instant is accepted, not only the
    ones offered: suggestions move as time passes between showing and sending."""

    def valid_value(self, value):
        return _parse_instant(value) is not None

    def clean(self, value):
        return [_parse_instant(v) for v in super().clean(value)]


def availability_hint(when: datetime, outside: list, *, viewer, other) -> str:
    """Whose weekly availability a typed time falls outside, the time written as the suggested
    times are (``_time_label``): "Wed 9 Dec 2026, 03:00 EST (00:00 PST for Carol Chen) is
    outside both your weekly availability and Carol Chen's." """
    outside_ids = {person.pk for person in outside}
    if viewer.pk in outside_ids and other.pk in outside_ids:
        return f"{_time_label(when, viewer, other)} is outside both your weekly availability and {other.full_name}'s."
    if viewer.pk in outside_ids:
        return f"{format_in_zone(when, viewer)} is outside your weekly availability."
    return f"{_time_label(when, viewer, other)} is outside {other.full_name}'s weekly availability."


def _custom_label(n: int, *, suggested: bool) -> str:
    """The typed times' labels: "Another time" beside suggested ones; with none suggested they
    are the only times, "A time", "Another time", "A third time"."""
    if suggested:
        return f"Another time ({n})" if n > 1 else "Another time"
    return ("A time", "Another time", "A third time", f"Time {n}")[min(n, 4) - 1]


class SlotsForm(OnceFormMixin):
    """1–3 times: suggested ones ticked, or typed in the viewer's own time zone. Sending
    them creates (or re-times) a meeting once, however often the button is pressed.

    A typed time outside either person's weekly availability is not refused, but the first
    sending stops at a hint (``outside_hints``) with a "Send anyway" button whose value
    (``send_anyway_value``) names exactly the times and length it was shown for: pressing it
    sends them; changing a time or the length asks again. The form stays valid either way
    (``needs_confirmation`` tells the view), and the re-shown form keeps everything typed,
    its one-time value included, so a double tap on "Send anyway" still sends once."""

    suggested = TimesField(label="Suggested times", required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, viewer, other, suggestions=(), duration_minutes=30, **kwargs):
        super().__init__(*args, **kwargs)
        self.viewer, self.other, self.default_duration = viewer, other, duration_minutes
        self.outside_hints: list[str] = []
        self.send_anyway_value = ""
        self.zone = zoneinfo.ZoneInfo(viewer.time_zone)
        self.fields["suggested"].choices = [(s.isoformat(), _time_label(s, viewer, other)) for s in suggestions]
        self.fields["suggested"].help_text = (
            f"When you are both free, from your weekly availability and busy blocks. "
            f"Times in your time zone, {zone_label(viewer)}."
        )
        if not suggestions:
            self.fields["suggested"].widget = forms.MultipleHiddenInput()
        for n in range(1, MAX_SLOTS + 1):
            self.fields[f"custom_{n}"] = ZonedDateTimeField(
                zone=self.zone,
                label=_custom_label(n, suggested=bool(suggestions)),
                required=False,
                input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M"],
                widget=forms.DateTimeInput(
                    attrs={"type": "datetime-local", **SCHEDULED.html_times(self.zone)}, format=DATETIME_LOCAL
                ),
                help_text=f"In your time zone, {zone_label(viewer)}." if n == 1 else "",
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
            if self.fields["suggested"].choices:
                raise ValidationError("Tick a suggested time or enter one of your own.")
            raise ValidationError("Enter a time for the meeting.")
        if len(slots) > MAX_SLOTS:
            raise ValidationError(f"Propose at most {MAX_SLOTS} times; you chose {len(slots)}.")
        data["slots"] = slots
        if not self.errors:
            self._check_availability(data)
        return data

    @property
    def needs_confirmation(self) -> bool:
        return bool(self.outside_hints)

    def _check_availability(self, data) -> None:
        # Only typed times: suggested ones come from both people's availability.
        typed = [data[f"custom_{n}"] for n in range(1, MAX_SLOTS + 1) if data.get(f"custom_{n}")]
        duration = data.get("duration_minutes") or self.default_duration
        outside = outside_weekly_availability(typed, duration_minutes=duration, people=[self.viewer, self.other])
        if not outside:
            return
        value = " ".join([f"{duration}min", *sorted(slot.isoformat() for slot in outside)])
        given = self.data.getlist("send_anyway") if hasattr(self.data, "getlist") else [self.data.get("send_anyway")]
        if value in given:
            return
        self.send_anyway_value = value
        self.outside_hints = [
            availability_hint(slot, people, viewer=self.viewer, other=self.other)
            for slot, people in sorted(outside.items())
        ]


class WhereFields(forms.Form):
    """Where the pair meets: a place or a video link, both optional. Given when proposing,
    changed later on the meeting's page."""

    location = forms.CharField(
        label="Place",
        max_length=max_length_of(Meeting, "location"),
        required=False,
        help_text="For an in-person meeting: a room or a café.",
    )
    video_url = forms.URLField(
        label="Video link",
        max_length=max_length_of(Meeting, "video_url"),
        required=False,
        assume_scheme="https",
        help_text="For a video meeting: Teams, Zoom, Webex…",
    )


class ProposeForm(SlotsForm, WhereFields):
    """How long first (the suggested times are for that length), the times, then how and where.

    Its one length picker has an "Update suggested times" button (``REFRESH``): the page comes
    back with times for the new length and everything else as typed (``kept``), nothing sent."""

    REFRESH = "refresh_suggestions"

    duration_minutes = forms.TypedChoiceField(label="Length", choices=DURATION_CHOICES, coerce=int, initial=30)
    format = forms.ChoiceField(label="How you meet", choices=Meeting.Format.choices, initial=Meeting.Format.VIDEO)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        times = ["suggested", *(f"custom_{n}" for n in range(1, MAX_SLOTS + 1))]
        self.order_fields(["duration_minutes", *times, "format", "location", "video_url"])

    @classmethod
    def kept(cls, data) -> dict:
        """What was typed, as initial values for the form shown again after "Update suggested
        times": ticked suggestions are dropped (they were for the other length), the one-time
        value too (the form shown gets a fresh one)."""
        return {
            name: data.get(name)
            for name in (*(f"custom_{n}" for n in range(1, MAX_SLOTS + 1)), "format", "location", "video_url")
            if data.get(name)
        }


class ConfirmForm(forms.Form):
    start = forms.ChoiceField(label="Choose a time", widget=forms.RadioSelect)

    def __init__(self, *args, meeting, viewer, other, **kwargs):
        super().__init__(*args, **kwargs)
        now = timezone.now()
        starts = [slot.start for slot in meeting.slots.all() if slot.start > now]
        # The one confirming is told which times fall outside the hours they keep (a 3 am slot the
        # other person typed): one query, whatever the number of slots.
        outside = outside_weekly_availability(starts, duration_minutes=meeting.duration_minutes, people=[viewer])
        self.fields["start"].choices = [
            (
                start.isoformat(),
                _time_label(start, viewer, other)
                + (" — outside your weekly availability" if outside.get(start.astimezone(UTC)) else ""),
            )
            for start in starts
        ]
        self.fields["start"].help_text = f"Times in your time zone, {zone_label(viewer)}."

    def clean_start(self):
        return _parse_instant(self.cleaned_data["start"])


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Reason (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Sent to the other person with the cancellation.",
    )


class NotesForm(forms.Form):
    version = VersionField()
    notes = forms.CharField(
        label="Shared notes",
        required=False,
        max_length=max_length_of(Meeting, "notes"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="What you discussed and what comes next. You both see and edit these notes.",
    )


class DetailsForm(WhereFields):
    """The place or video link, added or changed once the meeting is proposed."""

    version = VersionField()
