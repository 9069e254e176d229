"""Cohort match runs: create → the task computes proposals → coordinators review and publish.

The cohort: six residents of the program (Alice, Bob and four more), each with one goal,
and three mentors whose expertise covers two goals each: Carol (research, teaching;
2 spots), Dave (leadership, clinical skills; 2 spots) and Erin (career planning,
wellness; 1 spot). Five spots for six residents, so one resident is left unmatched.
"""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import Membership
from audit.models import AuditEntry
from matching import engine
from matching.match_runs import execution
from matching.match_runs.ranking import ranking_submit
from matching.match_runs.selectors import rankings_for
from matching.match_runs.services import (
    match_run_cancel,
    match_run_publish,
    match_run_second_round,
    proposal_decide,
    proposal_override,
)
from matching.models import MatchProposal, MatchRanking, MatchRun, Mentorship, Notification
from matching.tasks import run_match
from tests.factories import MembershipFactory, MentorProfileFactory, UserFactory
from tests.matching.factories import MentorshipFactory
from tests.matching.support import _create

pytestmark = pytest.mark.django_db


Status = MatchRun.Status


Decision = MatchProposal.Decision


def _accept_all(run, coordinator):
    for proposal in run.proposals.exclude(mentor=None):
        proposal_decide(proposal=proposal, actor=coordinator, decision=Decision.ACCEPTED)


def test_weights_are_checked(coordinator, program, cohort):
    with pytest.raises(ValidationError) as exc:
        _create(coordinator, program, *cohort, weights={"goals": -1})
    assert "weights" in exc.value.message_dict


def _close_window_and_run(run):
    MatchRun.objects.filter(pk=run.pk).update(ranking_deadline=timezone.now() - timedelta(seconds=1))
    assert run_match(run.pk) == "succeeded"
    run.refresh_from_db()
    return run


def test_a_run_with_a_ranking_window_waits_for_the_deadline(ranking_run):
    assert run_match(ranking_run.pk) == "waiting"
    ranking_run.refresh_from_db()
    assert ranking_run.status == Status.QUEUED


def test_a_resident_gets_the_mentor_they_ranked_first_when_the_mentor_accepts_them(ranking_run, cohort):
    (alice, *_), (carol, dave, erin) = cohort
    # By score Alice (research) would get Carol; she ranks Erin first, and Erin ranks her.
    ranking_submit(run=ranking_run, actor=alice, ordered_ids=[erin.pk, carol.pk], never_ids=[dave.pk])
    ranking_submit(run=ranking_run, actor=erin, ordered_ids=[alice.pk])

    run = _close_window_and_run(ranking_run)

    proposal = run.proposals.get(mentee=alice)
    assert proposal.mentor_id == erin.pk and proposal.rank_obtained == 1 and proposal.mentor_rank == 1
    assert run.stats["blocking_pairs"] == 0


def test_a_blank_means_no_preference_not_never(ranking_run, cohort):
    (alice, *_, ines), (carol, _dave, erin) = cohort
    # Alice numbers only Erin; Erin's one spot goes to Ines, whom she ranks first.
    ranking_submit(run=ranking_run, actor=alice, ordered_ids=[erin.pk])
    ranking_submit(run=ranking_run, actor=erin, ordered_ids=[ines.pk, alice.pk])

    run = _close_window_and_run(ranking_run)

    # Alice left the others blank, so she falls through to her best fit among them (research: Carol).
    proposal = run.proposals.get(mentee=alice)
    assert proposal.mentor_id == carol.pk and proposal.rank_obtained == 2
    assert proposal.mentor_rank is None  # Carol did not rank anyone
    assert run.proposals.get(mentee=ines).mentor_id == erin.pk
    assert run.stats["blocking_pairs"] == 0


def test_completed_rankings_put_the_blanks_after_the_ranked_in_fit_order():
    from types import SimpleNamespace

    cohort = SimpleNamespace(mentee_rankings={1: [12]}, mentor_rankings={12: [2]})
    scores = {1: {11: 50.0, 12: 10.0, 13: 70.0}, 2: {12: 30.0}, 3: {12: 90.0}}

    mentees, mentors = execution.complete_rankings(cohort, scores)

    assert mentees == {1: [12, 13, 11]}
    assert mentors == {12: [2, 3, 1]}


