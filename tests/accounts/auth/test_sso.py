"""Single sign-on on the server side (accounts/auth/sso.py and the SocialAccountAdapter), with
Django's test client against the real test identity providers (tests/idp/): a pysaml2 IdP that
signs its assertions and oidc-provider.

SAML goes as a browser would: "Sign in with …" posts to allauth's login view, which redirects
to the IdP with an AuthnRequest; the IdP is shown that request (so it knows its ID); it then
answers with a SAMLResponse that the test posts to our ACS, following on to the finish view.
OpenID Connect walks the provider's log-in form with urllib and comes back to our callback.

Every refusal sits beside a sign-in that succeeds with the same set-up but for one thing.
"""

import base64
import re
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount, SocialApp
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from accounts.auth import policy, sso
from accounts.models import Membership, User
from tests.factories import PASSWORD, InstitutionFactory, MembershipFactory, ProgramFactory, UserFactory
from tests.idp.fixtures import oidc_idp, saml_idp  # noqa: F401  (the running providers)
from tests.idp.saml_idp import AC_MFA, AC_PASSWORD, SamlUser

pytestmark = pytest.mark.django_db

# Our site as the test client calls it. Not Django's "testserver": python3-saml refuses a
# single-label host in the SP's own URLs (unless "allow_single_label_domains"), and allauth's
# SAML views read the Host header, which the test client leaves out unless given.
HOST = "mentormatch.test"
SP = f"http://{HOST}"
SAML_ORG = "lakeside"
OIDC_PROVIDER_ID = "lakeside-oidc"
ACS = f"/accounts/saml/{SAML_ORG}/acs/"
SP_METADATA = f"/accounts/saml/{SAML_ORG}/metadata/"
OIDC_CALLBACK = f"/accounts/oidc/{OIDC_PROVIDER_ID}/login/callback/"
DASHBOARD = "/dashboard/"
MFA_REQUIRED = "/accounts/2fa/required/"


@pytest.fixture(autouse=True)
def _our_host(settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, HOST]


@pytest.fixture
def client():
    return _browser()


def _browser():
    return Client(HTTP_HOST=HOST)


# --- Who is who.


@pytest.fixture
def lakeside(db):
    return InstitutionFactory(name="Lakeside Health", email_domains="lakeside.example")


@pytest.fixture
def lakeside_program(lakeside):
    return ProgramFactory(name="Lakeside Internal Medicine", slug="lakeside-im", institution=lakeside)


@pytest.fixture
def riverside_program(db):
    riverside = InstitutionFactory(name="Riverside Medical Center", email_domains="riverside.example")
    return ProgramFactory(name="Riverside Surgery", slug="riverside-gs", institution=riverside)


def _rostered(program, email, role=Membership.Role.RESIDENT):
    first, _, last = email.partition("@")[0].title().partition(".")
    user = UserFactory(email=email, first_name=first, last_name=last)
    MembershipFactory(user=user, program=program, role=role)
    return user


@pytest.fixture
def ana(lakeside_program):
    """A resident on Lakeside's roster."""
    return _rostered(lakeside_program, "ana.lopez@lakeside.example")


# --- The providers, as a superuser sets them up in the admin (tests/browser/test_sso_journey.py).


@pytest.fixture
def saml(saml_idp, lakeside):  # noqa: F811
    idp = saml_idp(sp_entity_id=SP + SP_METADATA, acs_url=SP + ACS)
    lakeside.sso_app = SocialApp.objects.create(
        provider="saml",
        provider_id=idp.entity_id,
        name="Lakeside Health",
        client_id=SAML_ORG,
        settings={
            "idp": {"entity_id": idp.entity_id, "metadata_url": idp.metadata_url},
            "advanced": {"want_assertion_signed": True, "reject_idp_initiated_sso": True},
        },
    )
    lakeside.save()
    return idp


@pytest.fixture
def oidc(oidc_idp, lakeside):  # noqa: F811
    idp = oidc_idp(SP + OIDC_CALLBACK)
    lakeside.sso_app = SocialApp.objects.create(
        provider="openid_connect",
        provider_id=OIDC_PROVIDER_ID,
        name="Lakeside Health",
        client_id=idp.client_id,
        secret=idp.client_secret,
        settings={"server_url": idp.issuer},
    )
    lakeside.save()
    return idp


def _signed_in(client):
    """Who the client's session is signed in as, or None."""
    pk = client.session.get(SESSION_KEY)
    return User.objects.get(pk=pk) if pk else None


