"""The start form's warnings (more residents than open spots; residents already in a run waiting
for review), the override form's mentors (no pair kept apart), the runs list's counts (the
review's, in a fixed number of queries), and the run page's out-of-date check (once a request)."""

import re
from unittest import mock

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from matching.match_runs import freshness
from matching.match_runs.selectors import review_summary
from matching.match_runs.services import match_run_publish, proposal_decide
from matching.models import ConflictOfInterest, EvaluatorRole, MatchProposal, MatchRun
from tests.matching.views.test_match_run_start import WEIGHTS

pytestmark = pytest.mark.django_db

Decision = MatchProposal.Decision


def _start(program):
    return reverse("matching:match-run-create", args=[program.slug])


def _post(client, program, residents, mentors, **extra):
    data = {
        "kind": "career",
        "algorithm": "stable",
        "mentee_ids": [r.pk for r in residents],
        "mentor_ids": [m.pk for m in mentors],
        "ranking_deadline": "",
        **{f"weight_{name}": value for name, value in WEIGHTS.items()},
        **extra,
    }
    return client.post(_start(program), data)


# --- The start form.


def test_each_mentor_box_carries_their_open_spots(client_for, coordinator, program, cohort):
    _, (carol, dave, erin) = cohort
    body = client_for(coordinator).get(_start(program)).content.decode()
    for mentor, spots in ((carol, 2), (dave, 2), (erin, 1)):
        found = re.search(rf'name="mentor_ids" value="{mentor.pk}"[^>]*data-spots="(\d+)"', body)
        assert found and int(found[1]) == spots
    # Nobody chosen yet: the warnings are there for the script, hidden and empty.
    assert '<p class="message message-warning" data-capacity-warning hidden></p>' in body


def test_a_refused_form_warns_of_more_residents_than_spots_without_blocking(
    client_for, coordinator, program, cohort, django_capture_on_commit_callbacks
):
    residents, (carol, dave, erin) = cohort
    c = client_for(coordinator)
    response = _post(c, program, residents, [erin], weight_goals=0)  # refused for its weights only
    assert response.status_code == 400
    body = response.content.decode()
    assert "6 residents, 1 open spot: 5 will be unmatched unless you add mentors or raise capacity." in body
    assert "data-capacity-warning>" in body  # shown, not hidden

    # Enough spots: no warning.
    body = _post(c, program, residents[:4], [carol, dave], weight_goals=0).content.decode()
    assert "will be unmatched" not in body

    # Allowed all the same: the run starts and its page says it once more.
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(c, program, residents, [erin])
    run = MatchRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("matching:match-run-detail", args=[run.pk])
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert "6 residents, 1 open spot: 5 will be unmatched unless you add mentors or raise capacity." in texts


def test_residents_with_a_mentor_of_the_kind_do_not_count_against_the_spots(
    client_for, coordinator, program, cohort, attending
):
    from tests.matching.factories import MentorshipFactory

    residents, (carol, dave, erin) = cohort
    MentorshipFactory(mentee=residents[0], mentor=dave, program=program, kind="career")
    body = _post(client_for(coordinator), program, residents[:2], [erin], weight_goals=0).content.decode()
    assert "1 resident, 1 open spot" not in body and "will be unmatched" not in body


def test_residents_in_a_run_waiting_for_review_are_named_with_a_link(
    client_for, coordinator, program, cohort, start_run, django_capture_on_commit_callbacks
):
    residents, mentors = cohort
    waiting = start_run()
    research = start_run(kind="research")
    c = client_for(coordinator)
    response = _post(c, program, residents[:2], mentors, weight_goals=0)
    body = response.content.decode()
    link = reverse("matching:match-run-detail", args=[waiting.pk])
    assert (
        f'<li data-run="{waiting.pk}" data-run-kind="career"><a href="{link}">Match #{waiting.pk}</a>: '
        "<span data-run-names>Alice Adams, Bob Brown</span></li>"
    ) in body
    # Another kind's run: listed for the script (the kind can change on the page), hidden.
    assert f'<li data-run="{research.pk}" data-run-kind="research" hidden>' in body
    assert f"In match #{research.pk}, waiting for review" in body
    # Each row says which runs hold the resident, for the script.
    assert f'data-other-runs="{waiting.pk} {research.pk}"' in body

    with django_capture_on_commit_callbacks(execute=True):
        response = _post(c, program, residents[:2], mentors)
    assert response.status_code == 302
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(
        t.startswith(f"Already in another match waiting for review (#{waiting.pk}: Alice Adams, Bob Brown).")
        for t in texts
    )


def test_a_published_or_discarded_run_is_not_a_warning(client_for, coordinator, program, cohort, start_run):
    residents, mentors = cohort
    run = start_run()
    for p in run.proposals.exclude(mentor=None):
        proposal_decide(proposal=p, actor=coordinator, decision=Decision.ACCEPTED)
    match_run_publish(run=run, actor=coordinator)
    body = _post(client_for(coordinator), program, residents, mentors, weight_goals=0).content.decode()
    assert "data-other-runs-warning hidden" in body and "waiting for review</span>" not in body
    assert "data-run=" not in body


# --- The override form.


def _override(run, proposal):
    return reverse("matching:match-run-override", args=[run.pk, proposal.pk])


def _options(form):
    """The mentors the override form offers, in order: (id, label), out of their groups."""
    return [option for group, options in form.fields["mentor"].choices if group for option in options]


