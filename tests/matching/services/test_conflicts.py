"""Conflicts of interest: evaluator roles, do-not-pair entries and exceptions, recorded by the
program's coordinators with reasons, and respected by requests, every mentorship start,
recommendations, the directory's scores and cohort match runs."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEntry
from matching.conflicts import blocked_pairs
from matching.models import EvaluatorRole, Mentorship, MentorshipRequest
from matching.services.conflicts import (
    conflict_add,
    conflict_remove,
    evaluator_role_add,
    evaluator_role_remove,
    exception_grant,
    exception_revoke,
)
from matching.services.requests import request_create
from tests.matching.factories import MentorshipFactory

pytestmark = pytest.mark.django_db


PD = EvaluatorRole.Role.PROGRAM_DIRECTOR


def _ask(resident, mentor):
    return request_create(mentee=resident, mentor=mentor, kind="career", message="Hello")


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
