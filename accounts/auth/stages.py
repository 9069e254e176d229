"""allauth's second-factor step at sign-in, skipped when the institution's identity provider
already did multi-factor authentication and the institution accepts it (accounts/auth/sso.py)."""

from allauth.mfa.stages import AuthenticateStage

from . import policy


class SecondFactorStage(AuthenticateStage):
    def _should_handle(self, request):
        if request.session.get(policy.IDP_MFA_SESSION_KEY):
            return False
        return super()._should_handle(request)
