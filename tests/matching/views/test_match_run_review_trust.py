"""Issue 15, "a match a coordinator can trust": the review's fit is the number the resident sees,
the make-room choices come as soon as a full mentor is chosen, the search says where it is kept,
and the comparison sets like beside like.

The cohort (tests/matching/conftest.py): six residents, one goal each, and three mentors with five
spots between them (Carol 2, Dave 2, Erin 1), so every mentor is full after a run."""

import csv
import io
import re

import pytest
from django.urls import reverse

from accounts.models import Membership
from matching.match_runs.ranking_rows import rank_rows
from matching.match_runs.selectors import review_summary, shown_score, standard_weights
from matching.match_runs.services import proposal_decide
from matching.models import MatchProposal
from tests.factories import MembershipFactory, MenteeProfileFactory, UserFactory
from tests.matching.support import _create

pytestmark = pytest.mark.django_db

Decision = MatchProposal.Decision

# Goals and specialty only: far from the standard weights (specialty 20 %, goals 25 %, …).
OWN_WEIGHTS = {
    "specialty": 0.1,
    "goals": 0.9,
    "interests": 0,
    "career": 0,
    "availability": 0,
    "language": 0,
    "meeting_format": 0,
}


@pytest.fixture
def start_run(coordinator, program, cohort, django_capture_on_commit_callbacks):
    def start(residents=None, **kwargs):
        people, mentors = cohort
        with django_capture_on_commit_callbacks(execute=True):
            run = _create(coordinator, program, residents or people, mentors, **kwargs)
        run.refresh_from_db()
        return run

    return start


def _detail(run, query=""):
    return reverse("matching:match-run-detail", args=[run.pk]) + query


def _row(body, proposal):
    """One proposal's row of the review page."""
    start = body.index(f'<tr id="proposal-{proposal.pk}"')
    return body[start : body.index("</tr>", start)]


def _fit_shown(row):
    found = re.search(r"Fit (\d+)/100", row)
    return int(found.group(1)) if found else None


def _directory_score(client, mentor):
    """The "Fit 81/100" on ``mentor``'s card in the directory, as the logged-in resident sees it."""
    body = client.get(reverse("matching:mentor-directory")).content.decode()
    card = re.search(
        rf">{re.escape(mentor.full_name)}</a></h2>\s*<span class=\"badge badge-info\"[^>]*>Fit (\d+)/100</span>", body
    )
    assert card, f"no score on {mentor.full_name}'s card"
    return int(card.group(1))


# --- The fit: the number the resident sees.


def test_a_run_with_its_own_weights_shows_the_residents_fit_and_its_own_score_labelled(
    client_for, coordinator, resident, start_run
):
    run = start_run(weights=OWN_WEIGHTS)
    assert not standard_weights(run)
    body = client_for(coordinator).get(_detail(run)).content.decode()
    resident_client = client_for(resident)
    checked = 0
    for proposal in run.proposals.exclude(mentor=None).select_related("mentee", "mentor"):
        row = _row(body, proposal)
        shown = _fit_shown(row)
        # What the resident sees for this mentor: on the ranking page (the same scoring, the run's
        # program) and, for Alice, on the mentor's card in the directory.
        ranked = {r.person.pk: r.score for r in rank_rows(run, proposal.mentee, as_mentee=True)}
        assert shown == round(ranked[proposal.mentor_id])
        assert f"{shown_score(proposal.score)} with this match's weights" in row
        if proposal.mentee == resident:
            assert shown == _directory_score(resident_client, proposal.mentor)
        checked += 1
    assert checked == 5
    # Not the run's own score under another name: with these weights the two differ.
    alice = run.proposals.get(mentee=resident)
    assert round(alice.score) != _fit_shown(_row(body, alice))
    assert "This match weighed the components its own way (specialty fit 10&nbsp;%, goals the mentor helps with 90" in (
        body
    )
    assert "Total score (this match's weights)" in body


def test_a_run_with_the_standard_weights_shows_one_number(client_for, coordinator, resident, start_run):
    run = start_run()
    body = client_for(coordinator).get(_detail(run)).content.decode()
    alice = run.proposals.get(mentee=resident)
    row = _row(body, alice)
    assert _fit_shown(row) == round(alice.score) == _directory_score(client_for(resident), alice.mentor)
    assert "with this match" not in body
    assert "This match weighed the components the same way" in body


def test_a_run_computed_before_it_recorded_the_fit_shows_its_score_alone_if_its_weights_differ(
    client_for, coordinator, resident, start_run
):
    run = start_run(weights=OWN_WEIGHTS)
    for proposal in run.proposals.all():
        proposal.explanation.pop("fit", None)
        proposal.save(update_fields=["explanation"])
    alice = run.proposals.get(mentee=resident)
    row = _row(client_for(coordinator).get(_detail(run)).content.decode(), alice)
    assert _fit_shown(row) is None  # no number passed off as the resident's fit
    assert f"{shown_score(alice.score)} with this match's weights" in row


