import math

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse_lazy

from .. import services
from ..forms import EmailAuthenticationForm
from ..throttles import PasswordResetClientThrottle, PasswordResetEmailThrottle


class LoginView(auth_views.LoginView):
    form_class = EmailAuthenticationForm
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
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


class LogoutView(auth_views.LogoutView):
    """Signing out of the site signs out everywhere: the session ends and every API token
    of the user is revoked, so a token left in a script on a shared workstation or a lost
    phone dies with the session."""

    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            services.api_token_revoke(user=request.user)
        return super().post(request, *args, **kwargs)


class InvitationView(auth_views.PasswordResetConfirmView):
    """Set a first password from an invitation link (a password-reset token)."""

    template_name = "registration/invitation.html"
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    # Where signing in lands (the dashboard, which is matching's): accounts names no page above it.
    success_url = reverse_lazy(settings.LOGIN_REDIRECT_URL)

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Welcome to MentorMatch. Start by completing your profile.")
        return response
