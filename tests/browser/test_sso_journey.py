"""Signing in through a hospital's identity provider, in Chromium, against real providers:
oidc-provider (OpenID Connect) and a pysaml2 IdP with signed assertions (tests/idp/).

Only people on a roster of the institution's programs get in; a stranger gets a page, not an
account; the provider's own second factor counts for a coordinator when it says so.
"""

import pytest
from allauth.socialaccount.models import SocialAccount, SocialApp
from playwright.sync_api import expect

from accounts.models import ApiToken, Membership, User
from accounts.services import api_token_issue
from tests.factories import InstitutionFactory, MembershipFactory, ProgramFactory, UserFactory
from tests.idp.fixtures import oidc_idp, saml_idp  # noqa: F401  (the running providers)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROVIDER_ID = "lakeside"
SAML_ORG = "riverside"


@pytest.fixture
def lakeside(db):
    return InstitutionFactory(name="Lakeside Health", email_domains="lakeside.example")


@pytest.fixture
def rostered(lakeside):
    program = ProgramFactory(name="Lakeside Internal Medicine", institution=lakeside)
    user = UserFactory(email="ana.lopez@lakeside.example", first_name="Ana", last_name="Lopez")
    MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)
    return user


@pytest.fixture
def oidc(oidc_idp, live_server, lakeside, other_origins, settings):  # noqa: F811
    settings.SITE_URL = live_server.url  # the address the provider sends people back to
    idp = oidc_idp(
        f"{live_server.url}/accounts/oidc/{PROVIDER_ID}/login/callback/",
        post_logout_redirect_uris=[f"{live_server.url}/accounts/login/"],
    )
    app = SocialApp.objects.create(
        provider="openid_connect",
        provider_id=PROVIDER_ID,
        name="Lakeside Health",
        client_id=idp.client_id,
        secret=idp.client_secret,
        settings={"server_url": idp.issuer},
    )
    lakeside.sso_app = app
    lakeside.save()
    other_origins.append(idp.base_url)
    return idp


def _sign_in_at_provider(page, email):
    expect(page.get_by_label("E-mail")).to_be_visible()
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill("anything")
    page.get_by_role("button", name="Sign in").click()


def test_a_rostered_resident_signs_in_with_the_hospital_button(page, shot, oidc, rostered):
    oidc.set_accounts([{"email": rostered.email, "given_name": "Ana", "family_name": "Lopez", "amr": ["pwd"]}])
    page.goto("/accounts/login/")
    shot("login-with-sso")
    page.get_by_role("button", name="Sign in with Lakeside Health").click()
    _sign_in_at_provider(page, rostered.email)

    expect(page).to_have_url(f"{page.url.split('/dashboard')[0]}/dashboard/")
    expect(page.get_by_text("Ana Lopez").first).to_be_visible()
    assert SocialAccount.objects.get(provider=PROVIDER_ID).user == rostered
    # The same person, next time: the account is linked, nothing is created.
    assert User.objects.filter(email_key="ana.lopez@lakeside.example").count() == 1


def test_an_address_in_the_hospital_domain_goes_straight_to_the_provider(page, oidc, rostered):
    oidc.set_accounts([{"email": rostered.email, "amr": ["pwd"]}])
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill("Ana.Lopez@LAKESIDE.example")
    page.get_by_role("button", name="Log in").click()  # no password typed, none asked for
    expect(page).to_have_url(f"{oidc.issuer}/interaction/" + page.url.rsplit("/interaction/", 1)[-1])
    _sign_in_at_provider(page, rostered.email)
    expect(page.get_by_role("heading", name="Your dashboard").or_(page.get_by_text("Ana").first).first).to_be_visible()
    assert "/dashboard/" in page.url


