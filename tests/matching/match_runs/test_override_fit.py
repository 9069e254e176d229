"""Issue 15, "a match a coordinator can trust": an override shows the fit of the pair it makes,
scored as the run scored its own pairs, on the review row, in its summary, its CSV and its API;
and the override form says once that its reason is required.

The cohort (tests/matching/conftest.py): six residents with one goal each, three mentors with five
spots (Carol 2, Dave 2, Erin 1). Alice wants research, which Carol offers and Dave does not."""

import csv
import io
import re

import pytest
from django.urls import reverse

from matching import engine
from matching.match_cohort import load_cohort
from matching.match_runs.ranking_rows import rank_rows
from matching.match_runs.selectors import (
    OVERRIDE_FIT,
    is_low_score,
    review_proposals,
    review_summary,
    row_score,
    shown_score,
)
from matching.match_runs.services import proposal_decide, proposal_override
from matching.models import MatchProposal

pytestmark = pytest.mark.django_db

Decision = MatchProposal.Decision

# Goals weigh almost everything: a mentor who offers none of the resident's goals scores low.
GOALS_FIRST = {
    "specialty": 0.1,
    "goals": 0.9,
    "interests": 0,
    "career": 0,
    "availability": 0,
    "language": 0,
    "meeting_format": 0,
}


def _run_scores(run) -> dict:
    """{mentee: {mentor: score}} as the engine scores the whole cohort with the run's weights:
    another path than the one the override takes (one pair, ``explain_pair``)."""
    cohort = load_cohort(run)
    weights = engine.Weights.from_mapping(run.weights or {})
    return engine.score_cohort(cohort.mentees, cohort.mentors, weights=weights, exclusions=cohort.exclusions).as_dict()


def _override_alice_onto_dave(run, cohort, coordinator):
    (alice, *_), (carol, dave, _erin) = cohort
    proposal = run.proposals.get(mentee=alice)
    assert proposal.mentor_id == carol.pk  # the research mentor
    return proposal_override(
        proposal=proposal, actor=coordinator, mentor=dave, note="Asked for Dave", make_room="raise"
    )


def test_an_override_stores_the_fit_of_the_pair_it_makes_with_the_runs_weights(start_run, cohort, coordinator):
    (alice, *_), (carol, dave, _erin) = cohort
    run = start_run(weights=GOALS_FIRST)
    proposed = run.proposals.get(mentee=alice)
    overridden = _override_alice_onto_dave(run, cohort, coordinator)

    stored = MatchProposal.objects.get(pk=overridden.pk).explanation[OVERRIDE_FIT]
    scores = _run_scores(run)
    assert stored["mentor"] == dave.pk
    assert stored["score"] == pytest.approx(scores[alice.pk][dave.pk], abs=0.01)
    # The fit as Alice sees Dave elsewhere (her ranking page: the standard weights).
    seen = {r.person.pk: r.score for r in rank_rows(run, alice, as_mentee=True)}
    assert round(stored["fit"]) == round(seen[dave.pk])
    assert stored["components"] and all("reason" in c for c in stored["components"])
    # Not the proposed pair's numbers under a new name: Carol offers Alice's goal, Dave does not.
    assert stored["score"] < proposed.score - 30
    # The proposed pair's own explanation is left as the run wrote it.
    assert MatchProposal.objects.get(pk=overridden.pk).explanation["score"] == proposed.explanation["score"]


def test_an_override_of_an_unmatched_resident_is_scored_too(start_run, cohort, coordinator):
    _residents, (carol, dave, _erin) = cohort
    run = start_run()
    unmatched = run.proposals.get(mentor=None)
    overridden = proposal_override(
        proposal=unmatched, actor=coordinator, mentor=dave, note="Continuity", make_room="raise"
    )
    stored = MatchProposal.objects.get(pk=overridden.pk).explanation[OVERRIDE_FIT]
    assert stored["score"] == pytest.approx(_run_scores(run)[unmatched.mentee_id][dave.pk], abs=0.01)
    assert row_score(MatchProposal.objects.get(pk=overridden.pk)) == stored["score"]


def test_undoing_or_rejecting_an_override_drops_its_fit(start_run, cohort, coordinator):
    run = start_run(weights=GOALS_FIRST)
    overridden = _override_alice_onto_dave(run, cohort, coordinator)
    proposal_decide(proposal=overridden, actor=coordinator, decision=Decision.ACCEPTED)
    undone = MatchProposal.objects.get(pk=overridden.pk)
    assert OVERRIDE_FIT not in undone.explanation
    assert row_score(undone) == undone.score


