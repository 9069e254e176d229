"""Set up an institution's single sign-on from the command line or the environment: for a
single-institution install (a container's start-up, a configuration-management run) where
nobody should click through the admin. Running it again updates what it set; nothing else.

Every option falls back to an environment variable (the option in capitals, prefixed SSO_),
and the OIDC client secret is read only from SSO_CLIENT_SECRET, never from the command line
(which shell histories and process lists keep). Prints what the identity provider's
administrators need: the redirect URI, or the SAML entity ID, ACS and metadata URLs.
"""

import os

from allauth.socialaccount.models import SocialApp
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.text import slugify

from accounts.auth import sso
from accounts.models import Institution


def _env(name, default=""):
    return os.environ.get(f"SSO_{name}", default)


class Command(BaseCommand):
    help = "Create or update an institution and its SSO provider (OpenID Connect or SAML 2.0)."

    def add_arguments(self, parser):
        parser.add_argument("--institution", default=_env("INSTITUTION"), help="Its name (SSO_INSTITUTION).")
        parser.add_argument(
            "--protocol", choices=["oidc", "saml"], default=_env("PROTOCOL", "oidc"), help="SSO_PROTOCOL."
        )
        parser.add_argument(
            "--provider-id",
            default=_env("PROVIDER_ID"),
            help="A short name used in our URLs, e.g. lakeside (SSO_PROVIDER_ID; default: from the name).",
        )
        parser.add_argument("--domains", default=_env("EMAIL_DOMAINS"), help="E-mail domains, comma-separated.")
        parser.add_argument("--server-url", default=_env("SERVER_URL"), help="OIDC issuer URL (SSO_SERVER_URL).")
        parser.add_argument("--client-id", default=_env("CLIENT_ID"), help="OIDC client ID (SSO_CLIENT_ID).")
        parser.add_argument(
            "--metadata-url", default=_env("SAML_METADATA_URL"), help="SAML IdP metadata URL (SSO_SAML_METADATA_URL)."
        )
        parser.add_argument(
            "--entity-id", default=_env("SAML_ENTITY_ID"), help="SAML IdP entity ID (SSO_SAML_ENTITY_ID)."
        )
        parser.add_argument(
            "--self-service",
            action="store_true",
            default=_env("SELF_SERVICE") == "true",
            help="Let people of these domains who are on no roster create an account (SSO_SELF_SERVICE=true).",
        )

    def handle(self, *args, institution, protocol, provider_id, domains, **options):
        name = institution.strip()
        if not name:
            raise CommandError("Name the institution: --institution or SSO_INSTITUTION.")
        provider_id = slugify(provider_id or name)[:40]
        if not provider_id:
            raise CommandError("The provider ID must have letters or digits: --provider-id or SSO_PROVIDER_ID.")
        fields = self._oidc(options, provider_id) if protocol == "oidc" else self._saml(options, provider_id)
        with transaction.atomic():
            app, _ = SocialApp.objects.update_or_create(
                provider=fields.pop("provider"),
                provider_id=fields.pop("provider_id"),
                defaults={"name": name, **fields},
            )
            record, created = Institution.objects.get_or_create(
                name=name, defaults={"slug": self._free_slug(slugify(name)[:70] or provider_id)}
            )
            record.sso_app = app
            record.email_domains = ", ".join(d.strip().lower().lstrip("@") for d in domains.split(",") if d.strip())
            record.sso_self_service = options["self_service"]
            record.save()
        self.stdout.write(f"{'Created' if created else 'Updated'} {record.name}: {protocol.upper()} sign-in.")
        for label, url in sso.endpoints(record).items():
            self.stdout.write(f"  {label}: {url}")

    def _oidc(self, options, provider_id):
        server_url, client_id = options["server_url"].rstrip("/"), options["client_id"]
        secret = os.environ.get("SSO_CLIENT_SECRET", "")
        missing = [
            what
            for what, value in [("--server-url", server_url), ("--client-id", client_id), ("SSO_CLIENT_SECRET", secret)]
            if not value
        ]
        if missing:
            raise CommandError(f"OpenID Connect needs {', '.join(missing)}.")
        return {
            "provider": sso.OIDC,
            "provider_id": provider_id,
            "client_id": client_id,
            "secret": secret,
            "settings": {"server_url": server_url},
        }

    def _saml(self, options, provider_id):
        metadata_url, entity_id = options["metadata_url"], options["entity_id"]
        if not metadata_url or not entity_id:
            raise CommandError("SAML needs --metadata-url and --entity-id (the identity provider's).")
        return {
            "provider": sso.SAML,
            "provider_id": entity_id,
            "client_id": provider_id,
            "secret": "",
            "settings": {
                "idp": {"entity_id": entity_id, "metadata_url": metadata_url},
                # Signed messages: the IdP's logout requests too, so no other page can sign people
                # out with a link. The IdP signs its responses (Shibboleth does by default; ADFS and
                # Entra ID when told to sign the response as well as the assertion).
                "advanced": {"reject_idp_initiated_sso": True, "want_message_signed": True},
            },
        }

    def _free_slug(self, base):
        slug, n = base, 2
        while Institution.objects.filter(slug=slug).exists():
            slug, n = f"{base}-{n}", n + 1
        return slug
