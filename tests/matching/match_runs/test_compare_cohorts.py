"""Comparing two runs whose cohorts differ: the headline figures are over the residents both
contain, and the counts of those in one run only are exact (match_runs.selectors.match_run_compare)."""

import pytest

from accounts.models import Membership
from matching.match_runs.selectors import match_run_compare
from tests.factories import MembershipFactory, MenteeProfileFactory, UserFactory
from tests.matching.support import _api, _create

pytestmark = pytest.mark.django_db


@pytest.fixture
def newcomers(program):
    people = []
    for first in ("Nia", "Omar"):
        user = UserFactory(first_name=first, last_name="New")
        MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)
        MenteeProfileFactory(user=user)
        people.append(user)
    return people


@pytest.fixture
def run_over(coordinator, program, cohort, django_capture_on_commit_callbacks):
    def run(residents):
        with django_capture_on_commit_callbacks(execute=True):
            made = _create(coordinator, program, residents, cohort[1])
        made.refresh_from_db()
        return made

    return run


def _expected(run, mentee_ids):
    proposals = [p for p in run.proposals.all() if p.mentee_id in mentee_ids]
    scores = sorted(p.score for p in proposals if p.mentor_id is not None)
    return len(proposals), len(scores), sum(scores) / len(scores) if scores else None, scores[0] if scores else None


def test_the_headline_counts_only_the_residents_in_both_runs(coordinator, cohort, newcomers, run_over):
    residents, _mentors = cohort
    a = run_over(residents)  # six residents
    b = run_over(residents[2:] + newcomers)  # four of them, two more
    both = {r.pk for r in residents[2:]}

    c = match_run_compare(a=a, b=b, actor=coordinator)

    assert (c.in_both, c.only_in_a, c.only_in_b) == (4, 2, 2)
    assert not c.same_cohort
    # The whole cohorts, as before: different people.
    assert (c.a.mentees, c.b.mentees) == (6, 6)
    # Like with like: the same four residents in each column.
    for summary, run in ((c.a_in_both, a), (c.b_in_both, b)):
        mentees, matched, average, worst = _expected(run, both)
        assert summary.mentees == mentees == 4
        assert summary.matched == matched and summary.unmatched == 4 - matched
        assert summary.average_score == pytest.approx(average, abs=1e-3)
        assert summary.worst_score == worst
    # Run b has two more residents for the same five spots: its whole-cohort figures differ from its
    # figures over the four, which is why the page does not lead with them.
    assert c.b.matched != c.b_in_both.matched or c.b.mentees != c.b_in_both.mentees


def test_runs_with_no_resident_in_common_compare_nothing_head_to_head(coordinator, cohort, newcomers, run_over):
    residents, _mentors = cohort
    a, b = run_over(residents[:2]), run_over(newcomers)
    c = match_run_compare(a=a, b=b, actor=coordinator)
    assert (c.in_both, c.only_in_a, c.only_in_b) == (0, 2, 2)
    assert c.a_in_both.mentees == c.b_in_both.mentees == 0
    assert c.a_in_both.average_score is None and c.changed == []


def test_the_same_cohort_compares_the_same_figures_both_ways(coordinator, cohort, run_over):
    residents, _mentors = cohort
    a, b = run_over(residents), run_over(residents)
    c = match_run_compare(a=a, b=b, actor=coordinator)
    assert c.same_cohort and c.in_both == 6
    assert c.a_in_both == c.a and c.b_in_both == c.b


def test_the_api_gives_the_like_with_like_figures_too(coordinator, cohort, newcomers, run_over):
    residents, _mentors = cohort
    a, b = run_over(residents), run_over(residents[2:] + newcomers)
    body = _api(coordinator).get(f"/api/v1/match-runs/{a.pk}/compare/", {"with": b.pk}).json()
    assert (body["in_both"], body["only_in_a"], body["only_in_b"]) == (4, 2, 2)
    assert body["a"]["mentees"] == 6 and body["a_in_both"]["mentees"] == body["b_in_both"]["mentees"] == 4
    c = match_run_compare(a=a, b=b, actor=coordinator)
    assert body["b_in_both"]["matched"] == c.b_in_both.matched
