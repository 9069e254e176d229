"""API tokens: ``Authorization: Token <secret>``, the header clients already send.

The secret is looked up by its SHA-256 (``ApiToken.key_hash``, unique): an exact match
on a hash tells a timing attacker nothing about the secret, and the database never
holds the secret itself. ``ApiToken.is_valid`` refuses an expired token, an inactive
user and a token issued before the user's last password change.
"""

from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions

from ..models import ApiToken

# Like ``User.last_seen``: "used 3 days ago" needs no finer grain, and writing on every
# request would cost an UPDATE per API call.
LAST_USED_RESOLUTION = timedelta(minutes=5)


class ApiTokenAuthentication(authentication.TokenAuthentication):
    """DRF's header parsing and ``WWW-Authenticate: Token`` challenge, with our token table."""

    # One message for every refusal: a client signs in again either way, and a caller
    # holding a stolen secret learns nothing about why it stopped working.
    REFUSED = "Invalid or expired token: sign in again."

    def authenticate_credentials(self, key):
        token = ApiToken.objects.select_related("user").filter(key_hash=ApiToken.hash_secret(key)).first()
        now = timezone.now()
        if token is None or not token.is_valid(now=now):
            raise exceptions.AuthenticationFailed(self.REFUSED)
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token.user, token
