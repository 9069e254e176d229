"""The program health dashboard's filters."""

from django import forms

from .. import health


class HealthFilterForm(forms.Form):
    academic_year = forms.TypedChoiceField(label="Academic year", coerce=int, required=False, empty_value=None)
    pgy = forms.ChoiceField(label="PGY year", required=False)

    def __init__(self, *args, choices: health.FilterChoices, tz, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["academic_year"].choices = [
            (year, health.AcademicYear.of(year, tz).label) for year in choices.academic_years
        ]
        self.fields["pgy"].choices = [("", "All years"), *choices.pgy]