def test_never_keeps_a_pair_apart_whichever_side_says_it(ranking_run, cohort):
    (alice, bob, *_), (carol, _dave, _erin) = cohort
    ranking_submit(run=ranking_run, actor=alice, ordered_ids=[], never_ids=[carol.pk])
    ranking_submit(run=ranking_run, actor=carol, ordered_ids=[], never_ids=[bob.pk])

    run = _close_window_and_run(ranking_run)

    assert run.proposals.get(mentee=alice).mentor_id != carol.pk
    assert run.proposals.get(mentee=bob).mentor_id != carol.pk


def test_a_new_submission_replaces_the_old_one(ranking_run, cohort):
    (alice, *_), (carol, dave, erin) = cohort
    ranking_submit(run=ranking_run, actor=alice, ordered_ids=[erin.pk, carol.pk])
    ranking_submit(run=ranking_run, actor=alice, ordered_ids=[dave.pk])
    assert [r.target_id for r in rankings_for(ranking_run, alice)] == [dave.pk]


def test_only_cohort_members_rank_and_only_while_the_window_is_open(ranking_run, cohort, coordinator, outsider):
    (alice, *_), (carol, *_) = cohort
    for stranger in (coordinator, outsider):
        with pytest.raises(PermissionDenied):
            ranking_submit(run=ranking_run, actor=stranger, ordered_ids=[carol.pk])
    with pytest.raises(ValidationError):  # residents rank mentors, not each other
        ranking_submit(run=ranking_run, actor=alice, ordered_ids=[cohort[0][1].pk])
    MatchRun.objects.filter(pk=ranking_run.pk).update(ranking_deadline=timezone.now() - timedelta(seconds=1))
    ranking_run.refresh_from_db()
    with pytest.raises(PermissionDenied):
        ranking_submit(run=ranking_run, actor=alice, ordered_ids=[carol.pk])
    assert not MatchRanking.objects.exists()


# --- Who may do what.


def test_only_the_programs_coordinators_create_override_and_publish(
    start_run, cohort, program, other_coordinator, resident
):
    residents, mentors = cohort
    for actor in (other_coordinator, resident):
        with pytest.raises(PermissionDenied):
            _create(actor, program, residents, mentors)
    run = start_run()
    proposal = run.proposals.exclude(mentor=None).first()
    with pytest.raises(PermissionDenied):
        proposal_override(proposal=proposal, actor=other_coordinator, mentor=mentors[1], note="Better fit")
    with pytest.raises(PermissionDenied):
        proposal_decide(proposal=proposal, actor=other_coordinator, decision=Decision.ACCEPTED)
    with pytest.raises(PermissionDenied):
        match_run_publish(run=run, actor=other_coordinator)
    assert not other_coordinator.has_perm("matching.manage_match_runs", run)


# --- Review: overrides.


def test_an_override_needs_a_reason(start_run, cohort, coordinator):
    _residents, (carol, dave, erin) = cohort
    run = start_run()
    proposal = run.proposals.get(mentor=None)
    with pytest.raises(ValidationError) as exc:
        proposal_override(proposal=proposal, actor=coordinator, mentor=dave, note="  ")
    assert "note" in exc.value.message_dict


def test_an_override_respects_the_mentors_spots_in_this_run(start_run, cohort, coordinator):
    (*_, hugo, ines), (carol, dave, erin) = cohort
    run = start_run()
    _accept_all(run, coordinator)  # Erin's one spot is Hugo's
    unmatched = run.proposals.get(mentee=ines)

    with pytest.raises(ValidationError) as exc:
        proposal_override(proposal=unmatched, actor=coordinator, mentor=erin, note="Asked for Erin")
    assert "no spot left" in exc.value.messages[0]

    # Carol has two spots, both accepted; freeing one by rejecting makes room.
    proposal_decide(proposal=run.proposals.filter(mentor=carol).first(), actor=coordinator, decision=Decision.REJECTED)
    overridden = proposal_override(proposal=unmatched, actor=coordinator, mentor=carol, note="Asked for Carol")
    assert overridden.decision == Decision.OVERRIDDEN and overridden.final_mentor_id == carol.pk
    assert overridden.decided_by == coordinator and overridden.decision_note == "Asked for Carol"


