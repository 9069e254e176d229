"""The second-factor decision (policy.py) is made at every sign-in and kept in the session."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from . import policy


@receiver(user_logged_in, dispatch_uid="accounts.auth.mfa_policy_on_sign_in")
def _decide_on_sign_in(sender, request, user, **kwargs):
    policy.on_signed_in(request, user)
