"""Conflicts of interest: evaluator roles, do-not-pair entries and exceptions, recorded by the
program's coordinators with reasons, and respected by requests, every mentorship start,
recommendations, the directory's scores and cohort match runs."""

import pytest

from audit.models import AuditEntry
from matching.conflicts import CONFLICT, blocked_pairs
from matching.models import EvaluatorRole
from matching.services.conflicts import (
    conflict_add,
)
from tests.matching.factories import MentorshipFactory

pytestmark = pytest.mark.django_db


PD = EvaluatorRole.Role.PROGRAM_DIRECTOR


# --- The coordinator's page.


def _url(program, *parts):
    from django.urls import reverse

    if not parts:
        return reverse("matching:conflicts", args=[program.slug])
    if len(parts) == 1:
        return reverse("matching:conflicts-add", args=[program.slug, parts[0]])
    return reverse("matching:conflicts-remove", args=[program.slug, *parts])


def test_the_page_records_and_lists_each_kind_of_entry(
    client_for, program, coordinator, resident, attending, other_attending
):
    c = client_for(coordinator)
    assert "No evaluator roles recorded yet" in c.get(_url(program)).content.decode()

    c.post(_url(program, "role"), {"role-user": attending.pk, "role-role": PD})
    c.post(
        _url(program, "conflict"), {"coi-mentee": resident.pk, "coi-mentor": other_attending.pk, "coi-reason": "Spouse"}
    )
    response = c.post(
        _url(program, "exception"),
        {"exc-mentee": resident.pk, "exc-mentor": attending.pk, "exc-reason": "Her choice"},
        follow=True,
    )

    body = response.content.decode()
    assert f"{attending.full_name} may mentor {resident.full_name}" in body
    assert "Program director" in body and "Spouse" in body and "Her choice" in body
    assert blocked_pairs([resident.pk], [attending.pk, other_attending.pk]) == {
        (resident.pk, other_attending.pk): CONFLICT
    }


def test_a_refused_entry_shows_the_error_by_its_field_and_keeps_the_input(
    client_for, program, coordinator, resident, attending
):
    response = client_for(coordinator).post(
        _url(program, "conflict"), {"coi-mentee": resident.pk, "coi-mentor": attending.pk, "coi-reason": ""}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Give the reason" in body
    assert f'<option value="{resident.pk}" selected>' in body


def test_removing_a_conflict_needs_a_reason(client_for, program, coordinator, resident, attending):
    entry, _ = conflict_add(program=program, actor=coordinator, mentee=resident, mentor=attending, reason="Spouse")
    c = client_for(coordinator)

    refused = c.post(_url(program, "conflict", entry.pk), {"reason": ""}, follow=True)
    assert "Give the reason" in refused.content.decode()
    c.post(_url(program, "conflict", entry.pk), {"reason": "Divorced"})

    assert blocked_pairs([resident.pk], [attending.pk]) == {}
    assert AuditEntry.objects.filter(action="conflict.remove", reason="Divorced").exists()


def test_adding_a_conflict_over_an_active_mentorship_warns(client_for, program, coordinator, resident, attending):
    MentorshipFactory(mentee=resident, mentor=attending, program=program)
    response = client_for(coordinator).post(
        _url(program, "conflict"),
        {"coi-mentee": resident.pk, "coi-mentor": attending.pk, "coi-reason": "x"},
        follow=True,
    )
    assert "still have an active mentorship" in response.content.decode()


@pytest.mark.parametrize("who", ["other_coordinator", "resident", "attending", "outsider"])
def test_the_page_is_the_programs_coordinators_only(
    request, client_for, program, coordinator, who, resident, attending
):
    entry, _ = conflict_add(program=program, actor=coordinator, mentee=resident, mentor=attending, reason="Spouse")
    c = client_for(request.getfixturevalue(who))
    # core/access.py: the program's members know it exists (403); others do not (404).
    refused = 404 if who in ("other_coordinator", "outsider") else 403
    assert c.get(_url(program)).status_code == refused
    assert c.post(_url(program, "conflict", entry.pk), {"reason": "x"}).status_code == refused
    assert c.post(_url(program, "role"), {"role-user": attending.pk, "role-role": PD}).status_code == refused
    assert blocked_pairs([resident.pk], [attending.pk]) == {(resident.pk, attending.pk): CONFLICT}


def test_an_unknown_kind_is_a_404(client_for, program, coordinator):
    assert client_for(coordinator).post(_url(program, "nonsense")).status_code == 404
    assert client_for(coordinator).post(_url(program, "nonsense", 1)).status_code == 404
