"""Invitations in the API: the invited person's answer and the coordinator's withdrawal."""

import pytest

pytestmark = pytest.mark.django_db


# --- API.


def test_api_lists_answers_and_refuses_a_second_answer(client_for, invitation, resident):
    client = client_for(resident)
    listed = client.get("/api/v1/me/program-invitations/").json()
    assert [(i["id"], i["program"], i["role"]) for i in listed["results"]] == [(invitation.pk, "gs", "faculty")]

    accepted = client.post(f"/api/v1/me/program-invitations/{invitation.pk}/accept/")
    again = client.post(f"/api/v1/me/program-invitations/{invitation.pk}/decline/")

    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert again.status_code == 409
    assert client.get("/api/v1/me/program-invitations/").json()["count"] == 0


def test_api_program_invitations_show_the_typed_data_and_withdraw(
    client_for, invitation, other_coordinator, coordinator
):
    oscar = client_for(other_coordinator)
    rows = oscar.get("/api/v1/programs/gs/invitations/").json()["results"]
    assert [(r["email"], r["first_name"], r["last_name"]) for r in rows] == [(invitation.email, "Alicia", "A.")]
    assert client_for(coordinator).get("/api/v1/programs/gs/invitations/").status_code == 404

    withdrawn = oscar.post(f"/api/v1/programs/gs/invitations/{invitation.pk}/withdraw/")

    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert oscar.post(f"/api/v1/programs/gs/invitations/{invitation.pk}/withdraw/").status_code == 409
