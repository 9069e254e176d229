"""Issue 11, finding 11: throttles keyed on the real client, and a rate limit on password resets.

- The token endpoint's throttle counted per X-Forwarded-For, which the client writes:
  rotating it gave every request a fresh allowance. The client's address is now
  ``core.http.client_ip``: REMOTE_ADDR, or with TRUSTED_PROXY_COUNT=N the address the
  outermost of our N proxies appended.
- Password reset had no limit: 5 posts sent 5 e-mails. It is now limited per canonical
  e-mail (silently: the page looks the same) and per client (a 429 page).
"""

import uuid

import pytest
from django.core import mail
from django.test import Client, RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.throttles import (
    PasswordResetClientThrottle,
    PasswordResetEmailThrottle,
    TokenClientThrottle,
    TokenEmailThrottle,
)
from core.http import client_ip
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def _own_counters(settings):
    # Throttle counters live in the cache, which outlives each test's database (and, with
    # Redis, the run): each test counts in a cache of its own.
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"t-{uuid.uuid4()}"},
    }


def _token(api, n, forwarded):
    # A different, unknown e-mail each time: what answers is the client throttle, not
    # the per-e-mail one nor django-axes.
    return api.post(TOKEN, {"email": f"nobody{n}@x.example", "password": "x"}, HTTP_X_FORWARDED_FOR=forwarded)


# --- The token endpoint.


def test_rotating_x_forwarded_for_does_not_escape_the_token_throttle(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    api = APIClient()
    limit = TokenClientThrottle().num_requests

    for n in range(limit):
        assert _token(api, n, f"203.0.113.{n}").status_code == 400

    response = _token(api, limit, "203.0.113.250")

    assert response.status_code == 429
    assert "Retry-After" in response.headers


def test_behind_one_proxy_the_address_it_appended_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    api = APIClient()
    limit = TokenClientThrottle().num_requests

    # Many clients behind the proxy (one REMOTE_ADDR): each has its own allowance.
    for n in range(limit + 1):
        assert _token(api, n, f"198.51.100.{n}").status_code == 400
    # One client writing its own X-Forwarded-For: the proxy appended its real address last.
    for n in range(limit):
        assert _token(api, 100 + n, f"10.0.0.{n}, 203.0.113.9").status_code == 400
    assert _token(api, 999, "10.0.0.99, 203.0.113.9").status_code == 429


def test_many_addresses_asking_for_one_accounts_token_are_throttled_together(settings, resident):
    settings.TRUSTED_PROXY_COUNT = 1
    api = APIClient()
    limit = TokenEmailThrottle().num_requests
    spellings = [resident.email, resident.email.upper(), resident.email.replace("s", "ſ")]

    for n in range(limit):
        # The right password, each time from another client: only the per-e-mail limit applies.
        response = api.post(
            TOKEN, {"email": spellings[n % 3], "password": PASSWORD}, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}"
        )
        assert response.status_code == 200

    response = api.post(TOKEN, {"email": resident.email, "password": PASSWORD}, HTTP_X_FORWARDED_FOR="198.51.100.250")

    assert response.status_code == 429


# --- The sign-in lockout follows the same client address.


def _log_in(client, email, password, forwarded):
    return client.post(
        reverse("accounts:login"), {"login": email, "password": password}, HTTP_X_FORWARDED_FOR=forwarded
    )


def test_rotating_x_forwarded_for_does_not_escape_the_lockout(settings, resident):
    settings.TRUSTED_PROXY_COUNT = 0
    client = Client()
    for n in range(settings.AXES_FAILURE_LIMIT):
        _log_in(client, resident.email, "wrong password", f"203.0.113.{n}")

    assert _log_in(client, resident.email, PASSWORD, "203.0.113.250").status_code == 429


def test_behind_one_proxy_a_lockout_holds_the_client_that_failed_not_everyone(settings, resident):
    settings.TRUSTED_PROXY_COUNT = 1
    attacker = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _log_in(attacker, resident.email, "wrong password", "198.51.100.66")

    assert _log_in(attacker, resident.email, PASSWORD, "198.51.100.66").status_code == 429
    # The resident, elsewhere, behind the same proxy (the same REMOTE_ADDR).
    assert _log_in(Client(), resident.email, PASSWORD, "198.51.100.7").status_code == 302


# --- Password reset.


def _reset(client, email, **extra):
    return client.post(reverse("accounts:password_reset"), {"email": email}, **extra)


def test_the_sixth_reset_for_one_address_sends_no_sixth_email_however_it_is_spelled():
    UserFactory(email="lisa.sims@hospital.example")
    limit = PasswordResetEmailThrottle().num_requests
    assert limit < 6
    spellings = ["lisa.sims@hospital.example", "LISA.SIMS@hospital.example", "lisa.ſims@hospital.example"]
    client = Client()

    # Each spelling twice: counted by spelling, none would reach a limit of 2 or more.
    responses = [_reset(client, spellings[n % 3]) for n in range(6)]

    assert len(mail.outbox) == limit
    assert {tuple(message.to) for message in mail.outbox} == {("lisa.sims@hospital.example",)}
    # Nothing tells the caller that the limit was hit, nor that the address has an account.
    done = reverse("accounts:password_reset_done")
    unknown = _reset(client, "nobody@hospital.example")
    assert {(r.status_code, r["Location"]) for r in [*responses, unknown]} == {(302, done)}


def test_a_client_asking_for_many_addresses_gets_a_429_page(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    client = Client()
    limit = PasswordResetClientThrottle().num_requests

    for n in range(limit):
        assert _reset(client, f"nobody{n}@x.example", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code == 302
    response = _reset(client, "nobody-else@x.example", HTTP_X_FORWARDED_FOR="203.0.113.250")

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many reset requests" in response.content.decode()
    # Reading the page is not counted.
    assert client.get(reverse("accounts:password_reset")).status_code == 200


# --- The helper.


@pytest.mark.parametrize(
    "proxies, forwarded, expected",
    [
        (0, "203.0.113.9", "192.0.2.1"),  # no proxy: the header is the client's own words
        (1, "10.0.0.1, 203.0.113.9", "203.0.113.9"),  # the entry the proxy appended
        (2, "10.0.0.1, 203.0.113.9, 198.51.100.2", "203.0.113.9"),
        (2, "203.0.113.9", "203.0.113.9"),  # entered behind the outer proxy
        (1, "", "192.0.2.1"),
        (1, "not-an-address", "192.0.2.1"),
    ],
)
def test_client_ip(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected
