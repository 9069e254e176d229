"""A second factor: who must have one, enrolment, signing in with it, recovery codes.

Everything here goes through the real pages (allauth's views behind our adapters), with codes
computed from the secret the enrolment page issued, as an authenticator app would.
"""

import re
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from django.urls import reverse

from accounts.auth import policy
from accounts.models import Membership, User
from accounts.services import invitation_url
from tests.accounts.auth.webauthn import registration_credential
from tests.factories import PASSWORD, InstitutionFactory, MembershipFactory, ProgramFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
REQUIRED = "/accounts/2fa/required/"


def _code(secret: str, step: int = 0) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + step))


def _sign_in(client, email, password=PASSWORD):
    return client.post(LOGIN, {"login": email, "password": password})


def _enrol_totp(client) -> str:
    """Enrol an authenticator app as a person would: open the page, scan, type the code."""
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200, page.get("Location")
    secret = client.session[SECRET_SESSION_KEY]
    done = client.post(reverse("mfa_activate_totp"), {"code": _code(secret)})
    assert done.status_code == 302, done.content.decode()[:2000]
    return secret


@pytest.fixture
def strict(program):
    """The program's institution asks its coordinators for a second factor."""
    program.institution.require_mfa_for_coordinators = True
    program.institution.save()
    return program.institution


# --- Who must.


def test_coordinator_of_a_strict_institution_must(strict, coordinator, resident, attending):
    assert policy.mfa_required(coordinator)
    assert not policy.mfa_required(resident) and not policy.mfa_required(attending)


def test_coordinator_of_a_lenient_institution_need_not(coordinator, program):
    assert program.institution.require_mfa_for_coordinators is False
    assert not policy.mfa_required(coordinator)


def test_one_strict_program_is_enough(coordinator, strict):
    lenient = ProgramFactory(institution=InstitutionFactory(name="Lenient Clinic", require_mfa_for_coordinators=False))
    MembershipFactory(user=coordinator, program=lenient, role=Membership.Role.COORDINATOR)
    assert policy.mfa_required(coordinator)


def test_superusers_must_unless_switched_off(settings):
    root = User.objects.create_superuser("root@hospital.example", PASSWORD, first_name="R", last_name="Oot")
    settings.MFA_REQUIRED_FOR_SUPERUSERS = True
    assert policy.mfa_required(root)
    settings.MFA_REQUIRED_FOR_SUPERUSERS = False
    assert not policy.mfa_required(root)


# --- Enrolment is the only way on.


def test_coordinator_reaches_no_page_before_enrolling(client, strict, coordinator, program):
    assert _sign_in(client, coordinator.email).status_code == 302
    for url in ["/dashboard/", reverse("accounts:roster", args=[program.slug]), "/profile/", "/admin/"]:
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (302, REQUIRED), url
    api = client.get("/api/v1/me/")
    assert api.status_code == 403 and "two-factor" in api.json()["detail"]

    page = client.get(REQUIRED)
    assert page.status_code == 200
    assert reverse("mfa_activate_totp") in page.content.decode()
    assert reverse("mfa_add_webauthn") in page.content.decode()

    _enrol_totp(client)
    assert client.get("/dashboard/").status_code == 200
    assert client.get(reverse("accounts:roster", args=[program.slug])).status_code == 200
    # Nothing to set up any more: the set-up page sends them on.
    assert client.get(REQUIRED).status_code == 302


def test_resident_is_never_asked(client, strict, resident):
    _sign_in(client, resident.email)
    assert client.get("/dashboard/").status_code == 200
    assert client.get(REQUIRED)["Location"] == reverse("matching:dashboard")


