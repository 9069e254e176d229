"""Cohort match runs: create → the task computes proposals → coordinators review and publish.

The cohort: six residents of the program (Alice, Bob and four more), each with one goal,
and three mentors whose expertise covers two goals each: Carol (research, teaching;
2 spots), Dave (leadership, clinical skills; 2 spots) and Erin (career planning,
wellness; 1 spot). Five spots for six residents, so one resident is left unmatched.
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from matching.match_runs.ranking import ranking_submit
from matching.match_runs.selectors import match_run_compare, rankings_for
from matching.models import MatchRun
from tests.matching.support import _create

pytestmark = pytest.mark.django_db


Status = MatchRun.Status


def test_rankings_are_visible_only_to_their_author(ranking_run, cohort, coordinator):
    (alice, bob, *_), (carol, dave, erin) = cohort
    ranking_submit(run=ranking_run, actor=alice, ordered_ids=[erin.pk, carol.pk], never_ids=[dave.pk])

    assert [(r.target_id, r.position, r.never) for r in rankings_for(ranking_run, alice)] == [
        (erin.pk, 1, False),
        (carol.pk, 2, False),
        (dave.pk, None, True),
    ]
    assert not rankings_for(ranking_run, bob).exists()
    assert not rankings_for(ranking_run, coordinator).exists()


# --- Comparing two runs.


def test_comparing_stable_and_optimal_counts_the_residents_paired_differently(start_run, coordinator):
    stable, optimal = start_run(), start_run(algorithm="optimal")
    a = {p.mentee_id: p for p in stable.proposals.all()}
    b = {p.mentee_id: p for p in optimal.proposals.all()}

    c = match_run_compare(a=stable, b=optimal, actor=coordinator)

    different = sorted(pk for pk in a if a[pk].mentor_id != b[pk].mentor_id)
    assert sorted(row.mentee.pk for row in c.changed) == different
    assert c.in_both == 6 and c.only_in_a == c.only_in_b == 0
    assert (c.a.matched, c.b.matched) == (stable.stats["matched"], optimal.stats["matched"])
    assert c.a.worst_score == stable.stats["worst_score"] and c.b.worst_score == optimal.stats["worst_score"]
    assert c.b.average_score == pytest.approx(optimal.stats["total_score"] / optimal.stats["matched"], abs=1e-3)


def test_a_different_mentor_is_counted_and_an_identical_run_has_none(start_run, coordinator, cohort):
    (alice, *_), _mentors = cohort
    first, again = start_run(), start_run()
    assert match_run_compare(a=first, b=again, actor=coordinator).changed == []

    again.proposals.filter(mentee=alice).update(mentor=None, score=None)
    c = match_run_compare(a=first, b=again, actor=coordinator)
    assert [(row.mentee, row.mentor_b) for row in c.changed] == [(alice, None)]
    assert c.b.matched == c.a.matched - 1


def test_only_finished_runs_of_one_program_are_compared(start_run, coordinator, program, cohort, other_program):
    finished = start_run()
    queued = _create(coordinator, program, *cohort)
    with pytest.raises(ValidationError, match="Both runs must have finished"):
        match_run_compare(a=finished, b=queued, actor=coordinator)
    with pytest.raises(ValidationError, match="two different"):
        match_run_compare(a=finished, b=finished, actor=coordinator)
    elsewhere = MatchRun.objects.create(program=other_program, status=Status.SUCCEEDED)
    with pytest.raises(PermissionDenied):
        match_run_compare(a=finished, b=elsewhere, actor=coordinator)
