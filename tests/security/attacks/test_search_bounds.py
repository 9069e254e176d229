"""Issue 11, finding 5: search ties up workers.

``GET /api/v1/mentors/?q=`` with 950 words took 9.5 s (a condition per word, per row), and six
in parallel stalled sign-in; the audit search took 1.6 s for 50 words. Every free-text search
(the directory, the roster, the audit trail; page and API) now shares one bound
(``core.search``): at most ``SEARCH_MAX_LENGTH`` characters and ``SEARCH_MAX_TERMS``
different words. Beyond it a page shows a form error and the API answers 400 naming ``q``,
before any search runs; within it, the query has one condition per different word.

How fast a search is belongs to benchmarks/page_bench.py (the widest search the directory
accepts), not to a timed test: here the refusal, and the size of the SQL, are asserted.
"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from audit.services import audit_log
from core.search import SEARCH_MAX_LENGTH, SEARCH_MAX_TERMS

pytestmark = pytest.mark.django_db

NINE_HUNDRED_FIFTY_WORDS = " ".join(f"w{n}" for n in range(950))
# Short different words: within the length, over the word count.
TOO_MANY_WORDS = " ".join("abcdefghijklmnop"[: SEARCH_MAX_TERMS + 1])
MOST_WORDS = " ".join("abcdefghijklmnop"[:SEARCH_MAX_TERMS])


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


# ``LIKE '%a%'`` (SQLite, the folded columns) or ``LIKE UPPER('%a%')`` (PostgreSQL's icontains).
SEARCHING_LIKE = re.compile(r" LIKE (?:UPPER\()?'%")


def _conditions(queries) -> int:
    """The most searching LIKE conditions (``LIKE '%word%'``) one captured statement held (one per
    searched column per word; a paginated list runs its search twice, for the count and for the page,
    when it finds any). A prefix test is no search (the roster's status: ``password LIKE '!%'``)."""
    return max((len(SEARCHING_LIKE.findall(q["sql"].upper())) for q in queries), default=0)


def _get(client, url, q):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"q": q})
    return response, _conditions(queries)


@pytest.fixture
def searches(program, coordinator, resident, attending, other_attending):
    """(name, client, url) of every search API, each as someone who may use it."""
    audit_log(actor=coordinator, action="conflict.add", obj=program, program=program, reason="kept apart")
    return [
        ("mentors", _api(resident), "/api/v1/mentors/"),
        ("roster", _api(coordinator), f"/api/v1/programs/{program.slug}/roster/"),
        ("audit", _api(coordinator), f"/api/v1/programs/{program.slug}/audit/"),
        ("pairings", _api(coordinator), f"/api/v1/programs/{program.slug}/pairings/"),
    ]


@pytest.mark.parametrize("q", [NINE_HUNDRED_FIFTY_WORDS, TOO_MANY_WORDS], ids=["950 words", "one word too many"])
def test_an_api_search_over_the_bound_is_a_400_naming_q_before_any_search(searches, q):
    for name, client, url in searches:
        response, conditions = _get(client, url, q)

        assert response.status_code == 400, (name, response.status_code)
        assert list(response.json()) == ["q"], name
        assert conditions == 0, f"{name}: the search ran anyway"


def test_the_refusal_says_what_the_bound_is(searches):
    _, client, url = searches[0]

    too_long = client.get(url, {"q": "x" * (SEARCH_MAX_LENGTH + 1)}).json()["q"]
    too_many = client.get(url, {"q": TOO_MANY_WORDS}).json()["q"]

    assert str(SEARCH_MAX_LENGTH) in " ".join(too_long)
    assert f"at most {SEARCH_MAX_TERMS} words" in " ".join(too_many)


def test_the_sql_of_a_search_grows_with_its_different_words_only_up_to_the_bound(searches):
    for name, client, url in searches:
        one, per_word = _get(client, url, "a")
        most, at_most = _get(client, url, MOST_WORDS)
        # The same word typed again and again narrows nothing, and costs nothing.
        repeated, repeated_conditions = _get(client, url, " ".join(["a"] * SEARCH_MAX_TERMS))

        assert one.status_code == most.status_code == repeated.status_code == 200, name
        assert per_word > 0, f"{name}: no LIKE in the search (the count would prove nothing)"
        assert at_most == SEARCH_MAX_TERMS * per_word, name
        assert repeated_conditions == per_word, name


def test_the_directory_page_shows_the_error_and_runs_no_search(client_for, resident, attending):
    with CaptureQueriesContext(connection) as queries:
        response = client_for(resident).get(reverse("matching:mentor-directory"), {"q": TOO_MANY_WORDS})

    assert response.status_code == 200
    assert response.context["filter"].errors["q"] == [
        f"Search for at most {SEARCH_MAX_TERMS} words (this has {SEARCH_MAX_TERMS + 1})."
    ]
    assert f"at most {SEARCH_MAX_TERMS} words" in response.content.decode()
    assert _conditions(queries) == 0
    # No list beside the error, as if every mentor had matched the refused search.
    assert list(response.context["mentors"]) == []


@pytest.mark.parametrize("page", ["accounts:roster", "matching:audit"])
def test_a_coordinator_list_shows_the_error_and_keeps_nothing(client_for, program, coordinator, resident, page):
    client = client_for(coordinator)
    url = reverse(page, args=[program.slug])

    response = client.post(url, {"q": TOO_MANY_WORDS})

    assert response.status_code == 200  # the list again, with the error beside the box
    assert response.context["form"].errors["q"]
    assert 'id="id_q_error"' in response.content.decode()
    assert not any(key.startswith("filters:") for key in client.session.keys())


def test_the_schema_documents_the_bound_and_the_400():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    for path in ["/api/v1/mentors/", "/api/v1/programs/{slug}/roster/", "/api/v1/programs/{slug}/audit/"]:
        operation = paths[path]["get"]
        q = next(p for p in operation["parameters"] if p["name"] == "q")
        assert q["schema"].get("maxLength") == SEARCH_MAX_LENGTH, path
        assert f"{SEARCH_MAX_TERMS} words" in q["description"], path
        assert "400" in operation["responses"], path
