"""Rate limits on what an anonymous caller can make the site do for an e-mail address:
sign in for an API token and send a password-reset e-mail.

Each is counted twice. Per client address (``core.http.client_ip``: rotating
X-Forwarded-For does not make a new client) against one caller trying many
addresses, and per canonical e-mail (accounts/identity.py: ``LISA.SIMS@`` and
``lisa.ſims@`` are one address) against many callers, or one that changes address,
aiming at one account. The rates are ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``.

These are DRF throttles, and the password-reset page (a Django view) uses them too:
they need only ``request.META`` and the posted ``email``. Counters live in the cache;
with Redis down they count nothing rather than refuse everyone (core/cache.py).
"""

import hashlib
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from core.http import client_ip

from .identity import canonical_email


class _RateThrottle(SimpleRateThrottle):
    def allow_request(self, request, view):
        # Only a POST asks for a token or an e-mail; signing out (DELETE) is not counted.
        if request.method != "POST":
            return True
        return super().allow_request(request, view)

    def get_rate(self):
        # Read live: DRF's own class attribute is frozen at import, before settings overrides.
        try:
            return api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        except KeyError as exc:
            raise ImproperlyConfigured(f"No rate for the throttle scope {self.scope!r}.") from exc


class ClientRateThrottle(_RateThrottle):
    """Counts requests per client address."""

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}


class EmailRateThrottle(_RateThrottle):
    """Counts requests per canonical form of the posted ``email``; a request without one
    is left to the client throttle."""

    field = "email"

    def get_cache_key(self, request, view):
        # DRF's request has ``data`` (JSON or form); a Django request has ``POST``.
        data = getattr(request, "data", None)
        if data is None:
            data = request.POST
        value = data.get(self.field) if isinstance(data, Mapping) else None
        key = canonical_email(value) if isinstance(value, str) else ""
        if not key:
            return None
        # Hashed: the cache holds no addresses, and any length makes a valid key.
        return self.cache_format % {"scope": self.scope, "ident": hashlib.sha256(key.encode()).hexdigest()}


class TokenClientThrottle(ClientRateThrottle):
    scope = "token"


class TokenEmailThrottle(EmailRateThrottle):
    scope = "token_email"


class PasswordResetClientThrottle(ClientRateThrottle):
    scope = "password_reset"


class PasswordResetEmailThrottle(EmailRateThrottle):
    scope = "password_reset_email"
