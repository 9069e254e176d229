"""allauth's hooks, with our rules.

- No open sign-up: coordinators invite people (accounts/invitations.py).
- A session always names our one backend (``ModelBackend``, which finds people by the
  canonical e-mail), so sessions from before allauth, and from every way of signing in,
  stay valid.
- E-mail goes out through core/email.py like every other message.
"""

from __future__ import annotations

import base64
import logging
import time
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.authentication import get_authentication_records
from allauth.core import context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.urls import reverse

from ..models import User

SESSION_BACKEND = "django.contrib.auth.backends.ModelBackend"

logger = logging.getLogger(__name__)


def _derive(secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"mentormatch-mfa", info=b"totp-secret").derive(
        secret.encode()
    )


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "email_password_mismatch": "That e-mail and password don't match an account. Passwords are case-sensitive.",
    }

    def is_open_for_signup(self, request: Any) -> bool:
        return False

    def pre_authenticate(self, request: Any, **credentials: Any) -> None:
        """Wrong passwords are counted by django-axes (per canonical e-mail and address), whose
        lockout tests and page the product has; allauth's ``login_failed`` limit, on here, then
        counts only what axes cannot see: wrong second-factor codes (per person)."""

    def logout(self, request: Any) -> None:
        """Every way of signing out (the Log out button, an identity provider's single logout,
        another person's SSO sign-in on this browser) revokes the person's API tokens too."""
        from ..services import api_token_revoke

        if request.user.is_authenticated:
            api_token_revoke(user=request.user)
        super().logout(request)

    def login(self, request: Any, user: Any) -> None:
        if not hasattr(user, "backend"):
            user.backend = SESSION_BACKEND
        super().login(request, user)

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """allauth asks for the password again before a sensitive change (adding or removing
        a second factor) unless the person re-entered it lately; signing in within the same
        window (ACCOUNT_REAUTHENTICATION_TIMEOUT) counts too, so the set-up step right after
        signing in does not ask for the password a second time."""
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        request = context.request
        if request is None or not request.user.is_authenticated:
            return True
        records = get_authentication_records(request, request.user)
        return not any(time.time() - r.get("at", 0) < settings.ACCOUNT_REAUTHENTICATION_TIMEOUT for r in records)

    def get_login_stages(self) -> list[str]:
        return [
            "accounts.auth.stages.SecondFactorStage" if stage == "allauth.mfa.stages.AuthenticateStage" else stage
            for stage in super().get_login_stages()
        ]

    def get_client_ip(self, request: Any) -> str:
        from core.http import client_ip

        return client_ip(request) or ""

    def get_login_redirect_url(self, request: Any) -> str:
        return reverse(settings.LOGIN_REDIRECT_URL)

    def get_logout_redirect_url(self, request: Any) -> str:
        return reverse(settings.LOGOUT_REDIRECT_URL)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """SSO signs in people already on a roster of the institution whose identity provider
    vouched for them (accounts/auth/sso.py); anyone else meets a page saying so."""

    def pre_social_login(self, request: Any, sociallogin: Any) -> None:
        from . import policy, sso

        institution = sso.institution_of_app(sociallogin.account.get_provider().app)
        email = sso.verified_email(sociallogin, institution) if institution is not None else ""
        if institution is None or not email:
            raise ImmediateHttpResponse(_refusal(request, institution, email, reason="unverified"))
        if institution.domains and not sso.in_domains(email, institution):
            raise ImmediateHttpResponse(_refusal(request, institution, email, reason="domain"))
        user = sociallogin.user if sociallogin.is_existing else User.objects.by_email(email)
        if user is not None and (not user.is_active or not sso.may_sign_in(user, institution)):
            raise ImmediateHttpResponse(_refusal(request, institution, email, reason="roster"))
        if user is None and not institution.sso_self_service:
            raise ImmediateHttpResponse(_refusal(request, institution, email, reason="roster"))
        if user is not None and not sociallogin.is_existing:
            sociallogin.connect(request, user)
        if request.user.is_authenticated:
            # Someone else (or an earlier sign-in) is signed in here: allauth would sign them out
            # after this, wiping the session, and with it what is noted below. Do it first.
            get_account_adapter(request).logout(request)
        request.session[policy.IDP_MFA_SESSION_KEY] = institution.accept_idp_mfa and sso.idp_did_mfa(sociallogin)
        sso.remember_for_logout(request, sociallogin)

    def is_open_for_signup(self, request: Any, sociallogin: Any) -> bool:
        from . import sso

        institution = sso.institution_of_app(sociallogin.account.get_provider().app)
        return bool(institution and institution.sso_self_service and institution.domains)

    def populate_user(self, request: Any, sociallogin: Any, data: dict) -> Any:
        user = super().populate_user(request, sociallogin, data)
        user.first_name = (data.get("first_name") or "")[:150]
        user.last_name = (data.get("last_name") or "")[:150]
        return user


def _refusal(request: Any, institution: Any, email: str, *, reason: str) -> Any:
    from django.shortcuts import render

    return render(
        request,
        "account/sso_refused.html",
        {"institution": institution, "email": email, "reason": reason},
        status=403,
    )


class MFAAdapter(DefaultMFAAdapter):
    """Authenticator-app secrets are encrypted at rest (allauth stores them as given otherwise),
    and a person who must use a second factor cannot remove their last one."""

    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "incorrect_code": "That code is wrong or has already been used. Codes change every 30 seconds.",
    }

    def _fernet(self) -> MultiFernet:
        """The current key first (it encrypts), then MFA_ENCRYPTION_KEYS_OLD (they still decrypt,
        so a key can be rotated without anyone re-enrolling)."""
        keys = [settings.MFA_ENCRYPTION_KEY, *settings.MFA_ENCRYPTION_KEYS_OLD]
        return MultiFernet([Fernet(base64.urlsafe_b64encode(_derive(key))) for key in keys if key])

    def encrypt(self, text: str) -> str:
        return self._fernet().encrypt(text.encode()).decode()

    def decrypt(self, encrypted_text: str) -> str:
        try:
            return self._fernet().decrypt(encrypted_text.encode()).decode()
        except InvalidToken:
            # Encrypted under a key no longer configured: no code can match, and the person
            # gets "incorrect code" rather than a server error. An administrator removes the
            # authenticator (admin › MFA › Authenticators) so they can enrol again.
            logger.error("An MFA secret of this site is encrypted under a key no longer configured.")
            return ""

    def can_delete_authenticator(self, authenticator: Any) -> bool:
        from allauth.mfa.models import Authenticator

        from . import policy

        if authenticator.type not in policy.SECOND_FACTORS or not policy.mfa_required(authenticator.user):
            return True
        others = Authenticator.objects.filter(user=authenticator.user, type__in=policy.SECOND_FACTORS).exclude(
            pk=authenticator.pk
        )
        return others.exists()
