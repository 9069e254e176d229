"""The mentor directory API (matching/api/directory.py). Personas come from tests/conftest.py."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import (
    Goal,
    Language,
    MeetingFormat,
    MentorProfile,
    Specialty,
)
from tests.factories import (
    MentorProfileFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

API = "/api/v1"


def _mentor(
    *,
    first_name="Mia",
    last_name="Mentor",
    specialty="internal-medicine",
    subspecialty=None,
    expertise=(),
    languages=(),
    formats=(),
    accepting=True,
    bio="",
    capacity=2,
):
    user = UserFactory(first_name=first_name, last_name=last_name)
    profile = MentorProfileFactory(
        user=user,
        specialty=Specialty.objects.get(slug=specialty),
        subspecialty=Specialty.objects.get(slug=subspecialty) if subspecialty else None,
        accepting_mentees=accepting,
        bio=bio,
        capacity=capacity,
    )
    profile.expertise.set(Goal.objects.filter(slug__in=expertise))
    profile.languages.set(Language.objects.filter(code__in=languages))
    profile.meeting_formats.set(MeetingFormat.objects.filter(slug__in=formats))
    return profile


def _ids(response):
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["results"]}


# --- The mentor directory.


@pytest.fixture
def directory(attending):
    """Carol (the ``attending`` persona: IM, accepting, no extras) plus two more mentors."""
    cardiologist = _mentor(
        first_name="Hana",
        last_name="Heart",
        subspecialty="internal-medicine-cardiovascular-disease",
        expertise=["career-planning", "research"],
        languages=["en", "es"],
        formats=["video"],
        bio="Echocardiography and heart failure.",
        capacity=3,
    )
    surgeon = _mentor(
        first_name="Sam",
        last_name="Cutter",
        specialty="general-surgery",
        expertise=["research"],
        languages=["en"],
        formats=["in-person"],
        accepting=False,
    )
    return {"carol": attending.pk, "hana": cardiologist.user_id, "sam": surgeon.user_id}


@pytest.mark.django_db
def test_directory_lists_every_mentor_with_capacity_and_accepting_flag(api_for, resident, directory):
    response = api_for(resident).get(f"{API}/mentors/")

    assert _ids(response) == set(directory.values())
    hana = next(m for m in response.json()["results"] if m["id"] == directory["hana"])
    assert hana["capacity"] == 3
    assert hana["accepting_mentees"] is True
    assert hana["full_name"] == "Hana Heart"
    assert hana["expertise"] == ["career-planning", "research"]
    assert sorted(hana["languages"]) == ["en", "es"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("specialty=internal-medicine", {"carol", "hana"}),
        ("specialty=general-surgery", {"sam"}),
        ("subspecialty=internal-medicine-cardiovascular-disease", {"hana"}),
        ("expertise=research", {"hana", "sam"}),
        ("expertise=research&expertise=career-planning", {"hana"}),
        ("language=es", {"hana"}),
        ("language=en", {"hana", "sam"}),
        ("meeting_format=in-person", {"sam"}),
        ("accepting=true", {"carol", "hana"}),
        ("accepting=false", {"sam"}),
        ("q=cutter", {"sam"}),
        ("q=heart failure", {"hana"}),
        ("q=echo", {"hana"}),
        ("q=nobody", set()),
        ("specialty=internal-medicine&language=es&accepting=true", {"hana"}),
    ],
)
def test_directory_filters_narrow_the_list(api_for, resident, directory, query, expected):
    response = api_for(resident).get(f"{API}/mentors/?{query}")

    assert _ids(response) == {directory[name] for name in expected}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    ["specialty=astrology", "subspecialty=astrology", "expertise=astrology", "language=xx", "meeting_format=fax"],
)
def test_directory_rejects_unknown_filter_values(api_for, resident, directory, query):
    response = api_for(resident).get(f"{API}/mentors/?{query}")

    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


@pytest.mark.django_db
def test_directory_detail_by_user_id(api_for, outsider, directory):
    # Any signed-in user, of any program, may browse mentors.
    response = api_for(outsider).get(f"{API}/mentors/{directory['hana']}/")

    assert response.status_code == 200
    assert response.json()["subspecialty"] == "internal-medicine-cardiovascular-disease"


@pytest.mark.django_db
def test_directory_hides_non_mentors_and_inactive_mentors(api_for, resident, other_resident, directory):
    hana = MentorProfile.objects.get(user_id=directory["hana"]).user
    hana.is_active = False
    hana.save()
    client = api_for(resident)

    assert client.get(f"{API}/mentors/{other_resident.pk}/").status_code == 404
    assert client.get(f"{API}/mentors/{hana.pk}/").status_code == 404
    assert directory["hana"] not in _ids(client.get(f"{API}/mentors/"))


@pytest.mark.django_db
def test_directory_does_not_list_the_caller(api_for, attending, directory):
    # As on the directory page: a mentor browsing sees the others.
    assert _ids(api_for(attending).get(f"{API}/mentors/")) == {directory["hana"], directory["sam"]}


@pytest.mark.django_db
def test_directory_is_paginated(api_for, resident):
    for n in range(30):
        _mentor(last_name=f"Mentor{n:02}")

    body = api_for(resident).get(f"{API}/mentors/").json()

    assert body["count"] == 30
    assert len(body["results"]) == 25
    assert body["next"].endswith("/api/v1/mentors/?page=2")
    assert len(api_for(resident).get(body["next"]).json()["results"]) == 5


# --- Query budgets: a list costs the same number of queries for 3 rows as for 30.


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_directory_query_budget_does_not_grow_with_mentors(api_for, resident, django_assert_max_num_queries):
    client = api_for(resident)
    langs, formats, goals = ["en", "es"], ["video", "phone"], ["research", "career-planning"]
    for n in range(3):
        _mentor(last_name=f"Few{n}", expertise=goals, languages=langs, formats=formats)
    few = _queries(client, f"{API}/mentors/")
    for n in range(27):
        _mentor(last_name=f"Many{n}", expertise=goals, languages=langs, formats=formats)

    # 1 count, 1 page of profiles (with user, specialty, subspecialty, rank, stage joined),
    # 5 prefetches: expertise, interests, languages, meeting formats, availability.
    with django_assert_max_num_queries(7):
        many = _queries(client, f"{API}/mentors/")
    assert many == few
    # Filters validate their slugs with one query each, never one per row.
    with django_assert_max_num_queries(7 + 2):
        client.get(f"{API}/mentors/?expertise=research&language=es&accepting=true")
