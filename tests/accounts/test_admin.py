import pytest
from django.contrib import admin
from django.urls import reverse

from accounts.models import User

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
