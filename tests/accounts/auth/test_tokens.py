"""API tokens through the API: naming one, listing and revoking your own, the second factor
on the token endpoint, and the 401 challenge for a token that no longer works. The account
page's side is tests/accounts/views/test_security.py; how each way of ending a token (a new
password, a reset, signing out) ends it is tests/security/attacks/test_api_tokens.py.

Authenticator-app codes are computed from the enrolled secret with allauth's own helpers, as
an authenticator app would; recovery codes are read from allauth's own generator.
"""

import time
from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, User
from accounts.services import api_token_issue, sign_out_everywhere
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
TOKENS = "/api/v1/auth/tokens/"


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Throttle counters and allauth's "this app code was used" marks live in the cache, which
    # outlives each test's database.
    cache.clear()
    yield
    cache.clear()


def _sign_in(user, **extra):
    return APIClient().post(TOKEN, {"email": user.email, "password": PASSWORD, **extra}, format="json")


def _as(key):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def _enrol_app(user) -> str:
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def _app_code(secret: str, step: int = 0) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + step))


# --- A name.


def test_a_token_gets_the_name_it_is_asked_for(resident):
    response = _sign_in(resident, name="  Nightly export script  ")

    assert response.status_code == 200, response.content
    body = response.json()
    token = ApiToken.objects.get(user=resident)
    assert token.name == body["name"] == "Nightly export script"
    assert body["id"] == token.pk
    assert token.key_hash == ApiToken.hash_secret(body["token"])
    assert "no-store" in response.headers["Cache-Control"]


def test_a_name_longer_than_the_column_is_refused_not_cut(resident):
    limit = ApiToken._meta.get_field("name").max_length

    response = _sign_in(resident, name="x" * (limit + 1))

    assert response.status_code == 400
    assert "name" in response.json()
    assert not ApiToken.objects.filter(user=resident).exists()
    # The service refuses it too, for any caller that skips the serializer.
    with pytest.raises(ValidationError) as refused:
        api_token_issue(user=resident, name="x" * (limit + 1))
    assert "name" in refused.value.message_dict
    # Control: the limit itself is fine.
    assert api_token_issue(user=resident, name="x" * limit)[0].name == "x" * limit


# --- Listing and revoking your own.


def test_the_list_shows_only_your_live_tokens_and_never_a_secret(resident, other_resident):
    mine, key = api_token_issue(user=resident, name="Laptop")
    older, _ = api_token_issue(user=resident, name="Phone", now=timezone.now() - timedelta(days=1))
    expired, _ = api_token_issue(user=resident, name="Old", now=timezone.now() - timedelta(days=400))
    theirs, _ = api_token_issue(user=other_resident, name="Bob's script")

    response = _as(key).get(TOKENS)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2  # paginated like every list
    assert [row["id"] for row in body["results"]] == [mine.pk, older.pk]  # newest first
    assert set(body["results"][0]) == {"id", "name", "prefix", "created_at", "expires_at", "last_used_at"}
    assert body["results"][0]["prefix"] == key[: ApiToken.PREFIX_LENGTH]
    assert key not in response.content.decode()
    assert expired.pk not in {row["id"] for row in body["results"]}
    assert theirs.pk not in {row["id"] for row in body["results"]}


def test_revoking_your_own_token_by_id_ends_it(resident):
    _, caller = api_token_issue(user=resident, name="Caller")
    victim, victim_key = api_token_issue(user=resident, name="Lost phone")
    assert _as(victim_key).get("/api/v1/me/").status_code == 200

    response = _as(caller).delete(f"{TOKENS}{victim.pk}/")

    assert response.status_code == 204
    assert not ApiToken.objects.filter(pk=victim.pk).exists()
    assert _as(victim_key).get("/api/v1/me/").status_code == 401
    # The caller's own token is untouched, and a second revoke finds nothing.
    assert _as(caller).delete(f"{TOKENS}{victim.pk}/").status_code == 404


def test_someone_elses_token_is_not_found(resident, other_resident):
    _, caller = api_token_issue(user=resident)
    theirs, their_key = api_token_issue(user=other_resident)

    response = _as(caller).delete(f"{TOKENS}{theirs.pk}/")

    assert response.status_code == 404
    assert ApiToken.objects.filter(pk=theirs.pk).exists()
    assert _as(their_key).get("/api/v1/me/").status_code == 200


def test_a_signed_in_session_may_list_and_revoke_its_users_tokens(resident, client_for):
    token, key = api_token_issue(user=resident)
    browser = client_for(resident)

    assert browser.get(TOKENS).json()["count"] == 1
    assert browser.delete(f"{TOKENS}{token.pk}/").status_code == 204
    assert _as(key).get("/api/v1/me/").status_code == 401


# --- 401 and the challenge, for every way a token stops working.


def _expired(user):
    token, key = api_token_issue(user=user)
    now = timezone.now()
    ApiToken.objects.filter(pk=token.pk).update(created_at=now - timedelta(days=31), expires_at=now - timedelta(days=1))
    return key


def _revoked(user):
    token, key = api_token_issue(user=user)
    token.delete()
    return key


def _of_a_deactivated_user(user):
    _, key = api_token_issue(user=user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    return key


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(lambda user: None, id="missing"),
        pytest.param(lambda user: "Token not-a-token-at-all", id="unknown"),
        pytest.param(lambda user: f"Token {_expired(user)}", id="expired"),
        pytest.param(lambda user: f"Token {_revoked(user)}", id="revoked"),
        pytest.param(lambda user: f"Token {_of_a_deactivated_user(user)}", id="user-deactivated"),
    ],
)
def test_a_request_without_a_working_token_is_challenged(resident, header):
    api = APIClient()
    value = header(resident)
    if value:
        api.credentials(HTTP_AUTHORIZATION=value)

    for response in (api.get(TOKENS), api.get("/api/v1/me/")):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Token"


