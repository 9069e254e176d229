"""Reviewing a run's proposals: the list's filters, and overriding one proposal."""

from django import forms

from core.forms import max_length_of
from core.widgets import PlainSelect

from ..match_runs.selectors import SHOW, SORTS
from ..models import MatchProposal


class ReviewFilterForm(forms.Form):
    """``?show=&mentor=&q=&sort=&page=``: anything unknown falls back to the whole list, the
    pairs waiting for a decision first."""

    show = forms.ChoiceField(label="Show", choices=list(SHOW.items()), required=False)
    # The cohort's mentors: over a thousand options in a large program.
    mentor = forms.TypedChoiceField(label="Mentor", coerce=int, required=False, empty_value=None, widget=PlainSelect)
    # Deliberately not in the URL (matching/views/match_runs.py, REVIEW_KEYS): the page says so.
    q = forms.CharField(
        label="Search by name or e-mail",
        max_length=100,
        required=False,
        help_text="Kept in your session, not in the page's address, so links to this page never carry a name.",
    )
    sort = forms.ChoiceField(label="Sort by", choices=list(SORTS.items()), required=False)

    def __init__(self, *args, mentor_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mentor"].choices = [("", "Any mentor")] + mentor_choices

    def values(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "show": data.get("show") or "all",
            "mentor_id": data.get("mentor"),
            "q": (data.get("q") or "").strip(),
            "sort": data.get("sort") or "decision",
        }


class OverrideForm(forms.Form):
    mentor = forms.TypedChoiceField(label="Instead, pair with", coerce=int)
    note = forms.CharField(
        label="Why (required)",
        max_length=max_length_of(MatchProposal, "decision_note"),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say briefly why you are changing this pairing."},
    )
    make_room = forms.ChoiceField(
        label="This mentor has no spot left. Make room by",
        required=False,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, mentor_choices, room_choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mentor"].choices = [("", "Choose a mentor")] + mentor_choices
        # A match whose only mentor is the one proposed (or whose others are kept apart): the
        # page says so instead of a list with nothing to choose.
        self.nobody_to_choose = not mentor_choices
        self.fields["make_room"].choices = room_choices or []
        self.room_offered = bool(room_choices)
        if not room_choices:
            # Offered only once the chosen mentor turns out to be full. A way chosen while they
            # were (the choices come as soon as a mentor is chosen) is moot if a spot has opened
            # since, or if another mentor was chosen: dropped, not refused as an unknown choice.
            self.fields["make_room"] = forms.CharField(required=False, widget=forms.HiddenInput())

    def clean_make_room(self):
        return self.cleaned_data.get("make_room", "") if self.room_offered else ""
