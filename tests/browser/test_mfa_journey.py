"""A second factor in Chromium: a coordinator who must have one sets up an authenticator app
and signs in with its codes and with a recovery code; a resident adds a security key (Chromium's
virtual authenticator) and signs in with it. Every allauth page on the way is photographed at
desktop and phone widths and checked with axe.

Codes come from pyotp, reading the secret the page shows, as a phone's app would: nothing here
borrows allauth's own code arithmetic.
"""

import re
import time

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse
from playwright.sync_api import expect

from tests.factories import PASSWORD

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REQUIRED = "/accounts/2fa/required/"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _shots(page, shot, name):
    """The page as it is, at desktop width and on a phone; axe checks both."""
    text = page.inner_text("body")
    assert "{#" not in text and "{%" not in text, f"template source shows on {name}"
    shot(name)
    page.set_viewport_size(PHONE)
    shot(f"{name}-phone")
    page.set_viewport_size(DESKTOP)


def _path(page):
    return re.sub(r"^https?://[^/]+", "", page.url)


def _log_out(page):
    page.get_by_role("button", name="Log out", exact=True).click()
    expect(page.get_by_role("heading", name="Log in to MentorMatch")).to_be_visible()


def _fresh_code(totp, used):
    """A code the app shows now or in the next 30-second step (MFA_TOTP_TOLERANCE accepts
    both, for a phone's clock a little ahead) that has not been used: allauth refuses a code
    twice. No waiting for the clock."""
    now = time.time()
    code = next(c for c in (totp.at(now), totp.at(now + 30)) if c not in used)
    used.add(code)
    return code


@pytest.fixture
def strict(program):
    program.institution.require_mfa_for_coordinators = True
    program.institution.save()
    return program.institution


def test_coordinator_sets_up_an_authenticator_app_and_signs_in_with_it(page, shot, strict, program, coordinator):
    roster = reverse("accounts:roster", args=[program.slug])

    log_in(page, coordinator.email, PASSWORD)
    expect(page).to_have_url(re.compile(re.escape(REQUIRED) + "$"))
    expect(page.get_by_role("heading", name="Set up two-factor authentication")).to_be_visible()
    _shots(page, shot, "setup-required")

    # Nothing else opens until a second factor is set up.
    for url in ["/dashboard/", roster, "/profile/", "/admin/"]:
        page.goto(url)
        assert _path(page) == REQUIRED, url

    page.get_by_role("link", name="Use an authenticator app").click()
    expect(page.get_by_role("heading", name="Set up an authenticator app")).to_be_visible()
    # The account menu's other pages are closed until then: the way back is to the choices.
    expect(page.get_by_role("navigation", name="Sign-in and security")).to_have_count(0)
    expect(page.get_by_role("link", name="Back to the set-up choices")).to_be_visible()
    _shots(page, shot, "totp-activate")
    secret = page.get_by_label("Authenticator secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    totp, used = pyotp.TOTP(secret), set()

    # A wrong code first: refused, and the page says so.
    wrong = next(c for c in ("000000", "111111") if not totp.verify(c, valid_window=2))
    page.get_by_label("Authenticator code").fill(wrong)
    page.get_by_role("button", name="Activate").click()
    expect(
        page.get_by_text("That code is wrong or has already been used. Codes change every 30 seconds.", exact=True)
    ).to_be_visible()
    assert not Authenticator.objects.filter(user=coordinator, type=Authenticator.Type.TOTP).exists()

    page.get_by_label("Authenticator code").fill(_fresh_code(totp, used))
    page.get_by_role("button", name="Activate").click()

    # Recovery codes follow at once: read them off the page, as a person would copy them.
    expect(page.get_by_role("heading", name="Recovery codes")).to_be_visible()
    assert Authenticator.objects.filter(user=coordinator, type=Authenticator.Type.TOTP).exists()
    codes = page.get_by_role("list", name="Your recovery codes").get_by_role("listitem").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[0-9a-f]{8}", c) for c in codes), codes
    _shots(page, shot, "recovery-codes")

    page.get_by_role("link", name="I have saved them: continue").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    page.goto(roster)
    assert _path(page) == roster
    expect(page.get_by_role("heading", name="Roster", exact=True)).to_be_visible()

    # The security pages, now that there is something on them.
    page.goto(reverse("mfa_index"))
    expect(page.get_by_role("heading", name="Two-factor authentication", exact=True)).to_be_visible()
    expect(page.get_by_text("10 of 10 recovery codes left")).to_be_visible()
    _shots(page, shot, "mfa-overview")
    page.goto(reverse("usersessions_list"))
    expect(page.get_by_role("heading", name="Sessions", exact=True)).to_be_visible()
    _shots(page, shot, "sessions")
    page.goto(reverse("accounts:api-tokens"))
    expect(page.get_by_role("heading", name="API tokens", exact=True)).to_be_visible()
    _shots(page, shot, "api-tokens")

    # Next time: the password, then a code from the app.
    _log_out(page)
    log_in(page, coordinator.email, PASSWORD)
    expect(page).to_have_url(re.compile(re.escape(reverse("mfa_authenticate")) + "$"))
    _shots(page, shot, "second-factor")
    # No security key to offer someone who has none.
    expect(page.get_by_role("button", name="Use a security key")).to_have_count(0)
    # Half signed in is not signed in: the dashboard sends them back to this step.
    page.goto("/dashboard/")
    expect(page).to_have_url(re.compile(re.escape(reverse("mfa_authenticate")) + "$"))
    page.get_by_label("Code").fill(_fresh_code(totp, used))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    page.goto(roster)
    assert _path(page) == roster

    # A recovery code signs in once ...
    _log_out(page)
    log_in(page, coordinator.email, PASSWORD)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))

    # ... and never again; the next one still works.
    _log_out(page)
    log_in(page, coordinator.email, PASSWORD)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Sign in").click()
    expect(
        page.get_by_text("That code is wrong or has already been used. Codes change every 30 seconds.", exact=True)
    ).to_be_visible()
    expect(page).to_have_url(re.compile(re.escape(reverse("mfa_authenticate")) + "$"))
    shot("second-factor-refused")
    page.get_by_label("Code").fill(codes[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))


