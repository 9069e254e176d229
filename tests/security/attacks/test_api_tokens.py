"""Issue 11, finding 4: API tokens lived forever.

They survived a password change, a password reset and signing out, never expired, sat
in the database in plain text, and the response that carried one could be cached.
Each test takes a token the way a client does (POST /api/v1/auth/token/), shows it
working, does what should end it, and expects 401 from then on.
"""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, User
from accounts.services import invitation_url
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
NEW_PASSWORD = "a-fresh-and-private-phrase-41"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    # Throttle counters live in the cache, which outlives each test's database.
    cache.clear()
    yield
    cache.clear()


def _sign_in(user) -> str:
    response = APIClient().post(TOKEN, {"email": user.email, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


def _me(key):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api.get("/api/v1/me/")


def _works(key) -> bool:
    return _me(key).status_code == 200


def _refused(key) -> bool:
    response = _me(key)
    return response.status_code == 401 and response.headers["WWW-Authenticate"] == "Token"


def test_changing_the_password_on_the_page_ends_the_token(resident, client_for):
    key = _sign_in(resident)
    assert _works(key)

    response = client_for(resident).post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert _refused(key)


def test_setting_the_password_in_code_ends_the_token(resident):
    # What ``manage.py changepassword`` and every form do: set_password, then save.
    key = _sign_in(resident)
    assert _works(key)

    resident.set_password(NEW_PASSWORD)
    resident.save()

    assert _refused(key)
    assert not ApiToken.objects.filter(user=resident).exists()


def test_a_password_written_without_any_hook_still_ends_the_token(resident):
    # A bulk UPDATE skips save() and its password_changed hook: the token's fingerprint
    # of the old password no longer matches, so it is refused all the same.
    key = _sign_in(resident)
    assert _works(key)

    User.objects.filter(pk=resident.pk).update(password=make_password(NEW_PASSWORD))

    assert _refused(key)


def test_resetting_the_password_through_the_emailed_link_ends_the_token(resident):
    key = _sign_in(resident)
    assert _works(key)
    browser = Client()

    browser.post(reverse("accounts:password_reset"), {"email": resident.email})
    (message,) = mail.outbox
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", message.body).group(1)
    form = browser.get(link, follow=True)  # the token moves out of the URL into the session
    assert form.context["validlink"]
    response = browser.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert response.status_code == 302
    assert _refused(key)


def test_accepting_an_invitation_link_ends_the_token(resident):
    key = _sign_in(resident)
    assert _works(key)
    browser = Client()

    form = browser.get(invitation_url(resident).removeprefix("http://127.0.0.1:8000"), follow=True)
    assert form.context["validlink"]
    response = browser.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert response.status_code == 302
    assert _refused(key)


def test_an_admin_setting_the_password_ends_the_token(resident, client):
    key = _sign_in(resident)
    assert _works(key)
    root = User.objects.create_superuser("root@hospital.example", "a-long-admin-pass", first_name="R", last_name="Oot")
    client.force_login(root, backend="django.contrib.auth.backends.ModelBackend")

    response = client.post(
        reverse("admin:auth_user_password_change", args=[resident.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert _refused(key)


def test_signing_out_of_the_site_ends_every_token(resident, client_for):
    phone, laptop = _sign_in(resident), _sign_in(resident)
    assert _works(phone) and _works(laptop)

    response = client_for(resident).post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert _refused(phone) and _refused(laptop)


def test_signing_out_of_the_api_ends_the_token(resident):
    key = _sign_in(resident)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    assert api.delete(TOKEN).status_code == 204

    assert _refused(key)
    assert api.delete(TOKEN).status_code == 401


def test_signing_out_of_the_api_cannot_end_someone_elses_token(resident, other_resident):
    alices, bobs = _sign_in(resident), _sign_in(other_resident)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {bobs}")

    assert api.delete(TOKEN).status_code == 204

    assert _works(alices)


def test_the_token_expires(resident, settings):
    key = _sign_in(resident)
    token = ApiToken.objects.get(user=resident)
    now = timezone.now()
    lifetime = timedelta(seconds=settings.API_TOKEN_TTL)
    assert token.expires_at - token.created_at == lifetime

    def issued(ago):
        ApiToken.objects.filter(pk=token.pk).update(created_at=now - ago, expires_at=now - ago + lifetime)

    # Control: a minute before the end of its lifetime it still works.
    issued(lifetime - timedelta(minutes=1))
    assert _works(key)
    issued(lifetime + timedelta(minutes=1))

    assert _refused(key)


def test_a_deactivated_users_token_is_refused(resident):
    key = _sign_in(resident)
    assert _works(key)

    User.objects.filter(pk=resident.pk).update(is_active=False)

    assert _refused(key)


def test_the_token_response_is_never_cached(resident):
    response = APIClient().post(TOKEN, {"email": resident.email, "password": PASSWORD}, format="json")

    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    assert response.headers["Pragma"] == "no-cache"
    assert "expires_at" in response.json()


def test_the_database_holds_no_plain_secret(resident):
    key = _sign_in(resident)
    assert _works(key)  # and it was used, so last_used_at and any log row are written too

    tables = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            tables[table] = repr(cursor.fetchall())

    assert not [table for table, rows in tables.items() if key in rows]
    # Control: the scan does see the token's row, by its hash and its short prefix.
    token_table = ApiToken._meta.db_table
    assert ApiToken.hash_secret(key) in tables[token_table]
    assert key[: ApiToken.PREFIX_LENGTH] in tables[token_table]
