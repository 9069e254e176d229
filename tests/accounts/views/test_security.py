"""The account page's API tokens and "sign out everywhere" (accounts/views/security.py).

The API's side of tokens and the second factor on the token endpoint are
tests/accounts/auth/test_tokens.py.
"""

import re
from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import api_token_issue
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

PAGE = reverse("accounts:api-tokens")
EVERYWHERE = reverse("accounts:sign-out-everywhere")
REVOKE_ALL = reverse("accounts:api-tokens-revoke-all")


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _revoke_url(token):
    return reverse("accounts:api-token-revoke", args=[token.pk])


def _works(key) -> bool:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api.get("/api/v1/me/").status_code == 200


def _secret_on(page) -> str:
    return re.search(r'id="new-token"[^>]*>([^<]+)</textarea>', page.content.decode()).group(1).strip()


# --- The list.


def test_the_page_lists_only_your_own_tokens(resident, other_resident, client_for):
    named, _ = api_token_issue(user=resident, name="Grant report script")
    unnamed, _ = api_token_issue(user=resident)
    theirs, _ = api_token_issue(user=other_resident, name="Secret scraper of Bob")

    page = client_for(resident).get(PAGE)

    assert page.status_code == 200
    html = page.content.decode()
    assert "Grant report script" in html
    assert "Unnamed" in html
    assert "Secret scraper of Bob" not in html
    assert _revoke_url(named) in html and _revoke_url(unnamed) in html
    assert _revoke_url(theirs) not in html and theirs.prefix not in html


def test_with_no_tokens_the_page_says_so(resident, client_for):
    html = client_for(resident).get(PAGE).content.decode()

    assert "You have no API tokens" in html
    assert REVOKE_ALL not in html
    # Control: the empty state goes once there is a token.
    api_token_issue(user=resident)
    assert "You have no API tokens" not in client_for(resident).get(PAGE).content.decode()


def test_times_are_in_the_users_time_zone(resident, client_for):
    resident.time_zone = "Asia/Tokyo"
    resident.save()
    api_token_issue(user=resident, name="Tokyo", now=datetime(2030, 1, 15, 23, 30, tzinfo=UTC))

    html = client_for(resident).get(PAGE).content.decode()

    # 23:30 UTC on the 15th is 8:30 the next morning in Tokyo.
    assert "16 Jan 2030" in html and "08:30 JST" in html


