"""Single sign-on, one identity provider per institution (``Institution.sso_app``).

- **Which institution**: the one whose SocialApp the sign-in came through; for the sign-in
  page, the one whose ``email_domains`` hold the typed address (it then goes straight to the
  provider, no password asked).
- **Who may sign in**: a person already on a roster of one of the institution's programs,
  found by the canonical e-mail the provider vouches for (OIDC ``email_verified``; a SAML
  assertion is signed), whose address is in the institution's domains when it names any.
  Anyone else gets a page saying so, not an account, unless the institution allows
  self-service sign-up.
- **The provider's second factor** counts when the institution accepts it and the provider
  says so: OIDC ``amr`` holding one of ``SSO_MFA_AMR_VALUES`` or ``acr`` in
  ``SSO_MFA_ACR_VALUES``; SAML ``AuthnContextClassRef`` in ``SSO_MFA_SAML_CONTEXTS``.
- **What hospital IT copies**: ``endpoints(institution)`` — the OIDC redirect URI, or the SAML
  entity ID, ACS URL and metadata URL — shown in the admin.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urlencode, urlsplit

from allauth.socialaccount.providers.saml.provider import SAMLProvider as AllauthSAMLProvider
from django.conf import settings
from django.urls import reverse

from ..identity import canonical_email
from ..models import Institution, Membership, User

OIDC = "openid_connect"
SAML = "saml"


def institution_of_app(app: Any) -> Institution | None:
    if app is None or getattr(app, "pk", None) is None:
        return None
    return Institution.objects.filter(sso_app=app).first()


def _domain(email: str) -> str:
    return canonical_email(email).rpartition("@")[2]


def in_domains(email: str, institution: Institution) -> bool:
    """Is the address in one of the institution's e-mail domains (by its canonical key)?"""
    return _domain(email) in institution.domains


def institution_for_email(email: str) -> Institution | None:
    """The institution whose SSO signs in this address, if any."""
    domain = _domain(email)
    if not domain:
        return None
    for institution in Institution.objects.filter(sso_app__isnull=False).exclude(email_domains=""):
        if domain in institution.domains:
            return institution
    return None


def institutions_with_sso() -> list[Institution]:
    return list(Institution.objects.filter(sso_app__isnull=False).select_related("sso_app"))


def login_url(institution: Institution) -> str:
    """Where "Sign in with <institution>" posts to (allauth's provider login view)."""
    app = institution.sso_app
    assert app is not None
    if app.provider == SAML:
        return reverse("saml_login", kwargs={"organization_slug": app.client_id})
    return reverse("openid_connect_login", kwargs={"provider_id": app.provider_id})


def _origin(url: str) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""


# How long the sign-in page trusts what a provider's discovery document said its sign-in URL is.
SIGN_IN_ENDPOINT_CACHE_SECONDS = 60 * 60


def provider_origins(request: Any, institution: Institution) -> set[str]:
    """The origins a "Sign in with" button ends up at, for the sign-in page's CSP form-action:
    the provider's sign-in endpoint (OIDC ``authorization_endpoint``; the SAML IdP's single
    sign-on service, from its ``sso_url`` or metadata), which may be on another host than its
    issuer or metadata, and the configured URL's own origin. A provider that cannot be reached
    now is allowed by its configured URL; its button then fails at the provider, not here."""
    app = institution.sso_app
    if app is None:
        return set()
    if app.provider == SAML:
        idp = app.settings.get("idp", {})
        configured = idp.get("sso_url") or idp.get("metadata_url") or idp.get("entity_id") or ""
    else:
        configured = app.settings.get("server_url", "")
    origins = {_origin(configured), _origin(_sign_in_endpoint(request, app))}
    return origins - {""}


def _sign_in_endpoint(request: Any, app: Any) -> str:
    from django.core.cache import cache

    fingerprint = hashlib.sha256(json.dumps([app.provider, app.settings], sort_keys=True).encode()).hexdigest()
    key = f"mentormatch:sso:sign-in-endpoint:{app.pk}:{fingerprint}"
    endpoint = cache.get(key)
    if endpoint is not None:
        return endpoint
    try:
        if app.provider == SAML:
            from allauth.socialaccount.providers.saml.utils import fetch_metadata_url_config

            idp = app.settings.get("idp", {})
            endpoint = idp.get("sso_url") or (
                fetch_metadata_url_config(idp)["idp"]["singleSignOnService"]["url"] if idp.get("metadata_url") else ""
            )
        else:
            from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter

            endpoint = OpenIDConnectOAuth2Adapter(request, app.provider_id).openid_config["authorization_endpoint"]
    except Exception:  # unreachable or malformed: allow the configured origin only, for now
        return ""
    cache.set(key, endpoint, SIGN_IN_ENDPOINT_CACHE_SECONDS)
    return endpoint