def test_the_summary_counts_an_override_by_the_pair_it_makes(start_run, cohort, coordinator):
    """The score bands, the low count, the worst score and the "Low score" filter all follow
    the score each row shows: after the override, Alice's pair with Dave, not with Carol."""
    run = start_run(weights=GOALS_FIRST)
    before = review_summary(run)
    proposed = run.proposals.get(mentee=cohort[0][0])
    overridden = _override_alice_onto_dave(run, cohort, coordinator)
    new_score = MatchProposal.objects.get(pk=overridden.pk).explanation[OVERRIDE_FIT]["score"]
    assert is_low_score(new_score) and not is_low_score(proposed.score)
    after = review_summary(run)

    bands = dict(after.score_distribution)
    old_band, new_band = before.score_distribution[min(shown_score(proposed.score) // 10, 9)][0], None
    new_band = after.score_distribution[min(shown_score(new_score) // 10, 9)][0]
    assert old_band != new_band
    assert bands[old_band] == dict(before.score_distribution)[old_band] - 1
    assert bands[new_band] == dict(before.score_distribution)[new_band] + 1
    assert after.low_score == before.low_score + 1
    assert after.worst_score == pytest.approx(min(new_score, before.worst_score))
    # Every row that shows a score counts once, by that score.
    shown = [row_score(p) for p in run.proposals.all()]
    assert after.scored == sum(n for _, n in after.score_distribution) == sum(s is not None for s in shown)
    assert after.worst_score == min(s for s in shown if s is not None)
    # The filter lists whom the count counts, and the score sort puts the override by its pair.
    low = list(review_proposals(run, show="low"))
    assert len(low) == after.low_score and overridden.pk in {p.pk for p in low}
    by_score = [p.pk for p in review_proposals(run, sort="score")]
    ordered = sorted((s, pk) for pk, s in ((p.pk, row_score(p)) for p in run.proposals.all()) if s is not None)
    assert by_score[: len(ordered)] == [pk for _, pk in ordered]


def test_an_override_of_an_unmatched_resident_joins_the_score_bands(start_run, cohort, coordinator):
    _residents, (_carol, dave, _erin) = cohort
    run = start_run()
    before = review_summary(run)
    unmatched = run.proposals.get(mentor=None)
    proposal_override(proposal=unmatched, actor=coordinator, mentor=dave, note="Continuity", make_room="raise")
    after = review_summary(run)
    assert after.scored == before.scored + 1 == sum(n for _, n in after.score_distribution)


# --- The page, the CSV and the API.


def _row(body, proposal):
    start = body.index(f'<tr id="proposal-{proposal.pk}"')
    return body[start : body.index("</tr>", start)]


def test_the_review_row_shows_the_fit_of_the_pair_as_overridden(client_for, start_run, cohort, coordinator):
    (alice, *_), (carol, dave, _erin) = cohort
    run = start_run(weights=GOALS_FIRST)
    proposed = run.proposals.get(mentee=alice)
    overridden = _override_alice_onto_dave(run, cohort, coordinator)
    stored = MatchProposal.objects.get(pk=overridden.pk).explanation[OVERRIDE_FIT]
    body = client_for(coordinator).get(reverse("matching:match-run-detail", args=[run.pk])).content.decode()
    row = _row(body, overridden)
    fit_cell = re.search(r'<td data-label="Fit">(.*?)</td>', row, re.S).group(1)
    assert re.search(r"Fit (\d+)/100", fit_cell).group(1) == str(shown_score(stored["fit"]))
    assert f"{shown_score(stored['score'])} with this match's weights" in fit_cell
    assert 'badge-warn">Low' in fit_cell  # Dave offers none of Alice's goals
    assert f"with {dave.full_name} (the override)" in fit_cell
    assert f"proposed pair: fit {shown_score(proposed.explanation['fit'])}" in fit_cell
    # Its reasons are the override's pair's, not Carol's.
    top = max(stored["components"], key=lambda c: c["points"])
    assert top["reason"] in row
    # The summary on the same page: the worst score is the one this row shows.
    assert f'data-count="worst_score">{shown_score(review_summary(run).worst_score)}/100' in body


def test_the_csv_has_the_fit_of_the_pair_as_overridden(client_for, start_run, cohort, coordinator):
    (alice, *_), (carol, dave, _erin) = cohort
    run = start_run(weights=GOALS_FIRST)
    overridden = _override_alice_onto_dave(run, cohort, coordinator)
    stored = MatchProposal.objects.get(pk=overridden.pk).explanation[OVERRIDE_FIT]
    response = client_for(coordinator).get(reverse("matching:match-run-export", args=[run.pk]))
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    by_mentee = {r["mentee_email"]: r for r in rows}
    row = by_mentee[alice.email]
    assert row["proposed_mentor"] == carol.full_name and row["mentor_on_publish"] == dave.full_name
    assert row["override_fit"] == f"{stored['fit']:.1f}"
    assert row["fit"] != row["override_fit"]  # "fit" stays the proposed pair's
    assert all(r["override_fit"] == "" for email, r in by_mentee.items() if email != alice.email)


def test_the_api_shows_the_override_fit(client_for, start_run, cohort, coordinator):
    run = start_run(weights=GOALS_FIRST)
    overridden = _override_alice_onto_dave(run, cohort, coordinator)
    client = client_for(coordinator)
    proposals = client.get(f"/api/v1/match-runs/{run.pk}/proposals/").json()
    found = next(p for p in proposals.get("results", proposals) if p["id"] == overridden.pk)
    assert found["explanation"][OVERRIDE_FIT]["mentor"] == cohort[1][1].pk
    summary = review_summary(run)
    figures = client.get(f"/api/v1/match-runs/{run.pk}/summary/").json()
    assert figures["worst_score"] == pytest.approx(summary.worst_score)
    assert (figures["scored"], figures["low_score"]) == (summary.scored, summary.low_score)


# --- The override form's reason.


def test_the_override_reason_is_marked_required_once(client_for, start_run, coordinator):
    run = start_run()
    proposal = run.proposals.exclude(mentor=None).first()
    url = reverse("matching:match-run-override", args=[run.pk, proposal.pk])
    body = client_for(coordinator).get(url).content.decode()
    field = re.search(r'<div class="field[^"]*"[^>]*>\s*<label for="[\w-]*-note">([^<]*)</label>.*?</div>', body, re.S)
    assert field, "the reason's field"
    assert field.group(1).strip() == "Why:"  # no "(required)": the asterisk is the marker
    assert "field-required" in field.group(0)  # the one visible marker (templates/includes/field.html)
    textarea = re.search(r"<textarea[^>]*-note\"[^>]*>", body).group(0)
    assert " required" in textarea  # said to assistive technology
