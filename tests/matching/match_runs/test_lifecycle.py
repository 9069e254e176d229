"""A run's lifecycle (issue 15): out of date once what it read changes, re-run, discarded; overrides
within the mentor's spots in the run (or with an explicit choice); every count of the review.

The cohort (tests/matching/conftest.py): six residents, Carol (2 spots), Dave (2) and Erin (1):
five spots, so one resident is left unmatched by the engine.
"""

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEntry
from matching.match_runs.freshness import run_changes
from matching.match_runs.selectors import is_low_score, review_summary, row_score
from matching.match_runs.services import (
    match_run_accept_pending,
    match_run_archive,
    match_run_publish,
    match_run_rerun,
    proposal_decide,
    proposal_override,
)
from matching.models import ConflictOfInterest, MatchProposal, MatchRanking, MatchRun, Mentorship
from tests.matching.factories import MentorshipFactory
from tests.matching.support import _capacity, _create

pytestmark = pytest.mark.django_db

Decision = MatchProposal.Decision
Status = MatchRun.Status


def _accept_all(run, coordinator):
    for proposal in run.proposals.exclude(mentor=None):
        proposal_decide(proposal=proposal, actor=coordinator, decision=Decision.ACCEPTED)


def test_a_run_is_out_of_date_once_another_run_is_published_and_refuses_every_acceptance(start_run, coordinator):
    first, second = start_run(), start_run()
    assert run_changes(second) == []
    _accept_all(first, coordinator)
    match_run_publish(run=first, actor=coordinator)

    changes = run_changes(second)
    assert len(changes) >= 1
    assert f"now have a career mentor (published in match #{first.pk})." in changes[0]
    proposal = second.proposals.exclude(mentor=None).first()
    for attempt in (
        lambda: proposal_decide(proposal=proposal, actor=coordinator, decision=Decision.ACCEPTED),
        lambda: match_run_accept_pending(run=second, actor=coordinator),
        lambda: proposal_override(
            proposal=proposal,
            actor=coordinator,
            mentor=second.mentors.exclude(pk=proposal.mentor_id).first(),
            note="x",
            make_room="raise",
        ),
        lambda: match_run_publish(run=second, actor=coordinator),
    ):
        with pytest.raises(ValidationError) as exc:
            attempt()
        assert exc.value.messages[0].startswith("This match is out of date: ")
    # Rejecting changes nobody's data: still allowed.
    proposal_decide(proposal=proposal, actor=coordinator, decision=Decision.REJECTED)
    assert not second.proposals.filter(decision=Decision.ACCEPTED).exists()


def test_changes_are_named_in_plain_sentences(start_run, cohort, coordinator, program):
    (alice, *_), (carol, _dave, erin) = cohort
    run = start_run()
    _capacity(carol, 3)
    ConflictOfInterest.objects.create(program=program, mentee=alice, mentor=erin, reason="Sister-in-law")
    changes = run_changes(run)
    assert "Carol Chen's capacity went from 2 to 3." in changes
    assert "A conflict of interest was recorded for Alice Adams and Erin Evans." in changes
    # Carol's capacity is part of her profile: not counted again as an edit.
    assert not any("profile" in c for c in changes)


def test_a_run_computed_before_runs_recorded_their_inputs_is_out_of_date_after_a_publish(start_run, coordinator):
    old, newer = start_run(), start_run()
    MatchRun.objects.filter(pk=old.pk).update(inputs={})
    old.refresh_from_db()
    assert run_changes(old) == []
    _accept_all(newer, coordinator)
    match_run_publish(run=newer, actor=coordinator)
    assert run_changes(old) == [f"Match #{newer.pk} was published after this one was computed."]


def test_rerun_keeps_the_settings_drops_the_residents_paired_since_and_discards_the_original(
    start_run, cohort, coordinator, program, django_capture_on_commit_callbacks
):
    (alice, bob, *_), (carol, *_) = cohort
    run = start_run(algorithm="optimal", weights={"goals": 0.5})
    MatchRanking.objects.create(run=run, author=bob, target=carol, position=1)
    MatchRun.objects.filter(pk=run.pk).update(ranking_deadline=run.created_at)  # it had a window
    MentorshipFactory(mentee=alice, mentor=carol, program=program)
    run.refresh_from_db()
    assert run_changes(run)

    with django_capture_on_commit_callbacks(execute=True):
        again = match_run_rerun(run=run, actor=coordinator)
    again.refresh_from_db()
    run.refresh_from_db()
    assert again.rerun_of == run and again.status == Status.SUCCEEDED
    assert (again.algorithm, again.weights["goals"], again.ranking_deadline) == ("optimal", 0.5, None)
    assert alice.pk not in set(again.mentees.values_list("pk", flat=True))
    assert again.mentees.count() == run.mentees.count() - 1
    assert list(again.rankings.values_list("author_id", "target_id", "position")) == [(bob.pk, carol.pk, 1)]
    assert run.is_archived and run_changes(again) == []
    assert AuditEntry.objects.filter(action="match_run.archive", object_id=str(run.pk)).count() == 1
    # Sent twice: the second finds the original discarded and names its re-run.
    with pytest.raises(ValidationError) as exc:
        match_run_rerun(run=run, actor=coordinator)
    assert exc.value.messages == [f"This match was discarded; it was re-run as match #{again.pk}."]