def endpoints(institution: Institution) -> dict[str, str]:
    """What the hospital's identity team enters at their provider, as absolute URLs."""
    app = institution.sso_app
    if app is None:
        return {}
    site = settings.SITE_URL
    if app.provider == SAML:
        slug = app.client_id
        metadata = site + reverse("saml_metadata", kwargs={"organization_slug": slug})
        return {
            "SP entity ID": (app.settings.get("sp") or {}).get("entity_id") or metadata,
            "ACS URL (HTTP-POST)": site + reverse("saml_acs", kwargs={"organization_slug": slug}),
            "SP metadata URL": metadata,
            "Single logout URL": site + reverse("saml_sls", kwargs={"organization_slug": slug}),
        }
    return {
        "Redirect URI": site + reverse("openid_connect_callback", kwargs={"provider_id": app.provider_id}),
        "Sign-in URL (initiate login URI)": site + login_url(institution),
        "Post-logout redirect URI": site + reverse(settings.LOGOUT_REDIRECT_URL),
    }


def verified_email(sociallogin: Any, institution: Institution) -> str:
    """The address the provider vouches for, or "".

    A signed SAML assertion vouches for its address. An OpenID Connect provider does when it
    says ``email_verified``, or when the address is in one of the institution's own e-mail
    domains, which its provider is the authority for (Microsoft Entra ID sends no
    ``email_verified`` for work accounts). Any other unverified address counts as none."""
    saml = _kind(sociallogin) == SAML
    for address in sociallogin.email_addresses:
        if saml or address.verified or in_domains(address.email, institution):
            return address.email
    return ""


def may_sign_in(user: User, institution: Institution) -> bool:
    """On a roster of one of the institution's programs, or, where the institution lets people
    sign themselves up, an address in its domains."""
    if on_roster(user, institution):
        return True
    return institution.sso_self_service and bool(institution.domains) and in_domains(user.email, institution)


def _kind(sociallogin: Any) -> str:
    """``openid_connect`` or ``saml``: the SocialApp's provider (``SocialAccount.provider``
    holds the app's provider_id, which names the institution's provider, not the protocol)."""
    return sociallogin.account.get_provider().app.provider


def on_roster(user: User, institution: Institution) -> bool:
    return Membership.objects.filter(user=user, program__institution=institution).exists()


def idp_did_mfa(sociallogin: Any) -> bool:
    """Did the identity provider report more than a password for this sign-in?"""
    data = sociallogin.account.extra_data or {}
    if _kind(sociallogin) == SAML:
        contexts = data.get(SAML_CONTEXTS_KEY) or []
        return bool(set(contexts) & set(settings.SSO_MFA_SAML_CONTEXTS))
    claims = {**(data.get("userinfo") or {}), **(data.get("id_token") or {})}
    amr = claims.get("amr") or []
    if isinstance(amr, str):
        amr = [amr]
    return bool(set(amr) & set(settings.SSO_MFA_AMR_VALUES)) or claims.get("acr") in settings.SSO_MFA_ACR_VALUES


# What signing out needs to end the provider's session too: OIDC RP-initiated logout, SAML
# SP-initiated single logout (which names the person and their session at the IdP).
LOGOUT_SESSION_KEY = "mentormatch_sso_logout"


def remember_for_logout(request: Any, sociallogin: Any) -> None:
    """At an SSO sign-in: note which provider signed this session in and, for SAML, the
    assertion's NameID and SessionIndex, which the LogoutRequest must repeat."""
    app = sociallogin.account.get_provider().app
    remembered = {"protocol": app.provider, "app": app.pk}
    if app.provider == SAML:
        data = sociallogin.account.extra_data or {}
        remembered.update({key: data.get(extra) for key, extra in SAML_LOGOUT_KEYS.items()})
    request.session[LOGOUT_SESSION_KEY] = remembered


