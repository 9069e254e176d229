import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from accounts.services import invitation_url
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def _axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3


def _login(client, email, password):
    return client.post(LOGIN, {"login": email, "password": password})


def test_resident_logs_in_with_email_in_any_case(client, resident):
    response = _login(client, "ALICE@hospital.example", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("matching:dashboard")


def test_wrong_password_shows_a_clear_error_tied_to_the_form(client, resident):
    response = _login(client, "alice@hospital.example", "not-the-password")
    assert response.status_code == 200
    assert "That e-mail and password don&#x27;t match an account" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_repeated_failures_lock_out_even_the_right_password(client, resident):
    for _ in range(3):
        _login(client, "alice@hospital.example", "wrong-password")
    response = _login(client, "alice@hospital.example", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed log-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_lockout_does_not_touch_another_account(client, resident, attending):
    for _ in range(3):
        _login(client, "alice@hospital.example", "wrong-password")
    assert _login(client, "carol@hospital.example", PASSWORD).status_code == 302


def test_the_admin_signs_in_through_the_site_sign_in_and_its_lockout(client, settings):
    settings.MFA_REQUIRED_FOR_SUPERUSERS = False
    User.objects.create_superuser("root@hospital.example", PASSWORD, first_name="R", last_name="Oot")
    door = client.get("/admin/login/?next=/admin/")
    assert door.status_code == 302 and door["Location"] == f"{LOGIN}?next=/admin/"
    for _ in range(3):
        client.post(LOGIN, {"login": "root@hospital.example", "password": "wrong"})
    assert client.post(LOGIN, {"login": "root@hospital.example", "password": PASSWORD}).status_code == 429
    assert client.get("/admin/").status_code == 302


def test_logout_requires_post_and_ends_the_session(client_for, resident):
    client = client_for(resident)
    # A link or a prefetch cannot sign anyone out: GET only asks.
    asked = client.get("/accounts/logout/")
    assert asked.status_code == 200 and b'method="post"' in asked.content
    assert client.get("/dashboard/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/dashboard/").status_code == 302


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN + "?next=/dashboard/")


def test_there_is_no_open_sign_up(client):
    assert client.get("/accounts/signup/").status_code == 404
    assert client.get("/accounts/register/").status_code == 404


def test_password_change_enforces_the_validators(client_for, resident):
    client = client_for(resident)
    url = reverse("accounts:password_change")
    weak = client.post(url, {"old_password": PASSWORD, "new_password1": "password123", "new_password2": "password123"})
    assert weak.status_code == 400  # a refused form (core.forms.form_status)
    assert "This password is too short" in weak.content.decode()
    ok = client.post(
        url,
        {"old_password": PASSWORD, "new_password1": "lantern-orchid-basin", "new_password2": "lantern-orchid-basin"},
    )
    assert ok.status_code == 302
    resident.refresh_from_db()
    assert resident.check_password("lantern-orchid-basin")


def test_password_reset_by_email_round_trip(client, resident):
    client.post(reverse("accounts:password_reset"), {"email": "alice@hospital.example"})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    set_url = form_page.redirect_chain[-1][0]
    client.post(set_url, {"new_password1": "quiet-harbor-lamp-7", "new_password2": "quiet-harbor-lamp-7"})
    resident.refresh_from_db()
    assert resident.check_password("quiet-harbor-lamp-7")


def test_a_new_password_from_the_reset_link_lifts_the_lockout(client, resident):
    for _ in range(3):
        _login(client, "alice@hospital.example", "wrong-password")
    assert _login(client, "alice@hospital.example", PASSWORD).status_code == 429

    client.post(reverse("accounts:password_reset"), {"email": "Alice@hospital.example"})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form_url = client.get(link, follow=True).redirect_chain[-1][0]
    client.post(form_url, {"new_password1": "a-fresh-long-password-7", "new_password2": "a-fresh-long-password-7"})

    assert _login(client, "ALICE@hospital.example", "a-fresh-long-password-7").status_code == 302


def test_password_reset_for_unknown_email_sends_nothing_and_reveals_nothing(client):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@hospital.example"})
    assert response.status_code == 302
    assert mail.outbox == []


class TestInvitationLink:
    def _invitee(self):
        return User.objects.create_user("invitee@hospital.example", first_name="Ivy", last_name="Vee")

    def test_invitation_link_sets_a_first_password_and_logs_in(self, client, settings):
        user = self._invitee()
        path = invitation_url(user).removeprefix(settings.SITE_URL)
        page = client.get(path, follow=True)
        assert "Welcome to MentorMatch" in page.content.decode()
        response = client.post(
            page.redirect_chain[-1][0], {"new_password1": "maple-river-stone-9", "new_password2": "maple-river-stone-9"}
        )
        assert response.status_code == 302 and response["Location"] == reverse("matching:dashboard")
        assert int(client.session["_auth_user_id"]) == user.pk
        user.refresh_from_db()
        assert user.check_password("maple-river-stone-9")

    def test_invitation_link_works_only_once(self, client, settings):
        user = self._invitee()
        path = invitation_url(user).removeprefix(settings.SITE_URL)
        page = client.get(path, follow=True)
        client.post(
            page.redirect_chain[-1][0], {"new_password1": "maple-river-stone-9", "new_password2": "maple-river-stone-9"}
        )
        client.logout()
        again = client.get(path, follow=True)
        assert "This invitation link no longer works" in again.content.decode()

    def test_tampered_invitation_link_is_refused(self, client, settings):
        user = self._invitee()
        path = invitation_url(user).removeprefix(settings.SITE_URL)
        bad = path.rstrip("/")[:-3] + "zzz/"
        assert "This invitation link no longer works" in client.get(bad, follow=True).content.decode()


def test_changing_the_case_of_the_email_does_not_dodge_the_lockout(client, resident):
    for email in ("alice@hospital.example", "ALICE@hospital.example", "Alice@Hospital.Example"):
        _login(client, email, "wrong-password")
    assert _login(client, "alice@hospital.example", PASSWORD).status_code == 429


def test_api_token_lockout_answers_json(client, resident):
    for _ in range(3):
        client.post(
            "/api/v1/auth/token/",
            {"email": "alice@hospital.example", "password": "wrong"},
            content_type="application/json",
        )
    response = client.post(
        "/api/v1/auth/token/",
        {"email": "alice@hospital.example", "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 429
    assert response.json()["detail"].startswith("Too many failed log-ins")