def test_archive_is_idempotent_and_refuses_running_and_published_runs(start_run, coordinator, cohort, program):
    run = start_run()
    match_run_archive(run=run, actor=coordinator, reason="Tried other weights")
    match_run_archive(run=run, actor=coordinator)
    assert AuditEntry.objects.filter(action="match_run.archive", object_id=str(run.pk)).count() == 1
    with pytest.raises(ValidationError, match="discarded"):
        proposal_decide(proposal=run.proposals.exclude(mentor=None).first(), actor=coordinator, decision="accepted")

    queued = _create(coordinator, program, *cohort)  # its task never runs here
    with pytest.raises(ValidationError, match="cancel it first"):
        match_run_archive(run=queued, actor=coordinator)

    published = start_run()
    _accept_all(published, coordinator)
    match_run_publish(run=published, actor=coordinator)
    with pytest.raises(ValidationError, match="cannot be discarded"):
        match_run_archive(run=published, actor=coordinator)


def _full_mentor_and_outsider(run):
    """A mentor whose spots the engine filled, and a proposal of someone else."""
    for mentor in run.mentors.all():
        holders = run.proposals.filter(mentor=mentor)
        if holders.exists():
            other = run.proposals.exclude(mentor=mentor).exclude(mentor=None).first()
            return mentor, list(holders), other
    raise AssertionError("no mentor holds a proposal")


def test_an_override_onto_a_full_mentor_needs_a_choice(start_run, coordinator):
    run = start_run()
    unmatched = run.proposals.get(mentor=None)
    mentor, holders, _ = _full_mentor_and_outsider(run)
    with pytest.raises(ValidationError) as exc:
        proposal_override(proposal=unmatched, actor=coordinator, mentor=mentor, note="Asked for her")
    [message] = exc.value.message_dict["make_room"]
    assert f"{mentor.full_name} has no spot left in this match" in message
    assert "one more spot for this match, or displace one of these residents" in message
    unmatched.refresh_from_db()
    assert unmatched.decision == Decision.PENDING


def test_raising_a_spot_is_kept_for_the_run_and_honoured_by_publish(start_run, coordinator):
    run = start_run()
    unmatched = run.proposals.get(mentor=None)
    mentor, holders, _ = _full_mentor_and_outsider(run)
    proposal_override(proposal=unmatched, actor=coordinator, mentor=mentor, note="Asked for her", make_room="raise")
    run.refresh_from_db()
    assert run.extra_spots == {str(mentor.pk): 1}
    row = next(r for r in review_summary(run).mentor_load if r.mentor_id == mentor.pk)
    assert (row.holding, row.spots, row.over) == (len(holders) + 1, len(holders) + 1, False)
    _accept_all(run, coordinator)
    started = match_run_publish(run=run, actor=coordinator)
    assert len(started) == 6
    assert Mentorship.objects.filter(mentor=mentor, status="active").count() == len(holders) + 1

    # Once published, the run's own pairs hold the spots they were given: nobody reads as over.
    run.refresh_from_db()
    after = {r.mentor_id: r for r in review_summary(run).mentor_load}
    assert (after[mentor.pk].active, after[mentor.pk].holding, after[mentor.pk].over) == (0, len(holders) + 1, False)
    assert not any(r.over for r in after.values())


def test_displacing_rejects_the_other_proposal_and_says_why(start_run, coordinator):
    run = start_run()
    unmatched = run.proposals.get(mentor=None)
    mentor, holders, _ = _full_mentor_and_outsider(run)
    displaced = holders[0]
    with pytest.raises(ValidationError) as exc:
        proposal_override(
            proposal=unmatched, actor=coordinator, mentor=mentor, note="x", make_room=f"displace:{unmatched.pk}"
        )
    assert "make_room" in exc.value.message_dict
    proposal_override(
        proposal=unmatched, actor=coordinator, mentor=mentor, note="Continuity", make_room=f"displace:{displaced.pk}"
    )
    displaced.refresh_from_db()
    assert displaced.decision == Decision.REJECTED
    assert displaced.decision_note.startswith(f"Displaced: {mentor.full_name}'s spot in this match went to ")
    run.refresh_from_db()
    assert run.extra_spots == {}