def provider_logout_url(request: Any, remembered: dict | None) -> str | None:
    """Where to send a person signing out of a session an identity provider signed in, so their
    session there ends too:

    - OpenID Connect: the provider's end_session_endpoint (RP-initiated logout), which comes
      back to our sign-in page (the post-logout redirect URI the admin shows).
    - SAML: the IdP's single logout service (``idp.slo_url`` or its metadata) with a
      LogoutRequest for the NameID and SessionIndex of the sign-in (HTTP-Redirect binding);
      the IdP answers at our SLS URL, which goes on to the sign-in page.

    None for password sign-ins, and when the provider offers no such endpoint or cannot be
    reached: then only our session ends. Needs only ``remembered`` (taken from the session
    before it ended) and the request (for our own SAML addresses)."""
    if not remembered:
        return None
    if remembered.get("protocol") == SAML:
        return _saml_logout_url(request, remembered)
    if remembered.get("protocol") != OIDC:
        return None
    from allauth.socialaccount.models import SocialApp
    from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter

    app = SocialApp.objects.filter(pk=remembered.get("app"), provider=OIDC).first()
    if app is None:
        return None
    try:
        endpoint = OpenIDConnectOAuth2Adapter(request, app.provider_id).openid_config.get("end_session_endpoint")
    except Exception:  # the provider is unreachable: signing out here must still work
        return None
    if not endpoint:
        return None
    back = settings.SITE_URL + reverse(settings.LOGOUT_REDIRECT_URL)
    return f"{endpoint}?{urlencode({'client_id': app.client_id, 'post_logout_redirect_uri': back})}"


def _saml_logout_url(request: Any, remembered: dict) -> str | None:
    from allauth.socialaccount.models import SocialApp
    from allauth.socialaccount.providers.saml.utils import build_auth

    app = SocialApp.objects.filter(pk=remembered.get("app"), provider=SAML).first()
    if app is None or not remembered.get("name_id"):
        return None  # signed in before MentorMatch kept the NameID: nothing to name the person by
    try:
        auth = build_auth(request, app.get_provider(request))
        if not auth.get_slo_url():
            return None
        # The RelayState; allauth's SLS view sends everyone to the sign-in page regardless.
        back = request.build_absolute_uri(reverse(settings.LOGOUT_REDIRECT_URL))
        return auth.logout(
            return_to=back,
            name_id=remembered["name_id"],
            name_id_format=remembered.get("name_id_format"),
            nq=remembered.get("name_id_nq"),
            spnq=remembered.get("name_id_spnq"),
            session_index=remembered.get("session_index"),
        )
    except Exception:  # the IdP's metadata is unreachable or broken: signing out here must still work
        return None


# Where the SAML provider below keeps the assertion's AuthnContextClassRef values.
SAML_CONTEXTS_KEY = "_authn_context_class_refs"
# What a LogoutRequest repeats from the assertion: the key in the session (remember_for_logout)
# and in extra_data (SAMLProvider below). The qualifiers matter to IdPs that compare the whole
# NameID (ADFS).
SAML_LOGOUT_KEYS = {
    "name_id": "_name_id",
    "name_id_format": "_name_id_format",
    "name_id_nq": "_name_id_name_qualifier",
    "name_id_spnq": "_name_id_sp_name_qualifier",
    "session_index": "_session_index",
}


class SAMLProvider(AllauthSAMLProvider):
    """allauth's SAML provider, also keeping how the person authenticated at the provider
    (the assertion's AuthnContextClassRef) and what single logout needs (the NameID and the
    SessionIndex), which allauth drops (SOCIALACCOUNT_PROVIDERS)."""

    # allauth finds a provider's URLs and views by its package: still allauth's own.
    package = "allauth.socialaccount.providers.saml"

    def extract_extra_data(self, data: Any) -> dict:
        extra = dict(super().extract_extra_data(data))
        extra[SAML_CONTEXTS_KEY] = list(data.get_last_authn_contexts() or [])
        extra.update(
            {
                SAML_LOGOUT_KEYS["name_id"]: data.get_nameid(),
                SAML_LOGOUT_KEYS["name_id_format"]: data.get_nameid_format(),
                SAML_LOGOUT_KEYS["name_id_nq"]: data.get_nameid_nq(),
                SAML_LOGOUT_KEYS["name_id_spnq"]: data.get_nameid_spnq(),
                SAML_LOGOUT_KEYS["session_index"]: data.get_session_index(),
            }
        )
        return extra
