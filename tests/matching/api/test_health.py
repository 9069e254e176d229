"""Program health through the API: the figures, the anonymity threshold, and a coordinator of one program seeing nothing of another.

The fixed world, every person and date of it, is described in tests/matching/health_world.py."""

import pytest

from tests.matching.support import _api as api

pytestmark = pytest.mark.django_db


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