def test_the_page_is_for_signed_in_people(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


# --- Creating one.


def test_a_new_tokens_secret_is_shown_once_and_only_its_hash_is_kept(resident, client_for):
    browser = client_for(resident)

    made = browser.post(PAGE, {"name": "  Nightly export  "})

    assert made.status_code == 200
    assert "no-store" in made.headers["Cache-Control"]
    assert "it will not be shown again" in made.content.decode()
    secret = _secret_on(made)
    token = ApiToken.objects.get(user=resident)
    assert token.name == "Nightly export"
    assert token.key_hash == ApiToken.hash_secret(secret)
    assert secret not in {token.name, token.prefix, token.key_hash}
    assert _works(secret)
    # Not kept anywhere the next page could find it: not the session, not the next render.
    assert secret not in repr(dict(browser.session))
    again = browser.get(PAGE)
    assert secret not in again.content.decode()
    assert token.prefix in again.content.decode()


def test_a_name_too_long_is_a_field_error_and_makes_nothing(resident, client_for):
    limit = ApiToken._meta.get_field("name").max_length

    page = client_for(resident).post(PAGE, {"name": "x" * (limit + 1)})

    assert page.status_code == 400
    assert page.context["form"].errors["name"]
    assert 'id="new-token"' not in page.content.decode()
    assert not ApiToken.objects.filter(user=resident).exists()


def test_the_name_field_has_a_label(resident, client_for):
    html = client_for(resident).get(PAGE).content.decode()
    assert re.search(r'<label for="id_name"[^>]*>Name', html)
    assert 'id="id_name"' in html


# --- Revoking.


def test_revoking_your_token_ends_it_and_a_second_click_says_it_is_gone(resident, client_for):
    token, key = api_token_issue(user=resident, name="Old laptop")
    kept, kept_key = api_token_issue(user=resident, name="New laptop")
    browser = client_for(resident)

    first = browser.post(_revoke_url(token), follow=True)

    assert first.status_code == 200
    assert "is revoked" in first.content.decode()
    assert not _works(key)
    assert _works(kept_key)

    second = browser.post(_revoke_url(token), follow=True)

    assert second.status_code == 200
    assert "already revoked" in second.content.decode()
    assert ApiToken.objects.filter(pk=kept.pk).exists()


def test_someone_elses_token_is_not_found(resident, other_resident, client_for):
    theirs, key = api_token_issue(user=other_resident)

    response = client_for(resident).post(_revoke_url(theirs))

    assert response.status_code == 404
    assert _works(key)


def test_revoking_needs_a_post(resident, client_for):
    token, key = api_token_issue(user=resident)
    assert client_for(resident).get(_revoke_url(token)).status_code == 405
    assert _works(key)


def test_revoke_all_ends_only_your_tokens(resident, other_resident, client_for):
    keys = [api_token_issue(user=resident)[1] for _ in range(3)]
    _, theirs = api_token_issue(user=other_resident)

    page = client_for(resident).post(REVOKE_ALL, follow=True)

    assert "3 API tokens are revoked" in page.content.decode()
    assert not any(_works(key) for key in keys)
    assert _works(theirs)
    again = client_for(resident).post(REVOKE_ALL, follow=True)
    assert "no API tokens to revoke" in again.content.decode()


# --- Signing out everywhere.


def test_signing_out_everywhere_ends_the_other_browser_this_one_and_every_token(resident, other_resident, client_for):
    here, there = Client(), Client()
    for browser in (here, there):
        assert (
            browser.post(reverse("accounts:login"), {"login": resident.email, "password": PASSWORD}).status_code == 302
        )
        assert browser.get(PAGE).status_code == 200
    _, key = api_token_issue(user=resident)
    bob = client_for(other_resident)

    response = here.post(EVERYWHERE, follow=True)

    assert response.redirect_chain[-1][0] == reverse("accounts:login")
    assert "signed out everywhere" in response.content.decode()
    for browser in (here, there):
        gone = browser.get(PAGE)
        assert gone.status_code == 302 and gone["Location"].startswith(reverse("accounts:login"))
    assert not _works(key)
    # Control: someone else's session is theirs.
    assert bob.get(PAGE).status_code == 200


def test_signing_out_everywhere_needs_a_post_by_someone_signed_in(resident, client_for, client):
    browser = client_for(resident)
    assert browser.get(EVERYWHERE).status_code == 405
    assert browser.get(PAGE).status_code == 200  # still signed in

    anonymous = client.post(EVERYWHERE)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("accounts:login"))


# --- The way here.


def test_the_profile_links_to_sign_in_and_security(resident, client_for):
    html = client_for(resident).get(reverse("accounts:profile")).content.decode()
    assert reverse("mfa_index") in html
    assert reverse("accounts:password_change") in html


def test_a_second_submission_of_the_same_form_creates_nothing(client_for, resident):
    """A double tap, or reloading the page that showed the secret, resends the same form."""
    client = client_for(resident)
    page = client.get(reverse("accounts:api-tokens"))
    once = page.context["form"].initial["once"]
    first = client.post(reverse("accounts:api-tokens"), {"name": "laptop", "once": once})
    again = client.post(reverse("accounts:api-tokens"), {"name": "laptop", "once": once}, follow=True)
    assert first.status_code == 200 and first.context["secret"]
    assert ApiToken.objects.filter(user=resident).count() == 1
    assert "already created" in again.content.decode()
    # A fresh form makes a fresh token.
    fresh = client.get(reverse("accounts:api-tokens")).context["form"].initial["once"]
    client.post(reverse("accounts:api-tokens"), {"name": "phone", "once": fresh})
    assert ApiToken.objects.filter(user=resident).count() == 2
