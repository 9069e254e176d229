"""Conflicts of interest: evaluator roles, do-not-pair entries and exceptions, recorded by the
program's coordinators with reasons, and respected by requests, every mentorship start,
recommendations, the directory's scores and cohort match runs."""

import pytest

from matching.conflicts import CONFLICT, blocked_pairs
from matching.models import EvaluatorRole
from matching.services.conflicts import (
    conflict_add,
)
from tests.matching.support import _api

pytestmark = pytest.mark.django_db


PD = EvaluatorRole.Role.PROGRAM_DIRECTOR


# --- The API.


def test_the_api_records_lists_and_removes_entries(program, coordinator, resident, attending, other_attending):
    base = f"/api/v1/programs/{program.slug}"
    c = _api(coordinator)

    assert c.post(f"{base}/evaluator-roles/", {"user_id": attending.pk, "role": PD}, format="json").status_code == 201
    created = c.post(
        f"{base}/conflicts/",
        {"mentee_id": resident.pk, "mentor_id": other_attending.pk, "reason": "Spouse"},
        format="json",
    )
    assert created.status_code == 201 and created.json()["mentor"]["id"] == other_attending.pk
    granted = c.post(
        f"{base}/pairing-exceptions/",
        {"mentee_id": resident.pk, "mentor_id": attending.pk, "reason": "Chosen"},
        format="json",
    )
    assert granted.status_code == 201

    assert [r["role"] for r in c.get(f"{base}/evaluator-roles/").json()["results"]] == [PD]
    assert [e["reason"] for e in c.get(f"{base}/conflicts/").json()["results"]] == ["Spouse"]

    conflict_id = created.json()["id"]
    refused = c.post(f"{base}/conflicts/{conflict_id}/remove/", {}, format="json")
    assert refused.status_code == 400 and "reason" in refused.json()
    assert c.post(f"{base}/conflicts/{conflict_id}/remove/", {"reason": "Wrong pair"}, format="json").status_code == 204
    assert c.get(f"{base}/conflicts/").json()["results"] == []


def test_the_api_refuses_bad_input_by_field(program, coordinator, resident, attending):
    c = _api(coordinator)
    response = c.post(
        f"/api/v1/programs/{program.slug}/conflicts/",
        {"mentee_id": resident.pk, "mentor_id": attending.pk, "reason": ""},
        format="json",
    )
    assert response.status_code == 400 and "reason" in response.json()
    missing = c.post(
        f"/api/v1/programs/{program.slug}/evaluator-roles/", {"user_id": 999999, "role": PD}, format="json"
    )
    assert missing.status_code == 400 and "user_id" in missing.json()


@pytest.mark.parametrize("who", ["other_coordinator", "resident", "attending"])
def test_the_api_is_the_programs_coordinators_only(request, program, coordinator, who, resident, attending):
    entry, _ = conflict_add(program=program, actor=coordinator, mentee=resident, mentor=attending, reason="Spouse")
    c = _api(request.getfixturevalue(who))
    base = f"/api/v1/programs/{program.slug}"
    # core/access.py: the program's members know it exists (403); others do not (404).
    refused = 404 if who == "other_coordinator" else 403
    assert c.get(f"{base}/conflicts/").status_code == refused
    assert c.post(f"{base}/conflicts/{entry.pk}/remove/", {"reason": "x"}, format="json").status_code == refused
    assert (
        c.post(f"{base}/evaluator-roles/", {"user_id": attending.pk, "role": PD}, format="json").status_code == refused
    )
    assert blocked_pairs([resident.pk], [attending.pk]) == {(resident.pk, attending.pk): CONFLICT}
