import pytest
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_every_admin_changelist_opens_for_a_superuser(client, resident, attending, coordinator):
    superuser = User.objects.create_superuser(
        "root@hospital.example", "a-long-admin-pass", first_name="R", last_name="Oot"
    )
    client.force_login(superuser, backend="django.contrib.auth.backends.ModelBackend")
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url


def test_staff_without_superuser_rights_cannot_browse_people(client_for, coordinator):
    assert client_for(coordinator).get("/admin/accounts/user/").status_code == 302  # to the admin log-in


def test_an_administrator_finds_someone_by_email_and_deletes_their_authenticators(client, resident, attending):
    """Someone lost their phone: the administrator finds their authenticators by e-mail, can
    neither add one nor see or edit its secret, and deletes it so they can enrol again."""
    totp = Authenticator.objects.create(user=resident, type=Authenticator.Type.TOTP, data={"secret": "s3cr3t-seed"})
    Authenticator.objects.create(user=attending, type=Authenticator.Type.TOTP, data={"secret": "other"})
    superuser = User.objects.create_superuser("root@hospital.example", "a-long-admin-pass", first_name="R")
    client.force_login(superuser, backend="django.contrib.auth.backends.ModelBackend")

    found = client.get("/admin/mfa/authenticator/", {"q": resident.email})
    assert found.status_code == 200
    assert list(found.context["cl"].result_list) == [totp]

    assert client.get("/admin/mfa/authenticator/add/").status_code == 403
    change = client.get(f"/admin/mfa/authenticator/{totp.pk}/change/")
    assert change.status_code == 200
    assert 'name="data"' not in change.content.decode() and "s3cr3t-seed" not in change.content.decode()
    client.post(f"/admin/mfa/authenticator/{totp.pk}/change/", {"user": attending.pk, "type": "webauthn"})
    totp.refresh_from_db()
    assert totp.user_id == resident.pk and totp.type == Authenticator.Type.TOTP

    deleted = client.post(f"/admin/mfa/authenticator/{totp.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    assert not Authenticator.objects.filter(pk=totp.pk).exists()
    assert Authenticator.objects.filter(user=attending).exists()


def test_deleting_a_session_in_the_admin_signs_that_person_out(client, resident):
    theirs = Client()
    theirs.post("/accounts/login/", {"login": resident.email, "password": PASSWORD})
    assert theirs.get("/dashboard/").status_code == 200
    session = UserSession.objects.get(user=resident)
    superuser = User.objects.create_superuser("root@hospital.example", "a-long-admin-pass", first_name="R")
    client.force_login(superuser, backend="django.contrib.auth.backends.ModelBackend")

    assert client.get("/admin/usersessions/usersession/", {"q": "alice@"}).context["cl"].result_count == 1
    assert client.get("/admin/usersessions/usersession/add/").status_code == 403
    client.post(f"/admin/usersessions/usersession/{session.pk}/delete/", {"post": "yes"})
    assert not UserSession.objects.filter(pk=session.pk).exists()
    assert theirs.get("/dashboard/").status_code == 302


def test_the_institution_page_says_where_to_start_and_when_a_change_applies(client, program):
    superuser = User.objects.create_superuser("root@hospital.example", "a-long-admin-pass", first_name="R")
    client.force_login(superuser, backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(f"/admin/accounts/institution/{program.institution.pk}/change/").content.decode()
    assert "No SSO provider yet: add one under Social applications" in page
    assert "applies at each coordinator's next sign-in" in page
    assert "Require MFA for coordinators" in page and "Accept the identity provider&#x27;s MFA" in page