def test_an_override_must_pick_a_mentor_of_the_cohort(start_run, coordinator, program):
    run = start_run()
    stranger = UserFactory()
    MembershipFactory(user=stranger, program=program, role=Membership.Role.FACULTY)
    MentorProfileFactory(user=stranger)
    with pytest.raises(ValidationError):
        proposal_override(proposal=run.proposals.first(), actor=coordinator, mentor=stranger, note="Why not")


# --- Publishing.


def test_publishing_starts_the_accepted_mentorships_once(start_run, cohort, coordinator):
    (alice, *_), (carol, *_) = cohort
    run = start_run()
    _accept_all(run, coordinator)

    started = match_run_publish(run=run, actor=coordinator)

    assert len(started) == 5
    mentorships = Mentorship.objects.filter(source=Mentorship.Source.MATCH_RUN, kind="career")
    assert mentorships.count() == 5
    assert mentorships.filter(mentee=alice, mentor=carol).exists()
    assert Notification.objects.filter(event="match.published", user=alice).count() == 1
    assert Notification.objects.filter(event="match.published", user=carol).count() == 2
    # Ines, left without a mentor, hears it too, with the engine's reason spoken to her.
    (unmatched,) = Notification.objects.filter(event="match.unmatched")
    assert unmatched.user == cohort[0][5] and unmatched.url == "/mentors/"
    assert unmatched.body.startswith("Why: there were 5 places for 6 residents; every mentor you could be paired with")
    run.refresh_from_db()
    assert run.published_by == coordinator and run.published_at is not None

    with pytest.raises(ValidationError, match="already been published"):
        match_run_publish(run=run, actor=coordinator)
    assert mentorships.count() == 5


def test_publishing_rolls_back_entirely_when_one_pair_no_longer_fits(start_run, cohort, coordinator, program, outsider):
    (*_, hugo, _ines), (_carol, _dave, erin) = cohort
    run = start_run()
    _accept_all(run, coordinator)
    # Since the run, Erin took a mentee on her own: her one spot is gone.
    MentorshipFactory(mentee=outsider, mentor=erin, program=program)

    with pytest.raises(ValidationError) as exc:
        match_run_publish(run=run, actor=coordinator)
    # The run read Erin's load: it is out of date and says why.
    assert exc.value.messages == [
        "This match is out of date: Erin Evans took on 1 new mentee. Re-run it with the same settings, "
        "or discard it; its proposals can no longer be accepted or published."
    ]
    # A run that recorded nothing (computed before runs did) reaches the pairs: all or nothing still.
    MatchRun.objects.filter(pk=run.pk).update(inputs={})
    with pytest.raises(ValidationError) as exc:
        match_run_publish(run=run, actor=coordinator)

    assert exc.value.messages == [
        f"{erin.full_name} has no open spot left (1 of 1 taken). Nothing was published; change "
        f"{hugo.full_name}'s pairing and publish again."
    ]
    assert not Mentorship.objects.filter(source=Mentorship.Source.MATCH_RUN).exists()
    assert not Notification.objects.filter(event="match.published").exists()
    run.refresh_from_db()
    assert run.published_at is None


def test_a_second_round_covers_only_the_residents_still_unmatched(
    start_run, cohort, coordinator, django_capture_on_commit_callbacks
):
    (alice, *_, ines), (carol, dave, erin) = cohort
    run = start_run()
    _accept_all(run, coordinator)
    # Alice's pairing is rejected; she goes into the second round with Ines, who was unmatched.
    proposal_decide(
        proposal=run.proposals.get(mentee=alice), actor=coordinator, decision=Decision.REJECTED, note="Conflict"
    )
    match_run_publish(run=run, actor=coordinator)

    with django_capture_on_commit_callbacks(execute=True):
        second = match_run_second_round(run=run, actor=coordinator)
    second.refresh_from_db()

    assert second.round == 2 and second.parent == run
    assert set(second.mentees.values_list("pk", flat=True)) == {alice.pk, ines.pk}
    assert set(second.mentors.values_list("pk", flat=True)) == {carol.pk}  # Dave and Erin are full
    assert second.status == Status.SUCCEEDED
    assert second.stats["matched"] == 1 and second.stats["blocking_pairs"] == 0