def _saml_start(client, idp):
    """Press "Sign in with …": our AuthnRequest goes to the IdP, which takes it and notes its ID."""
    start = client.post(reverse("saml_login", kwargs={"organization_slug": SAML_ORG}))
    assert start.status_code == 302 and start["Location"].startswith(idp.base_url + "/sso/"), start
    with urllib.request.urlopen(start["Location"], timeout=10) as page:  # noqa: S310 - the loopback IdP
        assert page.status == 200  # its sign-in form: it accepted our request
    assert idp.last_authn_request_id
    return idp.last_authn_request_id


def _saml_post(client, answer):
    """The IdP's auto-submitting form: POST to the ACS, which hands over to the finish view."""
    posted = client.post(ACS, answer.form_data())
    assert posted.status_code == 302, posted
    return client.get(posted["Location"])


def _saml_sign_in(client, idp, email, **response_options):
    """An SP-initiated sign-in; returns the finish view's response and the SAMLResponse used."""
    request_id = _saml_start(client, idp)
    answer = idp.make_response(email, in_response_to=request_id, **response_options)
    return _saml_post(client, answer), answer


class _StopAtOurSite(urllib.request.HTTPRedirectHandler):
    """Follow the provider's redirects, but not the last one, back to the test client's host."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if newurl.startswith(SP):
            return None  # urllib then raises HTTPError, whose Location is our callback
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _oidc_sign_in(client, idp, email):
    """Press "Sign in with …", sign in at oidc-provider's form, come back to our callback."""
    start = client.post(reverse("openid_connect_login", kwargs={"provider_id": OIDC_PROVIDER_ID}))
    assert start.status_code == 302 and start["Location"].startswith(idp.authorization_endpoint), start
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), _StopAtOurSite())
    with browser.open(start["Location"], timeout=10) as page:
        form_url = page.url
        action = re.search(r'action="(/interaction/[^"]+/login)"', page.read().decode()).group(1)
    fields = urlencode({"email": email, "password": "anything"}).encode()
    with pytest.raises(urllib.error.HTTPError) as back:
        browser.open(urllib.request.Request(urljoin(form_url, action), data=fields), timeout=10)
    callback = back.value.headers["Location"]
    back.value.close()
    assert callback.startswith(SP + OIDC_CALLBACK), callback
    return client.get(callback.removeprefix(SP))


# --- 1. SAML: a signed, solicited, fresh assertion for this SP, once.


def test_a_rostered_resident_signs_in_through_saml(client, saml, ana):
    saml.set_users([SamlUser(ana.email, "Ana", "Lopez")])

    finish, _ = _saml_sign_in(client, saml, ana.email)

    assert finish.status_code == 302 and finish["Location"] == DASHBOARD
    assert _signed_in(client) == ana
    assert SocialAccount.objects.get(provider=saml.entity_id).user == ana


def test_an_sso_sign_in_counts_as_signing_in_without_a_password(client, saml, ana, lakeside_program):
    """The one "has signed in" rule (accounts.selectors) sees an SSO sign-in: the readiness
    page stops listing the person as never signed in, and their notifications are e-mailed."""
    from accounts.selectors import awaits_first_sign_in, has_signed_in
    from matching.match_runs.readiness import NEVER_SIGNED_IN, program_readiness
    from tests.factories import MenteeProfileFactory

    ana.set_unusable_password()
    ana.save()
    MenteeProfileFactory(user=ana)
    assert awaits_first_sign_in(ana)
    assert ana in [p.user for p in program_readiness(lakeside_program, "career").groups[NEVER_SIGNED_IN].people]
    saml.set_users([SamlUser(ana.email, "Ana", "Lopez")])

    _saml_sign_in(client, saml, ana.email)

    ana.refresh_from_db()
    assert _signed_in(client) == ana and not ana.has_usable_password()
    assert has_signed_in(ana) and not awaits_first_sign_in(ana)
    assert ana not in [p.user for p in program_readiness(lakeside_program, "career").groups[NEVER_SIGNED_IN].people]


def _replay_after_signing_out(client, saml, answer):
    client.post(reverse("accounts:logout"))
    assert _signed_in(client) is None
    _saml_start(client, saml)  # a sign-in of this session's own is pending: the old answer is not it
    return client, _saml_post(client, answer)


def _replay_from_a_fresh_client(client, saml, answer):
    other = _browser()
    return other, _saml_post(other, answer)


def _replay_answering_a_fresh_request(client, saml, answer):
    """The envelope's InResponseTo (outside the signed assertion) rewritten to a request of the
    attacker's own: the signed SubjectConfirmationData still names the original request."""
    other = _browser()
    request_id = _saml_start(other, saml)
    xml, count = re.subn(r'(<(?:\w+:)?Response\b[^>]*\bInResponseTo=")[^"]+"', rf'\g<1>{request_id}"', answer.xml)
    assert count == 1
    forged = {"SAMLResponse": base64.b64encode(xml.encode()).decode()}
    posted = other.post(ACS, forged)
    return other, other.get(posted["Location"])


