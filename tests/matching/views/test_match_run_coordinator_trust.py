"""A coordinator's walkthrough of match runs (issue 15, "A match a coordinator can trust"): the
publish panel's counts and its highlighted way, what a published run achieved, an out-of-date or
discarded run, the runs in other open matches on the start form, the runs list's method, the start
form's count and the time zone of the deadline fields."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from matching.match_runs.selectors import (
    PUBLISH_ACCEPTING,
    PUBLISH_DECIDED_ONLY,
    review_summary,
    runs_awaiting_review,
)
from matching.match_runs.services import match_run_archive, match_run_publish, proposal_decide
from matching.models import MatchProposal, MatchRun, Mentorship

pytestmark = pytest.mark.django_db

Decision = MatchProposal.Decision


@pytest.fixture
def decided_run(start_run, coordinator):
    """One proposal accepted, one rejected, the other proposed pairs still waiting: publishing only
    the decided and accepting the waiting then leave different residents without a mentor."""
    run = start_run()
    first, second = run.proposals.exclude(mentor=None).order_by("pk")[:2]
    proposal_decide(proposal=first, actor=coordinator, decision=Decision.ACCEPTED)
    proposal_decide(proposal=second, actor=coordinator, decision=Decision.REJECTED)
    summary = review_summary(run)
    assert summary.pending >= 2 and summary.left_anyway >= 1  # the cohort gives both
    return run


def _detail(run):
    return reverse("matching:match-run-detail", args=[run.pk])


def _panel(body: str) -> str:
    start = body.index('<details class="confirm-disclosure match-run-publish">')
    return body[start : body.index("</details>", start)]


def _outcome(panel: str, waiting: str) -> tuple[int, int]:
    """(mentorships started, residents told they have none) as the panel says them beside a way."""
    text = re.search(rf'data-waiting="{waiting}">(.*?)</p>', panel, re.S).group(1)
    started = int(re.search(r"Starts (\d+) mentorship", text).group(1))
    told = re.search(r"tells the <strong>(\d+)</strong> residents? left without", text)
    return started, int(told.group(1)) if told else 0


def _without_a_mentor(run) -> int:
    paired = set(
        Mentorship.objects.filter(status=Mentorship.Status.ACTIVE, kind=run.kind).values_list("mentee_id", flat=True)
    )
    return sum(1 for pk in run.mentees.values_list("pk", flat=True) if pk not in paired)


# --- 1. and 2. The publish panel.


@pytest.mark.parametrize("waiting", [PUBLISH_DECIDED_ONLY, PUBLISH_ACCEPTING])
def test_the_panel_says_beside_each_way_what_publishing_that_way_does(
    client_for, coordinator, decided_run, waiting, django_capture_on_commit_callbacks
):
    client = client_for(coordinator)
    panel = _panel(client.get(_detail(decided_run)).content.decode())
    started, told = _outcome(panel, waiting)
    # One number per way, and no other count of "left without" anywhere in the panel.
    other = PUBLISH_ACCEPTING if waiting == PUBLISH_DECIDED_ONLY else PUBLISH_DECIDED_ONLY
    assert sorted(re.findall(r"<strong>(\d+)</strong> residents? left without", panel)) == sorted(
        [str(told), str(_outcome(panel, other)[1])]
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("matching:match-run-publish", args=[decided_run.pk]), {"waiting": waiting})
    decided_run.refresh_from_db()
    assert decided_run.is_published
    # What the panel said is what publishing did.
    assert Mentorship.objects.filter(status=Mentorship.Status.ACTIVE).count() == started
    assert _without_a_mentor(decided_run) == told


def test_the_two_ways_give_different_counts_from_one_summary(client_for, coordinator, decided_run):
    summary = review_summary(decided_run)
    panel = _panel(client_for(coordinator).get(_detail(decided_run)).content.decode())
    assert _outcome(panel, PUBLISH_DECIDED_ONLY) == (summary.will_pair, summary.left_without)
    assert _outcome(panel, PUBLISH_ACCEPTING) == (summary.will_pair + summary.pending, summary.left_anyway)
    assert summary.left_without != summary.left_anyway
    # The old line under the buttons, with a third wording of the same count, is gone.
    body = client_for(coordinator).get(_detail(decided_run)).content.decode()
    assert "left without a mentor is told so" not in body and "are told so" not in body


def test_neither_way_to_publish_with_proposals_waiting_is_highlighted(client_for, coordinator, decided_run):
    """Both cannot be undone and each has its risk: they look the same, each with its consequence."""
    panel = _panel(client_for(coordinator).get(_detail(decided_run)).content.decode())
    leave = re.search(r'<button type="submit" name="waiting" value="leave"([^>]*)>', panel)
    accept = re.search(r'<button type="submit" name="waiting" value="accept"([^>]*)>', panel)
    assert leave.group(1) == accept.group(1) == ' class="button-secondary"'
    assert 'data-waiting="leave"' in panel and 'data-waiting="accept"' in panel
    assert leave.start() < accept.start()


def test_the_confirmation_page_gives_the_panels_counts(client_for, coordinator, decided_run):
    """Without JavaScript (or from a reload) the publish step is a page: the same numbers."""
    summary = review_summary(decided_run)
    html = client_for(coordinator).get(reverse("matching:match-run-publish", args=[decided_run.pk])).content.decode()
    assert (
        f"Publish only the decided: starts {summary.will_pair} mentorship{'s' if summary.will_pair != 1 else ''} "
        f"and tells both people of each pair; tells the {summary.left_without} residents left without" in html
    )
    accepted = summary.will_pair + summary.pending
    assert (
        f"Accept the waiting and publish: starts {accepted} mentorships and tells both people of each pair; "
        f"tells the {summary.left_anyway} resident{'s' if summary.left_anyway != 1 else ''} left without" in html
    )
    # The same weight for both ways, as in the panel: neither is the primary button.
    assert re.search(r'value="leave" class="button-secondary">Publish only the', html)
    assert re.search(r'value="accept" class="button-secondary">Accept the', html)
    assert html.index('value="leave"') < html.index('value="accept"')


# --- 3. What a published run achieved.


def test_after_publishing_the_achieved_section_describes_what_was_published(
    client_for, coordinator, decided_run, django_capture_on_commit_callbacks
):
    before = review_summary(decided_run)
    assert before.published_pairs is None
    with django_capture_on_commit_callbacks(execute=True):
        match_run_publish(run=decided_run, actor=coordinator, accept_waiting=False)
    decided_run.refresh_from_db()
    summary = review_summary(decided_run)
    pub = summary.published_pairs
    assert pub.pairs == 1 and pub.scored == 1  # only the accepted pair started
    assert pub.not_decided == before.pending and pub.rejected == 1
    assert sum(n for _, n in pub.score_distribution) == 1

    body = client_for(coordinator).get(_detail(decided_run)).content.decode()
    achieved = body[body.index("<h3>What the run achieved</h3>") : body.index("match-run-details")]
    assert 'Publishing started <strong data-count="published_pairs">1</strong> pairing;' in achieved
    assert (
        f'<strong data-count="not_published">{before.pending + 1}</strong> proposed pairs were not published '
        f"({before.pending} not decided before publishing, 1 rejected)" in achieved
    )
    # The chart counts the published pair only, not the proposals left out.
    bars = [int(n) for n in re.findall(r'<progress max="\d+" value="(\d+)"', achieved)]
    assert sum(bars) == 1
    assert "of 1 published pairs" in achieved
    assert "proposed pairs were matched by score" not in achieved


# --- 4. An out-of-date or discarded run.


def test_an_out_of_date_run_says_what_it_can_become_not_what_publishing_now_would_do(
    client_for, coordinator, decided_run, start_run, django_capture_on_commit_callbacks
):
    client = client_for(coordinator)
    body = client.get(_detail(decided_run)).content.decode()
    # Control: while it can be published, the counts of publishing now are there.
    assert 'data-count="pending"' in body and "Without a mentor if published now" in body

    other = start_run()
    proposal_decide(proposal=other.proposals.exclude(mentor=None).first(), actor=coordinator, decision="accepted")
    with django_capture_on_commit_callbacks(execute=True):
        match_run_publish(run=other, actor=coordinator)
    body = client.get(_detail(decided_run)).content.decode()
    summary = body[body.index('id="review-summary"') : body.index("<h3>What the run achieved</h3>")]
    assert "Waiting for a decision" not in summary and 'data-count="pending"' not in summary
    assert "if published now" not in summary and 'data-count="left_without"' not in summary
    assert 'data-count="will_pair"' not in summary
    assert "This match is out of date, so it can no longer be published" in summary
    # What the rows' "Pending" means now: not decidable, and nobody held for them.
    assert "its proposals can no longer be accepted or overridden: they stay as they were" in summary
    assert "Re-run it with the same settings, or discard it." in summary
    # The decisions made stay visible.
    assert '<dd data-count="accepted">1</dd>' in summary


def test_a_discarded_run_shows_no_counts_of_publishing_now(client_for, coordinator, decided_run):
    match_run_archive(run=decided_run, actor=coordinator, reason="")
    body = client_for(coordinator).get(_detail(decided_run)).content.decode()
    summary = body[body.index('id="review-summary"') : body.index("<h3>What the run achieved</h3>")]
    assert "if published now" not in summary and 'data-count="pending"' not in summary
    assert "This match was discarded: it can no longer be published" in summary


# --- 5. Residents in other open runs.


def test_an_out_of_date_run_does_not_hold_its_residents_on_the_start_form(
    client_for, coordinator, program, cohort, decided_run, start_run, django_capture_on_commit_callbacks
):
    residents, _ = cohort
    start = reverse("matching:match-run-create", args=[program.slug]) + "?kind=career"
    client = client_for(coordinator)
    assert f"In match #{decided_run.pk}, waiting for review" in client.get(start).content.decode()

    other = start_run()
    proposal_decide(proposal=other.proposals.exclude(mentor=None).first(), actor=coordinator, decision="accepted")
    with django_capture_on_commit_callbacks(execute=True):
        match_run_publish(run=other, actor=coordinator)
    assert runs_awaiting_review(program, [u.pk for u in residents]) == {}
    body = client.get(start).content.decode()
    assert f"In match #{decided_run.pk}" not in body


# --- 6. The runs list.


def test_the_runs_list_names_each_runs_method(client_for, coordinator, program, start_run):
    stable, optimal = start_run(algorithm="stable"), start_run(algorithm="optimal")
    body = client_for(coordinator).get(reverse("matching:match-runs", args=[program.slug])).content.decode()

    def method(run):
        row = body[body.index(f"#{run.pk} · Career</a>") :]
        return re.search(r'<span class="muted small match-run-method">(?:\{#.*?#\})?([^<]+)</span>', row).group(1)

    assert method(stable) == "Stable"
    assert method(optimal) == "Best overall fit"


# --- 8. The time zone of the deadline fields; the extend row.


def test_both_deadline_fields_name_the_zone_the_same_way(client_for, coordinator, program, start_run):
    coordinator.time_zone = "America/New_York"
    coordinator.save(update_fields=["time_zone"])
    client = client_for(coordinator)
    start = client.get(reverse("matching:match-run-create", args=[program.slug])).content.decode()
    assert 'id="id_ranking_deadline_helptext">In your time zone (America/New York).' in start
    assert "America/New_York" not in start

    run = start_run(ranking_deadline=timezone.now() + timedelta(days=7))
    assert run.status == MatchRun.Status.QUEUED
    window = client.get(reverse("matching:ranking-window", args=[run.pk])).content.decode()
    assert "In your time zone (America/New York)." in window
    # The input and its button share one row.
    row = re.search(r'<div class="row ranking-extend-row">(.*?)</div>', window, re.S).group(1)
    assert 'name="ranking_deadline"' in row and ">Extend the deadline</button>" in row
    assert 'aria-describedby="id_ranking_deadline_helptext"' in row
