"""The mentoring portfolio: figures over a period, the mentor's own only, as a page, a CSV and JSON.

Everyone is in America/New_York (UserFactory). The period is the academic year July 1, 2024 –
June 30, 2025; its edges are New York days, so 03:30 UTC on July 1 (11:30 p.m. on June 30
there) is outside it at the start and inside it at the end.
"""

import pytest
from rest_framework.test import APIClient

from tests.matching.portfolio_world import PERIOD
from tests.matching.support import _api

pytestmark = pytest.mark.django_db


# --- The API.


def test_the_api_returns_the_same_record(record, attending):
    body = _api(attending).get("/api/v1/me/portfolio/", PERIOD).json()
    assert (body["mentor"], body["rank"], body["start"], body["end"]) == (
        attending.full_name,
        "Associate Professor",
        "2024-07-01",
        "2025-06-30",
    )
    assert body["totals"] == {
        "mentees": 3,
        "meetings_held": 4,
        "hours": "3.08",
        "goals_reached": 2,
        "thank_you_notes": 2,
    }
    assert [m["minutes"] for m in body["meetings"]] == [30, 90, 45, 20]


def test_the_api_is_for_mentors_and_checks_dates(resident, attending):
    assert _api(resident).get("/api/v1/me/portfolio/").status_code == 404
    assert _api(attending).get("/api/v1/me/portfolio/", {"from": "2025-02-30"}).status_code == 400
    bad = _api(attending).get("/api/v1/me/portfolio/", {"from": "2025-03-01", "to": "2025-01-01"})
    assert bad.status_code == 400 and "to" in bad.json()
    assert APIClient().get("/api/v1/me/portfolio/").status_code in (401, 403)
