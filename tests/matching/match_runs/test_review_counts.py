"""The review's reads and the override's refusals that the pages lean on: the "choice obtained"
sort (real choices before score order), the runs list's matched / unmatched counts (the same as
``review_summary``), the start form's notices, and the override service's conflicts of interest."""

import pytest
from django.core.exceptions import ValidationError

from matching.match_runs.selectors import (
    capacity_shortfall,
    matched_counts,
    review_proposals,
    review_summary,
    runs_awaiting_review,
)
from matching.match_runs.services import match_run_archive, match_run_publish, proposal_decide, proposal_override
from matching.models import ConflictOfInterest, EvaluatorRole, MatchProposal, MatchRanking

pytestmark = pytest.mark.django_db

Decision = MatchProposal.Decision


def _ranked(run, resident, rank):
    """``resident`` ranked in ``run`` and obtained their ``rank``-th choice."""
    target = run.mentors.exclude(pk=resident.pk).first()
    MatchRanking.objects.get_or_create(run=run, author=resident, target=target, defaults={"position": 1})
    run.proposals.filter(mentee=resident).update(rank_obtained=rank)


# --- "Choice obtained".


def test_the_choice_sort_puts_real_choices_first_then_those_who_did_not_rank(start_run, cohort):
    run = start_run()
    residents, _ = cohort
    alice, bob, femi, gita, hugo, ines = residents
    matched = {p.mentee_id for p in run.proposals.exclude(mentor=None)}
    assert len(matched) == 5  # five spots for six residents: one unmatched
    # The engine gives everyone matched a score-order rank; only those who ranked obtained a choice.
    run.proposals.exclude(mentor=None).update(rank_obtained=1)
    rankers = [u for u in (hugo, bob, gita) if u.pk in matched]
    for rank, user in enumerate(rankers, start=2):
        _ranked(run, user, rank)
    order = [p.mentee_id for p in review_proposals(run, sort="rank")]
    # Real choices, best first (2nd, 3rd, …); then everyone else by name, the rank-1 score order ignored.
    assert order[: len(rankers)] == [u.pk for u in rankers]
    others = [p for p in review_proposals(run, sort="name") if p.mentee_id not in {u.pk for u in rankers}]
    assert order[len(rankers) :] == [p.mentee_id for p in others]
    # Consistent with the summary: "rank obtained" only for the people who ranked.
    summary = review_summary(run)
    assert summary.rank_distribution == [(i, 1) for i in range(2, 2 + len(rankers))]
    assert summary.matched_by_score == 5 - len(rankers)


def test_a_run_nobody_ranked_sorts_by_name_whatever_the_engines_order(start_run):
    run = start_run()
    proposals = list(run.proposals.exclude(mentor=None).order_by("-mentee__last_name", "-mentee__first_name"))
    for i, p in enumerate(proposals, start=1):
        MatchProposal.objects.filter(pk=p.pk).update(rank_obtained=i)
    assert [p.pk for p in review_proposals(run, sort="rank")] == [p.pk for p in review_proposals(run, sort="name")]


# --- The list's counts.


def _assert_counts_are_the_summarys(run):
    run.refresh_from_db()
    summary = review_summary(run)
    count = matched_counts([run])[run.pk]
    assert (count.matched, count.unmatched) == (summary.matched, summary.unmatched)
    return count


def test_list_counts_follow_decisions_overrides_and_publishing(start_run, coordinator):
    run = start_run()
    engine = (run.stats["matched"], run.stats["unmatched"])
    assert engine == (5, 1)
    count = _assert_counts_are_the_summarys(run)
    assert (count.matched, count.unmatched) == (5, 1)

    proposed = list(run.proposals.exclude(mentor=None).order_by("pk"))
    unmatched = run.proposals.get(mentor=None)
    proposal_decide(proposal=proposed[0], actor=coordinator, decision=Decision.REJECTED, note="Not a fit")
    count = _assert_counts_are_the_summarys(run)
    assert (count.matched, count.unmatched) == (4, 2)

    # The unmatched resident overridden onto the freed mentor: matched now.
    proposal_override(proposal=unmatched, actor=coordinator, mentor=proposed[0].mentor, note="Asked for them")
    count = _assert_counts_are_the_summarys(run)
    assert (count.matched, count.unmatched) == (5, 1)

    # Published with two proposals accepted: only what was published counts as matched.
    for p in proposed[1:3]:
        proposal_decide(proposal=p, actor=coordinator, decision=Decision.ACCEPTED)
    match_run_publish(run=run, actor=coordinator)
    count = _assert_counts_are_the_summarys(run)
    assert (count.matched, count.unmatched) == (3, 3)