def _export(client, run):
    header, *rows = csv.reader(
        io.StringIO(client.get(reverse("matching:match-run-export", args=[run.pk])).content.decode())
    )
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_the_csv_has_the_fit_the_resident_sees_next_to_the_runs_score(client_for, coordinator, start_run):
    run = start_run(weights=OWN_WEIGHTS)
    client = client_for(coordinator)
    body = client.get(_detail(run)).content.decode()
    rows = {row["mentee_email"]: row for row in _export(client, run)}
    assert list(next(iter(rows.values())))[3:5] == ["score", "fit"]
    for proposal in run.proposals.select_related("mentee"):
        row = rows[proposal.mentee.email]
        if proposal.mentor_id is None:
            assert row["score"] == row["fit"] == ""
            continue
        assert row["score"] == f"{proposal.score:.1f}"
        # The review's "Fit N/100", one decimal more; not the run's own score.
        assert round(float(row["fit"])) == _fit_shown(_row(body, proposal))
        assert row["fit"] == f"{proposal.explanation['fit']:.1f}" != row["score"]


def test_the_csv_leaves_the_fit_empty_where_it_is_unknown_and_equal_to_the_score_with_standard_weights(
    client_for, coordinator, start_run
):
    client = client_for(coordinator)
    old = start_run(weights=OWN_WEIGHTS)
    for proposal in old.proposals.all():
        proposal.explanation.pop("fit", None)  # computed before runs recorded the fit
        proposal.save(update_fields=["explanation"])
    rows = _export(client, old)
    assert all(row["fit"] == "" for row in rows)
    assert any(row["score"] for row in rows)

    standard = start_run()
    for proposal in standard.proposals.exclude(mentor=None):
        proposal.explanation.pop("fit", None)  # the standard weights: the score is the fit
        proposal.save(update_fields=["explanation"])
    matched = [row for row in _export(client, standard) if row["proposed_mentor"]]
    assert matched and all(row["fit"] == row["score"] != "" for row in matched)


# --- "Low": the number shown decides, on the row, in the filter and in the summary.


@pytest.mark.parametrize(("score", "shown", "low"), [(39.4, 39, True), (39.5, 40, False), (40.0, 40, False)])
def test_the_low_badge_agrees_with_the_fit_shown(client_for, coordinator, resident, start_run, score, shown, low):
    run = start_run()
    for proposal in run.proposals.exclude(mentor=None):
        # With the standard weights the run's score is the fit it records.
        proposal.score = score if proposal.mentee == resident else 85.0
        proposal.explanation["fit"] = proposal.score
        proposal.save(update_fields=["score", "explanation"])
    alice = run.proposals.get(mentee=resident)
    client = client_for(coordinator)

    row = _row(client.get(_detail(run)).content.decode(), alice)
    assert _fit_shown(row) == shown
    assert ('<span class="badge badge-warn">Low</span>' in row) is low
    # The "Low score" filter lists her exactly when her row says Low.
    assert (f'id="proposal-{alice.pk}"' in client.get(_detail(run, "?show=low")).content.decode()) is low
    summary = review_summary(run)
    assert summary.low_score == int(low)
    bands = dict(summary.score_distribution)
    assert (bands["30–40"], bands["40–50"]) == ((1, 0) if low else (0, 1))


# --- Overriding onto a full mentor: the ways to make room come with the choice.


def _room(client, run, proposal, mentor):
    return client.get(
        reverse("matching:match-run-override", args=[run.pk, proposal.pk]),
        {"room": "1", f"o{proposal.pk}-mentor": str(mentor.pk)},
        HTTP_HX_REQUEST="true",
    )


