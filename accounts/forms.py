from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.template.loader import render_to_string

from core.email import render_subject, render_text, send_email


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="E-mail", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That e-mail and password don't match an account. Passwords are case-sensitive.",
    }


class CanonicalPasswordResetForm(PasswordResetForm):
    """Password reset finds the account by its canonical key, never by a case-insensitive
    match on the address (which PostgreSQL's upper() turns ``gabrıela`` into ``GABRIELA`` for),
    and the link goes to the address stored on the account, not the one typed."""

    def get_users(self, email):
        from .identity import canonical_email
        from .models import User

        return (
            user
            for user in User.objects.filter(email_key=canonical_email(email), is_active=True)
            if user.has_usable_password()
        )

    def send_mail(
        self, subject_template_name, email_template_name, context, from_email, to_email, html_email_template_name=None
    ):
        # Like every other e-mail: text and subject unescaped, the subject on one line.
        send_email(
            subject=render_subject(subject_template_name, context),
            text=render_text(email_template_name, context),
            html=render_to_string(html_email_template_name, context) if html_email_template_name else None,
            to=[to_email],
            from_email=from_email,
        )


from .models import (  # noqa: E402  (kept beside the forms that use them)
    AvailabilityWindow,
    CareerStage,
    MenteeProfile,
    MentorProfile,
    Specialty,
    User,
)


class AccountForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "time_zone"]
        help_texts = {"time_zone": "Meeting times are shown to you in this time zone."}


class MenteeProfileForm(forms.ModelForm):
    class Meta:
        model = MenteeProfile
        fields = [
            "career_stage", "goals", "goals_text", "interests", "subspecialty_interests",
            "languages", "meeting_formats", "bio",
        ]
        labels = {
            "career_stage": "PGY year",
            "goals": "What you want help with",
            "subspecialty_interests": "Fields you are considering",
            "meeting_formats": "How you like to meet",
            "bio": "About you",
        }
        help_texts = {
            "goals": "Mentors list the goals they can help with; this drives your recommendations.",
            "subspecialty_interests": "Hold Ctrl (⌘ on a Mac) to choose several.",
        }
        widgets = {
            "goals": forms.CheckboxSelectMultiple,
            "interests": forms.CheckboxSelectMultiple,
            "languages": forms.CheckboxSelectMultiple,
            "meeting_formats": forms.CheckboxSelectMultiple,
            "goals_text": forms.Textarea(attrs={"rows": 3}),
            "bio": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["career_stage"].required = True
        self.fields["career_stage"].queryset = CareerStage.objects.exclude(code="JUNIOR-FACULTY")
        self.fields["subspecialty_interests"].queryset = Specialty.objects.filter(parent__isnull=False).select_related("parent").order_by("parent__name", "name")
        self.fields["subspecialty_interests"].label_from_instance = lambda s: f"{s.parent.name} › {s.name}"


class MentorProfileForm(forms.ModelForm):
    class Meta:
        model = MentorProfile
        fields = [
            "specialty", "subspecialty", "academic_rank", "career_stage", "expertise", "interests",
            "languages", "meeting_formats", "capacity", "accepting_mentees", "bio",
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
            "expertise": forms.CheckboxSelectMultiple,
            "interests": forms.CheckboxSelectMultiple,
            "languages": forms.CheckboxSelectMultiple,
            "meeting_formats": forms.CheckboxSelectMultiple,
            "bio": forms.Textarea(attrs={"rows": 4}),
            "capacity": forms.NumberInput(attrs={"min": 0, "max": 20}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["specialty"].required = True
        self.fields["specialty"].queryset = Specialty.objects.filter(parent__isnull=True)
        self.fields["subspecialty"].queryset = Specialty.objects.filter(parent__isnull=False).select_related("parent").order_by("parent__name", "name")
        self.fields["subspecialty"].label_from_instance = lambda s: f"{s.parent.name} › {s.name}"

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("academic_rank") and not cleaned.get("career_stage"):
            raise forms.ValidationError("Give your academic rank (faculty) or your career stage (near-peer mentors).")
        return cleaned


class AvailabilityWindowForm(forms.ModelForm):
    class Meta:
        model = AvailabilityWindow
        fields = ["weekday", "start", "end"]
        widgets = {
            "start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }


AvailabilityFormSet = forms.modelformset_factory(
    AvailabilityWindow, form=AvailabilityWindowForm, extra=2, can_delete=True, max_num=21, validate_max=True
)