# Each filter of the review list and the summary figure it stands for (the tile on the page, or
# the runs list's "unmatched"): a filter must list exactly the residents its figure counts.
FILTER_FIGURES = {
    "all": "proposals",
    "unmatched": "unmatched",
    "pending": "pending",
    "without": "left_without",
    "accepted": "accepted",
    "overridden": "overridden",
    "rejected": "rejected",
    "low": "low_score",
}


def _assert_every_filter_counts_its_figure(run):
    run.refresh_from_db()
    summary = review_summary(run)
    shown = {show: review_proposals(run, show=show).count() for show in FILTER_FIGURES}
    assert shown == {show: getattr(summary, figure) for show, figure in FILTER_FIGURES.items()}
    return shown


def test_every_filter_lists_whom_its_summary_figure_counts(start_run, coordinator):
    from matching.match_runs.selectors import SHOW

    assert set(FILTER_FIGURES) == set(SHOW)  # a new filter needs its figure here
    run = start_run()
    _assert_every_filter_counts_its_figure(run)
    proposed = list(run.proposals.exclude(mentor=None).order_by("pk"))
    unmatched = run.proposals.get(mentor=None)
    for p in proposed:
        proposal_decide(proposal=p, actor=coordinator, decision=Decision.ACCEPTED)
    # The walkthrough's case: the unmatched resident moved onto a full mentor, displacing another.
    displaced = proposed[0]
    proposal_override(
        proposal=unmatched,
        actor=coordinator,
        mentor=displaced.mentor,
        note="Continuity",
        make_room=f"displace:{displaced.pk}",
    )
    shown = _assert_every_filter_counts_its_figure(run)
    assert (shown["unmatched"], shown["without"], shown["rejected"]) == (1, 1, 1)
    assert [p.pk for p in review_proposals(run, show="unmatched")] == [displaced.pk]
    # A pending proposed pair is without a mentor if published now, but not unmatched: it holds its spot.
    MatchProposal.objects.filter(pk=proposed[1].pk).update(decision=Decision.PENDING)
    shown = _assert_every_filter_counts_its_figure(run)
    assert (shown["unmatched"], shown["without"], shown["pending"]) == (1, 2, 1)
    match_run_publish(run=run, actor=coordinator)
    _assert_every_filter_counts_its_figure(run)


def test_the_default_order_puts_the_pairs_waiting_for_a_decision_first(start_run, coordinator):
    run = start_run()
    by_name = list(review_proposals(run, sort="name"))
    waiting = [p.pk for p in by_name if p.mentor_id is not None]
    rest = [p.pk for p in by_name if p.mentor_id is None]
    assert len(waiting) == 5 and len(rest) == 1
    if by_name[-1].mentor_id is None:  # make the unmatched resident sort first by name
        by_name[-1].mentee.__class__.objects.filter(pk=by_name[-1].mentee_id).update(last_name="Aaronson")
        by_name = list(review_proposals(run, sort="name"))
    assert by_name[0].mentor_id is None
    assert [p.pk for p in review_proposals(run)] == waiting + rest
    # Decided, a pair goes back among the rest by name; explicit sorts are unchanged.
    decided = by_name[1]
    proposal_decide(proposal=decided, actor=coordinator, decision=Decision.ACCEPTED)
    default = [p.pk for p in review_proposals(run)]
    assert default == [pk for pk in waiting if pk != decided.pk] + [
        p.pk for p in by_name if p.pk in {decided.pk, *rest}
    ]
    assert [p.pk for p in review_proposals(run, sort="name")] == [p.pk for p in by_name]


def test_list_counts_skip_runs_that_did_not_finish(ranking_run):
    assert matched_counts([ranking_run]) == {}


# --- The start form's notices.


