"""Coordinators reviewing one match run at the same moment, on PostgreSQL.

Every decision on a run (accept, reject, override) and its publish lock the run's row
first (``core.locking``), so they queue: two overrides of one proposal both apply, one
after the other, and the audit trail shows the chain (the second's "before" is the
first's "after"); an override and an accept cannot both take a mentor's last spot; a
decision arriving during a publish waits and is refused. Each test holds the first
call inside its transaction, after its checks (``tests.integration.races``); each
control takes the run lock away (``unlock(MatchRun)``), and nothing else, and shows the race happens.
"""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Membership
from audit.models import AuditEntry
from matching.match_runs import services
from matching.match_runs.services import (
    match_run_accept_pending,
    match_run_create,
    match_run_publish,
    proposal_decide,
    proposal_override,
)
from matching.models import MatchProposal, MatchRun, Mentorship
from tests.factories import MembershipFactory, MenteeProfileFactory, MentorProfileFactory, ProgramFactory, UserFactory
from tests.integration.races import hold_step, overlap

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

Decision = MatchProposal.Decision


def _member(program, role):
    user = UserFactory()
    MembershipFactory(user=user, program=program, role=role)
    return user


@pytest.fixture
def run(settings):
    """A finished run of 2 residents and 3 mentors with one spot each; nothing decided yet."""
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the run executes on commit, in-process
    program = ProgramFactory()
    coordinators = [_member(program, Membership.Role.COORDINATOR) for _ in range(2)]
    residents = [_member(program, Membership.Role.RESIDENT) for _ in range(2)]
    for user in residents:
        MenteeProfileFactory(user=user)
    mentors = [_member(program, Membership.Role.FACULTY) for _ in range(3)]
    for user in mentors:
        MentorProfileFactory(user=user, capacity=1)
    created = match_run_create(
        program=program,
        actor=coordinators[0],
        kind="career",
        algorithm="optimal",
        mentee_ids=[u.pk for u in residents],
        mentor_ids=[u.pk for u in mentors],
    )
    run = MatchRun.objects.get(pk=created.pk)
    assert run.status == MatchRun.Status.SUCCEEDED
    first, second = MatchProposal.objects.filter(run=run).order_by("pk")
    assert first.mentor_id and second.mentor_id  # both residents were matched
    spare = next(m for m in mentors if m.pk not in (first.mentor_id, second.mentor_id))
    return run, coordinators, first, second, spare


def _trail(proposal):
    return list(AuditEntry.objects.filter(object_type="matchproposal", object_id=str(proposal.pk)).order_by("pk"))


# --- Two coordinators override the same proposal.


def _override_twice(monkeypatch, run_, coordinators, proposal, targets):
    hold = hold_step(monkeypatch, services, "_decide")  # held after the checks, before the write
    return overlap(
        *[
            lambda c=c, t=t: proposal_override(proposal=proposal, actor=c, mentor=t, note=f"Moved by {c.full_name}")
            for c, t in zip(coordinators, targets, strict=True)
        ],
        hold=hold,
    )


def test_two_overrides_of_one_proposal_apply_in_turn_and_the_trail_shows_both(run, monkeypatch):
    run_, coordinators, first, second, spare = run
    # The first moves the resident to the spare mentor, the second to the other proposal's
    # mentor (free once that proposal is rejected).
    proposal_decide(proposal=second, actor=coordinators[0], decision=Decision.REJECTED)
    targets = [spare, second.mentor]

    outcomes, errors, blocked = _override_twice(monkeypatch, run_, coordinators, first, targets)

    assert errors == [] and blocked == 1 and outcomes == ["ok", "ok"]
    first.refresh_from_db()
    # The last writer wins, with its own note: no mix of the two.
    assert (first.override_mentor_id, first.decision_note) == (targets[1].pk, f"Moved by {coordinators[1].full_name}")
    one, two = _trail(first)
    assert one.before["mentor"] == first.mentor_id and one.after["mentor"] == spare.pk
    assert two.before["mentor"] == spare.pk and two.after["mentor"] == targets[1].pk
    assert (one.actor_id, two.actor_id) == (coordinators[0].pk, coordinators[1].pk)


def test_control_without_the_run_lock_the_trail_hides_the_first_override(run, monkeypatch, unlock):
    run_, coordinators, first, second, spare = run
    proposal_decide(proposal=second, actor=coordinators[0], decision=Decision.REJECTED)
    targets = [spare, second.mentor]
    unlock(MatchRun)

    outcomes, errors, blocked = _override_twice(monkeypatch, run_, coordinators, first, targets)

    assert errors == [] and blocked == 0 and outcomes == ["ok", "ok"]
    first.refresh_from_db()
    assert first.override_mentor_id == spare.pk  # the held one wrote last
    # Both entries say they changed the engine's proposal: the trail no longer says that
    # the second coordinator's override was replaced, nor by whom.
    one, two = _trail(first)
    assert one.before["mentor"] == two.before["mentor"] == first.mentor_id


# --- An override and an accept (as "accept all" does, one proposal at a time) want the same last spot.


def _override_and_accept(monkeypatch, coordinators, first, second):
    # A pending proposal holds its mentor's spot (an override onto it must make room), so the
    # second proposal is rejected first: its spot is free, and both calls now want it.
    proposal_decide(proposal=second, actor=coordinators[1], decision=Decision.REJECTED)
    hold = hold_step(monkeypatch, services, "_decide")
    return overlap(
        lambda: proposal_override(proposal=first, actor=coordinators[0], mentor=second.mentor, note="Research fit"),
        lambda: proposal_decide(proposal=second, actor=coordinators[1], decision=Decision.ACCEPTED),
        hold=hold,
    )


