from io import StringIO

import pytest
from allauth.socialaccount.models import SocialApp
from django.core.management import CommandError, call_command

from accounts.models import Institution

pytestmark = pytest.mark.django_db


def _run(*args):
    out = StringIO()
    call_command("configure_sso", *args, stdout=out)
    return out.getvalue()


def test_oidc_from_the_environment_and_again_updates(monkeypatch, settings):
    settings.SITE_URL = "https://mentors.lakeside.org"
    for key, value in {
        "SSO_INSTITUTION": "Lakeside Health",
        "SSO_SERVER_URL": "https://login.microsoftonline.com/tenant/v2.0/",
        "SSO_CLIENT_ID": "app-id",
        "SSO_CLIENT_SECRET": "s3cret",
        "SSO_EMAIL_DOMAINS": "Lakeside.org, @med.lakeside.org",
    }.items():
        monkeypatch.setenv(key, value)
    # The defaults are read when the command's parser is built, so from the environment now.
    out = _run()
    institution = Institution.objects.get(name="Lakeside Health")
    app = institution.sso_app
    assert (app.provider, app.provider_id, app.client_id, app.secret) == (
        "openid_connect",
        "lakeside-health",
        "app-id",
        "s3cret",
    )
    assert app.settings == {"server_url": "https://login.microsoftonline.com/tenant/v2.0"}
    assert institution.domains == ["lakeside.org", "med.lakeside.org"]
    assert "Redirect URI: https://mentors.lakeside.org/accounts/oidc/lakeside-health/login/callback/" in out

    monkeypatch.setenv("SSO_CLIENT_SECRET", "rotated")
    assert "Updated Lakeside Health" in _run()
    assert SocialApp.objects.count() == 1 and Institution.objects.count() == 1
    assert SocialApp.objects.get().secret == "rotated"


def test_saml_prints_what_the_identity_provider_needs(settings):
    settings.SITE_URL = "https://mentors.example.edu"
    out = _run(
        "--institution=State University Medical Center",
        "--protocol=saml",
        "--provider-id=state",
        "--metadata-url=https://idp.example.edu/idp/shibboleth/metadata",
        "--entity-id=https://idp.example.edu/idp/shibboleth",
        "--domains=example.edu",
    )
    app = Institution.objects.get().sso_app
    assert (app.provider, app.client_id, app.provider_id) == ("saml", "state", "https://idp.example.edu/idp/shibboleth")
    assert "ACS URL (HTTP-POST): https://mentors.example.edu/accounts/saml/state/acs/" in out
    assert "SP metadata URL: https://mentors.example.edu/accounts/saml/state/metadata/" in out


def test_a_secret_on_the_command_line_is_not_an_option_and_missing_values_are_named(monkeypatch):
    monkeypatch.delenv("SSO_CLIENT_SECRET", raising=False)
    with pytest.raises(CommandError, match="SSO_CLIENT_SECRET"):
        _run("--institution=X", "--server-url=https://idp.example", "--client-id=c")
    with pytest.raises(CommandError, match="Name the institution"):
        _run("--institution=  ")
    assert not Institution.objects.exists() and not SocialApp.objects.exists()
