from allauth.account.forms import LoginForm as AllauthLoginForm
from django import forms


class LoginForm(AllauthLoginForm):
    """allauth's sign-in form, in our words: one e-mail field, one password, no "remember me"
    (a session lasts SESSION_COOKIE_AGE since the last request)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["login"] = forms.EmailField(
            label="E-mail", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
        )
        self.fields["password"].widget = forms.PasswordInput(attrs={"autocomplete": "current-password"})
        self.fields["password"].label = "Password"
        self.fields["password"].help_text = ""
        # Not required by the field: an address in an SSO domain needs none (the view sends it
        # to the identity provider before this form is read); everyone else must give one.
        self.fields["password"].required = False
        self.fields.pop("remember", None)

    def clean_password(self):
        password = self.cleaned_data.get("password")
        if not password:
            raise forms.ValidationError("Enter your password.")
        return password
