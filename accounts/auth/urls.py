"""allauth's pages that MentorMatch uses, mounted under /accounts/ (config/urls.py).

Only these: the second factor (/accounts/2fa/), SSO (/accounts/sso/ and each provider's
login and callback), the session list (/accounts/sessions/) and re-authentication. No
sign-up, no e-mail management, no sign-in by code. Sign-in, sign-out and passwords are our
own views (accounts/urls.py); allauth's names for them (``account_login`` …), which its code
reverses, point at the same paths.
"""

from allauth.account import views as allauth_views
from allauth.socialaccount import views as social_views
from allauth.urls import build_provider_urlpatterns
from django.urls import include, path
from django.views.generic import RedirectView

from ..views import auth


def _alias(name):
    return RedirectView.as_view(pattern_name=name, query_string=True)


urlpatterns = [
    # Names allauth reverses, at our views' paths: our patterns (accounts/urls.py), included
    # before these, answer there, so these aliases are only ever reversed, never reached.
    path("login/", _alias("accounts:login"), name="account_login"),
    path("logout/", _alias("accounts:logout"), name="account_logout"),
    path("password/reset/", _alias("accounts:password_reset"), name="account_reset_password"),
    # allauth's own.
    path("inactive/", allauth_views.account_inactive, name="account_inactive"),
    path("reauthenticate/", allauth_views.reauthenticate, name="account_reauthenticate"),
    # Ours, before allauth's at the same path: the last required second factor cannot be removed.
    path("2fa/webauthn/keys/<int:pk>/remove/", auth.RemoveSecurityKeyView.as_view(), name="mfa_remove_webauthn"),
    path("2fa/", include("allauth.mfa.urls")),
    path("sessions/", include("allauth.usersessions.urls")),
    path("sso/cancelled/", social_views.login_cancelled, name="socialaccount_login_cancelled"),
    path("sso/error/", social_views.login_error, name="socialaccount_login_error"),
    path("sso/signup/", social_views.signup, name="socialaccount_signup"),
    *build_provider_urlpatterns(),
]
