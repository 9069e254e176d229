"""Conflicts of interest: evaluator roles, do-not-pair entries and exceptions, recorded by the
program's coordinators with reasons, and respected by requests, every mentorship start,
recommendations, the directory's scores and cohort match runs."""

import pytest
from django.core.exceptions import ValidationError

from matching import recommendations
from matching.conflicts import CONFLICT, EVALUATOR, blocked_pairs
from matching.match_runs.services import match_run_create
from matching.models import EvaluatorRole, MatchRun, Mentorship, MentorshipRequest
from matching.services.conflicts import (
    conflict_add,
    evaluator_role_add,
    exception_grant,
)
from matching.services.mentorships import mentorship_create
from matching.services.requests import request_accept, request_create

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
    # Told only that the pairing is not available, as the conflicts page promises.
    assert "cannot be paired: this pairing is not available" in message
    assert "conflict" not in message
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
    with pytest.raises(ValidationError, match="this pairing is not available") as refused:
        request_accept(request=request, actor=attending)
    assert "conflict" not in refused.value.messages[0]  # the mentor learns no more than that
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
