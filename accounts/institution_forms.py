"""Forms of the institution administrator's pages (accounts/views/institutions.py). Thin: the
services (accounts/institutions.py) decide what is allowed and say why beside each field."""

from django import forms

from core.forms import max_length_of
from core.idempotency import OnceFormMixin

from .institutions import specialty_choices
from .models import TIME_ZONE_CHOICES, Program, User

_UNKNOWN_ZONE = "“%(value)s” is not a time zone we know. Choose one such as America/New_York."


class ProgramForm(forms.Form):
    # No max_length here: the service says how long a name may be, beside the field, in words
    # ("at most 200 characters (this one has 500)"); the browser's limit is a hint.
    name = forms.CharField(
        label="Name",
        widget=forms.TextInput(attrs={"maxlength": max_length_of(Program, "name"), "autocomplete": "off"}),
        help_text="As people know it, e.g. “Internal Medicine Residency”.",
    )
    specialty = forms.ModelChoiceField(
        label="Specialty",
        queryset=specialty_choices(),
        empty_label="Choose a specialty",
        error_messages={"invalid_choice": "Choose the program's specialty from the ACGME list."},
    )
    time_zone = forms.ChoiceField(
        label="Time zone",
        choices=TIME_ZONE_CHOICES,
        error_messages={"invalid_choice": _UNKNOWN_ZONE},
        help_text="Deadlines and meeting times of the program are shown in it.",
    )

    def clean_name(self):
        # The service says so too; here it shows beside the other fields' problems at once.
        name = " ".join(self.cleaned_data["name"].split())
        limit = max_length_of(Program, "name")
        if len(name) > limit:
            raise forms.ValidationError(
                f"A program's name can be at most {limit} characters (this one has {len(name)})."
            )
        return name


class ProgramCreateForm(OnceFormMixin, ProgramForm):
    slug = forms.CharField(
        label="Web address (optional)",
        required=False,
        widget=forms.TextInput(attrs={"maxlength": max_length_of(Program, "slug"), "autocomplete": "off"}),
        help_text="The end of the program's links, e.g. “internal-medicine”. Left empty, it is made from the "
        "name. It cannot be changed later.",
    )


class PersonAddForm(forms.Form):
    email = forms.CharField(
        label="E-mail address",
        widget=forms.EmailInput(attrs={"autocomplete": "off", "maxlength": max_length_of(User, "email")}),
    )
    first_name = forms.CharField(label="First name", required=False, help_text="Only for someone without an account.")
    last_name = forms.CharField(label="Last name", required=False, help_text="Only for someone without an account.")


class PersonRemoveForm(forms.Form):
    user = forms.IntegerField(widget=forms.HiddenInput)
