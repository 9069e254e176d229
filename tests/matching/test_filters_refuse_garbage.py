"""A list's query string read one way on pages and the API: a boolean (core/filters.py) is
true/false/1/0, empty is "not given", and anything else is an error naming the parameter, never
"not given" (a list that looks filtered and is not). So is a number that is not one."""

import re

import pytest
from django import forms
from django.urls import reverse

from core.filters import BooleanSelect, StrictNullBooleanField
from matching.api.audit import ACTOR_PATTERN

pytestmark = pytest.mark.django_db

DIRECTORY = reverse("matching:mentor-directory")


@pytest.mark.parametrize(
    ("given", "read"),
    [("true", True), ("1", True), ("True", True), ("false", False), ("0", False), ("", None), (None, None)],
)
def test_the_field_reads_booleans_and_empty(given, read):
    assert StrictNullBooleanField(required=False).clean(given) is read


@pytest.mark.parametrize("given", ["banana", "yes", "on", "2", "TRUE ", "null"])
def test_the_field_refuses_what_is_not_a_boolean(given):
    with pytest.raises(forms.ValidationError) as refused:
        StrictNullBooleanField(required=False).clean(given)
    assert refused.value.messages == ["Give true or false."]


def test_the_select_shows_one_as_true_and_offers_any_first():
    html = BooleanSelect(labels=("Any", "Only these")).render("stale", "1")
    assert '<option value="">Any</option>' in html
    assert '<option value="true" selected>Only these</option>' in html
    assert "false" not in html  # a filter that only narrows offers no "false"


# --- Pages: a field error beside the filter, and no list that pretends to be filtered.


def test_directory_page_says_accepting_banana_is_not_a_choice(client_for, fits):
    resident, _carol, _dave = fits

    response = client_for(resident).get(DIRECTORY, {"accepting": "banana"})

    assert response.status_code == 200
    body = response.content.decode()
    assert "Give true or false." in body
    assert 'aria-invalid="true"' in body  # the select is marked, for screen readers
    assert list(response.context["mentors"]) == []  # not every mentor, as if unfiltered


def test_control_directory_page_filters_on_a_boolean_and_keeps_it_chosen(client_for, fits):
    resident, carol, dave = fits
    dave.mentor_profile.accepting_mentees = False
    dave.mentor_profile.save(update_fields=["accepting_mentees"])

    for given in ("true", "1"):
        response = client_for(resident).get(DIRECTORY, {"accepting": given})
        assert [m.user for m in response.context["mentors"]] == [carol]
        assert '<option value="true" selected>Accepting now</option>' in response.content.decode()
    # What the select wrote for "everyone" before: an old link still lists everyone.
    response = client_for(resident).get(DIRECTORY, {"accepting": "unknown"})
    assert "Give true or false." not in response.content.decode()
    assert {m.user for m in response.context["mentors"]} == {carol, dave}


def test_directory_page_refuses_open_spot_nonsense(client_for, fits):
    resident, _carol, _dave = fits

    response = client_for(resident).get(DIRECTORY, {"open_spot": "nonsense"})

    assert response.status_code == 200
    assert "Give true or false." in response.content.decode()


def test_pairings_page_says_conflict_banana_is_not_a_choice(client_for, coordinator, program):
    response = client_for(coordinator).get(f"/programs/{program.slug}/pairings/", {"conflict": "banana"})

    assert response.status_code == 200
    assert response.context["form"].errors["conflict"] == ["Give true or false."]
    body = response.content.decode()
    assert "Give true or false." in body
    assert '<option value="" selected>Any</option>' in body  # nothing pretends "banana" was chosen


# --- The API: a 400 naming the parameter.


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("resident", "/api/v1/mentors/?accepting=banana"),
        ("resident", "/api/v1/mentors/?open_spot=nonsense"),
        ("resident", "/api/v1/specialties/?top_level=maybe"),
        ("resident", "/api/v1/notifications/?unread=yes"),
        ("coordinator", "/api/v1/programs/{slug}/pairings/?stale=banana"),
    ],
)
def test_api_lists_refuse_a_boolean_that_is_not_one(api_for, request, program, who, path):
    response = api_for(request.getfixturevalue(who)).get(path.format(slug=program.slug))

    assert response.status_code == 400
    name = path.split("?")[1].split("=")[0]
    assert response.json()[name] == ["Give true or false."]


@pytest.mark.parametrize("given", ["true", "false", "1", "0", ""])
def test_control_api_lists_take_the_booleans(api_for, resident, given):
    assert api_for(resident).get(f"/api/v1/mentors/?accepting={given}").status_code == 200


@pytest.mark.parametrize("given", ["null", "two", "-1", "1.5"])
def test_recommendations_refuse_an_n_that_is_not_a_number(api_for, fits, given):
    resident, _carol, _dave = fits

    response = api_for(resident).get("/api/v1/me/recommendations/", {"n": given})

    assert response.status_code == 400
    assert response.json() == {"n": ["Give a whole number from 1."]}


def test_control_recommendations_still_clamp_n_and_read_it_empty_as_not_given(api_for, fits):
    resident, carol, _dave = fits
    client = api_for(resident)

    assert [r["mentor_id"] for r in client.get("/api/v1/me/recommendations/", {"n": "0"}).json()["results"]] == [
        carol.pk
    ]
    assert client.get("/api/v1/me/recommendations/", {"n": ""}).status_code == 200


def test_the_audits_actor_is_what_its_schema_pattern_says(api_for, coordinator, program):
    """The schema said any string; the server took an id or "system" (schemathesis sent "pairings-export")."""
    client = api_for(coordinator)
    for actor in ("7", "system", "", "1" * 18):
        assert re.fullmatch(ACTOR_PATTERN, actor)
        assert client.get(f"/api/v1/programs/{program.slug}/audit/", {"actor": actor}).status_code == 200
    for actor in ("pairings-export", "1" * 19, "²"):
        assert not re.fullmatch(ACTOR_PATTERN, actor)
        assert client.get(f"/api/v1/programs/{program.slug}/audit/", {"actor": actor}).status_code == 400
