import pytest
from django.test import Client, override_settings
from django.urls import path

from accounts.views import errors


def _boom(request):
    raise RuntimeError("simulated failure")


urlpatterns = [path("boom/", _boom)]
handler500 = errors.server_error


@pytest.mark.django_db
def test_unknown_page_gets_the_friendly_404(client_for, resident, settings):
    settings.DEBUG = False
    response = client_for(resident).get("/no-such-page/")
    assert response.status_code == 404
    assert "We couldn't find that page" in response.content.decode()


@pytest.mark.django_db
def test_forbidden_page_gets_the_friendly_403(client_for, resident):
    response = client_for(resident).get("/programs/")
    assert response.status_code == 403
    assert "You can't open this page" in response.content.decode()


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_a_crash_gets_the_friendly_500_without_touching_the_database():
    client = Client(raise_request_exception=False)
    # No django_db mark: the 500 page must render even when the database can't be used.
    response = client.get("/boom/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
