"""The client's address, for throttles and the sign-in lockout.

``X-Forwarded-For`` is whatever the client wrote, plus one address per proxy it passed
through, each appended on the right. Only the entries our own proxies appended can be
believed, so ``TRUSTED_PROXY_COUNT`` (settings) says how many proxies stand in front of
the application: with 0, the default, the header is ignored and the address is
``REMOTE_ADDR``; with N, it is the N-th entry from the right, the peer the outermost of
our proxies saw. Rotating the header therefore buys a client nothing. DRF's
``NUM_PROXIES`` and django-axes (``AXES_CLIENT_IP_CALLABLE``) follow the same setting.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The address ``request`` came from, as far as our proxies vouch for it."""
    meta = request.META
    remote = meta.get("REMOTE_ADDR") or ""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return remote
    # Fewer entries than proxies: the request entered behind the outermost one, whose
    # peer is then the leftmost entry (DRF reads NUM_PROXIES the same way).
    candidate = forwarded[-min(proxies, len(forwarded))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        # Not an address: a misconfigured proxy chain, not a client to trust.
        return remote
