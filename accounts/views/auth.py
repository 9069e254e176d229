import math
from urllib.parse import urlsplit

from allauth.account import views as allauth_views
from allauth.account.utils import get_next_redirect_url
from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.webauthn.views import RemoveWebAuthnView
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from core.forms import FormStatusMixin

from ..auth import policy, sso
from ..identity import canonical_email
from ..throttles import PasswordResetClientThrottle, PasswordResetEmailThrottle

# Set at sign-in and removed at sign-out, and outliving the session: a sign-in page reached
# with it while signed out means the session expired (not that the person signed out).
SIGNED_IN_COOKIE = "mm_signed_in"
SIGNED_IN_COOKIE_AGE = 30 * 24 * 3600


def _expired_session_return(request) -> str | None:
    """Where someone whose session expired was, when they are sent to sign in: the page
    their form was on (the Referer, same origin only), rather than ``next``, which after a
    POST may be an action URL that has no page. None when it is not that case."""
    if request.user.is_authenticated or request.COOKIES.get(SIGNED_IN_COOKIE) != "1" or "expired" in request.GET:
        return None
    if not request.GET.get("next"):
        return None
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(referer)
        from_path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if not from_path.startswith(reverse("accounts:login")):
            return from_path
    return request.GET["next"]


class LoginView(allauth_views.LoginView):
    """allauth's sign-in (e-mail and password, then the second factor when the person has
    one), on our page: accounts/auth/forms.py and templates/account/login.html.

    An address in an institution's SSO domains goes straight to its identity provider: no
    password is asked for, or checked. The page lists a "Sign in with …" button for each
    institution with SSO, and allows the providers' origins as form targets (CSP).
    """

    def get(self, request, *args, **kwargs):
        back_to = _expired_session_return(request)
        if back_to is not None:
            query = urlencode({"next": back_to, "expired": "1"})
            return HttpResponseRedirect(f"{reverse('accounts:login')}?{query}")
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        institution = sso.institution_for_email(request.POST.get("login", ""))
        if institution is not None:
            provider = institution.sso_app.get_provider(request)
            return provider.redirect(request, process="login", next_url=get_next_redirect_url(request))
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        # A password sign-in: whatever a provider said about an earlier sign-in no longer holds.
        self.request.session.pop(policy.IDP_MFA_SESSION_KEY, None)
        self.request.session.pop(sso.LOGOUT_SESSION_KEY, None)
        response = super().form_valid(form)
        response.set_cookie(
            SIGNED_IN_COOKIE,
            "1",
            max_age=SIGNED_IN_COOKIE_AGE,
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["sso"] = [(institution, sso.login_url(institution)) for institution in sso.institutions_with_sso()]
        context["session_expired"] = self.request.method == "GET" and self.request.GET.get("expired") == "1"
        return context

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        origins = sorted(set().union(*(sso.provider_origins(self.request, i) for i, _ in context["sso"])))
        if origins:
            response._csp_update = {"form-action": origins}
        return response


class PasswordChangeView(FormStatusMixin, auth_views.PasswordChangeView):
    """Django's, answering 400 on a refused form as every page form does (``core.forms.form_status``)."""


class PasswordResetView(FormStatusMixin, auth_views.PasswordResetView):
    """Rate-limited (accounts/throttles.py). Past the limit for one e-mail address the page
    answers as always ("check your inbox") and sends nothing, so it tells no one whether the
    address has an account, nor whether someone else has been asking for it. Past the limit
    for the client's own address, across e-mail addresses, the client gets a 429 page."""

    def post(self, request, *args, **kwargs):
        throttle = PasswordResetClientThrottle()
        if not throttle.allow_request(request, self):
            minutes = max(1, math.ceil((throttle.wait() or 60) / 60))
            response = render(request, "registration/password_reset_throttled.html", {"minutes": minutes}, status=429)
            response["Retry-After"] = str(minutes * 60)
            return response
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        if not PasswordResetEmailThrottle().allow_request(self.request, self):
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class LogoutView(allauth_views.LogoutView):
    """Signing out of the site signs out everywhere: the session ends and every API token
    of the user is revoked (AccountAdapter.logout, which the identity provider's single
    logout goes through too), so a token left in a script on a shared workstation or a lost
    phone dies with the session."""

    def post(self, *args, **kwargs):
        # Read before the session ends: which provider signed it in and, for SAML, the NameID
        # and SessionIndex the LogoutRequest names.
        remembered = self.request.session.get(sso.LOGOUT_SESSION_KEY)
        response = super().post(*args, **kwargs)
        response.delete_cookie(SIGNED_IN_COOKIE, samesite="Lax")
        # Signed in by an identity provider (OpenID Connect RP-initiated logout, SAML single
        # logout): end the session there too. Not by a redirect: the sign-out form's CSP
        # (form-action 'self') would block one to another origin.
        if provider_logout := sso.provider_logout_url(self.request, remembered):
            return render(self.request, "account/logged_out_sso.html", {"provider_logout": provider_logout})
        return response


class RemoveSecurityKeyView(RemoveWebAuthnView):
    """allauth's "remove security key", which does not ask the MFA adapter (as turning off the
    authenticator app does) whether this key may go: the last second factor of someone who
    must have one stays."""

    def form_valid(self, form):
        if not get_mfa_adapter().can_delete_authenticator(self.get_object()):
            messages.error(
                self.request,
                "This is your only second factor, and your account must have one. Add an authenticator "
                "app or another key first, then remove this one.",
            )
            return HttpResponseRedirect(reverse("mfa_list_webauthn"))
        return super().form_valid(form)


@login_required
def mfa_required(request):
    """Where a person who must use a second factor lands until they have set one up."""
    if not policy.needs_mfa_setup(request) or policy.setup_done(request):
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "account/mfa_required.html", {"superuser": request.user.is_superuser})


class PasswordResetConfirmView(FormStatusMixin, auth_views.PasswordResetConfirmView):
    """A new password from a reset link also lifts the sign-in lockout of the account: the link
    proved the mailbox, and being locked out is what sent most people to it."""

    def form_valid(self, form):
        response = super().form_valid(form)
        axes_reset(username=canonical_email(form.user.email))
        return response


class InvitationView(PasswordResetConfirmView):
    """Set a first password from an invitation link (a password-reset token)."""

    template_name = "registration/invitation.html"
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    # Where signing in lands (the dashboard, which is matching's): accounts names no page above it.
    success_url = reverse_lazy(settings.LOGIN_REDIRECT_URL)

    def form_valid(self, form):
        if Authenticator.objects.filter(user=form.user, type__in=policy.SECOND_FACTORS).exists():
            # The link is a password-reset token: it proves the mailbox, not the second factor,
            # so someone with a second factor signs in with it, on the sign-in page.
            form.save()
            messages.success(self.request, "Your password is set. Sign in with it and your second factor.")
            return HttpResponseRedirect(reverse_lazy(settings.LOGIN_URL))
        response = super().form_valid(form)
        messages.success(self.request, "Welcome to MentorMatch. Start by completing your profile.")
        return response