@pytest.fixture
def authenticator(page):
    """Chromium's virtual security key: a CTAP2 key that verifies the user (a PIN or a
    fingerprint) and answers touches by itself."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    authenticator_id = added["authenticatorId"]

    def credentials():
        return cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]

    return credentials


def test_resident_adds_a_security_key_and_signs_in_with_it(page, shot, browser, live_server, resident, authenticator):
    # A security key is bound to a host name, and an IP address cannot be one; the live server
    # must therefore answer as localhost (also a secure context over http).
    assert live_server.url.startswith("http://localhost:"), live_server.url

    # Signed in on another computer too, which the session list shows and can end.
    elsewhere = browser.new_context(base_url=live_server.url).new_page()
    log_in(elsewhere, resident.email, PASSWORD)
    expect(elsewhere).to_have_url(re.compile(r"/dashboard/$"))

    log_in(page, resident.email, PASSWORD)
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    page.goto(reverse("usersessions_list"))
    sessions = page.get_by_role("list", name="Your sessions").get_by_role("listitem")
    expect(sessions).to_have_count(2)
    expect(sessions.nth(1).get_by_text("This device")).to_be_visible()
    _shots(page, shot, "sessions-two")
    page.get_by_role("button", name="Log out of the other sessions").click()
    expect(page.get_by_text("You are logged out of your other sessions.")).to_be_visible()
    expect(sessions).to_have_count(1)
    elsewhere.goto("/dashboard/")
    expect(elsewhere.get_by_role("heading", name="Log in to MentorMatch")).to_be_visible()
    elsewhere.context.close()

    page.goto(reverse("mfa_index"))
    _shots(page, shot, "mfa-overview-empty")
    page.get_by_role("link", name="Add a security key").click()
    expect(page.get_by_role("heading", name="Add a security key")).to_be_visible()
    _shots(page, shot, "webauthn-add")
    page.get_by_label("Name").fill("Blue YubiKey")
    page.get_by_role("button", name="Add security key").click()

    # The first factor brings recovery codes with it.
    expect(page.get_by_role("heading", name="Recovery codes")).to_be_visible()
    assert len(authenticator()) == 1
    key = Authenticator.objects.get(user=resident, type=Authenticator.Type.WEBAUTHN)
    assert key.wrap().name == "Blue YubiKey"

    page.goto(reverse("mfa_list_webauthn"))
    expect(page.get_by_role("list", name="Your security keys").get_by_text("Blue YubiKey")).to_be_visible()
    _shots(page, shot, "webauthn-list")

    _log_out(page)
    log_in(page, resident.email, PASSWORD)
    expect(page).to_have_url(re.compile(re.escape(reverse("mfa_authenticate")) + "$"))
    _shots(page, shot, "second-factor-with-key")
    page.get_by_role("button", name="Use a security key").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_text("Alice Adams").first).to_be_visible()
    key.refresh_from_db()
    assert key.last_used_at is not None
