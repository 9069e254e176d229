"""A program's conflicts of interest: evaluator roles, do-not-pair entries, exceptions."""

from django import forms

from ..models import EvaluatorRole
from ..services.conflicts import REASON_MAX_LENGTH


class EvaluatorRoleForm(forms.Form):
    user = forms.TypedChoiceField(label="Faculty member", coerce=int)
    role = forms.ChoiceField(label="Role", choices=EvaluatorRole.Role.choices)

    def __init__(self, *args, faculty, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", "Choose a faculty member")] + [(u.pk, u.full_name) for u in faculty]


class PairForm(forms.Form):
    """A resident, a mentor and the reason: for a do-not-pair entry or an exception."""

    mentee = forms.TypedChoiceField(label="Resident", coerce=int)
    mentor = forms.TypedChoiceField(label="Mentor", coerce=int)
    reason = forms.CharField(
        label="Reason (seen by coordinators only)",
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Give the reason; it stays with the program's coordinators."},
    )

    def __init__(self, *args, residents, mentors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mentee"].choices = [("", "Choose a resident")] + [(u.pk, u.full_name) for u in residents]
        self.fields["mentor"].choices = [("", "Choose a mentor")] + [(u.pk, u.full_name) for u in mentors]
