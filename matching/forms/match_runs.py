"""Starting a cohort match run, and overriding one of its proposals."""

from dataclasses import asdict

from django import forms
from django.utils import timezone

from core.bounds import SCHEDULED
from core.forms import max_length_of

from .. import engine
from ..models import Kind, MatchProposal, MatchRun

ALGORITHM_CHOICES = [
    (MatchRun.Algorithm.STABLE, "Stable (like the residency Match)"),
    (MatchRun.Algorithm.OPTIMAL, "Best overall fit"),
]
WEIGHT_LABELS = {
    "specialty": "Specialty fit",
    "goals": "Goals the mentor helps with",
    "interests": "Shared interests",
    "career": "Career distance",
    "availability": "Availability overlap",
    "language": "Shared language",
    "meeting_format": "Meeting format",
}


class MatchRunForm(forms.Form):
    kind = forms.ChoiceField(label="Kind of mentorship", choices=Kind.choices)
    algorithm = forms.ChoiceField(
        label="How to match",
        choices=ALGORITHM_CHOICES,
        initial=MatchRun.Algorithm.STABLE,
        widget=forms.RadioSelect,
        help_text="Stable: nobody would both rather be with each other. Best overall fit: as many pairs as possible, "
        "then the highest total score.",
    )
    mentee_ids = forms.TypedMultipleChoiceField(
        label="Residents",
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one resident."},
    )
    mentor_ids = forms.TypedMultipleChoiceField(
        label="Mentors",
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one mentor."},
        help_text="Faculty of this program with an open spot.",
    )
    ranking_deadline = forms.DateTimeField(
        label="Ranking deadline (optional)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        help_text="Leave empty to run now. With a deadline, residents and mentors may rank each other until then.",
    )

    def __init__(self, *args, mentees, mentors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mentee_ids"].choices = [
            (u.pk, f"{u.full_name} ({u.mentee_profile.career_stage or 'stage unknown'})") for u in mentees
        ]
        self.fields["mentor_ids"].choices = [
            (p.user_id, f"{p.user.full_name} ({p.open_spots} open spot{'s' if p.open_spots != 1 else ''})")
            for p in mentors
        ]
        defaults = asdict(engine.Weights())
        for name, value in defaults.items():
            self.fields[f"weight_{name}"] = forms.FloatField(
                label=WEIGHT_LABELS.get(name, name.replace("_", " ").capitalize()),
                min_value=0,
                initial=value,
                widget=forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
            )
        self.weight_names = list(defaults)
        self.fields["ranking_deadline"].widget.attrs.update(SCHEDULED.html_times(timezone.get_current_timezone()))

    def clean_ranking_deadline(self):
        # Built and validated under the coordinator's zone (timezone.override in the view).
        deadline = self.cleaned_data["ranking_deadline"]
        SCHEDULED.check_instant(deadline, zone=timezone.get_current_timezone())
        return deadline

    def weight_fields(self):
        return [self[f"weight_{name}"] for name in self.weight_names]

    def cohort_fields(self):
        return [self["mentee_ids"], self["mentor_ids"]]

    def weights(self) -> dict:
        return {name: self.cleaned_data[f"weight_{name}"] for name in self.weight_names}


class OverrideForm(forms.Form):
    mentor = forms.TypedChoiceField(label="Instead, pair with", coerce=int)
    note = forms.CharField(
        label="Why (required)",
        max_length=max_length_of(MatchProposal, "decision_note"),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say briefly why you are changing this pairing."},
    )

    def __init__(self, *args, mentor_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mentor"].choices = [("", "Choose a mentor")] + mentor_choices
