"""The second walkthrough of the match review: an override that displaces someone swaps their row
too (htmx), a displaced row offers Override instead of an Accept that would be refused, the score
bands count only the pairs publishing would make, and what a published run achieved is said from
the actual split between pairs matched by score and pairs chosen by an override."""

import pytest
from django.urls import reverse

from matching.match_runs.selectors import review_summary
from matching.match_runs.services import (
    MAKE_ROOM_DISPLACE,
    MAKE_ROOM_RAISE,
    match_run_publish,
    proposal_decide,
    proposal_override,
)
from matching.models import MatchProposal

pytestmark = pytest.mark.django_db

Decision = MatchProposal.Decision


def _detail(run, query=""):
    return reverse("matching:match-run-detail", args=[run.pk]) + query


def _override_url(run, proposal):
    return reverse("matching:match-run-override", args=[run.pk, proposal.pk])


def _accept_url(run, proposal):
    return reverse("matching:match-run-accept", args=[run.pk, proposal.pk])


def _row(body, proposal):
    start = body.index(f'<tr id="proposal-{proposal.pk}"')
    return body[start : body.index("</tr>", start)]


def _unmatched_and_holder(run):
    """The resident the engine left unmatched, and a proposed pair holding a spot of a full mentor
    (the cohort: five spots for six residents, so every mentor is full)."""
    unmatched = run.proposals.select_related("mentee").get(mentor=None)
    holder = run.proposals.exclude(mentor=None).select_related("mentor", "mentee").order_by("pk").first()
    return unmatched, holder


def _displace(run, coordinator):
    unmatched, holder = _unmatched_and_holder(run)
    proposal_override(
        proposal=unmatched,
        actor=coordinator,
        mentor=holder.mentor,
        note="Asked for at orientation",
        make_room=f"{MAKE_ROOM_DISPLACE}{holder.pk}",
    )
    return unmatched, holder


# --- 1. The displaced row is swapped with the overridden one.