def test_a_stranger_gets_a_page_not_an_account(page, shot, oidc, rostered):
    oidc.set_accounts([{"email": "walk.in@lakeside.example", "amr": ["pwd"]}])
    page.goto("/accounts/login/")
    page.get_by_role("button", name="Sign in with Lakeside Health").click()
    _sign_in_at_provider(page, "walk.in@lakeside.example")
    expect(page.get_by_role("heading", name="You can't sign in here yet")).to_be_visible()
    expect(page.get_by_text("no program at Lakeside Health has you on its roster")).to_be_visible()
    shot("sso-stranger")
    assert not User.objects.filter(email_key="walk.in@lakeside.example").exists()
    assert (
        page.context.cookies() == []
        or "sessionid" not in {c["name"] for c in page.context.cookies()}
        or ("/dashboard/" not in page.url)
    )
    page.goto("/dashboard/")
    expect(page.get_by_role("heading", name="Log in to MentorMatch")).to_be_visible()


def test_an_unverified_address_outside_the_institutions_domains_is_refused(page, oidc, rostered, lakeside):
    """The provider is the authority for the institution's own domains (Entra ID sends no
    email_verified for work accounts); with none named, an unverified address counts as none."""
    lakeside.email_domains = ""
    lakeside.save()
    oidc.set_accounts([{"email": rostered.email, "email_verified": False, "amr": ["pwd"]}])
    page.goto("/accounts/login/")
    page.get_by_role("button", name="Sign in with Lakeside Health").click()
    _sign_in_at_provider(page, rostered.email)
    expect(page.get_by_text("did not give MentorMatch a verified e-mail address")).to_be_visible()


@pytest.fixture
def strict_coordinator(lakeside):
    lakeside.require_mfa_for_coordinators = True
    lakeside.save()
    program = ProgramFactory(name="Lakeside Surgery", institution=lakeside)
    user = UserFactory(email="cole.ward@lakeside.example", first_name="Cole", last_name="Ward")
    MembershipFactory(user=user, program=program, role=Membership.Role.COORDINATOR)
    return user


@pytest.mark.parametrize(("amr", "lands_on"), [(["pwd", "mfa"], "/dashboard/"), (["pwd"], "/accounts/2fa/required/")])
def test_the_providers_second_factor_counts_for_a_coordinator(page, oidc, strict_coordinator, amr, lands_on):
    oidc.set_accounts([{"email": strict_coordinator.email, "amr": amr}])
    page.goto("/accounts/login/")
    page.get_by_role("button", name="Sign in with Lakeside Health").click()
    _sign_in_at_provider(page, strict_coordinator.email)
    page.wait_for_url(f"**{lands_on}")
    page.goto("/programs/")
    assert page.url.endswith("/programs/" if lands_on == "/dashboard/" else "/accounts/2fa/required/")


# --- SAML 2.0


def _saml_provider(saml_idp, live_server, lakeside, other_origins, *, advanced=None, **idp_options):  # noqa: F811
    """A running SAML IdP, with its SocialApp as the institution's provider."""
    acs = f"{live_server.url}/accounts/saml/{SAML_ORG}/acs/"
    entity = f"{live_server.url}/accounts/saml/{SAML_ORG}/metadata/"
    sls = f"{live_server.url}/accounts/saml/{SAML_ORG}/sls/"
    idp = saml_idp(sp_entity_id=entity, acs_url=acs, sp_sls_url=sls, **idp_options)
    app = SocialApp.objects.create(
        provider="saml",
        provider_id=idp.entity_id,
        name="Lakeside Health",
        client_id=SAML_ORG,
        settings={
            "idp": {"entity_id": idp.entity_id, "metadata_url": idp.metadata_url},
            "advanced": advanced or {"want_assertion_signed": True, "reject_idp_initiated_sso": True},
        },
    )
    lakeside.sso_app = app
    lakeside.save()
    other_origins.append(idp.base_url)
    return idp


@pytest.fixture
def saml(saml_idp, live_server, lakeside, other_origins):  # noqa: F811
    return _saml_provider(saml_idp, live_server, lakeside, other_origins)


