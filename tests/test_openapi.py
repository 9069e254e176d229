"""The OpenAPI schema is valid and warning-free, and its interactive docs work offline."""

from html.parser import HTMLParser

import pytest
import yaml
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient


class _Assets(HTMLParser):
    """Collects every <script src> and <link href> of a page."""

    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])
        elif tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])


def test_schema_generates_without_a_single_warning(tmp_path):
    # --fail-on-warn turns every warning (a view without a serializer, an untyped
    # path parameter or method field…) into a failure; --validate checks OpenAPI 3.
    out = tmp_path / "schema.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    schema = yaml.safe_load(out.read_text())
    assert schema["openapi"].startswith("3.")
    for path in [
        "/api/v1/auth/token/",
        "/api/v1/me/",
        "/api/v1/me/mentee-profile/",
        "/api/v1/me/mentor-profile/",
        "/api/v1/me/availability/",
        "/api/v1/mentors/",
        "/api/v1/mentors/{id}/",
        "/api/v1/programs/",
        "/api/v1/programs/{slug}/",
        "/api/v1/programs/{slug}/roster/",
        "/api/v1/specialties/",
        "/api/v1/goals/",
        "/api/v1/interests/",
        "/api/v1/career-stages/",
        "/api/v1/academic-ranks/",
        "/api/v1/languages/",
        "/api/v1/meeting-formats/",
    ]:
        assert path in schema["paths"], path


@pytest.mark.django_db
def test_schema_is_served_and_valid():
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    # Lists are paginated; the directory documents its filters.
    mentors = schema["paths"]["/api/v1/mentors/"]["get"]
    assert {p["name"] for p in mentors["parameters"]} >= {
        "page",
        "specialty",
        "subspecialty",
        "expertise",
        "language",
        "meeting_format",
        "accepting",
        "q",
    }
    assert schema["components"]["schemas"]["PaginatedMentorDirectoryList"]["properties"].keys() >= {
        "count",
        "next",
        "previous",
        "results",
    }


def test_request_bodies_are_json_only_but_the_calendar_upload():
    # A body offered as JSON, form and multipart made a generated client unimportable (issue 17).
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    bodies = {
        (path, method): set(operation["requestBody"]["content"])
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "requestBody" in operation
    }

    assert len(bodies) > 30
    upload = ("/api/v1/me/busy-calendars/", "post")
    assert bodies.pop(upload) == {"application/json", "multipart/form-data"}  # a URL, or an .ics file
    assert {media for media in bodies.values() if media != {"application/json"}} == set()


@pytest.mark.django_db
def test_a_form_encoded_body_is_refused_with_415_and_changes_nothing(client_for, resident):
    from accounts.models import MenteeProfile

    before = MenteeProfile.objects.filter(user=resident).values().first()
    response = client_for(resident).patch(
        "/api/v1/me/mentee-profile/", "goals_text=hacked", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 415
    assert response.json()["detail"].startswith("Unsupported media type")
    assert MenteeProfile.objects.filter(user=resident).values().first() == before


@pytest.mark.django_db
def test_docs_are_served_from_our_own_static_files():
    response = APIClient().get("/api/docs/")

    assert response.status_code == 200
    parser = _Assets()
    parser.feed(response.content.decode())
    assert parser.urls, "the docs page should load its scripts and styles"
    static_url = "/" + settings.STATIC_URL.lstrip("/")
    for asset in parser.urls:
        # No CDN, and no other host: everything comes from /static/, but the page's own start-up
        # script, which the docs view serves at ?script= (the Content-Security-Policy allows no inline one).
        assert "//" not in asset, asset
        if asset == "/api/docs/?script=":
            continue
        assert asset.startswith(static_url), asset
        assert finders.find(asset.removeprefix(static_url).split("?")[0]), f"{asset} is not a static file"


def test_operation_descriptions_speak_to_clients_not_to_maintainers():
    """A view's docstring becomes its operation's description: notes about our own code (the
    access mixins, services) must not reach the API docs."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    internal = ("core/", "get_program", "get_object", "service_refusals", "Mix it in", "DRF view")
    leaks = [
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and any(word in (operation.get("description") or "") for word in internal)
    ]
    assert leaks == []
