"""A resident who gets a mentor of a kind (a request accepted, a coordinator's pairing, a published
match) can have no other request of that kind accepted: those close at once, saying why, and their
mentors are told. Requests of another kind stay open. (Issue 15's walkthrough: after a publish, a
matched resident's request to another mentor still offered "Accept", and nobody was told.)"""

import pytest
from django.core.exceptions import ValidationError

from matching.match_runs.services import match_run_publish, proposal_decide
from matching.models import MatchProposal, MentorshipRequest, Notification
from matching.services.pairings import pairing_create
from matching.services.requests import request_accept, requests_close_for_paired
from tests.matching.support import _ask, _mentor

pytestmark = pytest.mark.django_db

Status = MentorshipRequest.Status


@pytest.fixture
def asked(program, resident, attending):
    """Alice asked Carol, Dana and Eve for a career mentor, and Eve for a research one too."""
    dana = _mentor(program, "Dana", "Diaz")
    eve = _mentor(program, "Eve", "Evans")
    return {
        "carol": _ask(resident, attending),
        "dana": _ask(resident, dana),
        "eve_research": _ask(resident, eve, kind="research"),
    }


def _statuses(asked):
    return {name: MentorshipRequest.objects.get(pk=r.pk).status for name, r in asked.items()}


def test_accepting_one_closes_the_others_of_that_kind_and_tells_their_mentors(asked, attending, resident):
    request_accept(request=asked["carol"], actor=attending)

    assert _statuses(asked) == {"carol": Status.ACCEPTED, "dana": Status.CLOSED, "eve_research": Status.PENDING}
    closed = MentorshipRequest.objects.get(pk=asked["dana"].pk)
    assert closed.response_note == "Alice Adams now has a career mentor."
    told = Notification.objects.get(user=closed.mentor, event="request.closed")
    assert "Alice Adams found a career mentor" in told.title
    # The closed request could not have been accepted anyway: one mentor of each kind.
    with pytest.raises(ValidationError):
        request_accept(request=closed, actor=closed.mentor)


def test_a_coordinators_pairing_closes_them_too(asked, program, coordinator, resident, other_attending):
    pairing_create(
        program=program, actor=coordinator, mentee=resident, mentor=other_attending, kind="career", reason="Fit"
    )

    assert _statuses(asked) == {"carol": Status.CLOSED, "dana": Status.CLOSED, "eve_research": Status.PENDING}


def test_a_published_match_closes_them_too(
    asked, program, coordinator, resident, attending, django_capture_on_commit_callbacks
):
    from matching.match_runs.services import match_run_create

    with django_capture_on_commit_callbacks(execute=True):
        run = match_run_create(
            program=program,
            actor=coordinator,
            kind="career",
            algorithm="stable",
            mentee_ids=[resident.pk],
            mentor_ids=[attending.pk],
        )
    run.refresh_from_db()
    proposal = run.proposals.get(mentee=resident)
    assert proposal.mentor == attending
    proposal_decide(proposal=proposal, actor=coordinator, decision=MatchProposal.Decision.ACCEPTED)

    match_run_publish(run=run, actor=coordinator)

    # Carol's request is closed too: the match, not the request, made her Alice's mentor.
    assert _statuses(asked) == {"carol": Status.CLOSED, "dana": Status.CLOSED, "eve_research": Status.PENDING}


def test_nothing_to_close_closes_nothing(asked, resident):
    assert requests_close_for_paired(pairs=[], actor=resident) == 0
    assert requests_close_for_paired(pairs=[(resident.pk, "near_peer")], actor=resident) == 0
    assert requests_close_for_paired(pairs=[(resident.pk, "career")], actor=resident) == 2
    # A second call finds them closed already.
    assert requests_close_for_paired(pairs=[(resident.pk, "career")], actor=resident) == 0
