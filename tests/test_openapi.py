"""The OpenAPI schema is valid and warning-free, and its interactive docs work offline."""

import json
import re
from html.parser import HTMLParser

import jsonschema
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


# --- Issue 17: a contract hospital IT can generate a client from and trust.

ERROR_REF = {"$ref": "#/components/schemas/Error"}


def _is_json_error(response):
    """The response's only body is JSON, and its schema is Error."""
    content = response.get("content", {})
    return list(content) == ["application/json"] and content["application/json"]["schema"] == ERROR_REF


WRITES = ("post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema():
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated, renderer_context={}))


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("get", *WRITES):
                yield path, method, operation


def _operation(schema, operation_id):
    [found] = [(path, method, op) for path, method, op in _operations(schema) if op["operationId"] == operation_id]
    return found


def _json_schema(node):
    """OpenAPI 3.0's dialect as JSON Schema: ``nullable`` becomes a null type, refs point at ``$defs``."""
    if isinstance(node, list):
        return [_json_schema(child) for child in node]
    if not isinstance(node, dict):
        return node
    out = {
        key: value.replace("#/components/schemas/", "#/$defs/") if key == "$ref" else _json_schema(value)
        for key, value in node.items()
    }
    if out.pop("nullable", False):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def assert_documented(schema, operation_id, response):
    """The answer's status is one the operation documents, and its body matches that status's schema."""
    _path, _method, operation = _operation(schema, operation_id)
    documented = operation["responses"].get(str(response.status_code))
    assert documented is not None, f"{operation_id} answered an undocumented {response.status_code}"
    media = response["Content-Type"].split(";")[0]
    assert media in documented.get("content", {}), (operation_id, response.status_code, media)
    body_schema = {
        **_json_schema(documented["content"][media]["schema"]),
        "$defs": _json_schema(schema["components"]["schemas"]),
    }
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in jsonschema.Draft202012Validator(body_schema).iter_errors(response.json())
    ]
    assert errors == [], (operation_id, response.status_code)


def test_every_4xx_answer_is_the_one_error_schema_as_json(schema):
    # A view that declared nothing, ServiceError, the 412's own fields or a calendar body: all one Error now.
    assert "ServiceError" not in schema["components"]["schemas"]
    assert "PreconditionFailed" not in schema["components"]["schemas"]
    error = schema["components"]["schemas"]["Error"]
    assert error["properties"]["detail"] == {
        "type": "string",
        "description": error["properties"]["detail"]["description"],
    }
    error_validator = jsonschema.Draft202012Validator(_json_schema(error))
    codes = set()
    for path, method, operation in _operations(schema):
        for code, response in operation["responses"].items():
            if code.startswith("4"):
                codes.add(code)
                assert _is_json_error(response), (method, path, code)
                example = response["content"]["application/json"].get("example")
                assert example is None or error_validator.is_valid(example), (method, path, code)
                assert response.get("description"), (method, path, code)
    assert codes >= {"400", "401", "403", "404", "409", "412", "415", "422", "428", "429"}
    # Where each happens, for a few operations that have every reason to say so.
    expected = {
        "requests_accept": {"400", "401", "403", "404", "409", "415"},
        "auth_token_create": {"400", "403", "415", "429"},
        "action_items_partial_update": {"401", "403", "404", "409", "412", "415", "428"},
        "requests_create": {"401", "403", "415", "422"},
        "mentors_list": {"400", "401", "403", "404"},
    }
    for operation_id, wanted in expected.items():
        assert set(_operation(schema, operation_id)[2]["responses"]) >= wanted, operation_id
    # A POST that reads no body never answers 415, so it does not say it might.
    assert "415" not in _operation(schema, "notifications_read_all")[2]["responses"]


@pytest.mark.django_db
def test_error_bodies_match_the_error_schema(schema, api_for, program, resident, attending, client_for):
    from matching.models import MentorshipRequest
    from matching.services.requests import request_create, request_withdraw
    from tests.matching.factories import ActionItemFactory, MentorshipFactory

    stranger, mine = APIClient(), api_for(resident)
    assert_documented(schema, "me_retrieve", stranger.get("/api/v1/me/"))  # 401
    assert_documented(schema, "me_recommendations_list", api_for(attending).get("/api/v1/me/recommendations/"))  # 403
    assert_documented(schema, "requests_retrieve", mine.get("/api/v1/requests/999999/"))  # 404
    invalid = mine.post("/api/v1/requests/", {"kind": "nonsense"})
    assert invalid.status_code == 400 and "mentor" in invalid.json()  # field errors, keyed by field
    assert_documented(schema, "requests_create", invalid)
    asked = request_create(mentee=resident, mentor=attending, kind="research", message="Hello")
    request_withdraw(request=asked, actor=resident)
    assert MentorshipRequest.objects.get(pk=asked.pk).status == MentorshipRequest.Status.WITHDRAWN
    gone = api_for(attending).post(f"/api/v1/requests/{asked.pk}/accept/", {})
    assert gone.status_code == 409
    assert_documented(schema, "requests_accept", gone)
    item = ActionItemFactory(mentorship=MentorshipFactory(mentee=resident, mentor=attending, program=program))
    url = f"/api/v1/action-items/{item.pk}/"
    assert_documented(schema, "action_items_partial_update", mine.patch(url, {"title": "x"}))  # 428
    stale = mine.patch(url, {"title": "x"}, HTTP_IF_MATCH='"999"')
    assert stale.status_code == 412
    assert_documented(schema, "action_items_partial_update", stale)
    form = client_for(resident).patch(
        url, "title=x", content_type="application/x-www-form-urlencoded", HTTP_IF_MATCH="*"
    )
    assert form.status_code == 415
    assert_documented(schema, "action_items_partial_update", form)