def test_every_count_of_the_review_agrees_with_the_stored_proposals(start_run, coordinator, cohort):
    (alice, *_), _ = cohort
    run = start_run()
    MatchRanking.objects.create(run=run, author=alice, target=run.mentors.first(), position=1)
    matched = list(run.proposals.exclude(mentor=None).order_by("pk"))
    proposal_decide(proposal=matched[0], actor=coordinator, decision=Decision.ACCEPTED)
    proposal_decide(proposal=matched[1], actor=coordinator, decision=Decision.REJECTED)
    mentor, holders, _ = _full_mentor_and_outsider(run)
    unmatched = run.proposals.get(mentor=None)
    proposal_override(proposal=unmatched, actor=coordinator, mentor=mentor, note="x", make_room="raise")

    s = review_summary(run)
    stored = list(run.proposals.all())
    by = {d: sum(1 for p in stored if p.decision == d) for d in Decision.values}
    assert s.proposals == len(stored) == 6
    assert s.proposed_matched == sum(1 for p in stored if p.mentor_id) == 5
    assert s.proposed_unmatched == 1
    assert s.accepted == by["accepted"] and s.rejected == by["rejected"] and s.overridden == by["overridden"] == 1
    assert s.pending == sum(1 for p in stored if p.decision == "pending" and p.mentor_id)
    assert s.pending_unmatched == 0
    assert s.will_pair == by["accepted"] + by["overridden"]
    assert s.left_without == len(stored) - s.will_pair
    assert s.accepted + s.overridden + s.rejected + s.pending + s.pending_unmatched == s.proposals
    assert s.rankers == 1
    alice_p = next(p for p in stored if p.mentee_id == alice.pk)
    expected_ranked = 1 if alice_p.mentor_id and alice_p.rank_obtained else 0
    assert sum(n for _, n in s.rank_distribution) == expected_ranked
    assert s.matched_by_score == s.proposed_matched - expected_ranked
    # The bands count the pairs publishing would make, each by the score its row shows: the
    # unmatched resident's override with the pair it makes, the accepted and waiting proposed
    # pairs; not the rejected one (six rows, five pairs).
    shown = [row_score(p) for p in stored]
    pairs = [row_score(p) for p in stored if p.decision != "rejected"]
    assert sum(n for _, n in s.score_distribution) == s.scored == sum(x is not None for x in pairs) == 5
    assert s.worst_score == min(x for x in pairs if x is not None)
    # The "Low score" filter lists every row shown low, the rejected one too.
    assert s.low_score == sum(is_low_score(x) for x in shown)
    for row in s.mentor_load:
        holding = [p for p in stored if p.final_mentor_id == row.mentor_id and p.decision != "rejected"]
        assert row.holding == len(holding)
        assert row.will_pair == sum(1 for p in holding if p.decision in ("accepted", "overridden"))
        assert row.proposed == sum(1 for p in stored if p.mentor_id == row.mentor_id)
    assert sum(r.will_pair for r in s.mentor_load) == s.will_pair


def test_nobody_in_both_lists_names_who(coordinator, program, cohort):
    residents, mentors = cohort
    with pytest.raises(ValidationError) as exc:
        _create(coordinator, program, residents, [*mentors, residents[0]])
    assert exc.value.message_dict["mentor_ids"][0].startswith(
        f"Nobody can be both a resident and a mentor in one match: {residents[0].full_name} is in both lists."
    )


def test_publishing_a_pair_kept_apart_says_so_once(start_run, coordinator, program):
    run = start_run()
    _accept_all(run, coordinator)
    pair = run.proposals.exclude(mentor=None).select_related("mentee", "mentor").first()
    ConflictOfInterest.objects.create(program=program, mentee=pair.mentee, mentor=pair.mentor, reason="Family")
    MatchRun.objects.filter(pk=run.pk).update(inputs={})  # past the out-of-date check, to the pairs themselves
    with pytest.raises(ValidationError) as exc:
        match_run_publish(run=run, actor=coordinator)
    [message] = exc.value.messages
    assert message.count("cannot be paired") + message.count("kept apart") == 1
    assert message.startswith(f"{pair.mentee.full_name} and {pair.mentor.full_name} are kept apart")
    assert message.endswith("Nothing was published.")
    assert not Mentorship.objects.filter(source="match_run").exists()


def test_an_override_onto_a_mentor_kept_apart_is_refused(start_run, coordinator, program):
    run = start_run()
    unmatched = run.proposals.select_related("mentee").get(mentor=None)
    mentor = run.mentors.first()
    ConflictOfInterest.objects.create(program=program, mentee=unmatched.mentee, mentor=mentor, reason="Family")
    MatchRun.objects.filter(pk=run.pk).update(inputs={})
    with pytest.raises(ValidationError) as exc:
        proposal_override(proposal=unmatched, actor=coordinator, mentor=mentor, note="x", make_room="raise")
    assert "kept apart" in exc.value.message_dict["mentor"][0]
