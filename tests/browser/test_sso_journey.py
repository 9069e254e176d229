"""Signing in through a hospital's identity provider, in Chromium, against real providers:
oidc-provider (OpenID Connect) and a pysaml2 IdP with signed assertions (tests/idp/).

Only people on a roster of the institution's programs get in; a stranger gets a page, not an
account; the provider's own second factor counts for a coordinator when it says so.
"""

import pytest
from allauth.socialaccount.models import SocialAccount, SocialApp
from playwright.sync_api import expect

from accounts.models import Membership, User
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
def oidc(oidc_idp, live_server, lakeside, other_origins):  # noqa: F811
    idp = oidc_idp(f"{live_server.url}/accounts/oidc/{PROVIDER_ID}/login/callback/")
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


def test_an_unverified_address_is_refused(page, oidc, rostered):
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


@pytest.fixture
def saml(saml_idp, live_server, lakeside, other_origins):  # noqa: F811
    acs = f"{live_server.url}/accounts/saml/{SAML_ORG}/acs/"
    entity = f"{live_server.url}/accounts/saml/{SAML_ORG}/metadata/"
    idp = saml_idp(sp_entity_id=entity, acs_url=acs)
    app = SocialApp.objects.create(
        provider="saml",
        provider_id=idp.entity_id,
        name="Lakeside Health",
        client_id=SAML_ORG,
        settings={
            "idp": {"entity_id": idp.entity_id, "metadata_url": idp.metadata_url},
            "advanced": {"want_assertion_signed": True, "reject_idp_initiated_sso": True},
        },
    )
    lakeside.sso_app = app
    lakeside.save()
    other_origins.append(idp.entity_id.split("/metadata")[0])
    return idp


def test_a_rostered_resident_signs_in_through_saml(page, shot, saml, rostered):
    saml.set_users([{"email": rostered.email, "given_name": "Ana", "family_name": "Lopez"}])
    page.goto("/accounts/login/")
    page.get_by_role("button", name="Sign in with Lakeside Health").click()
    _sign_in_at_provider(page, rostered.email)
    page.wait_for_url("**/dashboard/")
    assert SocialAccount.objects.get(user=rostered).provider == saml.entity_id


@pytest.mark.parametrize("variant", ["unsigned", "tampered", "wrong_audience", "expired"])
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