@pytest.mark.django_db
def test_every_operation_that_needs_a_caller_answers_a_stranger_401_with_a_token_challenge(schema):
    # Token authentication comes first: DRF answers 401 with its WWW-Authenticate only when the first
    # authenticator has a challenge to give; session authentication first would make all of these 403.
    stranger = APIClient()
    checked = 0
    for path, method, operation in _operations(schema):
        if "401" not in operation["responses"]:
            assert operation["security"] == [], (method, path)  # open to anyone: signing in
            continue
        url = path.replace("{id}", "1").replace("{slug}", "im")
        for credentials in ({}, {"HTTP_AUTHORIZATION": "Token not-a-token"}):
            response = getattr(stranger, method)(url, {}, **credentials)
            assert response.status_code == 401, (method, path, credentials)
            assert response["WWW-Authenticate"] == "Token", (method, path)
            assert response.json()["detail"], (method, path)
        checked += 1
    assert checked > 140


@pytest.mark.django_db
def test_a_session_without_its_csrf_token_is_refused_403_not_challenged(resident):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(resident, backend="django.contrib.auth.backends.ModelBackend")

    refused = browser.post("/api/v1/notifications/read-all/", content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert "WWW-Authenticate" not in refused
    browser.get("/accounts/profile/")  # any page sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    allowed = browser.post("/api/v1/notifications/read-all/", content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert allowed.status_code == 200


def _nullable_all_of(node, pointer="#"):
    if isinstance(node, dict):
        if node.get("nullable") and "allOf" in node:
            yield pointer
        for key, value in node.items():
            yield from _nullable_all_of(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _nullable_all_of(value, f"{pointer}/{index}")


def test_a_nullable_nested_object_is_one_of_it_or_null(schema):
    """``{allOf: [$ref], nullable: true}`` still refuses null under OpenAPI 3.0, and a client generated
    from it failed on the first cancelled meeting (``cancelled_by`` null)."""
    assert list(_nullable_all_of(schema)) == []
    cancelled_by = schema["components"]["schemas"]["Meeting"]["properties"]["cancelled_by"]
    assert cancelled_by["oneOf"][0] == {"$ref": "#/components/schemas/MeetingPerson"}
    assert cancelled_by["oneOf"][1]["enum"] == [None]


def test_fields_that_are_null_in_practice_are_nullable(schema):
    components = schema["components"]["schemas"]
    assert components["RosterMember"]["properties"]["invited_at"].get("nullable") is True
    assert components["BusyBlock"]["properties"]["calendar"].get("nullable") is True
    assert components["MentorDirectory"]["properties"]["specialty"].get("nullable") is True


@pytest.mark.django_db
def test_demo_like_rows_serialize_as_the_schema_says(schema, api_for, coordinator, resident, attending):
    from accounts.models import BusyBlock, MentorProfile

    # Never invited (like every demo user), a block typed in, a mentor who has not chosen a specialty.
    assert resident.invited_at is None
    BusyBlock.objects.create(user=resident, label="Nights", start_date="2026-01-05", end_date="2026-01-09")
    MentorProfile.objects.filter(user=attending).update(specialty=None)

    roster = api_for(coordinator).get("/api/v1/programs/im/roster/")
    assert None in [row["invited_at"] for row in roster.json()["results"]]
    assert_documented(schema, "programs_roster_list", roster)
    blocks = api_for(resident).get("/api/v1/me/busy-blocks/")
    assert blocks.json()["results"][0]["calendar"] is None
    assert_documented(schema, "me_busy_blocks_list", blocks)
    mentors = api_for(resident).get("/api/v1/mentors/")
    assert [m["specialty"] for m in mentors.json()["results"]] == [None]
    assert_documented(schema, "mentors_list", mentors)


@pytest.mark.django_db
def test_recommendations_say_when_there_is_no_mentee_profile_yet(schema, api_for, resident):
    from accounts.models import User

    _path, _method, operation = _operation(schema, "me_recommendations_list")
    assert "mentee profile first" in operation["responses"]["404"]["description"]
    assert _is_json_error(operation["responses"]["404"])

    resident.mentee_profile.delete()
    response = api_for(User.objects.get(pk=resident.pk)).get("/api/v1/me/recommendations/")
    assert response.status_code == 404
    assert response.json()["detail"].startswith("Create your mentee profile first")
    assert_documented(schema, "me_recommendations_list", response)


@pytest.mark.django_db
def test_the_calendar_download_is_text_calendar_and_its_errors_json(schema, api_for, program, resident, attending):
    from datetime import UTC, timedelta

    from django.utils import timezone

    from matching.services.meetings import meeting_propose
    from tests.matching.factories import MentorshipFactory

    _path, _method, operation = _operation(schema, "meetings_ics_retrieve")
    assert operation["responses"]["200"]["content"] == {"text/calendar": {"schema": {"type": "string"}}}
    assert all(_is_json_error(r) for code, r in operation["responses"].items() if code.startswith("4"))

    soon = (timezone.now() + timedelta(days=3)).astimezone(UTC).replace(hour=15, minute=0, second=0, microsecond=0)
    meeting = meeting_propose(
        mentorship=MentorshipFactory(mentee=resident, mentor=attending, program=program), actor=resident, slots=[soon]
    )
    url = f"/api/v1/meetings/{meeting.pk}/ics/"
    invitation = api_for(resident).get(url, HTTP_ACCEPT="text/calendar")
    assert invitation.status_code == 200 and invitation["Content-Type"].startswith("text/calendar")
    assert invitation.content.startswith(b"BEGIN:VCALENDAR")
    # Asked for a calendar, refused: the refusal is still the JSON the schema promises.
    missing = api_for(resident).get(f"/api/v1/meetings/{meeting.pk + 1000}/ics/", HTTP_ACCEPT="text/calendar")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/json"
    assert_documented(schema, "meetings_ics_retrieve", missing)


def test_writes_declare_the_processing_delayed_header(schema):
    # README › Security and reliability: when the task queue is down, a write answers X-Processing-Delayed: true.
    from core.middleware import PROCESSING_DELAYED_HEADER

    writes = 0
    for path, method, operation in _operations(schema):
        for code, response in operation["responses"].items():
            declared = PROCESSING_DELAYED_HEADER in response.get("headers", {})
            if code.startswith("2") and method in WRITES:
                writes += 1
                assert declared, (method, path, code)
                assert response["headers"][PROCESSING_DELAYED_HEADER]["schema"] == {"type": "string", "enum": ["true"]}
            else:
                assert not declared, (method, path, code)
    assert writes > 70


def test_operations_have_readable_unique_ids_and_a_summary(schema):
    ids = [operation["operationId"] for _path, _method, operation in _operations(schema)]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if not re.fullmatch(r"[a-z][a-z0-9_]*", i)] == []
    assert [i for i in ids if i.startswith("v1_")] == []
    assert {"requests_accept", "requests_create", "requests_list", "requests_retrieve", "auth_token_create"} <= set(ids)
    assert [
        f"{method} {path}"
        for path, method, operation in _operations(schema)
        if not operation.get("summary", "").strip()
    ] == []
    assert schema["info"]["license"]["name"] == "Apache-2.0"
    assert schema["servers"] and schema["servers"][0]["url"].startswith("http")


def test_every_list_pages_the_same_way_with_a_bounded_page_size(schema):
    lists = [(path, op) for path, method, op in _operations(schema) if op["operationId"].endswith("_list")]
    assert len(lists) > 30 and "/api/v1/me/recommendations/" in dict(lists)
    for path, operation in lists:
        body = operation["responses"]["200"]["content"]["application/json"]["schema"]
        page = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
        assert set(page["required"]) == {"count", "results"} and set(page["properties"]) >= {
            "count",
            "next",
            "previous",
            "results",
        }, path
        parameters = {p["name"]: p for p in operation["parameters"]}
        size = parameters["page_size"]["schema"]
        # No maximum a client would enforce: more than 100 is read as 100 (the description says so).
        assert size["type"] == "integer" and size["minimum"] == 1 and "maximum" not in size, path
        assert "read as" in parameters["page_size"]["description"], path
        assert "404" in operation["responses"], path  # a page past the last


@pytest.mark.django_db
def test_page_size_is_honoured_within_its_bound(api_for, resident):
    api = api_for(resident)
    assert len(api.get("/api/v1/specialties/", {"page_size": 3}).json()["results"]) == 3
    assert len(api.get("/api/v1/specialties/").json()["results"]) == 25  # the default, control
    everything = api.get("/api/v1/specialties/", {"page_size": 100000}).json()
    assert len(everything["results"]) == 100 and everything["next"]  # bounded, never unbounded
    assert api.get("/api/v1/specialties/", {"page_size": "abc"}).status_code == 400  # not a number
