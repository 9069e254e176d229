"""Program health: every figure against values worked out by hand on fixed data, the
check-in anonymity threshold, and a coordinator of one program seeing nothing of another.

The fixed world (``world``), "now" being Thursday 2026-10-15 12:00 UTC, so the academic
year 2026–27 runs from 2026-07-01 04:00 UTC (midnight in New York, the program's zone):

Internal Medicine (``program``), residents and their active mentorships:
    Alice PGY-1  career ← Carol (since Jun 1; met Jul 10 and Sep 20)
    Bob   PGY-1  career ← Carol (since Jul 16; never met)                 stale, 91 days
    Eve   PGY-1  —       (career with Mia ended Aug 31, re-match asked)   waiting
    Finn  PGY-2  research ← Dave (since Aug 1; met Aug 10, a later one cancelled)  stale, 65 days
    Gina  PGY-2  career ← Dave (since Sep 1; a meeting proposed)
    Hank  PGY-3  wellness ← Mia (since Sep 20; one confirmed for Oct 20)
    Ivy   (year not set) — (wellness with Ned ended Feb 1, re-match asked) waiting
Mentors: Carol 2/2 (full), Dave 2/1 (over), Mia 1/1 (full), Ned 0/3 accepting, Pia 0/2 not accepting.

General Surgery (``other_program``): Olivia ← Zed, with a request, a meeting and a
check-in whose comment is "B-secret-comment": none of it may show up in program A.
"""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- The API.


def test_api_returns_the_same_figures(world, program, coordinator, frozen):
    response = api(coordinator).get(f"/api/v1/programs/{program.slug}/health/")
    assert response.status_code == 200
    data = response.json()

    assert data["program"] == {"slug": program.slug, "name": program.name}
    assert (
        data["period"]["academic_year"] == 2026 and data["period"]["label"] == "2026–27" and data["period"]["pgy"] == ""
    )
    assert data["academic_years"] == [
        {"academic_year": 2026, "label": "2026–27"},
        {"academic_year": 2025, "label": "2025–26"},
    ]
    assert data["pgy_years"] == ["PGY-1", "PGY-2", "PGY-3"]
    total = data["coverage"]["total"]
    assert (total["residents"], total["without_mentor_count"]) == (7, 2)
    assert [p["full_name"] for p in total["without_mentor"]] == ["Eve Evans", "Ivy Ingram"]
    assert data["mentor_load"]["open_spots"] == 3 and data["mentor_load"]["mentors"][0]["status"] == "over"
    assert data["stale"]["count"] == 2 and data["stale"]["stale_after_days"] == 60
    assert data["stale"]["pairings"][0]["mentorship_id"] == world.m2.pk
    assert (data["rematch"]["requested"], data["rematch"]["waiting"]) == (1, 2)
    assert data["requests"]["sent"] == 7 and data["requests"]["median_answer_hours"] == 42.0
    assert data["meetings"]["held"] == 4 and data["meetings"]["per_pairing_month"] == pytest.approx(0.30236, abs=1e-5)
    assert data["satisfaction"]["overall"] == {
        "key": "all",
        "label": "All check-ins",
        "responses": 10,
        "average": 3.6,
        "hidden": False,
        "hidden_reason": "",
        "hidden_text": "",
    }
    research = data["satisfaction"]["by_kind"][1]
    assert (research["responses"], research["average"], research["hidden_reason"]) == (2, None, "few")
    assert data["satisfaction"]["distribution"] == [1, 1, 2, 3, 3]
    assert "We never meet" not in response.content.decode()  # comments have their own endpoint


def test_api_filters_and_refuses_unknown_ones(world, program, coordinator, frozen):
    data = api(coordinator).get(f"/api/v1/programs/{program.slug}/health/?academic_year=2026&pgy=PGY-1").json()
    assert data["period"]["pgy"] == "PGY-1" and data["requests"]["sent"] == 3
    assert data["satisfaction"]["by_side"][0]["hidden_reason"] == "complement"

    bad = api(coordinator).get(f"/api/v1/programs/{program.slug}/health/?academic_year=2019&pgy=PGY-9")
    assert bad.status_code == 400 and set(bad.json()) == {"academic_year", "pgy"}


def test_api_lists_comments_for_coordinators_without_ratings(world, program, coordinator, frozen):
    response = api(coordinator).get(f"/api/v1/programs/{program.slug}/health/comments/")
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 3
    first = data["results"][0]
    assert (
        first["comment"] == "We never meet"
        and first["author"]["full_name"] == "Bob Brown"
        and first["side"] == "resident"
    )
    assert (
        first["mentorship_id"] == world.m2.pk and first["mentor"]["full_name"] == "Carol Chen" and "rating" not in first
    )

    last_year = api(coordinator).get(f"/api/v1/programs/{program.slug}/health/comments/?academic_year=2025").json()
    assert last_year["count"] == 0  # Alice's June check-in had no comment
