from datetime import date

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.forms.renderers import TemplatesSetting
from django.template.loader import render_to_string

from .emails import render_subject, render_text, send_email


class FormRenderer(TemplatesSetting):
    """Every form field renders through templates/includes/field.html."""

    field_template_name = "includes/field.html"


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


def max_length_of(model, field_name: str) -> int:
    """The column's limit, for a form or serializer field that is not built from the model:
    page, API and database then refuse the same text, and a too-long one is a field error,
    never PostgreSQL's "value too long" (SQLite would keep it whole)."""
    return model._meta.get_field(field_name).max_length


def add_service_errors(form, exc, *, aliases=None):
    """Put a service's ValidationError on ``form``: messages keyed by a field go beside
    that field (``aliases`` maps a service's field name to the form's), the rest on top."""
    aliases = aliases or {}
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            field = aliases.get(field, field)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# Days a period may start or end on: a day's bounds (and the day after "to") must stay within
# what datetime can hold, so year 1 and 31 December 9999 are refused rather than overflowing.
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(9999, 12, 30)


class DateRangeForm(forms.Form):
    """``?from=YYYY-MM-DD&to=YYYY-MM-DD``, both days included, either optional, each between
    ``EARLIEST_DAY`` and ``LATEST_DAY``; an end before the start is an error on ``to``.
    Subclass it to add other filters."""

    date_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    # "from" is a Python keyword, so the fields have longer names than their parameters.
    PARAMETERS = {"date_from": "from", "date_to": "to"}

    def add_prefix(self, field_name):
        return self.PARAMETERS.get(field_name, field_name)

    def _day(self, name):
        day = self.cleaned_data.get(name)
        if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
            raise forms.ValidationError(f"Choose a day between {EARLIEST_DAY:%Y} and {LATEST_DAY:%Y}.")
        return day

    def clean_date_from(self):
        return self._day("date_from")

    def clean_date_to(self):
        return self._day("date_to")

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", "The end date is before the start date.")
        return data
