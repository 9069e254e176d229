"""Conflicts of interest: evaluator roles, do-not-pair entries and exceptions, recorded by the
program's coordinators with reasons, and respected by requests, every mentorship start,
recommendations, the directory's scores and cohort match runs."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEntry
from matching import recommendations
from matching.conflicts import CONFLICT, EVALUATOR, blocked_pairs
from matching.match_runs.services import match_run_create
from matching.models import EvaluatorRole, MatchRun, Mentorship, MentorshipRequest
from matching.services.conflicts import (
    conflict_add,
    conflict_remove,
    evaluator_role_add,
    evaluator_role_remove,
    exception_grant,
    exception_revoke,
)
from matching.services.mentorships import mentorship_create
from matching.services.requests import request_accept, request_create
from tests.matching.factories import MentorshipFactory

pytestmark = pytest.mark.django_db

PD = EvaluatorRole.Role.PROGRAM_DIRECTOR


def _ask(resident, mentor):
    return request_create(mentee=resident, mentor=mentor, kind="career", message="Hello")


def _start(resident, mentor, program):
    return mentorship_create(
        mentee=resident, mentor=mentor, program=program, kind="career", source=Mentorship.Source.COORDINATOR, actor=None
    )


# --- What is blocked.


def test_an_evaluator_is_kept_from_every_resident_of_their_program_only(
    program, other_program, coordinator, resident, other_resident, attending, outsider
):
    assert outsider.memberships.get().program == other_program  # a resident elsewhere
    evaluator_role_add(program=program, actor=coordinator, user=attending, role=PD)

    blocked = blocked_pairs([resident.pk, other_resident.pk, outsider.pk], [attending.pk])

    assert blocked == {(resident.pk, attending.pk): EVALUATOR, (other_resident.pk, attending.pk): EVALUATOR}


def test_an_exception_lifts_the_evaluator_rule_for_one_pair_but_not_a_do_not_pair_entry(
    program, coordinator, resident, other_resident, attending
):
    evaluator_role_add(program=program, actor=coordinator, user=attending, role=PD)
    exception_grant(
        program=program, actor=coordinator, mentee=resident, mentor=attending, reason="Chosen by the resident"
    )

    assert blocked_pairs([resident.pk, other_resident.pk], [attending.pk]) == {
        (other_resident.pk, attending.pk): EVALUATOR
    }

    conflict_add(program=program, actor=coordinator, mentee=resident, mentor=attending, reason="Family relation")
    assert blocked_pairs([resident.pk], [attending.pk]) == {(resident.pk, attending.pk): CONFLICT}


def test_blocked_pairs_costs_four_queries_whatever_the_cohort(
    program, coordinator, resident, other_resident, attending, other_attending, django_assert_num_queries
):
    evaluator_role_add(program=program, actor=coordinator, user=attending, role=PD)
    conflict_add(program=program, actor=coordinator, mentee=resident, mentor=other_attending, reason="Spouse")
    # evaluator roles, residents of their programs, exceptions, do-not-pair entries
    with django_assert_num_queries(4):
        blocked_pairs([resident.pk, other_resident.pk], [attending.pk, other_attending.pk])


# --- Where it is respected.


def test_a_resident_cannot_request_a_mentor_they_have_a_conflict_with(program, coordinator, resident, attending):
    conflict_add(program=program, actor=coordinator, mentee=resident, mentor=attending, reason="Former partner")

    with pytest.raises(ValidationError) as exc:
        _ask(resident, attending)
    message = exc.value.messages[0]
    assert "cannot be paired: a conflict of interest is on record" in message
    assert "Former partner" not in message  # the reason stays with coordinators


def test_recording_a_conflict_closes_the_pending_request_and_tells_the_resident_only_that(
    program, coordinator, resident, attending
):
    request = _ask(resident, attending)

    conflict_add(program=program, actor=coordinator, mentee=resident, mentor=attending, reason="Former partner")

    request.refresh_from_db()
    assert request.status == MentorshipRequest.Status.CLOSED
    assert "not available" in request.response_note and "partner" not in request.response_note
    note = resident.notifications.get(event="request.closed")
    assert "partner" not in note.body.lower()


def test_no_mentorship_starts_across_an_evaluator_role_until_an_exception_is_granted(
    program, coordinator, resident, attending
):
    evaluator_role_add(program=program, actor=coordinator, user=attending, role=PD)
    with pytest.raises(ValidationError, match="evaluates residents of"):
        _start(resident, attending, program)

    exception_grant(program=program, actor=coordinator, mentee=resident, mentor=attending, reason="Resident's choice")
    assert _start(resident, attending, program).mentor == attending


def test_an_accept_is_refused_when_a_conflict_was_recorded_after_the_request(program, coordinator, resident, attending):
    request = _ask(resident, attending)
    # Recorded behind the services' back, so the request is still pending.
    from matching.models import ConflictOfInterest

    ConflictOfInterest.objects.create(program=program, mentee=resident, mentor=attending, reason="x")
    with pytest.raises(ValidationError, match="conflict of interest"):
        request_accept(request=request, actor=attending)
    assert not Mentorship.objects.exists()


def test_recommendations_and_directory_scores_leave_blocked_mentors_out(
    program, coordinator, resident, attending, other_attending
):
    me = recommendations.mentee_record(resident.mentee_profile)
    records = [recommendations.mentor_record(u.mentor_profile) for u in (attending, other_attending)]
    assert set(recommendations.scores_for(me, records)) == {attending.pk, other_attending.pk}

    evaluator_role_add(program=program, actor=coordinator, user=attending, role=PD)

    assert set(recommendations.scores_for(me, records)) == {other_attending.pk}
    assert [r.mentor_id for r in recommendations.recommendations_for(me, records)] == [other_attending.pk]


def test_a_match_run_never_proposes_a_blocked_pair(
    program, coordinator, resident, attending, other_attending, django_capture_on_commit_callbacks
):
    conflict_add(program=program, actor=coordinator, mentee=resident, mentor=attending, reason="Co-author dispute")
    other_attending.mentor_profile.capacity = 0
    other_attending.mentor_profile.save()

    with django_capture_on_commit_callbacks(execute=True):
        run = match_run_create(
            program=program,
            actor=coordinator,
            kind="career",
            algorithm="optimal",
            mentee_ids=[resident.pk],
            mentor_ids=[attending.pk, other_attending.pk],
        )
    run.refresh_from_db()

    assert run.status == MatchRun.Status.SUCCEEDED
    proposal = run.proposals.get()
    assert proposal.mentor is None
    assert proposal.why_not == "no mentor with a spot could be paired with the resident"


# --- Who may record it, and the trail it leaves.


def test_only_the_programs_coordinators_record_conflicts(program, other_coordinator, resident, attending):
    with pytest.raises(PermissionDenied):
        conflict_add(program=program, actor=other_coordinator, mentee=resident, mentor=attending, reason="x")
    with pytest.raises(PermissionDenied):
        evaluator_role_add(program=program, actor=attending, user=attending, role=PD)
    with pytest.raises(PermissionDenied):
        exception_grant(program=program, actor=resident, mentee=resident, mentor=attending, reason="x")


def test_inputs_are_checked(program, coordinator, resident, attending, outsider):
    with pytest.raises(ValidationError) as exc:
        conflict_add(program=program, actor=coordinator, mentee=resident, mentor=attending, reason="  ")
    assert "reason" in exc.value.message_dict
    with pytest.raises(ValidationError, match="not a resident of"):
        conflict_add(program=program, actor=coordinator, mentee=outsider, mentor=attending, reason="x")
    with pytest.raises(ValidationError, match="not faculty of"):
        evaluator_role_add(program=program, actor=coordinator, user=resident, role=PD)
    with pytest.raises(ValidationError, match="no evaluator role"):
        exception_grant(program=program, actor=coordinator, mentee=resident, mentor=attending, reason="x")
    evaluator_role_add(program=program, actor=coordinator, user=attending, role=PD)
    with pytest.raises(ValidationError, match="already has this role"):
        evaluator_role_add(program=program, actor=coordinator, user=attending, role=PD)


def test_an_existing_mentorship_is_reported_not_ended(program, coordinator, resident, attending):
    mentorship = MentorshipFactory(mentee=resident, mentor=attending, program=program)

    _, active = conflict_add(program=program, actor=coordinator, mentee=resident, mentor=attending, reason="x")

    assert active == [mentorship]
    mentorship.refresh_from_db()
    assert mentorship.status == Mentorship.Status.ACTIVE


def test_every_change_is_in_the_audit_trail_with_its_reason(program, coordinator, resident, attending):
    role, _ = evaluator_role_add(program=program, actor=coordinator, user=attending, role=PD)
    exception = exception_grant(program=program, actor=coordinator, mentee=resident, mentor=attending, reason="Chosen")
    conflict, _ = conflict_add(program=program, actor=coordinator, mentee=resident, mentor=attending, reason="Spouse")
    conflict_remove(entry=conflict, actor=coordinator, reason="Entered by mistake")
    exception_revoke(entry=exception, actor=coordinator, reason="No longer needed")
    evaluator_role_remove(entry=role, actor=coordinator, reason="Stepped down")

    trail = list(
        AuditEntry.objects.filter(program=program, actor=coordinator).order_by("id").values_list("action", "reason")
    )
    assert trail == [
        ("evaluator_role.add", ""),
        ("exception.grant", "Chosen"),
        ("conflict.add", "Spouse"),
        ("conflict.remove", "Entered by mistake"),
        ("exception.revoke", "No longer needed"),
        ("evaluator_role.remove", "Stepped down"),
    ]
    assert blocked_pairs([resident.pk], [attending.pk]) == {}


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


# --- The API.


def _api(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


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


def test_an_evaluator_role_closes_every_pending_request_it_now_forbids_and_no_other(
    program, coordinator, resident, other_resident, attending, other_attending
):
    to_carol = [_ask(resident, attending), _ask(other_resident, attending)]
    to_dave = _ask(resident, other_attending)

    evaluator_role_add(program=program, actor=coordinator, user=attending, role=PD)

    for request in to_carol:
        request.refresh_from_db()
        assert request.status == MentorshipRequest.Status.CLOSED
    to_dave.refresh_from_db()
    assert to_dave.status == MentorshipRequest.Status.PENDING
    assert resident.notifications.filter(event="request.closed").count() == 1
