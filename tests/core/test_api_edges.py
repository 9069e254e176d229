"""Findings of schemathesis ``--checks all`` (tests/security/test_api_fuzz.py), each pinned here
so a few random examples not hitting it again cannot hide its return."""

import json

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

from accounts.models import BusyCalendar
from matching.services.messages import message_post
from tests.factories import MentorProfileFactory
from tests.matching.factories import MentorshipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated, renderer_context={}))


@pytest.mark.parametrize("debug", [False, True])
def test_an_unrouted_api_path_is_a_json_404_with_debug_on_or_off(debug, settings, api_for, resident):
    settings.DEBUG = debug
    api = api_for(resident)

    # The mentor's id is digits only: not a ValueError in the lookup (a 500 before).
    for path in ("/api/v1/mentors/null,null/", "/api/v1/no-such-thing/"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"].startswith("application/json"), path
        assert response.json() == {"detail": "Not found."}, path


def test_a_missing_slash_still_redirects_under_debug(settings, api_for, resident):
    settings.DEBUG = True

    response = api_for(resident).get("/api/v1/me")

    assert response.status_code == 301 and response["Location"] == "/api/v1/me/"


def test_a_page_outside_the_api_keeps_its_html_404(settings, client):
    settings.DEBUG = False

    response = client.get("/no-such-page/")

    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/api/v1/me/availability/", "/api/v1/notifications/preferences/"])
def test_options_is_not_offered(path, api_for, resident):
    # DRF's OPTIONS metadata called get_object() on views without a queryset: 500s.
    response = api_for(resident).options(path)

    assert response.status_code == 405
    assert "detail" in response.json()


def test_page_size_must_be_a_whole_number_from_one(api_for, resident, schema):
    api = api_for(resident)
    for bad in ("abc", "0", "-3", "²"):
        response = api.get("/api/v1/specialties/", {"page_size": bad})
        assert response.status_code == 400, bad
        assert list(response.json()) == ["page_size"], bad
    # Above the bound it is read as the bound, as the schema says (no maximum a client enforces).
    assert len(api.get("/api/v1/specialties/", {"page_size": 100000}).json()["results"]) == 100
    operation = schema["paths"]["/api/v1/specialties/"]["get"]
    size = next(p for p in operation["parameters"] if p["name"] == "page_size")
    assert "maximum" not in size["schema"] and "read as 100" in size["description"]
    assert "400" in operation["responses"]


def test_a_file_calendar_has_a_blank_url_and_the_schema_allows_it(api_for, resident, schema):
    BusyCalendar.objects.create(user=resident, name="Rotations")

    body = api_for(resident).get("/api/v1/me/busy-calendars/").json()

    assert body["results"][0]["url"] == "" and body["results"][0]["kind"] == "file"
    assert "format" not in schema["components"]["schemas"]["BusyCalendar"]["properties"]["url"]


def test_a_portfolio_period_error_is_a_list_of_messages(api_for, attending):
    MentorProfileFactory._meta.model.objects.get_or_create(user=attending)

    # Only an end far in the past: the default start (a year ago) is after it.
    response = api_for(attending).get("/api/v1/me/portfolio/", {"to": "2001-01-01"})

    assert response.status_code == 400
    assert response.json() == {"from": ["Give both dates: the period would end before it starts."]}


def test_an_empty_patch_of_a_message_changes_nothing(api_for, resident, attending, program):
    mentorship = MentorshipFactory(mentee=resident, mentor=attending, program=program)
    message = message_post(thread=mentorship, author=resident, body="Hello")
    api = api_for(resident)

    response = api.patch(f"/api/v1/messages/{message.pk}/", {}, format="json")

    assert response.status_code == 200 and response.json()["body"] == "Hello"
    # The other person still may not, with or without a body (control: the rule still runs).
    assert api_for(attending).patch(f"/api/v1/messages/{message.pk}/", {}, format="json").status_code == 403


def test_the_schema_states_rules_it_used_to_leave_out(schema):
    components = schema["components"]["schemas"]
    # A NUL character is refused in any text (DRF): the schema's pattern says so.
    assert components["MessageWriteRequest"]["properties"]["body"]["pattern"] == "^[^\\u0000]*$"
    # An empty If-Match is read as none (428): it must not be blank.
    agreement = schema["paths"]["/api/v1/mentorships/{id}/agreement/"]["put"]
    if_match = next(p for p in agreement["parameters"] if p["name"] == "If-Match")
    assert if_match["required"] and if_match["schema"]["minLength"] == 1
    # A run to compare with is a positive id.
    compare = schema["paths"]["/api/v1/match-runs/{id}/compare/"]["get"]
    assert next(p for p in compare["parameters"] if p["name"] == "with")["schema"]["minimum"] == 1


def test_an_empty_if_match_is_a_428(api_for, resident, attending, program):
    mentorship = MentorshipFactory(mentee=resident, mentor=attending, program=program)

    response = api_for(resident).patch(
        f"/api/v1/mentorships/{mentorship.pk}/agreement/", {"expectations": "x"}, format="json", HTTP_IF_MATCH=""
    )

    assert response.status_code == 428


def test_an_empty_optional_query_value_is_read_as_not_given(api_for, coordinator, program, schema):
    api = api_for(coordinator)

    # As an HTML form sends an unused filter: the same answer as without it.
    assert api.get("/api/v1/specialties/", {"page_size": ""}).json()["results"].__len__() == 25
    assert api.get(f"/api/v1/programs/{program.slug}/audit/", {"to": ""}).status_code == 200
    assert api.get(f"/api/v1/programs/{program.slug}/roster/", {"status": ""}).status_code == 200
    assert api.get(f"/api/v1/programs/{program.slug}/roster/", {"status": "nope"}).status_code == 400  # control
    roster = schema["paths"]["/api/v1/programs/{slug}/roster/"]["get"]["parameters"]
    assert next(p for p in roster if p["name"] == "status")["allowEmptyValue"] is True
    compare = schema["paths"]["/api/v1/match-runs/{id}/compare/"]["get"]["parameters"]
    assert "allowEmptyValue" not in next(p for p in compare if p["name"] == "with")  # required


def test_a_blank_slug_is_refused_and_null_clears(api_for, resident):
    api = api_for(resident)

    response = api.patch("/api/v1/me/mentee-profile/", {"career_stage": ""}, format="json")

    assert response.status_code == 400 and list(response.json()) == ["career_stage"]
    assert api.patch("/api/v1/me/mentee-profile/", {"career_stage": None}, format="json").status_code == 200


@pytest.mark.parametrize(
    ("path", "name"), [("/api/v1/notifications/", "unread"), ("/api/v1/specialties/", "top_level")]
)
def test_a_boolean_filter_refuses_what_is_not_a_boolean(path, name, api_for, resident):
    api = api_for(resident)

    response = api.get(path, {name: "maybe"})

    assert response.status_code == 400 and list(response.json()) == [name]
    for fine in ("true", "false", ""):
        assert api.get(path, {name: fine}).status_code == 200, fine