def _given_to(run_, mentor):
    return (
        MatchProposal.objects.filter(run=run_, decision=Decision.ACCEPTED, mentor=mentor).count()
        + MatchProposal.objects.filter(run=run_, decision=Decision.OVERRIDDEN, override_mentor=mentor).count()
    )


def test_an_override_and_an_accept_cannot_both_take_the_last_spot(run, monkeypatch):
    run_, coordinators, first, second, _ = run

    (overridden, accepted), errors, blocked = _override_and_accept(monkeypatch, coordinators, first, second)

    assert errors == [] and blocked == 1 and overridden == "ok"
    assert accepted.startswith(f"{second.mentor.full_name} has no spot left in this match (1 of 1 spot taken")
    assert _given_to(run_, second.mentor) == 1
    assert match_run_publish(run=run_, actor=coordinators[0])  # what was decided can be published


def test_control_without_the_run_lock_the_last_spot_is_given_twice(run, monkeypatch, unlock):
    run_, coordinators, first, second, _ = run
    unlock(MatchRun)

    (overridden, accepted), errors, blocked = _override_and_accept(monkeypatch, coordinators, first, second)

    assert errors == [] and blocked == 0 and (overridden, accepted) == ("ok", "ok")
    assert _given_to(run_, second.mentor) == 2  # one spot
    with pytest.raises(ValidationError, match="no open spot left"):
        match_run_publish(run=run_, actor=coordinators[0])
    assert not Mentorship.objects.exists()


# --- "Accept all" while another coordinator overrides one of the proposals.


def _accept_all_and_override(monkeypatch, coordinators, first, spare):
    hold = hold_step(monkeypatch, services, "_decide")  # accept-all has read the pending proposals
    return overlap(
        lambda: match_run_accept_pending(run=first.run, actor=coordinators[0]),
        lambda: proposal_override(proposal=first, actor=coordinators[1], mentor=spare, note="Knows her research"),
        hold=hold,
    )


def test_an_override_during_accept_all_comes_after_it_and_stands(run, monkeypatch):
    _, coordinators, first, second, spare = run

    outcomes, errors, blocked = _accept_all_and_override(monkeypatch, coordinators, first, spare)

    assert errors == [] and blocked == 1 and outcomes == ["ok", "ok"]
    first.refresh_from_db()
    assert (first.decision, first.override_mentor_id) == (Decision.OVERRIDDEN, spare.pk)
    accept, override = _trail(first)
    assert accept.action == "match_proposal.accepted"
    assert override.before == {"decision": Decision.ACCEPTED, "mentor": first.mentor_id}


def test_control_without_the_run_lock_accept_all_overwrites_the_override(run, monkeypatch, unlock):
    _, coordinators, first, second, spare = run
    unlock(MatchRun)

    outcomes, errors, blocked = _accept_all_and_override(monkeypatch, coordinators, first, spare)

    # Accept-all read "pending" before the override committed, then wrote over it: the
    # coordinator's override (and note) are gone, and the trail says "pending -> accepted"
    # after it. (The view did this before accept-all read the pending proposals under the lock.)
    assert errors == [] and blocked == 0 and outcomes == ["ok", "ok"]
    first.refresh_from_db()
    assert (first.decision, first.override_mentor_id, first.decision_note) == (Decision.ACCEPTED, None, "")
    override, accept = _trail(first)
    assert override.action == "match_proposal.overridden" and accept.before["decision"] == Decision.PENDING


# --- A decision arriving while the run is being published.


def _decide_during_publish(monkeypatch, coordinators, first, second):
    proposal_decide(proposal=first, actor=coordinators[0], decision=Decision.ACCEPTED)
    proposal_decide(proposal=second, actor=coordinators[0], decision=Decision.ACCEPTED)
    hold = hold_step(monkeypatch, services, "mentorships_create_many")  # the publish has read the decisions
    return overlap(
        lambda: match_run_publish(run=first.run, actor=coordinators[0]),
        lambda: proposal_decide(proposal=second, actor=coordinators[1], decision=Decision.REJECTED),
        hold=hold,
    )


def test_a_reject_during_a_publish_waits_and_is_refused(run, monkeypatch):
    _, coordinators, first, second, _ = run

    (published, rejected), errors, blocked = _decide_during_publish(monkeypatch, coordinators, first, second)

    assert errors == [] and blocked == 1 and published == "ok"
    assert rejected == "This match is not finished, or already published: its proposals cannot change."
    second.refresh_from_db()
    assert second.decision == Decision.ACCEPTED
    assert Mentorship.objects.filter(mentee=second.mentee, mentor=second.mentor).exists()


def test_control_without_the_run_lock_a_reject_slips_into_a_publish(run, monkeypatch, unlock):
    _, coordinators, first, second, _ = run
    unlock(MatchRun)

    (published, rejected), errors, blocked = _decide_during_publish(monkeypatch, coordinators, first, second)

    # The review page says "rejected"; the mentorship started anyway.
    assert errors == [] and blocked == 0 and (published, rejected) == ("ok", "ok")
    second.refresh_from_db()
    assert second.decision == Decision.REJECTED
    assert Mentorship.objects.filter(mentee=second.mentee, mentor=second.mentor).exists()
