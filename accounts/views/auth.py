from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy

from ..forms import EmailAuthenticationForm


class LoginView(auth_views.LoginView):
    form_class = EmailAuthenticationForm
    redirect_authenticated_user = True


class InvitationView(auth_views.PasswordResetConfirmView):
    """Set a first password from an invitation link (a password-reset token)."""

    template_name = "registration/invitation.html"
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("accounts:dashboard")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Welcome to MentorMatch. Start by completing your profile.")
        return response
