"""The two-factor pages as a person sees them: code fields a phone can fill, and no button
for a removal that would be refused."""

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from tests.accounts.auth.test_mfa import _enrol_totp, _freshly_signed_in, _key, _sign_in

pytestmark = pytest.mark.django_db

CODE_FIELD_ATTRS = ('inputmode="numeric"', 'autocomplete="one-time-code"', 'type="text"')


@pytest.fixture
def strict(program):
    program.institution.require_mfa_for_coordinators = True
    program.institution.save()
    return program.institution


def _code_input(html: str) -> str:
    start = html.index('name="code"')
    return html[html.rindex("<input", 0, start) : html.index(">", start)]


def test_the_sign_in_code_field_offers_a_number_pad_and_autofill(client, resident):
    _sign_in(client, resident.email)
    _enrol_totp(client)
    client.post("/accounts/logout/")
    _sign_in(client, resident.email)
    field = _code_input(client.get(reverse("mfa_authenticate")).content.decode())
    for attr in (*CODE_FIELD_ATTRS, "autofocus"):
        assert attr in field, field


def test_the_activation_code_field_offers_a_number_pad_and_autofill(client, resident):
    _sign_in(client, resident.email)
    field = _code_input(client.get(reverse("mfa_activate_totp")).content.decode())
    for attr in CODE_FIELD_ATTRS:
        assert attr in field, field
    # Step 2 of 2: focusing it would scroll a phone past the QR code.
    assert "autofocus" not in field


def _totp(user):
    return Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})


def test_a_required_person_is_not_offered_to_turn_off_their_only_factor(client, strict, coordinator):
    _totp(coordinator)
    _freshly_signed_in(client, coordinator)
    page = client.get(reverse("mfa_index")).content.decode()
    assert "Required by your institution" in page
    assert reverse("mfa_deactivate_totp") not in page

    # With a security key as well, the app may go.
    _key(coordinator)
    page = client.get(reverse("mfa_index")).content.decode()
    assert reverse("mfa_deactivate_totp") in page
    assert "Required by your institution" not in page


def test_an_optional_person_is_offered_to_turn_it_off(client, resident):
    _totp(resident)
    _freshly_signed_in(client, resident)
    page = client.get(reverse("mfa_index")).content.decode()
    assert reverse("mfa_deactivate_totp") in page and "Required by your institution" not in page


def test_a_required_persons_only_security_key_has_no_remove_link(client, strict, coordinator):
    key = _key(coordinator)
    _freshly_signed_in(client, coordinator)
    remove = reverse("mfa_remove_webauthn", args=[key.pk])
    page = client.get(reverse("mfa_list_webauthn")).content.decode()
    assert remove not in page and "Required by your institution" in page

    _totp(coordinator)
    assert remove in client.get(reverse("mfa_list_webauthn")).content.decode()