@pytest.mark.parametrize(
    ("replay", "status"),
    [
        # No sign-in of this session's (or client's) own is waiting for that answer: allauth's PermissionDenied.
        (_replay_after_signing_out, 403),
        (_replay_from_a_fresh_client, 403),
        # python3-saml: "A valid SubjectConfirmation was not found on this Response".
        (_replay_answering_a_fresh_request, 401),
    ],
    ids=["same-session-after-signing-out", "fresh-client", "rewritten-in-response-to"],
)
def test_a_saml_response_signs_in_once(client, saml, ana, replay, status):
    saml.set_users([SamlUser(ana.email)])
    _, answer = _saml_sign_in(client, saml, ana.email)
    assert _signed_in(client) == ana  # the control: the first use works

    replayer, replayed = replay(client, saml, answer)

    assert replayed.status_code == status
    assert _signed_in(replayer) is None


def test_an_idp_initiated_response_is_refused(client, saml, ana):
    saml.set_users([SamlUser(ana.email)])

    finish = _saml_post(client, saml.make_response(ana.email))  # no InResponseTo

    assert _signed_in(client) is None
    assert not SocialAccount.objects.exists()
    assert finish.status_code == 401 and "saml_errors" not in finish.context  # refused before any user lookup


@pytest.mark.parametrize("variant", ["unsigned", "tampered", "wrong_audience", "expired"])
def test_a_bad_saml_response_signs_nobody_in(client, saml, lakeside_program, variant):
    # Both the asserted address and the one "tampered" forges are on the roster: only the
    # assertion's own checks stand in the way.
    ana = _rostered(lakeside_program, "ana.lopez@lakeside.example")
    _rostered(lakeside_program, "ana.lopez.forged@lakeside.example")
    saml.set_users([SamlUser(ana.email)])

    finish, _ = _saml_sign_in(client, saml, ana.email, variant=variant)

    assert _signed_in(client) is None
    assert not SocialAccount.objects.exists()
    assert finish.context["saml_errors"]


# --- 2. SAML AuthnContextClassRef: the provider's second factor, where the institution takes it.


def test_the_test_idps_mfa_class_counts_by_default(settings):
    assert AC_MFA in settings.SSO_MFA_SAML_CONTEXTS
    assert AC_PASSWORD not in settings.SSO_MFA_SAML_CONTEXTS


@pytest.mark.parametrize(
    ("authn_context", "accept_idp_mfa", "reaches_roster"),
    [(AC_MFA, True, True), (AC_PASSWORD, True, False), (AC_MFA, False, False)],
    ids=["mfa-accepted", "password-only", "mfa-not-accepted"],
)
def test_the_providers_mfa_counts_for_a_coordinator_when_accepted(
    client, saml, lakeside, lakeside_program, authn_context, accept_idp_mfa, reaches_roster
):
    lakeside.require_mfa_for_coordinators = True
    lakeside.accept_idp_mfa = accept_idp_mfa
    lakeside.save()
    cole = _rostered(lakeside_program, "cole.ward@lakeside.example", role=Membership.Role.COORDINATOR)
    saml.set_users([SamlUser(cole.email, authn_context=authn_context)])

    _saml_sign_in(client, saml, cole.email)
    roster = client.get(reverse("accounts:roster", kwargs={"slug": lakeside_program.slug}))

    assert _signed_in(client) == cole
    assert client.session[policy.IDP_MFA_SESSION_KEY] is reaches_roster
    if reaches_roster:
        assert roster.status_code == 200
    else:
        assert roster.status_code == 302 and roster["Location"] == MFA_REQUIRED


def test_the_providers_mfa_counts_when_someone_else_was_signed_in(client, saml, lakeside, lakeside_program, ana):
    """A shared workstation: Ana is still signed in when Cole starts a sign-in from the hospital's
    app launcher (our "initiate login" URL), with the provider's second factor."""
    lakeside.require_mfa_for_coordinators = True
    lakeside.save()
    cole = _rostered(lakeside_program, "cole.ward@lakeside.example", role=Membership.Role.COORDINATOR)
    saml.set_users([SamlUser(cole.email, authn_context=AC_MFA)])
    client.force_login(ana)

    _saml_sign_in(client, saml, cole.email)
    roster = client.get(reverse("accounts:roster", kwargs={"slug": lakeside_program.slug}))

    assert _signed_in(client) == cole
    assert roster.status_code == 200