def test_the_override_form_leaves_out_mentors_kept_apart_from_the_resident(
    client_for, coordinator, program, cohort, start_run
):
    residents, (carol, dave, erin) = cohort
    alice, bob = residents[:2]
    ConflictOfInterest.objects.create(program=program, mentee=alice, mentor=carol, reason="Sibling")
    EvaluatorRole.objects.create(program=program, user=erin, role=EvaluatorRole.Role.PROGRAM_DIRECTOR)
    run = start_run()
    c = client_for(coordinator)
    # The mentor already proposed is no choice either (accepting the proposal is the way).
    proposed = run.proposals.get(mentee=alice).mentor_id
    form = c.get(_override(run, run.proposals.get(mentee=alice))).context["form"]
    offered = [value for value, _ in _options(form)]
    assert offered == [pk for pk in [dave.pk] if pk != proposed]
    assert form.left_out == [("Carol Chen", "do not pair"), ("Erin Evans", "evaluates this resident's program")]
    # Bob is kept from Erin (an evaluator of every resident) but not from Carol.
    form = c.get(_override(run, run.proposals.get(mentee=bob))).context["form"]
    assert {value for value, _ in _options(form)} == {carol.pk, dave.pk} - {run.proposals.get(mentee=bob).mentor_id}

    # Posted anyway (an old form): refused, nothing changed.
    proposal = run.proposals.get(mentee=alice)
    response = c.post(
        _override(run, proposal), {f"o{proposal.pk}-mentor": carol.pk, f"o{proposal.pk}-note": "Asked for her"}
    )
    assert response.status_code == 400
    proposal.refresh_from_db()
    assert proposal.decision != Decision.OVERRIDDEN


# --- The runs list.


def _list(program):
    return reverse("matching:match-runs", args=[program.slug])


def test_the_list_shows_the_reviews_counts_not_the_engines(client_for, coordinator, program, start_run):
    run = start_run()
    proposed = list(run.proposals.exclude(mentor=None).order_by("pk"))
    for p in proposed[:2]:
        proposal_decide(proposal=p, actor=coordinator, decision=Decision.REJECTED, note="No")
    run.refresh_from_db()
    summary = review_summary(run)
    assert (run.stats["matched"], run.stats["unmatched"]) == (5, 1)
    assert (summary.matched, summary.unmatched) == (3, 3)
    body = client_for(coordinator).get(_list(program)).content.decode()
    assert (
        '<td data-label="Matched">3 <span class="muted small">proposed</span></td>' in body
        and '<td data-label="Unmatched">3</td>' in body
    )


def _copies(first, coordinator, n):
    """``n`` more finished runs, copies of ``first`` (computing them would be slow): the list reads
    their proposals, never the engine."""
    for _ in range(n):
        run = MatchRun.objects.create(
            program=first.program,
            kind=first.kind,
            status=MatchRun.Status.SUCCEEDED,
            stats=first.stats,
            created_by=coordinator,
            finished_at=first.finished_at,
        )
        MatchProposal.objects.bulk_create(
            [
                MatchProposal(run=run, mentee_id=p.mentee_id, mentor_id=p.mentor_id, score=p.score)
                for p in first.proposals.all()
            ]
        )


def test_the_list_costs_the_same_queries_for_two_runs_or_ten(
    client_for, coordinator, program, start_run, django_assert_max_num_queries
):
    first = start_run()
    _copies(first, coordinator, 1)
    c = client_for(coordinator)
    c.get(_list(program))  # warm up: the session's last_seen
    with CaptureQueriesContext(connection) as two:
        c.get(_list(program))
    _copies(first, coordinator, 8)
    # No query per run: the counts are one query for all of them (and the out-of-date check
    # reads only the newest runs that recorded their inputs, FULLY_CHECKED at most).
    with django_assert_max_num_queries(len(two.captured_queries)):
        body = c.get(_list(program)).content.decode()
    assert body.count('<td data-label="Matched">5 <span class="muted small">proposed</span></td>') == 10
    assert body.count('<td data-label="Unmatched">1</td>') == 10


# --- The run page.


def test_the_run_page_checks_whether_it_is_out_of_date_once(client_for, coordinator, start_run):
    run = start_run()
    with mock.patch("matching.views.match_runs.run_changes", wraps=freshness.run_changes) as check:
        response = client_for(coordinator).get(reverse("matching:match-run-detail", args=[run.pk]))
    assert response.status_code == 200 and check.call_count == 1
    assert response.context["changes"] == [] and response.context["can_review"] is True


# --- "Choice obtained" on the review.


def test_the_choice_column_tells_real_choices_from_people_who_did_not_rank(client_for, coordinator, start_run):
    from matching.models import MatchRanking

    run = start_run()
    c = client_for(coordinator)
    url = reverse("matching:match-run-detail", args=[run.pk])
    body = c.get(url).content.decode()
    # Nobody could rank: no "did not rank" on anyone, and no choice either.
    assert "did not rank" not in body and '<td data-label="Choice obtained">1st' not in body

    proposed = list(run.proposals.exclude(mentor=None).order_by("mentee__last_name", "mentee__first_name"))
    last = proposed[-1]
    MatchRanking.objects.create(run=run, author=last.mentee, target=last.mentor, position=1)
    run.proposals.exclude(mentor=None).update(rank_obtained=1)
    run.proposals.filter(pk=last.pk).update(rank_obtained=2)
    page = c.get(url + "?sort=rank")
    rows = list(page.context["proposals"])
    assert rows[0].pk == last.pk  # the only real choice comes first, though its rank is 2
    body = page.content.decode()
    cell = '<td data-label="Choice obtained">'
    assert body.count(cell + "2nd choice") == 1 and cell + "1st choice" not in body
    assert body.count("did not rank (matched by score)") == len(proposed) - 1
