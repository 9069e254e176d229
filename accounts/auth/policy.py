"""Who must use a second factor, and whether they have one. Decided once, at sign-in
(``on_signed_in``), and kept in the session, so a page costs no query for it; the middleware
(accounts/middleware.py) then shows such a person only the set-up pages until they have one.
The API token endpoint and the account page ask the same functions.

- A superuser must, unless ``MFA_REQUIRED_FOR_SUPERUSERS`` is off (the demo turns it off).
- A coordinator must when the institution of any program they coordinate says so
  (``Institution.require_mfa_for_coordinators``, on by default).
- Everyone else may.

A second factor is an authenticator app (TOTP) or a security key/passkey (WebAuthn); recovery
codes are a way back in, not a factor of their own.
"""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from django.conf import settings

from ..models import Membership

SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)

# Set in the session by an SSO sign-in whose identity provider reported multi-factor
# authentication, when the institution accepts it (accounts/auth/adapters.py).
IDP_MFA_SESSION_KEY = "mentormatch_idp_mfa"
# Set at sign-in for a person who must use a second factor and has none; cleared once they have one.
SETUP_SESSION_KEY = "mentormatch_mfa_setup_required"


def mfa_required(user: Any) -> bool:
    """Must this person use a second factor to sign in?"""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser and settings.MFA_REQUIRED_FOR_SUPERUSERS:
        return True
    return Membership.objects.filter(
        user=user,
        role=Membership.Role.COORDINATOR,
        program__institution__require_mfa_for_coordinators=True,
    ).exists()


def has_second_factor(user: Any) -> bool:
    return Authenticator.objects.filter(user=user, type__in=SECOND_FACTORS).exists()


def session_has_second_factor(request: Any, user: Any) -> bool:
    """Did this session's sign-in (of ``user``) use a second factor: one of ours (allauth asks
    for it at sign-in whenever the person has one) or the identity provider's, where accepted."""
    return bool(request.session.get(IDP_MFA_SESSION_KEY)) or has_second_factor(user)


def needs_mfa_setup(request: Any) -> bool:
    """Signed in, required to use a second factor, and without one: only the set-up pages."""
    return bool(request.session.get(SETUP_SESSION_KEY))


def on_signed_in(request: Any, user: Any) -> None:
    """At every sign-in (password, SSO, invitation, admin): decide whether this session
    must set up a second factor before anything else."""
    if request is None or not hasattr(request, "session"):
        return
    if mfa_required(user) and not session_has_second_factor(request, user):
        request.session[SETUP_SESSION_KEY] = True
    else:
        request.session.pop(SETUP_SESSION_KEY, None)


def setup_done(request: Any) -> bool:
    """For a session asked to set up a second factor: has it now? Then it is no longer asked."""
    if has_second_factor(request.user):
        request.session.pop(SETUP_SESSION_KEY, None)
        return True
    return False