# --- 3. Who may sign in through an institution's provider.


def _refused(response, client, reason_text):
    assert response.status_code == 403
    assert reason_text in response.content.decode()
    assert _signed_in(client) is None


def test_someone_on_another_institutions_roster_cannot_sign_in_through_saml(
    client, saml, lakeside, lakeside_program, riverside_program
):
    lakeside.email_domains = ""  # a button-only institution: nothing but the roster stands in the way
    lakeside.save()
    rita = _rostered(riverside_program, "rita.diaz@riverside.example")
    saml.set_users([SamlUser(rita.email)])

    refused, _ = _saml_sign_in(client, saml, rita.email)

    _refused(refused, client, "no program at Lakeside Health has you on its roster")
    assert not SocialAccount.objects.exists()
    # The control: once on a Lakeside roster too, the same sign-in works.
    MembershipFactory(user=rita, program=lakeside_program)
    _saml_sign_in(client, saml, rita.email)
    assert _signed_in(client) == rita


def test_someone_on_another_institutions_roster_cannot_sign_in_through_oidc(
    client, oidc, lakeside, lakeside_program, riverside_program
):
    lakeside.email_domains = ""
    lakeside.save()
    rita = _rostered(riverside_program, "rita.diaz@riverside.example")
    oidc.set_accounts([{"email": rita.email, "amr": ["pwd"]}])

    refused = _oidc_sign_in(client, oidc, rita.email)

    _refused(refused, client, "no program at Lakeside Health has you on its roster")
    assert not SocialAccount.objects.exists()
    MembershipFactory(user=rita, program=lakeside_program)
    back = _oidc_sign_in(client, oidc, rita.email)
    assert back.status_code == 302 and back["Location"] == DASHBOARD
    assert _signed_in(client) == rita


def test_an_address_outside_the_institutions_domains_is_refused(client, saml, lakeside_program):
    # On Lakeside's roster, but with an address Lakeside's SSO does not sign in.
    ana = _rostered(lakeside_program, "ana.lopez@gmail.example")
    saml.set_users([SamlUser(ana.email)])

    refused, _ = _saml_sign_in(client, saml, ana.email)

    _refused(refused, client, "signs in addresses at lakeside.example only")


def test_an_inactive_person_is_refused(client, saml, ana):
    ana.is_active = False
    ana.save()
    saml.set_users([SamlUser(ana.email)])

    refused, _ = _saml_sign_in(client, saml, ana.email)

    _refused(refused, client, "has you on its roster")
    assert not SocialAccount.objects.exists()


def test_with_self_service_a_stranger_in_the_domain_gets_an_account_and_no_membership(client, saml, lakeside):
    lakeside.sso_self_service = True
    lakeside.save()
    saml.set_users([SamlUser("walk.in@lakeside.example", "Wally", "Inn")])

    finish, _ = _saml_sign_in(client, saml, "walk.in@lakeside.example")

    stranger = User.objects.get(email_key="walk.in@lakeside.example")
    assert finish.status_code == 302
    assert _signed_in(client) == stranger
    assert (stranger.first_name, stranger.last_name) == ("Wally", "Inn")
    assert not stranger.memberships.exists()


def test_without_self_service_a_stranger_gets_the_refusal_and_no_account(client, saml, lakeside):
    assert lakeside.sso_self_service is False  # the default
    saml.set_users([SamlUser("walk.in@lakeside.example")])

    refused, _ = _saml_sign_in(client, saml, "walk.in@lakeside.example")

    _refused(refused, client, "no program at Lakeside Health has you on its roster")
    assert not User.objects.filter(email_key="walk.in@lakeside.example").exists()


# --- 4. A linked account does not outlive the roster.


def test_someone_linked_but_since_removed_from_the_roster_is_refused(client, saml, ana):
    saml.set_users([SamlUser(ana.email)])
    _saml_sign_in(client, saml, ana.email)
    assert _signed_in(client) == ana and SocialAccount.objects.filter(user=ana).exists()
    client.post(reverse("accounts:logout"))

    Membership.objects.filter(user=ana).delete()
    refused, _ = _saml_sign_in(client, saml, ana.email)

    _refused(refused, client, "has you on its roster")


# --- 5. The sign-in page.


@pytest.fixture(params=["saml", "oidc"])
def provider(request, ana):
    """Lakeside's identity provider, for each protocol."""
    return request.getfixturevalue(request.param)


def _form_action(response):
    policy_header = response["Content-Security-Policy"]
    directive = next(d for d in policy_header.split(";") if d.strip().startswith("form-action"))
    return directive.split()[1:]