def test_a_second_round_is_refused_while_another_is_under_way(start_run, cohort, coordinator):
    (alice, *_), _ = cohort
    run = start_run()
    _accept_all(run, coordinator)
    proposal_decide(
        proposal=run.proposals.get(mentee=alice), actor=coordinator, decision=Decision.REJECTED, note="Conflict"
    )
    match_run_publish(run=run, actor=coordinator)
    first = match_run_second_round(run=run, actor=coordinator)

    with pytest.raises(ValidationError, match="already under way"):
        match_run_second_round(run=run, actor=coordinator)
    assert run.next_rounds.count() == 1

    # Once that round is cancelled, another may start.
    MatchRun.objects.filter(pk=first.pk).update(status=Status.CANCELLED)
    assert match_run_second_round(run=run, actor=coordinator).parent == run


# --- Telling people: the ranking window, the end of a run.


def test_opening_a_ranking_window_invites_every_cohort_member_once(ranking_run, cohort):
    residents, mentors = cohort
    invited = Notification.objects.filter(event="match.ranking_open")

    assert sorted(invited.values_list("user_id", flat=True)) == sorted(u.pk for u in residents + mentors)
    alice_note = invited.get(user=residents[0])
    assert alice_note.url == f"/match-runs/{ranking_run.pk}/rank/"
    program = ranking_run.program.name
    assert alice_note.title.startswith(f"Rank the mentors for the {program} career match by ")
    assert "confidential" in alice_note.body
    assert invited.get(user=mentors[0]).title.startswith(f"Rank the residents for the {program} career match by ")


def test_a_run_without_a_ranking_window_invites_nobody(start_run):
    start_run()
    assert not Notification.objects.filter(event="match.ranking_open").exists()


# --- Cancelling.


def test_a_queued_run_cancelled_is_never_computed(coordinator, program, cohort):
    run = _create(coordinator, program, *cohort)

    match_run_cancel(run=run, actor=coordinator, reason="Wrong cohort")

    assert run_match(run.pk) == "not_queued"
    run.refresh_from_db()
    assert run.status == Status.CANCELLED and run.finished_at is not None
    assert run.error == f"Cancelled by {coordinator.full_name}. Wrong cohort"
    assert not run.proposals.exists()
    assert AuditEntry.objects.filter(
        action="match_run.cancel", object_id=str(run.pk), actor=coordinator, reason="Wrong cohort"
    ).exists()


def test_a_run_cancelled_while_computing_throws_its_result_away(coordinator, program, cohort, monkeypatch):
    run = _create(coordinator, program, *cohort)
    real_solve = engine.solve

    def cancel_meanwhile(instance, mode):
        match_run_cancel(run=run, actor=coordinator)
        return real_solve(instance, mode)

    monkeypatch.setattr(engine, "solve", cancel_meanwhile)

    assert run_match(run.pk) == "not_queued"
    run.refresh_from_db()
    assert run.status == Status.CANCELLED and not run.proposals.exists()
    assert not Notification.objects.filter(event__startswith="match_run.").exists()
    # The program may run another match at once.
    monkeypatch.undo()
    assert run_match(_create(coordinator, program, *cohort).pk) == "succeeded"


def test_cancelling_a_ranking_window_tells_the_cohort_and_closes_ranking(ranking_run, cohort, coordinator):
    (alice, *_), (carol, *_) = cohort

    match_run_cancel(run=ranking_run, actor=coordinator)

    assert Notification.objects.filter(event="match.cancelled").count() == 9
    with pytest.raises(PermissionDenied):
        ranking_submit(run=ranking_run, actor=alice, ordered_ids=[carol.pk])


def test_only_waiting_or_running_runs_of_ones_own_program_can_be_cancelled(
    start_run, coordinator, other_coordinator, program, cohort
):
    finished = start_run()
    with pytest.raises(ValidationError, match="Only a match that is waiting or running"):
        match_run_cancel(run=finished, actor=coordinator)

    queued = _create(coordinator, program, *cohort)
    with pytest.raises(PermissionDenied):
        match_run_cancel(run=queued, actor=other_coordinator)
    queued.refresh_from_db()
    assert queued.status == Status.QUEUED