def test_a_rostered_resident_signs_in_through_saml(page, shot, saml, rostered):
    saml.set_users([{"email": rostered.email, "given_name": "Ana", "family_name": "Lopez"}])
    page.goto("/accounts/login/")
    page.get_by_role("button", name="Sign in with Lakeside Health").click()
    _sign_in_at_provider(page, rostered.email)
    page.wait_for_url("**/dashboard/")
    assert SocialAccount.objects.get(user=rostered).provider == saml.entity_id


# One bad assertion end to end in the browser; the others (unsigned, wrong audience, expired,
# replayed, IdP-initiated) are refused in tests/accounts/auth/test_sso.py without one.
@pytest.mark.parametrize("variant", ["tampered"])
def test_a_bad_assertion_signs_nobody_in(page, saml, rostered, variant):
    saml.set_users([{"email": rostered.email, "given_name": "Ana", "family_name": "Lopez"}])
    saml.response_variant = variant
    page.goto("/accounts/login/")
    page.get_by_role("button", name="Sign in with Lakeside Health").click()
    _sign_in_at_provider(page, rostered.email)
    page.wait_for_load_state()
    page.goto("/dashboard/")
    expect(page.get_by_role("heading", name="Log in to MentorMatch")).to_be_visible()
    assert not SocialAccount.objects.exists()


def test_signing_out_ends_the_providers_session_too(page, oidc, rostered):
    """RP-initiated logout: after our session ends, the browser goes to the provider's
    end-session endpoint, so the next "Sign in with" asks for the password again."""
    oidc.set_accounts([{"email": rostered.email, "amr": ["pwd"]}])
    page.goto("/accounts/login/")
    page.get_by_role("button", name="Sign in with Lakeside Health").click()
    _sign_in_at_provider(page, rostered.email)
    page.wait_for_url("**/dashboard/")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{oidc.issuer}/session/end**")
    assert "client_id=" in page.url
    page.get_by_role("button", name="Yes, sign me out").click()
    # Back on our sign-in page, signed out here and there: the provider asks again.
    expect(page.get_by_role("heading", name="Log in to MentorMatch")).to_be_visible()
    page.get_by_role("button", name="Sign in with Lakeside Health").click()
    expect(page.get_by_label("E-mail")).to_be_visible()


# --- SAML single logout, both directions, against the pysaml2 IdP's single logout service.


def _sign_in_through_saml(page, idp, user):
    idp.set_users([{"email": user.email, "given_name": user.first_name, "family_name": user.last_name}])
    page.goto("/accounts/login/")
    page.get_by_role("button", name="Sign in with Lakeside Health").click()
    _sign_in_at_provider(page, user.email)
    page.wait_for_url("**/dashboard/")
    # What our SP kept from the assertion, which the IdP gave this sign-in.
    extra = SocialAccount.objects.get(user=user).extra_data
    assert extra["_name_id"] == idp.name_id_of(user.email)
    assert extra["_session_index"] in idp.sessions(extra["_name_id"])
    return extra["_name_id"], extra["_session_index"]


def _navigations(page):
    """Every address the page is sent to from now on, redirects included."""
    urls = []
    page.on("request", lambda request: urls.append(request.url) if request.is_navigation_request() else None)
    return urls


def _asks_for_sign_in(page):
    page.goto("/dashboard/")
    expect(page.get_by_role("heading", name="Log in to MentorMatch")).to_be_visible()
    return True


def test_signing_out_of_a_saml_sign_in_ends_the_idps_session_too(page, live_server, saml, rostered):
    """SP-initiated single logout: our session ends, the browser takes a LogoutRequest for this
    sign-in's NameID and SessionIndex to the IdP, which ends its session and answers our SLS
    with a signed LogoutResponse; the SLS lands on the sign-in page."""
    name_id, session_index = _sign_in_through_saml(page, saml, rostered)
    navigations = _navigations(page)

    page.get_by_role("button", name="Log out").click()

    expect(page.get_by_role("heading", name="Log in to MentorMatch")).to_be_visible()
    assert page.url == f"{live_server.url}/accounts/login/"
    assert any(url.startswith(f"{saml.slo_url}?SAMLRequest=") for url in navigations), navigations
    sls = f"{live_server.url}/accounts/saml/{SAML_ORG}/sls/?SAMLResponse="
    assert any(url.startswith(sls) and "&Signature=" in url for url in navigations), navigations
    assert saml.last_logout_request["name_id"] == name_id
    assert saml.last_logout_request["session_indexes"] == [session_index]
    assert saml.sessions(name_id) == set()  # signed out at the IdP too
    assert _asks_for_sign_in(page)


