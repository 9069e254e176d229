from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.core import context
from allauth.mfa.base.forms import AuthenticateForm as AllauthAuthenticateForm
from allauth.mfa.totp.forms import ActivateTOTPForm as AllauthActivateTOTPForm
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django import forms

# For the code a person types: the phone offers a number pad and the code the app (or the
# messages app) just showed. Still type=text, not number: a code keeps its leading zeros and
# gets no spinner. Recovery codes are digits too.
CODE_ATTRS = {"inputmode": "numeric", "autocomplete": "one-time-code", "spellcheck": "false"}


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


class AuthenticateForm(AllauthAuthenticateForm):
    """The second step of signing in (MFA_FORMS["authenticate"]): an app's code or a recovery code.
    The code is the page's one field, so it is focused."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.update(CODE_ATTRS, autofocus=True)


class ActivateTOTPForm(AllauthActivateTOTPForm):
    """Setting up an authenticator app (MFA_FORMS["activate_totp"]): the code it shows. Not
    focused: the field is step 2, below the QR code, and focusing it would scroll a phone past
    the heading and step 1 (and open the keyboard over the QR code)."""

    def __init__(self, *args, **kwargs):
        # allauth makes a new secret each time the page is shown; a phone browser reloading the
        # tab after the QR code was scanned would then refuse the app's codes. Keep the one this
        # session was shown until it is activated (allauth clears it then).
        request = context.request
        kept = request.session.get(SECRET_SESSION_KEY) if request is not None else None
        super().__init__(*args, **kwargs)
        if kept and not self.is_bound:
            request.session[SECRET_SESSION_KEY] = self.secret = kept
        self.fields["code"].widget.attrs.update(CODE_ATTRS)
