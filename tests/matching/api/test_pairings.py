"""Pairings: a coordinator lists a program's mentorships with filters, pairs a resident
directly, ends a pairing and reassigns a resident, with reasons, audited and told; exports
exactly what the list selects; and sees nothing of another program, on the page, in the
CSV or through the API."""

import pytest

from matching.services.pairings import ENDED_FOR_PAIR
from tests.matching.support import _capacity

pytestmark = pytest.mark.django_db


# --- API.


def test_the_api_pairs_ends_and_reassigns_with_the_services_refusals(
    client_for, coordinator, program, resident, other_resident, attending, other_attending
):
    client = client_for(coordinator)
    api = f"/api/v1/programs/{program.slug}/pairings/"

    created = client.post(
        api,
        {"mentee_id": resident.pk, "mentor_id": attending.pk, "kind": "career", "reason": "Fit"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (
        body["mentee"]["full_name"],
        body["mentee"]["pgy"],
        body["mentor"]["id"],
        body["source"],
        body["status"],
    ) == (
        "Alice Adams",
        "PGY-1",
        attending.pk,
        "coordinator",
        "active",
    )
    pk = body["id"]

    no_reason = client.post(f"{api}{pk}/reassign/", {"mentor_id": other_attending.pk}, content_type="application/json")
    assert no_reason.status_code == 400 and list(no_reason.json()) == ["reason"]

    _capacity(other_attending, 0)
    full = client.post(
        f"{api}{pk}/reassign/", {"mentor_id": other_attending.pk, "reason": "Closer"}, content_type="application/json"
    )
    assert full.status_code == 400
    assert full.json() == {"mentor": ["Dave Diaz has no open spot left (0 of 0 taken)."]}

    _capacity(other_attending, 2)
    moved = client.post(
        f"{api}{pk}/reassign/", {"mentor_id": other_attending.pk, "reason": "Closer"}, content_type="application/json"
    )
    assert moved.status_code == 201 and moved.json()["mentor"]["id"] == other_attending.pk

    new_pk = moved.json()["id"]
    ended = client.post(f"{api}{new_pk}/end/", {"reason": "Graduated"}, content_type="application/json")
    assert ended.status_code == 200 and ended.json()["status"] == "ended"
    assert ended.json()["end_reason"] == ENDED_FOR_PAIR  # "Graduated" is in the audit trail only
    again = client.post(f"{api}{new_pk}/end/", {"reason": "Graduated"}, content_type="application/json")
    assert again.status_code == 409 and again.json() == {"detail": "This pairing has already ended."}


def test_the_api_refuses_a_mentee_who_is_not_a_resident_of_the_program(
    client_for, coordinator, program, outsider, attending
):
    response = client_for(coordinator).post(
        f"/api/v1/programs/{program.slug}/pairings/",
        {"mentee_id": outsider.pk, "mentor_id": attending.pk, "kind": "career", "reason": "Fit"},
        content_type="application/json",
    )
    assert response.status_code == 400 and list(response.json()) == ["mentee_id"]
    assert "Olivia" not in response.content.decode()


def test_the_api_wants_a_kind_for_unpaired_residents(client_for, coordinator, program):
    response = client_for(coordinator).get(f"/api/v1/programs/{program.slug}/unpaired-residents/")
    assert response.status_code == 400 and list(response.json()) == ["kind"]