def test_control_a_working_token_is_not_challenged(resident):
    _, key = api_token_issue(user=resident)
    assert _as(key).get(TOKENS).status_code == 200


# --- The second factor on the token endpoint.


def test_someone_with_an_authenticator_app_must_send_its_code(resident):
    _enrol_app(resident)

    response = _sign_in(resident)

    assert response.status_code == 400
    assert "code" in response.json()
    assert "token" not in response.json()
    assert not ApiToken.objects.filter(user=resident).exists()


def test_a_wrong_code_gets_no_token(resident):
    secret = _enrol_app(resident)
    wrong = format_hotp_value((int(_app_code(secret)) + 1) % 1_000_000)

    response = _sign_in(resident, code=wrong)

    assert response.status_code == 400
    assert "code" in response.json()
    assert not ApiToken.objects.filter(user=resident).exists()


def test_a_current_code_gets_a_token_and_cannot_be_replayed(resident):
    secret = _enrol_app(resident)
    code = _app_code(secret)

    first = _sign_in(resident, code=code)
    assert first.status_code == 200, first.content
    assert _as(first.json()["token"]).get("/api/v1/me/").status_code == 200
    assert Authenticator.objects.get(user=resident, type=Authenticator.Type.TOTP).last_used_at is not None

    # Someone who saw the code over the shoulder, within the same 30 seconds.
    replay = _sign_in(resident, code=code)
    assert replay.status_code == 400
    assert "code" in replay.json()
    assert ApiToken.objects.filter(user=resident).count() == 1


def test_the_wrong_password_with_a_right_code_gets_nothing(resident):
    secret = _enrol_app(resident)

    response = APIClient().post(
        TOKEN, {"email": resident.email, "password": "not-it", "code": _app_code(secret)}, format="json"
    )

    assert response.status_code == 400
    assert not ApiToken.objects.filter(user=resident).exists()


def test_a_recovery_code_works_once(resident):
    _enrol_app(resident)
    codes = RecoveryCodes.activate(resident)
    code = codes.get_unused_codes()[0]

    first = _sign_in(resident, code=code)
    assert first.status_code == 200, first.content

    again = _sign_in(resident, code=code)
    assert again.status_code == 400
    assert "code" in again.json()
    assert ApiToken.objects.filter(user=resident).count() == 1
    assert code not in RecoveryCodes(Authenticator.objects.get(pk=codes.instance.pk)).get_unused_codes()


def test_a_security_key_alone_cannot_be_checked_here(resident):
    Authenticator.objects.create(user=resident, type=Authenticator.Type.WEBAUTHN, data={"name": "YubiKey"})
    # Recovery codes are a way back in, not a way around the key.
    code = RecoveryCodes.activate(resident).get_unused_codes()[0]

    for extra in ({}, {"code": code}):
        response = _sign_in(resident, **extra)
        assert response.status_code == 400
        assert "API tokens" in response.json()["code"][0]
    assert not ApiToken.objects.filter(user=resident).exists()


@pytest.fixture
def strict(program):
    program.institution.require_mfa_for_coordinators = True
    program.institution.save()
    return program.institution


def test_someone_who_must_use_a_second_factor_and_has_none_is_refused(strict, coordinator):
    response = _sign_in(coordinator)

    assert response.status_code == 403
    assert "Set up two-factor authentication on the site first" in response.json()["detail"]
    assert not ApiToken.objects.filter(user=coordinator).exists()


def test_once_they_have_one_its_code_gets_them_a_token(strict, coordinator):
    secret = _enrol_app(coordinator)

    assert _sign_in(coordinator).status_code == 400
    response = _sign_in(coordinator, code=_app_code(secret))

    assert response.status_code == 200, response.content


def test_someone_without_a_second_factor_who_need_not_have_one_sends_no_code(coordinator):
    # Control for the two above: the lenient institution's coordinator, no factor, no code.
    assert _sign_in(coordinator).status_code == 200


# --- Signing out everywhere (the service; the page is tests/accounts/views/test_security.py).


def test_signing_out_everywhere_ends_every_session_but_the_one_kept(resident, other_resident, client_for):
    kept, laptop, admin_tab = client_for(resident), Client(), client_for(resident)
    # A sign-in through allauth leaves a row in its session list; force_login leaves none.
    assert laptop.post("/accounts/login/", {"login": resident.email, "password": PASSWORD}).status_code == 302
    listed, unlisted = laptop.session.session_key, admin_tab.session.session_key
    assert UserSession.objects.filter(session_key=listed).exists()
    assert not UserSession.objects.filter(session_key=unlisted).exists()
    bobs = client_for(other_resident)
    _, key = api_token_issue(user=resident)

    result = sign_out_everywhere(user=resident, keep_session_key=kept.session.session_key)

    assert (result.sessions, result.tokens) == (2, 1)
    assert not Session.objects.filter(session_key__in=[listed, unlisted]).exists()
    assert not UserSession.objects.filter(user=resident).exists()
    assert _as(key).get("/api/v1/me/").status_code == 401
    for browser in (laptop, admin_tab):
        assert browser.get("/api/v1/me/").status_code == 401
    assert kept.get("/api/v1/me/").status_code == 200
    assert bobs.get("/api/v1/me/").status_code == 200


def test_deactivating_a_user_deletes_their_tokens_so_reactivation_brings_none_back(resident):
    api_token_issue(user=resident, name="script")
    resident.is_active = False
    resident.save()
    resident.is_active = True
    resident.save()
    assert not ApiToken.objects.filter(user=resident).exists()
