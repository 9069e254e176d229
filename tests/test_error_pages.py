import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, override_settings
from django.urls import include, path

from accounts.views import errors


def _boom(request):
    raise RuntimeError("simulated failure")


def _closed(request):
    raise PermissionDenied("The ranking window for this match is closed.")


def _refused(request):
    raise PermissionDenied


# The site's own pages too: the error pages link to them.
urlpatterns = [
    path("boom/", _boom),
    path("closed/", _closed),
    path("refused/", _refused),
    path("api/v1/boom/", _boom),
    path("api/v1/closed/", _closed),
    path("", include("config.urls")),
]
handler500 = errors.server_error
handler403 = errors.permission_denied


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
    assert "a program you don't coordinate" in response.content.decode()


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_a_refusal_that_says_why_keeps_its_reason_on_the_403(client_for, resident):
    closed = client_for(resident).get("/closed/")
    assert closed.status_code == 403
    assert "The ranking window for this match is closed." in closed.content.decode()
    assert "a program you don't coordinate" not in closed.content.decode()
    # A bare refusal gets the general explanation.
    assert "a program you don't coordinate" in client_for(resident).get("/refused/").content.decode()


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_a_crash_gets_the_friendly_500_without_touching_the_database():
    client = Client(raise_request_exception=False)
    # No django_db mark: the 500 page must render even when the database can't be used.
    response = client.get("/boom/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


# Under /api/ every answer is JSON, routed or not (issue 17): a generated client must parse it.
@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/match-runs/null,null/",  # the id is no number: no route matches, no view runs
        "/api/v1/mentorships/1.5/",
        "/api/v1/no-such-thing/",
        "/api/v2/",
        "/api/",
    ],
)
def test_an_api_path_no_route_matches_answers_json(client_for, resident, settings, path):
    settings.DEBUG = False
    for client in (Client(), client_for(resident)):
        response = client.get(path)

        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"detail": "Not found."}


@pytest.mark.django_db
def test_a_page_no_route_matches_keeps_the_html_page(client_for, resident, settings):
    settings.DEBUG = False
    response = client_for(resident).get("/apis/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_an_api_refusal_outside_drf_answers_json_with_its_reason(client_for, resident):
    response = client_for(resident).get("/api/v1/closed/")

    assert response.status_code == 403
    assert response.json() == {"detail": "The ranking window for this match is closed."}


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_an_api_crash_answers_json_without_touching_the_database():
    response = Client(raise_request_exception=False).get("/api/v1/boom/")

    assert response.status_code == 500
    assert response.json()["detail"].startswith("A server error occurred.")