def test_without_a_single_logout_service_signing_out_ends_only_our_session(page, live_server, saml, rostered):
    """The control: an IdP configured without one (no metadata, no ``slo_url``) keeps its session."""
    app = SocialApp.objects.get(client_id=SAML_ORG)
    app.settings["idp"] = {"entity_id": saml.entity_id, "sso_url": saml.sso_redirect_url, "x509cert": saml.x509cert}
    app.save()
    name_id, session_index = _sign_in_through_saml(page, saml, rostered)
    navigations = _navigations(page)

    page.get_by_role("button", name="Log out").click()

    expect(page.get_by_role("heading", name="Log in to MentorMatch")).to_be_visible()
    assert not any(url.startswith(saml.base_url) for url in navigations), navigations
    assert session_index in saml.sessions(name_id)
    assert _asks_for_sign_in(page)


def test_the_idps_single_logout_ends_our_session(page, live_server, saml, rostered):
    """IdP-initiated single logout: the browser brings the IdP's signed LogoutRequest to our SLS,
    which ends our session and sends the browser back to the IdP with a LogoutResponse. Like
    every sign-out, it revokes the person's API tokens."""
    name_id, session_index = _sign_in_through_saml(page, saml, rostered)
    answered = len(saml.logout_responses)
    api_token_issue(user=rostered, name="laptop script")

    page.goto(saml.logout_request_url(name_id, session_index))

    expect(page.get_by_role("heading", name="Signed out at the test IdP")).to_be_visible()
    (response,) = saml.logout_responses[answered:]
    assert response["expected"]  # it answers the IdP's request
    assert response["status"] == "urn:oasis:names:tc:SAML:2.0:status:Success"
    assert response["issuer"] == f"{live_server.url}/accounts/saml/{SAML_ORG}/metadata/"
    assert _asks_for_sign_in(page)
    assert not ApiToken.objects.filter(user=rostered).exists()


@pytest.mark.parametrize(
    ("want_message_signed", "signature", "ends_session"),
    [
        (True, "none", False),
        (True, "wrong_key", False),
        (True, "valid", True),  # the control: the IdP's own signature is obeyed
        # allauth's default: a signature that is there is checked, a missing one is not asked for,
        # so anyone's link could sign a person out. Hence want_message_signed (docs/sign-in.md).
        (False, "wrong_key", False),
        (False, "none", True),
    ],
    ids=[
        "signed-required-none",
        "signed-required-wrong-key",
        "signed-required-valid",
        "default-wrong-key",
        "default-none",
    ],
)
def test_a_forged_idp_logout_request_does_not_end_the_session(
    page,
    saml_idp,  # noqa: F811
    live_server,
    lakeside,
    other_origins,
    rostered,
    want_message_signed,
    signature,
    ends_session,
):
    advanced = {"want_assertion_signed": True, "reject_idp_initiated_sso": True}
    if want_message_signed:
        advanced["want_message_signed"] = True  # which needs the whole response signed, too
    idp = _saml_provider(saml_idp, live_server, lakeside, other_origins, advanced=advanced, sign_response=True)
    name_id, session_index = _sign_in_through_saml(page, idp, rostered)

    answer = page.goto(idp.logout_request_url(name_id, session_index, signature=signature))

    if ends_session:
        expect(page.get_by_role("heading", name="Signed out at the test IdP")).to_be_visible()
        assert _asks_for_sign_in(page)
    else:
        assert answer.status == 400
        assert "Rejected" in answer.text() or "rejected" in answer.text()
        page.goto("/dashboard/")
        assert page.url.endswith("/dashboard/")
        expect(page.get_by_text("Ana Lopez").first).to_be_visible()
