"""A coordinator's pairings: which list to show, pair a resident, end a pairing, reassign."""

from django import forms

from core.forms import max_length_of

from ..models import Kind, Mentorship
from ..services.pairings import SHARED_REASON_MISSING


class ShowForm(forms.Form):
    unpaired = forms.ChoiceField(
        label="Show",
        required=False,
        choices=[("", "Pairings")]
        + [(value, f"Residents with no {label.lower()} mentor") for value, label in Kind.choices],
    )


class _ReasonField(forms.CharField):
    # As long as a mentorship's end reason (the field the pair read holds a neutral sentence instead).
    def __init__(self, label, required_message):
        super().__init__(
            label=label,
            max_length=max_length_of(Mentorship, "end_reason"),
            widget=forms.Textarea(attrs={"rows": 2}),
            error_messages={"required": required_message},
        )


class AssignForm(forms.Form):
    mentor = forms.TypedChoiceField(label="Mentor", coerce=int, error_messages={"required": "Choose a mentor."})
    kind = forms.ChoiceField(label="Kind of mentorship", choices=Kind.choices)
    reason = _ReasonField("Reason (kept in the audit trail)", "Give the reason; it is kept in the audit trail.")

    def __init__(self, *args, mentor_options, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mentor"].choices = [("", "Choose a mentor")] + mentor_options


class EndForm(forms.Form):
    reason = _ReasonField(
        "Reason (kept in the audit trail; the pair are told only that you ended it)", SHARED_REASON_MISSING
    )


class ReassignForm(forms.Form):
    mentor = forms.TypedChoiceField(label="New mentor", coerce=int, error_messages={"required": "Choose a mentor."})
    reason = _ReasonField(
        "Reason (kept in the audit trail; the people concerned are told only that you made the change)",
        SHARED_REASON_MISSING,
    )

    def __init__(self, *args, mentor_options, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mentor"].choices = [("", "Choose a mentor")] + mentor_options
