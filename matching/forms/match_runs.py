"""Starting a cohort match run, and overriding one of its proposals."""

from dataclasses import asdict

from django import forms
from django.utils import timezone

from core.bounds import SCHEDULED
from core.widgets import ChecklistSelectMultiple
from core.zones import zone_name

from .. import engine
from ..models import Kind, MatchRun

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


class MentorSpotsChecklist(ChecklistSelectMultiple):
    """The mentors' checklist, each box carrying ``data-spots`` (the mentor's open spots) for
    static/js/cohort.js's live "more residents than spots" warning."""

    spots: dict[int, int] = {}

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        spots = self.spots.get(getattr(value, "value", value))
        if spots is not None:
            option["attrs"]["data-spots"] = spots
        return option


class MatchRunForm(forms.Form):
    kind = forms.ChoiceField(label="Kind of mentorship", choices=Kind.choices)
    algorithm = forms.ChoiceField(
        label="How to match",
        choices=ALGORITHM_CHOICES,
        initial=MatchRun.Algorithm.STABLE,
        widget=forms.RadioSelect,
        help_text="Both match as many residents as the mentors' open spots allow. The example below shows where "
        "they differ.",
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
        widget=MentorSpotsChecklist,
        error_messages={"required": "Choose at least one mentor."},
        help_text="Mentors of this program (faculty, and residents who mentor near-peers) with an open spot.",
    )
    ranking_deadline = forms.DateTimeField(
        label="Ranking deadline (optional)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        help_text="Leave empty to run now. With a deadline, everyone chosen above is e-mailed and asked to rank "
        "the other side until then: residents rank the mentors, mentors rank the residents, and anyone may mark "
        "a person they should never be paired with. Whoever does not rank is matched by fit score. You will see "
        "who has submitted and, after the run, which choice each person obtained (“1st choice”, “mentor's 3rd”), "
        "never anyone's list.",
    )

    rankings_from = forms.TypedChoiceField(
        label="Ranked lists already collected",
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        help_text="Residents and mentors ranked each other for an earlier match. This one can use those lists "
        "instead of asking again: it then starts at once. Only the lists of the people you chose above count, "
        "each without the people who are not in this match; you will see how many were left out.",
    )
    NO_RANKINGS = "Don't use them: open a new ranking window (set a deadline below), or match by fit scores only"

    def __init__(self, *args, mentees, mentors, ranking_sources=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Offered only when an earlier run's window collected lists that someone offered below can use
        # (``selectors.ranking_sources``).
        if ranking_sources:
            self.fields["rankings_from"].choices = [(source.run.pk, source.label) for source in ranking_sources] + [
                ("", self.NO_RANKINGS)
            ]
        else:
            del self.fields["rankings_from"]
        self.fields["mentee_ids"].choices = [(u.pk, f"{u.full_name} ({_pgy(u)}, {u.email})") for u in mentees]
        self.fields["mentor_ids"].choices = [
            (p.user_id, f"{p.user.full_name} ({p.open_spots} open spot{'s' if p.open_spots != 1 else ''})")
            for p in mentors
        ]
        self.fields["mentor_ids"].widget.spots = {p.user_id: p.open_spots for p in mentors}
        # Shown and typed as whole percentages; the engine takes any non-negative mapping and
        # normalises it, so the percentages go to it as fractions (25% -> 0.25).
        defaults = asdict(engine.Weights())
        for name, value in defaults.items():
            self.fields[f"weight_{name}"] = forms.IntegerField(
                label=WEIGHT_LABELS.get(name, name.replace("_", " ").capitalize()),
                min_value=0,
                max_value=100,
                initial=round(value * 100),
                widget=forms.NumberInput(attrs={"step": "1", "min": "0", "max": "100", "data-weight": ""}),
                error_messages={
                    "required": "Give a percentage (0 to 100).",
                    "invalid": "Give a whole percentage, such as 15.",
                    # Formatted with the validator's params: "%%" is a literal percent sign.
                    "min_value": "A weight cannot be below %(limit_value)s%%.",
                    "max_value": "A weight cannot be above %(limit_value)s%%.",
                },
            )
        self.weight_names = list(defaults)
        zone = timezone.get_current_timezone()
        deadline = self.fields["ranking_deadline"]
        deadline.widget.attrs.update(SCHEDULED.html_times(zone))
        # Which clock the field reads, said as the ranking window's "New deadline" says it (``views.rankings``).
        deadline.help_text = f"In your time zone ({zone_name(zone)}). {deadline.help_text}"

    def clean_ranking_deadline(self):
        # Built and validated under the coordinator's zone (timezone.override in the view).
        deadline = self.cleaned_data["ranking_deadline"]
        SCHEDULED.check_instant(deadline, zone=timezone.get_current_timezone())
        return deadline

    def clean(self):
        cleaned = super().clean()
        values = [cleaned.get(f"weight_{name}") for name in self.weight_names]
        if all(v is not None for v in values):
            total = sum(values)
            if total != 100:
                # Attached to the first weight so the error summary links into the fieldset.
                self.add_error(
                    f"weight_{self.weight_names[0]}",
                    f"The weights add up to {total}%; change them so they add up to 100%.",
                )
        return cleaned

    def weight_fields(self):
        return [self[f"weight_{name}"] for name in self.weight_names]

    def weight_total(self) -> int | None:
        """The total of the weights as typed (for the page), None if one is not a number."""
        total = 0
        for field in self.weight_fields():
            try:
                total += int(field.value())
            except (TypeError, ValueError):
                return None
        return total

    def cohort_fields(self):
        return [self["mentee_ids"], self["mentor_ids"]]

    def weights(self) -> dict:
        """The engine's mapping: percentages as fractions (they add up to 1)."""
        return {name: self.cleaned_data[f"weight_{name}"] / 100 for name in self.weight_names}


def _pgy(user) -> str:
    stage = user.mentee_profile.career_stage
    return stage.code if stage else "PGY unknown"


# The worked example on the start form (templates/matching/match_runs/_algorithm_help.html):
# fit scores of three residents with two mentors of one spot each, and what each way of
# matching gives. tests/matching/views/test_match_run_start.py solves it with the engine,
# so the page cannot drift from what the engine does.
EXAMPLE_SCORES = {
    "Ana": {"Dr Xu": 90, "Dr Young": 80},
    "Ben": {"Dr Xu": 85, "Dr Young": 20},
    "Cal": {"Dr Xu": 10, "Dr Young": 30},
}
EXAMPLE_RESULTS = {
    MatchRun.Algorithm.STABLE: {"Ana": "Dr Xu", "Ben": None, "Cal": "Dr Young"},
    MatchRun.Algorithm.OPTIMAL: {"Ana": "Dr Young", "Ben": "Dr Xu", "Cal": None},
}
