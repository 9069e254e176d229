from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string

from core.email import render_subject, render_text, send_email
from core.forms import max_length_of
from core.search import SearchField
from core.widgets import ChecklistSelectMultiple, grouped_choices
from core.zones import zone_choices


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
    ApiToken,
    AvailabilityWindow,
    CareerStage,
    Membership,
    MenteeProfile,
    Program,
    Specialty,
    User,
)
from .selectors import ROSTER_STATUSES  # noqa: E402


class AccountForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "time_zone"]
        help_texts = {"time_zone": "Meeting times are shown to you in this time zone."}

    # Asked only of someone with weekly availability: a new zone either keeps its local times
    # or its moments (accounts.services.user_update).
    keep_availability = forms.ChoiceField(
        label="If you change your time zone, your weekly availability should",
        choices=[
            ("local_times", "Keep its local times (9 am stays 9 am, in the new time zone)"),
            ("moments", "Keep its moments (the same hours, shown on the new time zone's clock)"),
        ],
        initial="local_times",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk or not self.instance.availability.exists():
            del self.fields["keep_availability"]
        # The person's own zone first, then their programs' zones, the common US ones, the rest.
        programs = (
            set(Program.objects.filter(memberships__user=self.instance).values_list("time_zone", flat=True))
            if self.instance.pk
            else set()
        )
        self.fields["time_zone"].choices = zone_choices([self.instance.time_zone, *sorted(programs)])


class MenteeProfileForm(forms.ModelForm):
    class Meta:
        model = MenteeProfile
        fields = [
            "career_stage",
            "goals",
            "goals_text",
            "interests",
            "subspecialty_interests",
            "languages",
            "meeting_formats",
            "bio",
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
            "subspecialty_interests": "Choose as many as you like, in any specialty.",
        }
        widgets = {
            "goals": ChecklistSelectMultiple,
            "interests": ChecklistSelectMultiple,
            "subspecialty_interests": ChecklistSelectMultiple(narrow_label="Specialty"),
            "languages": ChecklistSelectMultiple,
            "meeting_formats": forms.CheckboxSelectMultiple,
            "goals_text": forms.Textarea(attrs={"rows": 3}),
            "bio": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["career_stage"].required = True
        self.fields["career_stage"].queryset = CareerStage.objects.exclude(code="JUNIOR-FACULTY")
        subspecialties = self.fields["subspecialty_interests"]
        subspecialties.queryset = (
            Specialty.objects.filter(parent__isnull=False).select_related("parent").order_by("parent__name", "name")
        )
        # One fieldset per specialty, the resident's own first and shown first (core/widgets.py).
        own = _program_specialty(self.instance.user if self.instance.pk else None)
        subspecialties.choices = grouped_choices(
            subspecialties.queryset, group=lambda s: s.parent.name, label=lambda s: s.name, first=own
        )
        subspecialties.widget.start_group = own


def _program_specialty(user) -> str:
    """The name of the specialty of ``user``'s first residency program, or ""."""
    if user is None:
        return ""
    membership = (
        user.memberships.filter(role="resident", program__specialty__isnull=False)
        .select_related("program__specialty")
        .order_by("pk")
        .first()
    )
    return membership.program.specialty.name if membership else ""


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


# --- The roster.

PGY_CHOICES = [(f"PGY-{n}", f"PGY-{n}") for n in range(1, 8)] + [("FELLOW", "Fellow")]


class RosterFilterForm(forms.Form):
    q = SearchField(widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name or e-mail"}))
    role = forms.ChoiceField(label="Role", required=False, choices=[("", "All roles"), *Membership.Role.choices[:2]])
    pgy = forms.ChoiceField(label="PGY", required=False, choices=[("", "Any year"), *PGY_CHOICES])
    status = forms.ChoiceField(
        label="Invitation", required=False, choices=[("", "Any status"), *ROSTER_STATUSES.items()]
    )


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label="Roster file (.xlsx or .csv)",
        help_text=(
            f"An Excel workbook (its first sheet) or a CSV file, up to "
            f"{filesizeformat(settings.ROSTER_MAX_UPLOAD_BYTES)} and {settings.ROSTER_MAX_ROWS:,} people. "
            "Exports from MedHub or New Innovations work as they are: extra columns are ignored."
        ),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,.csv,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
        allow_empty_file=True,  # the service explains an empty file in its own words
    )

    def __init__(self, *args, cut_off=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.cut_off = cut_off  # the upload was stopped mid-stream for its size

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.ROSTER_MAX_UPLOAD_BYTES
        # Checked before reading, so an oversize file never lands in memory.
        if upload.size > limit:
            raise ValidationError(_too_large_message(upload.size))
        return upload

    def clean(self):
        if self.cut_off:
            self.errors.pop("file", None)
            self.add_error("file", _too_large_message(None))
        return super().clean()


def _too_large_message(size: int | None) -> str:
    """``size`` is None when the upload was cut off before its size was known."""
    limit = filesizeformat(settings.ROSTER_MAX_UPLOAD_BYTES)
    if size is None:
        return f"The file is larger than the limit of {limit}. Split it into smaller files."
    return f"The file is {filesizeformat(size)}; the limit is {limit}. Split it into smaller files."


class ApiTokenForm(forms.Form):
    """A new API token on the account page: only its name; the secret is made by the service."""

    name = forms.CharField(
        required=False,
        max_length=max_length_of(ApiToken, "name"),
        help_text="Optional. What the token is for, e.g. the script or device that will hold it.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    # One per rendering of the form: a second POST of the same form (a double tap, a reload of
    # the page that showed the secret, Back and submit) creates nothing (accounts/views/security.py).
    once = forms.CharField(widget=forms.HiddenInput, required=False, label="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            import uuid

            self.initial["once"] = uuid.uuid4().hex
