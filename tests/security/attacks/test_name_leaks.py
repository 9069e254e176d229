"""Issue 11, finding 9: names leak across programs through error messages.

Oscar coordinates General Surgery. He posts the user ids of Alice (a resident of Internal
Medicine) and Carol (an attending there, listed in the directory) to every form of his own
program that takes a person: evaluator roles, do-not-pair entries, pairing exceptions and match
overrides, on the page and in the API (pairings already looked ids up among the program's
people). Before the fix the API answered, for instance, "Carol Chen is not faculty of General
Surgery Residency.": an id typed into one program's form became a name of another. Each
attempt must be refused (400, nothing recorded) without their name or e-mail in the answer.
"""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Membership
from matching.match_runs.services import proposal_override
from matching.models import ConflictOfInterest, EvaluatorRole, MatchProposal, MatchRun, PairingException
from matching.services.conflicts import conflict_add, evaluator_role_add, exception_grant
from tests.factories import MembershipFactory, MentorProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

PD = EvaluatorRole.Role.PROGRAM_DIRECTOR


def _secrets(*people):
    """What a refusal about these people must not contain."""
    return [s for p in people for s in (p.first_name, p.last_name, p.email)]


def _assert_refused_without_naming(response, *people):
    body = response.content.decode()
    assert response.status_code == 400, (response.status_code, body[:500])
    leaked = [s for s in _secrets(*people) if s.lower() in body.lower()]
    assert not leaked, f"the refusal names {leaked}: {body[:500]}"


@pytest.fixture
def gs(other_program, other_coordinator, outsider):
    """General Surgery as Oscar runs it: Olivia (resident), Gina (faculty mentor, program
    director) and a finished match run proposing Gina for Olivia."""
    gina = UserFactory(first_name="Gina", last_name="Gray", email="gina@riverside.example")
    MembershipFactory(user=gina, program=other_program, role=Membership.Role.FACULTY)
    MentorProfileFactory(user=gina)
    EvaluatorRole.objects.create(program=other_program, user=gina, role=PD, created_by=other_coordinator)
    run = MatchRun.objects.create(
        program=other_program,
        created_by=other_coordinator,
        status=MatchRun.Status.SUCCEEDED,
        progress=100,
        finished_at=timezone.now(),
    )
    run.mentees.set([outsider])
    run.mentors.set([gina])
    proposal = MatchProposal.objects.create(run=run, mentee=outsider, mentor=gina, score=50.0)
    return {
        "program": other_program,
        "oscar": other_coordinator,
        "olivia": outsider,
        "gina": gina,
        "proposal": proposal,
    }


@pytest.fixture
def oscar_api(gs):
    client = APIClient()
    client.force_authenticate(gs["oscar"])
    return client


def _nothing_recorded_in(program):
    return not (
        EvaluatorRole.objects.filter(program=program).exclude(role=PD).exists()
        or ConflictOfInterest.objects.filter(program=program).exists()
        or PairingException.objects.filter(program=program).exists()
    )


def test_an_evaluator_role_for_another_programs_person_names_nobody(client_for, gs, oscar_api, resident, attending):
    api = f"/api/v1/programs/{gs['program'].slug}/evaluator-roles/"
    page = reverse("matching:conflicts-add", args=[gs["program"].slug, "role"])

    for person in (attending, resident):
        _assert_refused_without_naming(oscar_api.post(api, {"user_id": person.pk, "role": PD}, format="json"), person)
        _assert_refused_without_naming(
            client_for(gs["oscar"]).post(page, {"role-user": person.pk, "role-role": PD}), person
        )

    assert not EvaluatorRole.objects.filter(user__in=[resident, attending]).exists()


def test_a_conflict_with_another_programs_person_names_nobody(client_for, gs, oscar_api, resident, attending):
    api = f"/api/v1/programs/{gs['program'].slug}/conflicts/"
    page = reverse("matching:conflicts-add", args=[gs["program"].slug, "conflict"])
    attempts = [(resident, gs["gina"]), (gs["olivia"], attending), (resident, attending)]

    for mentee, mentor in attempts:
        _assert_refused_without_naming(
            oscar_api.post(api, {"mentee_id": mentee.pk, "mentor_id": mentor.pk, "reason": "Spouses"}, format="json"),
            resident,
            attending,
        )
        _assert_refused_without_naming(
            client_for(gs["oscar"]).post(
                page, {"coi-mentee": mentee.pk, "coi-mentor": mentor.pk, "coi-reason": "Spouses"}
            ),
            resident,
            attending,
        )

    assert _nothing_recorded_in(gs["program"])


def test_an_exception_for_another_programs_person_names_nobody(client_for, gs, oscar_api, resident, attending):
    api = f"/api/v1/programs/{gs['program'].slug}/pairing-exceptions/"
    page = reverse("matching:conflicts-add", args=[gs["program"].slug, "exception"])
    attempts = [(resident, gs["gina"]), (gs["olivia"], attending)]

    for mentee, mentor in attempts:
        _assert_refused_without_naming(
            oscar_api.post(api, {"mentee_id": mentee.pk, "mentor_id": mentor.pk, "reason": "Known"}, format="json"),
            resident,
            attending,
        )
        _assert_refused_without_naming(
            client_for(gs["oscar"]).post(
                page, {"exc-mentee": mentee.pk, "exc-mentor": mentor.pk, "exc-reason": "Known"}
            ),
            resident,
            attending,
        )

    assert _nothing_recorded_in(gs["program"])


def test_an_override_to_another_programs_mentor_names_nobody(client_for, gs, oscar_api, attending):
    proposal = gs["proposal"]
    prefix = f"o{proposal.pk}"

    _assert_refused_without_naming(
        oscar_api.post(
            f"/api/v1/match-proposals/{proposal.pk}/override/",
            {"mentor_id": attending.pk, "note": "Better fit"},
            format="json",
        ),
        attending,
    )
    _assert_refused_without_naming(
        client_for(gs["oscar"]).post(
            reverse("matching:match-run-override", args=[proposal.run_id, proposal.pk]),
            {f"{prefix}-mentor": attending.pk, f"{prefix}-note": "Better fit"},
        ),
        attending,
    )

    proposal.refresh_from_db()
    assert proposal.decision == MatchProposal.Decision.PENDING and proposal.override_mentor_id is None


# --- The services are the last line: a caller that skipped the forms gets no name either.


def test_the_services_refuse_by_id_what_the_actor_may_not_name(gs, resident, attending):
    oscar, program = gs["oscar"], gs["program"]
    refusals = [
        lambda: evaluator_role_add(program=program, actor=oscar, user=attending, role=PD),
        lambda: conflict_add(program=program, actor=oscar, mentee=resident, mentor=gs["gina"], reason="x"),
        lambda: conflict_add(program=program, actor=oscar, mentee=gs["olivia"], mentor=resident, reason="x"),
        lambda: exception_grant(program=program, actor=oscar, mentee=gs["olivia"], mentor=attending, reason="x"),
        lambda: proposal_override(proposal=gs["proposal"], actor=oscar, mentor=attending, note="x"),
    ]
    for refuse in refusals:
        with pytest.raises(ValidationError) as exc:
            refuse()
        text = " ".join(exc.value.messages)
        assert not [s for s in _secrets(resident, attending) if s in text], text
        assert "#" in text  # by id instead: the caller typed it


def test_control_a_coordinator_is_told_the_names_of_their_own_programs_people(program, coordinator, resident):
    with pytest.raises(ValidationError, match=f"{resident.full_name} is not faculty of"):
        evaluator_role_add(program=program, actor=coordinator, user=resident, role=PD)