def test_choosing_a_full_mentor_brings_the_ways_to_make_room_at_once(client_for, coordinator, start_run):
    run = start_run()
    unmatched = run.proposals.get(mentor=None)
    holder = run.proposals.exclude(mentor=None).select_related("mentor", "mentee").first()
    full = holder.mentor
    c = client_for(coordinator)
    form = c.get(
        reverse("matching:match-run-override", args=[run.pk, unmatched.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    # The select asks for them as soon as it changes; the sentence for screen readers has its place.
    assert f'hx-get="/match-runs/{run.pk}/proposals/{unmatched.pk}/override/?room=1"' in form
    assert f'<p id="o{unmatched.pk}-room-status" class="visually-hidden" role="status"></p>' in form
    assert f'<div id="o{unmatched.pk}-room" class="make-room-slot">' in form

    response = _room(c, run, unmatched, full)
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body and "<form" not in body
    assert f"Giving {full.full_name} one more spot in this match" in body
    assert f"Displacing {holder.mentee.full_name} (pending, fit {holder.score:.0f}/100)" in body
    assert f'<p id="o{unmatched.pk}-room-status" hx-swap-oob="innerHTML">{full.full_name} has no spot left' in body


def test_choosing_a_mentor_with_a_spot_offers_nothing_and_a_stale_choice_is_dropped(client_for, coordinator, start_run):
    run = start_run()
    unmatched = run.proposals.get(mentor=None)
    freed = run.proposals.exclude(mentor=None).select_related("mentor").first()
    proposal_decide(proposal=freed, actor=coordinator, decision=Decision.REJECTED, note="Not this one")
    c = client_for(coordinator)
    body = _room(c, run, unmatched, freed.mentor).content.decode()
    assert "Giving " not in body and "Displacing " not in body
    assert f"{freed.mentor.full_name} has a spot left in this match." in body

    # "One more spot" chosen while the mentor was full, sent once a spot has opened: no extra spot.
    response = c.post(
        reverse("matching:match-run-override", args=[run.pk, unmatched.pk]),
        {
            f"o{unmatched.pk}-mentor": freed.mentor_id,
            f"o{unmatched.pk}-note": "Asked for them",
            f"o{unmatched.pk}-make_room": "raise",
        },
    )
    assert response.status_code == 302
    run.refresh_from_db()
    unmatched.refresh_from_db()
    assert unmatched.decision == Decision.OVERRIDDEN and unmatched.override_mentor_id == freed.mentor_id
    assert run.extra_spots in ({}, None)


def test_the_make_room_fragment_is_for_the_programs_coordinators_only(
    client_for, coordinator, other_coordinator, resident, start_run
):
    run = start_run()
    unmatched = run.proposals.get(mentor=None)
    mentor = run.proposals.exclude(mentor=None).first().mentor
    for person in (other_coordinator, resident):
        assert _room(client_for(person), run, unmatched, mentor).status_code == 404
    # A proposal of another run is not found through this one.
    other = start_run()
    stray = other.proposals.get(mentor=None)
    assert _room(client_for(coordinator), run, stray, mentor).status_code == 404


def test_an_absurd_mentor_id_offers_nothing(client_for, coordinator, start_run):
    run = start_run()
    unmatched = run.proposals.get(mentor=None)
    url = reverse("matching:match-run-override", args=[run.pk, unmatched.pk])
    for value in ("9" * 30, "²", "-1", "abc", "999999"):
        response = client_for(coordinator).get(
            url, {"room": "1", f"o{unmatched.pk}-mentor": value}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 200, value
        assert "Giving " not in response.content.decode(), value


# --- The search says where it is kept.


def test_the_search_says_it_stays_out_of_the_address(client_for, coordinator, start_run):
    body = client_for(coordinator).get(_detail(start_run())).content.decode()
    search = body[body.index('id="id_q"') - 600 : body.index('id="id_q"') + 400]
    assert "Kept in your session, not in the page's address" in search
    assert 'aria-describedby="id_q_helptext"' in search


# --- Comparing two runs: like with like.


def test_the_comparison_leads_with_the_residents_both_runs_contain(client_for, coordinator, program, cohort, start_run):
    residents, _mentors = cohort
    newcomer = UserFactory(first_name="Nia", last_name="New")
    MembershipFactory(user=newcomer, program=program, role=Membership.Role.RESIDENT)
    MenteeProfileFactory(user=newcomer)
    a = start_run()  # the six
    b = start_run(residents=residents[:3] + [newcomer])  # three of them and one more
    body = client_for(coordinator).get(reverse("matching:match-run-compare", args=[a.pk]), {"with": b.pk})
    text = body.content.decode()
    assert f"3 are in both, 3 only in #{a.pk}, 1 only in #{b.pk}." in text
    common = text[text.index("match-compare-common") : text.index("</table>", text.index("match-compare-common"))]
    assert "Over the 3 residents in both runs" in common
    assert '<tr><th scope="row">Residents</th><td>3</td><td>3</td></tr>' in common
    whole = text[text.index("match-compare-whole") : text.index("</table>", text.index("match-compare-whole"))]
    assert '<tr><th scope="row">Residents</th><td>6</td><td>4</td></tr>' in whole
    assert "Each run's whole cohort" in text


def test_runs_over_the_same_residents_show_one_table(client_for, coordinator, start_run):
    a, b = start_run(), start_run(algorithm="optimal", weights=OWN_WEIGHTS)
    text = client_for(coordinator).get(reverse("matching:match-run-compare", args=[a.pk]), {"with": b.pk}).content
    text = text.decode()
    assert "Both runs match the same 6 residents." in text
    assert "match-compare-whole" not in text
    assert "weigh the components differently" in text