def test_signing_out_works_before_enrolling(client, strict, coordinator):
    _sign_in(client, coordinator.email)
    assert client.post("/accounts/logout/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_the_secret_is_encrypted_at_rest(client, resident):
    _sign_in(client, resident.email)
    secret = _enrol_totp(client)
    stored = Authenticator.objects.get(user=resident, type=Authenticator.Type.TOTP).data["secret"]
    assert secret not in stored
    # And it still works: the stored value decrypts to the secret (signing in below proves it).
    client.post("/accounts/logout/")
    _sign_in(client, resident.email)
    assert client.post(reverse("mfa_authenticate"), {"code": _code(secret, 1)}).status_code == 302
    assert int(client.session["_auth_user_id"]) == resident.pk


# --- Signing in with it.


@pytest.fixture
def enrolled(client, resident):
    _sign_in(client, resident.email)
    secret = _enrol_totp(client)
    client.post("/accounts/logout/")
    return secret


def test_password_alone_no_longer_signs_in(client, resident, enrolled):
    response = _sign_in(client, resident.email)
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    assert client.get("/dashboard/").status_code == 302


def test_a_wrong_code_is_refused_and_the_right_one_signs_in(client, resident, enrolled):
    _sign_in(client, resident.email)
    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000" if _code(enrolled) != "000000" else "111111"})
    assert wrong.status_code == 200 and "_auth_user_id" not in client.session
    right = client.post(reverse("mfa_authenticate"), {"code": _code(enrolled)})
    assert right.status_code == 302 and right["Location"] == reverse("matching:dashboard")
    assert int(client.session["_auth_user_id"]) == resident.pk
    # The session names our one backend, as sessions from before allauth did.
    assert client.session["_auth_user_backend"] == "django.contrib.auth.backends.ModelBackend"


def test_a_code_cannot_be_used_twice(client, resident, enrolled):
    code = _code(enrolled)
    _sign_in(client, resident.email)
    assert client.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302
    client.post("/accounts/logout/")
    _sign_in(client, resident.email)
    again = client.post(reverse("mfa_authenticate"), {"code": code})
    assert again.status_code == 200 and "_auth_user_id" not in client.session


def test_recovery_codes_work_once_each(client, resident, enrolled):
    _sign_in(client, resident.email)
    client.post(reverse("mfa_authenticate"), {"code": _code(enrolled)})
    page = client.get(reverse("mfa_view_recovery_codes"))
    codes = re.findall(r"\b[0-9a-f]{8}\b", page.content.decode())
    assert len(set(codes)) >= 10, page.content.decode()[:3000]
    client.post("/accounts/logout/")

    _sign_in(client, resident.email)
    assert client.post(reverse("mfa_authenticate"), {"code": codes[0]}).status_code == 302
    client.post("/accounts/logout/")
    _sign_in(client, resident.email)
    assert client.post(reverse("mfa_authenticate"), {"code": codes[0]}).status_code == 200
    assert "_auth_user_id" not in client.session
    assert client.post(reverse("mfa_authenticate"), {"code": codes[1]}).status_code == 302


def test_required_person_cannot_remove_their_last_factor(client, strict, coordinator):
    _sign_in(client, coordinator.email)
    secret = _enrol_totp(client)
    response = client.post(reverse("mfa_deactivate_totp"), {"code": _code(secret, 1)})
    assert Authenticator.objects.filter(user=coordinator, type=Authenticator.Type.TOTP).exists()
    assert response.status_code in (200, 302)


def test_optional_person_can_remove_theirs(client, resident):
    _sign_in(client, resident.email)
    _enrol_totp(client)
    client.post(reverse("mfa_deactivate_totp"), {})
    assert not Authenticator.objects.filter(user=resident, type=Authenticator.Type.TOTP).exists()


def test_an_invitation_link_does_not_skip_the_second_factor(client, resident, enrolled, settings):
    """The link proves the mailbox, not the second factor: it sets the password, then the
    person signs in with both."""
    resident.refresh_from_db()  # the token covers the last sign-in, which enrolling did
    form = client.get(invitation_url(resident).removeprefix(settings.SITE_URL), follow=True)
    new_password = "a-new-long-password-9"
    response = client.post(form.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")
    assert "_auth_user_id" not in client.session
    resident.refresh_from_db()
    assert resident.check_password(new_password)


def test_sign_in_attempts_per_address_are_limited_across_accounts(client, resident, settings):
    """Password spraying: many accounts from one address meet allauth's per-address limit
    (LOGIN_RATE_LIMIT), which the suite otherwise switches off."""
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": False, "login": "3/m/ip"}
    for n in range(3):
        assert _sign_in(client, f"someone{n}@hospital.example", "wrong").status_code == 200
    assert _sign_in(client, resident.email).status_code == 429


def test_wrong_codes_are_limited_per_person(client, resident, enrolled):
    """Six guesses in a row: after five wrong codes even the right one is refused for a while
    (a six-digit code would otherwise fall to guessing)."""
    right = _code(enrolled)
    wrong = next(c for c in ("000000", "111111", "222222") if c not in {right, _code(enrolled, -1), _code(enrolled, 1)})
    _sign_in(client, resident.email)
    for _ in range(5):
        assert client.post(reverse("mfa_authenticate"), {"code": wrong}).status_code == 200
    refused = client.post(reverse("mfa_authenticate"), {"code": right})
    assert refused.status_code == 200 and "_auth_user_id" not in client.session
    assert "Too many" in refused.content.decode()


def test_a_rotated_key_keeps_authenticators_working_and_a_lost_one_is_a_wrong_code(client, resident, settings):
    settings.MFA_ENCRYPTION_KEY = "the-first-key"
    _sign_in(client, resident.email)
    secret = _enrol_totp(client)
    client.post("/accounts/logout/")

    settings.MFA_ENCRYPTION_KEY, settings.MFA_ENCRYPTION_KEYS_OLD = "the-second-key", ["the-first-key"]
    _sign_in(client, resident.email)
    assert client.post(reverse("mfa_authenticate"), {"code": _code(secret, -1)}).status_code == 302
    client.post("/accounts/logout/")

    settings.MFA_ENCRYPTION_KEYS_OLD = []  # the first key is gone: no server error, no way in
    _sign_in(client, resident.email)
    lost = client.post(reverse("mfa_authenticate"), {"code": _code(secret, 1)})
    assert lost.status_code == 200 and "_auth_user_id" not in client.session


def _freshly_signed_in(client, user):
    """As if ``user`` had just typed their password (allauth's re-authentication is satisfied)."""
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    session["account_authentication_methods_user"] = str(user.pk)
    session["account_authentication_methods"] = [{"method": "password", "at": time.time(), "reauthenticated": True}]
    session.save()


def _key(user):
    return Authenticator.objects.create(
        user=user, type=Authenticator.Type.WEBAUTHN, data={"name": "key", "credential": registration_credential()}
    )


def test_the_last_required_security_key_cannot_be_removed(client, strict, coordinator):
    key = _key(coordinator)
    _freshly_signed_in(client, coordinator)
    response = client.post(reverse("mfa_remove_webauthn", args=[key.pk]), follow=True)
    assert Authenticator.objects.filter(pk=key.pk).exists()
    assert "This is your only second factor" in response.content.decode()

    # With an authenticator app as well, the key may go.
    Authenticator.objects.create(user=coordinator, type=Authenticator.Type.TOTP, data={"secret": "x"})
    client.post(reverse("mfa_remove_webauthn", args=[key.pk]))
    assert not Authenticator.objects.filter(pk=key.pk).exists()


def test_an_optional_security_key_can_be_removed(client, resident):
    key = _key(resident)
    _freshly_signed_in(client, resident)
    client.post(reverse("mfa_remove_webauthn", args=[key.pk]))
    assert not Authenticator.objects.filter(pk=key.pk).exists()


def test_reloading_the_set_up_page_keeps_the_secret_already_scanned(client, resident):
    _sign_in(client, resident.email)
    client.get(reverse("mfa_activate_totp"))
    scanned = client.session[SECRET_SESSION_KEY]
    again = client.get(reverse("mfa_activate_totp"))
    assert client.session[SECRET_SESSION_KEY] == scanned and scanned in again.content.decode()
    assert client.post(reverse("mfa_activate_totp"), {"code": _code(scanned)}).status_code == 302