def test_an_in_row_override_that_displaces_someone_swaps_their_row_out_of_band(client_for, coordinator, start_run):
    run = start_run()
    unmatched, holder = _unmatched_and_holder(run)
    c = client_for(coordinator)
    prefix = f"o{unmatched.pk}"
    response = c.post(
        _override_url(run, unmatched),
        {
            f"{prefix}-mentor": holder.mentor_id,
            f"{prefix}-note": "Asked for at orientation",
            f"{prefix}-make_room": f"{MAKE_ROOM_DISPLACE}{holder.pk}",
            "back": "",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    # The overridden row replaces itself (retargeted); the displaced one comes out of band, now Displaced.
    assert response["HX-Retarget"] == f"#proposal-{unmatched.pk}"
    displaced = _row(body, holder)
    assert displaced.startswith(f'<tr id="proposal-{holder.pk}" class="proposal-row" hx-swap-oob="true">')
    assert '<span class="badge badge-warn">Displaced</span>' in displaced and ">Pending<" not in displaced
    assert f"Spot given to {unmatched.mentee.full_name} (override)" in displaced
    assert _accept_url(run, holder) not in displaced
    # The overridden row itself is not out of band: htmx swaps it into its target.
    assert f'<tr id="proposal-{unmatched.pk}" class="proposal-row">' in body


def test_an_override_that_displaces_nobody_swaps_no_other_row(client_for, coordinator, start_run):
    run = start_run()
    unmatched, holder = _unmatched_and_holder(run)
    prefix = f"o{unmatched.pk}"
    body = (
        client_for(coordinator)
        .post(
            _override_url(run, unmatched),
            {
                f"{prefix}-mentor": holder.mentor_id,
                f"{prefix}-note": "Asked for at orientation",
                f"{prefix}-make_room": MAKE_ROOM_RAISE,
                "back": "",
            },
            HTTP_HX_REQUEST="true",
        )
        .content.decode()
    )
    assert f'id="proposal-{unmatched.pk}"' in body
    assert f'id="proposal-{holder.pk}"' not in body


# --- 3. A displaced row offers Override, not an Accept that would be refused.


def test_a_displaced_row_offers_override_not_accept_until_a_spot_frees(client_for, coordinator, start_run):
    run = start_run()
    unmatched, holder = _displace(run, coordinator)
    c = client_for(coordinator)
    row = _row(c.get(_detail(run)).content.decode(), holder)
    assert _accept_url(run, holder) not in row and ">Accept<" not in row
    assert _override_url(run, holder) in row and ">Override</a>" in row
    # Indeed accepting it is refused: the mentor's only spots are taken.
    response = c.post(_accept_url(run, holder), {"back": ""}, HTTP_HX_REQUEST="true")
    assert "no spot left" in response.content.decode()
    holder.refresh_from_db()
    assert holder.decision == Decision.REJECTED

    # Once the mentor has a spot again (the override that took it is changed to another mentor),
    # accepting can succeed, so it is offered again.
    elsewhere = run.mentors.exclude(pk=holder.mentor_id).first()
    proposal_override(proposal=unmatched, actor=coordinator, mentor=elsewhere, note="x", make_room=MAKE_ROOM_RAISE)
    row = _row(c.get(_detail(run)).content.decode(), holder)
    assert _accept_url(run, holder) in row
    c.post(_accept_url(run, holder), {"back": ""})
    holder.refresh_from_db()
    assert holder.decision == Decision.ACCEPTED


def test_a_row_rejected_by_the_coordinator_keeps_its_accept(client_for, coordinator, start_run):
    run = start_run()
    _, holder = _unmatched_and_holder(run)
    proposal_decide(proposal=holder, actor=coordinator, decision=Decision.REJECTED, note="Changed her mind")
    row = _row(client_for(coordinator).get(_detail(run)).content.decode(), holder)
    assert _accept_url(run, holder) in row and ">Accept<" in row


# --- 2. The score bands are of the pairs publishing would make.


def test_the_summary_counts_rejected_and_displaced_as_one_card_and_leaves_them_out_of_the_bands(
    client_for, coordinator, start_run
):
    run = start_run()
    _, holder = _displace(run, coordinator)
    other = run.proposals.exclude(mentor=None).exclude(pk=holder.pk).order_by("pk").first()
    proposal_decide(proposal=other, actor=coordinator, decision=Decision.REJECTED)
    summary = review_summary(run)
    assert summary.rejected == 2
    # Six residents, two rejected or displaced: four pairs (one overridden, three waiting).
    assert summary.scored == summary.will_pair + summary.pending == 4
    body = client_for(coordinator).get(_detail(run)).content.decode()
    assert '<dt>Rejected or displaced</dt><dd data-count="rejected">2</dd>' in body
    assert "of 4 pairs" in body and "of 6 pairs" not in body
    assert "rejected and displaced left out" in body


# --- 6. What a published run achieved, from the actual split.


def _achieved(client, run):
    body = client.get(_detail(run)).content.decode()
    return body[body.index("<h3>What the run achieved</h3>") : body.index("match-run-details")]


def test_a_run_published_with_overrides_only_says_so(client_for, coordinator, start_run, cohort):
    run = start_run()
    unmatched, holder = _unmatched_and_holder(run)
    proposal_override(proposal=unmatched, actor=coordinator, mentor=holder.mentor, note="x", make_room="raise")
    other = run.proposals.exclude(mentor=None).exclude(mentor=holder.mentor).select_related("mentor").first()
    elsewhere = next(m for m in cohort[1] if m.pk not in (other.mentor_id,))
    proposal_override(proposal=other, actor=coordinator, mentor=elsewhere, note="x", make_room="raise")
    match_run_publish(run=run, actor=coordinator, accept_waiting=False)
    run.refresh_from_db()
    achieved = _achieved(client_for(coordinator), run)
    assert "all 2 published pairs were chosen by an override." in achieved
    assert "matched by score" not in achieved


def test_a_run_published_with_both_says_how_many_of_each(client_for, coordinator, start_run):
    run = start_run()
    unmatched, holder = _unmatched_and_holder(run)
    proposal_decide(proposal=holder, actor=coordinator, decision=Decision.ACCEPTED)
    proposal_override(proposal=unmatched, actor=coordinator, mentor=holder.mentor, note="x", make_room="raise")
    match_run_publish(run=run, actor=coordinator, accept_waiting=False)
    run.refresh_from_db()
    achieved = _achieved(client_for(coordinator), run)
    assert "Nobody ranked in this match: 1 matched by score, 1 chosen by an override." in achieved
    assert "matched by score or chosen by an override" not in achieved