def test_capacity_shortfall_says_how_many_are_left_over():
    assert str(capacity_shortfall(45, 38)) == (
        "45 residents, 38 open spots: 7 will be unmatched unless you add mentors or raise capacity."
    )
    assert not capacity_shortfall(38, 38) and capacity_shortfall(38, 38).unmatched == 0
    assert not capacity_shortfall(0, 3)


def test_runs_awaiting_review_are_computed_and_neither_published_nor_archived(
    start_run, ranking_run, coordinator, cohort, program, other_program
):
    residents, _ = cohort
    waiting, published, archived = start_run(), start_run(), start_run()
    match_run_archive(run=archived, actor=coordinator, reason="")
    held = runs_awaiting_review(program, [u.pk for u in residents])
    # The ranking run is still waiting for rankings: not computed, so not listed.
    assert {pk: [r.pk for r in runs] for pk, runs in held.items()} == {
        u.pk: [waiting.pk, published.pk] for u in residents
    }
    assert runs_awaiting_review(other_program, [u.pk for u in residents]) == {}
    for p in published.proposals.exclude(mentor=None):
        proposal_decide(proposal=p, actor=coordinator, decision=Decision.ACCEPTED)
    match_run_publish(run=published, actor=coordinator)
    # Published, it waits for nothing; and the run computed before it is now out of date (its
    # residents have mentors), so it can no longer be published and holds nobody either.
    assert runs_awaiting_review(program, [u.pk for u in residents]) == {}


# --- The override refuses a pair kept apart.


@pytest.mark.parametrize("block", ["conflict", "evaluator"])
def test_the_override_service_refuses_a_pair_kept_apart(start_run, coordinator, program, cohort, block):
    residents, (carol, dave, erin) = cohort
    alice = residents[0]
    if block == "conflict":
        ConflictOfInterest.objects.create(program=program, mentee=alice, mentor=dave, reason="Sibling")
    else:
        EvaluatorRole.objects.create(program=program, user=dave, role=EvaluatorRole.Role.PROGRAM_DIRECTOR)
    run = start_run()
    proposal = run.proposals.get(mentee=alice)
    with pytest.raises(ValidationError) as refused:
        proposal_override(proposal=proposal, actor=coordinator, mentor=dave, note="Asked for Dave", make_room="raise")
    assert "Dave Diaz" in str(refused.value.message_dict["mentor"])
    proposal.refresh_from_db()
    assert proposal.decision == Decision.PENDING and proposal.override_mentor_id is None


# --- The score bands and the worst score: the pairs publishing would make.


def test_the_bands_and_the_worst_score_leave_out_rejected_and_displaced_pairs(start_run, coordinator):
    from matching.match_runs.selectors import row_score

    run = start_run()
    # One proposed pair clearly the worst (the cohort's scores tie).
    MatchProposal.objects.filter(pk=run.proposals.exclude(mentor=None).order_by("pk")[0].pk).update(score=12.0)
    proposed = sorted(run.proposals.exclude(mentor=None), key=row_score)
    assert len(proposed) == 5 and row_score(proposed[0]) == 12.0 < row_score(proposed[1])
    before = review_summary(run)
    assert before.scored == 5 and before.worst_score == row_score(proposed[0])
    # The lowest pair rejected: it is no pair any more, so the worst is the next one up.
    proposal_decide(proposal=proposed[0], actor=coordinator, decision=Decision.REJECTED)
    # Another displaced by the unmatched resident's override: that override is a pair, the displaced is not.
    # (onto a mentor still full: not the rejected pair's)
    unmatched = run.proposals.get(mentor=None)
    displaced = next(p for p in proposed if p.mentor_id != proposed[0].mentor_id)
    proposal_override(
        proposal=unmatched,
        actor=coordinator,
        mentor=displaced.mentor,
        note="Continuity",
        make_room=f"displace:{displaced.pk}",
    )
    displaced.refresh_from_db()
    assert displaced.decision == Decision.REJECTED
    summary = review_summary(run)
    pairs = [p for p in run.proposals.all() if p.decision != Decision.REJECTED]
    assert summary.scored == sum(n for _, n in summary.score_distribution) == len(pairs) == 4
    assert summary.scored == summary.will_pair + summary.pending
    assert summary.worst_score == min(row_score(p) for p in pairs) > row_score(proposed[0])
    # The "Low score" filter still lists every row shown low: its count is of rows.
    assert summary.low_score == review_proposals(run, show="low").count()
