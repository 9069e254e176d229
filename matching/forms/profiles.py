"""A mentor's own profile: what residents browse and what scores them (matching/views/profiles.py)."""

from django import forms

from accounts.models import MentorProfile, Specialty
from core.widgets import ChecklistSelectMultiple, grouped_choices


class MentorProfileForm(forms.ModelForm):
    class Meta:
        model = MentorProfile
        fields = [
            "specialty",
            "subspecialty",
            "academic_rank",
            "career_stage",
            "expertise",
            "interests",
            "languages",
            "meeting_formats",
            "capacity",
            "accepting_mentees",
            "bio",
        ]
        labels = {
            "career_stage": "Career stage (near-peer mentors)",
            "expertise": "Goals you can help with",
            "interests": "Areas of interest",
            "meeting_formats": "How you like to meet",
            "capacity": "Mentees at once",
            "accepting_mentees": "I'm accepting new mentees",
        }
        help_texts = {
            "academic_rank": "Faculty: your academic rank. Senior residents and fellows: leave empty and set your career stage.",
            "capacity": "0 to 20. Residents see how many of your spots are open.",
        }
        widgets = {
            "expertise": ChecklistSelectMultiple,
            "interests": ChecklistSelectMultiple,
            "languages": ChecklistSelectMultiple,
            # static/js/checklist.js shows only the chosen specialty's subspecialties.
            "subspecialty": forms.Select(attrs={"data-narrow-by": "id_specialty"}),
            "meeting_formats": forms.CheckboxSelectMultiple,
            "bio": forms.Textarea(attrs={"rows": 4}),
            "capacity": forms.NumberInput(attrs={"min": 0, "max": 20}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["specialty"].required = True
        self.fields["specialty"].queryset = Specialty.objects.filter(parent__isnull=True)
        self.fields["subspecialty"].queryset = (
            Specialty.objects.filter(parent__isnull=False).select_related("parent").order_by("parent__name", "name")
        )
        # One <optgroup> per specialty; the page narrows it to the chosen one, clean() insists.
        subspecialty = self.fields["subspecialty"]
        subspecialty.choices = [("", "---------")] + grouped_choices(
            subspecialty.queryset, group=lambda s: s.parent.name, label=lambda s: s.name
        )

    def clean(self):
        cleaned = super().clean()
        specialty, subspecialty = cleaned.get("specialty"), cleaned.get("subspecialty")
        if specialty and subspecialty and subspecialty.parent_id != specialty.pk:
            self.add_error("subspecialty", f"{subspecialty.name} is not a subspecialty of {specialty.name}.")
        if not cleaned.get("academic_rank") and not cleaned.get("career_stage"):
            raise forms.ValidationError("Give your academic rank (faculty) or your career stage (near-peer mentors).")
        return cleaned
