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

from typing import Any
from urllib.parse import urlsplit

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


def provider_origin(institution: Institution) -> str:
    """The scheme and host a sign-in is sent to, for the sign-in page's CSP form-action."""
    app = institution.sso_app
    if app is None:
        return ""
    if app.provider == SAML:
        idp = app.settings.get("idp", {})
        url = idp.get("sso_url") or idp.get("metadata_url") or idp.get("entity_id") or ""
    else:
        url = app.settings.get("server_url", "")
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""


def endpoints(institution: Institution) -> dict[str, str]:
    """What the hospital's identity team enters at their provider, as absolute URLs."""
    app = institution.sso_app
    if app is None:
        return {}
    site = settings.SITE_URL
    if app.provider == SAML:
        slug = app.client_id
        return {
            "SP entity ID": site + reverse("saml_metadata", kwargs={"organization_slug": slug}),
            "ACS URL (HTTP-POST)": site + reverse("saml_acs", kwargs={"organization_slug": slug}),
            "SP metadata URL": site + reverse("saml_metadata", kwargs={"organization_slug": slug}),
            "Single logout URL": site + reverse("saml_sls", kwargs={"organization_slug": slug}),
        }
    return {
        "Redirect URI": site + reverse("openid_connect_callback", kwargs={"provider_id": app.provider_id}),
        "Sign-in URL (initiate login URI)": site + login_url(institution),
        "Post-logout redirect URI": site + reverse(settings.LOGOUT_REDIRECT_URL),
    }


def verified_email(sociallogin: Any) -> str:
    """The address the provider vouches for, or "" (an unverified OIDC address counts as none)."""
    saml = _kind(sociallogin) == SAML
    for address in sociallogin.email_addresses:
        if saml or address.verified:
            return address.email
    return ""


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


# Where the SAML provider below keeps the assertion's AuthnContextClassRef values.
SAML_CONTEXTS_KEY = "_authn_context_class_refs"


class SAMLProvider(AllauthSAMLProvider):
    """allauth's SAML provider, also keeping how the person authenticated at the provider
    (the assertion's AuthnContextClassRef), which allauth drops (SOCIALACCOUNT_PROVIDERS)."""

    # allauth finds a provider's URLs and views by its package: still allauth's own.
    package = "allauth.socialaccount.providers.saml"

    def extract_extra_data(self, data: Any) -> dict:
        extra = dict(super().extract_extra_data(data))
        extra[SAML_CONTEXTS_KEY] = list(data.get_last_authn_contexts() or [])
        return extra