def test_without_a_provider_the_sign_in_page_offers_no_button(client, lakeside):
    page = client.get(reverse("accounts:login"))
    assert "Sign in with" not in page.content.decode()  # the control: no provider, no button
    assert _form_action(page) == ["'self'"]


def _sends_to(client, institution):
    """Press "Sign in with …": the origin the browser is redirected to, which form-action must allow."""
    start = client.post(sso.login_url(institution))
    assert start.status_code == 302
    return "{0.scheme}://{0.netloc}".format(urlsplit(start["Location"]))


def test_the_sign_in_page_offers_the_providers_button_and_allows_its_origin(client, provider, lakeside):
    page = client.get(reverse("accounts:login"))

    assert "Sign in with Lakeside Health" in page.content.decode()
    origin = _sends_to(client, lakeside)
    assert origin == "{0.scheme}://{0.netloc}".format(urlsplit(provider.base_url))
    assert origin in _form_action(page)


def test_form_action_allows_the_sign_in_endpoint_when_metadata_is_published_elsewhere(client, provider, lakeside):
    """SAML metadata from a federation's service (InCommon's MDQ), or an OIDC provider whose
    authorization endpoint is on another host than its issuer (Amazon Cognito's hosted UI; here
    allauth's ``openid_configuration_overrides``): "localhost" and "127.0.0.1" are two origins."""
    app = lakeside.sso_app
    if app.provider == "saml":
        app.settings["idp"]["metadata_url"] = provider.metadata_url.replace("127.0.0.1", "localhost")
    else:
        elsewhere = provider.authorization_endpoint.replace("127.0.0.1", "localhost")
        app.settings["openid_configuration_overrides"] = {"authorization_endpoint": elsewhere}
    app.save()

    page = client.get(reverse("accounts:login"))

    assert _sends_to(client, lakeside) in _form_action(page)


@pytest.mark.parametrize("password", ["", "wrong", PASSWORD])
def test_an_address_in_the_domain_goes_to_the_provider_without_a_password_check(client, provider, ana, password):
    answer = client.post(reverse("accounts:login"), {"login": "Ana.Lopez@LAKESIDE.example", "password": password})

    assert answer.status_code == 302 and answer["Location"].startswith(provider.base_url)
    assert _signed_in(client) is None
    assert not AccessAttempt.objects.exists()  # django-axes saw no password attempt


def test_an_address_outside_the_domain_signs_in_with_a_password(client, saml, riverside_program):
    rita = _rostered(riverside_program, "rita.diaz@riverside.example")

    wrong = client.post(reverse("accounts:login"), {"login": rita.email, "password": "wrong"})
    assert wrong.status_code == 200 and _signed_in(client) is None
    assert AccessAttempt.objects.filter(username=rita.email).exists()

    right = client.post(reverse("accounts:login"), {"login": rita.email, "password": PASSWORD})
    assert right.status_code == 302 and right["Location"] == DASHBOARD
    assert _signed_in(client) == rita


# --- 6. What hospital IT copies, in the admin, and the SP metadata.


@pytest.fixture
def superuser_client(client):
    root = User.objects.create_superuser("root@hospital.example", PASSWORD, first_name="R", last_name="Oot")
    client.force_login(root)
    return client


def test_the_admin_shows_the_oidc_redirect_uri(superuser_client, oidc, lakeside, settings):
    settings.SITE_URL = "https://mentormatch.lakeside.example"

    page = superuser_client.get(reverse("admin:accounts_institution_change", args=[lakeside.pk]))

    assert page.status_code == 200
    assert f"https://mentormatch.lakeside.example{OIDC_CALLBACK}" in page.content.decode()


def test_the_admin_shows_the_saml_urls_that_the_sp_metadata_names(superuser_client, saml, lakeside, settings):
    settings.SITE_URL = SP  # the host the metadata view is asked on

    page = superuser_client.get(reverse("admin:accounts_institution_change", args=[lakeside.pk])).content.decode()
    metadata = superuser_client.get(reverse("saml_metadata", kwargs={"organization_slug": SAML_ORG}))

    assert f"<code>{SP}{ACS}</code>" in page
    assert f"<code>{SP}{SP_METADATA}</code>" in page
    assert metadata.status_code == 200 and metadata["Content-Type"].startswith("text/xml")
    xml = metadata.content.decode()
    assert f'entityID="{SP}{SP_METADATA}"' in xml
    assert re.search(rf'<md:AssertionConsumerService [^>]*Location="{re.escape(SP + ACS)}"', xml)
