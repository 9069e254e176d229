"""Coordinator pages for match runs: start, watch, review, override, publish, export.

Tasks run eagerly in tests, and a run starts on commit, so creating a run inside
``django_capture_on_commit_callbacks(execute=True)`` finishes it before the page loads.
"""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Goal, Membership
from matching.match_runs.services import match_run_create, proposal_decide
from matching.models import MatchProposal, MatchRun, Mentorship
from tests.factories import MembershipFactory, MenteeProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

Decision = MatchProposal.Decision


def _residents(program, n, start=0):
    goals = list(Goal.objects.all())
    users = []
    for i in range(start, start + n):
        user = UserFactory(first_name=f"Res{i:02d}", last_name="Resident")
        MembershipFactory(user=user, program=program, role=Membership.Role.RESIDENT)
        MenteeProfileFactory(user=user).goals.set([goals[i % len(goals)]])
        users.append(user)
    return users


@pytest.fixture
def cohort(program, resident, other_resident, attending, other_attending):
    """Alice, Bob and a third resident; Carol and Dave mentor (one spot each): one left over."""
    for mentor in (attending, other_attending):
        mentor.mentor_profile.capacity = 1
        mentor.mentor_profile.save()
    return [resident, other_resident, *_residents(program, 1)], [attending, other_attending]


@pytest.fixture
def start_run(coordinator, program, cohort, django_capture_on_commit_callbacks):
    def start(residents=None, mentors=None, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            run = match_run_create(
                program=program,
                actor=coordinator,
                kind=kwargs.pop("kind", "career"),
                algorithm=kwargs.pop("algorithm", "stable"),
                mentee_ids=[r.pk for r in residents or cohort[0]],
                mentor_ids=[m.pk for m in mentors or cohort[1]],
                **kwargs,
            )
        run.refresh_from_db()
        return run

    return start


def _detail(run):
    return reverse("matching:match-run-detail", args=[run.pk])


# --- Creating a run through the form.


def test_coordinator_creates_a_run_and_lands_on_its_proposals(
    client_for, coordinator, program, cohort, django_capture_on_commit_callbacks
):
    residents, mentors = cohort
    c = client_for(coordinator)
    url = reverse("matching:match-run-create", args=[program.slug])
    page = c.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Best overall fit" in body and "Stable (like the residency Match)" in body
    assert 'type="datetime-local"' in body
    # Mentors with open spots come pre-checked; the engine's default weights are filled in.
    for mentor in mentors:
        assert f'value="{mentor.pk}"' in body
    assert page.context["form"]["weight_goals"].value() == 25  # percent (tests/matching/views/test_match_run_start.py)

    data = {
        "kind": "career",
        "algorithm": "optimal",
        "mentee_ids": [r.pk for r in residents],
        "mentor_ids": [m.pk for m in mentors],
        "ranking_deadline": "",
        **{
            f"weight_{name}": value
            for name, value in {
                "specialty": 20,
                "goals": 40,
                "interests": 5,
                "career": 10,
                "availability": 15,
                "language": 5,
                "meeting_format": 5,
            }.items()
        },
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(url, data)
    run = MatchRun.objects.get(program=program)
    assert response.status_code == 302 and response.url == _detail(run)
    assert run.weights["goals"] == 0.4 and run.algorithm == "optimal"

    page = c.get(_detail(run))
    assert page.status_code == 200
    body = page.content.decode()
    assert run.proposals.count() == 3
    for r in residents:
        assert r.full_name in body
    assert "Unmatched" in body and "Publish" in body and "Accept all remaining" in body
    assert 'http-equiv="refresh"' not in body


def test_preset_prechecks_pgy1_residents_without_a_mentor_of_the_kind(
    client_for, coordinator, program, cohort, attending
):
    residents, _ = cohort
    Mentorship.objects.create(mentee=residents[0], mentor=attending, program=program, kind="career")
    page = client_for(coordinator).get(
        reverse("matching:match-run-create", args=[program.slug]), {"preset": "pgy1-unpaired"}
    )
    initial = page.context["form"]["mentee_ids"].value()
    assert set(initial) == {r.pk for r in residents[1:]}


def test_an_invalid_form_shows_errors_not_a_run(client_for, coordinator, program, cohort):
    response = client_for(coordinator).post(
        reverse("matching:match-run-create", args=[program.slug]), {"kind": "career", "algorithm": "stable"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["mentee_ids"] == ["Choose at least one resident."]
    assert not MatchRun.objects.exists()


# --- Who may see what: everyone but the program's coordinators gets a 404.


@pytest.mark.parametrize("who", ["other_coordinator", "resident", "attending"])
def test_only_the_programs_coordinators_reach_match_run_pages(request, client_for, start_run, program, who):
    run = start_run()
    c = client_for(request.getfixturevalue(who))
    # core/access.py: the program's members know it exists (403); others do not (404).
    for url in [
        reverse("matching:match-runs", args=[program.slug]),
        reverse("matching:match-run-create", args=[program.slug]),
    ]:
        assert c.get(url).status_code == (404 if who == "other_coordinator" else 403), url
    for url in [
        _detail(run),
        reverse("matching:match-run-export", args=[run.pk]),
    ]:
        assert c.get(url).status_code == 404, url
    proposal = run.proposals.exclude(mentor=None).first()
    for url in [
        reverse("matching:match-run-publish", args=[run.pk]),
        reverse("matching:match-run-accept-all", args=[run.pk]),
        reverse("matching:match-run-accept", args=[run.pk, proposal.pk]),
    ]:
        assert c.post(url, {"confirm": "yes"}).status_code == 404, url
    run.refresh_from_db()
    assert not run.is_published
    assert not run.proposals.exclude(decision=Decision.PENDING).exists()


def test_list_shows_runs_and_an_empty_state(client_for, coordinator, program, start_run):
    c = client_for(coordinator)
    url = reverse("matching:match-runs", args=[program.slug])
    body = c.get(url).content.decode()
    assert "No match runs yet" in body and "Start a match run" in body

    run = start_run()
    body = c.get(url).content.decode()
    assert _detail(run) in body and "Ready for review" in body and "<progress" in body
    assert (
        f"/programs/{program.slug}/match-runs/"
        in c.get(reverse("accounts:roster", args=[program.slug])).content.decode()
    )
    assert f"/programs/{program.slug}/match-runs/" in c.get(reverse("accounts:programs")).content.decode()


# --- Watching.


def test_a_queued_run_refreshes_itself_and_shows_progress(client_for, coordinator, program, cohort):
    residents, mentors = cohort
    run = match_run_create(  # not captured: the on-commit task never fires, the run stays queued
        program=program,
        actor=coordinator,
        kind="career",
        algorithm="stable",
        mentee_ids=[r.pk for r in residents],
        mentor_ids=[m.pk for m in mentors],
    )
    body = client_for(coordinator).get(_detail(run)).content.decode()
    # htmx polls the progress region; without JavaScript the page refreshes itself.
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in body
    assert f'hx-get="/match-runs/{run.pk}/progress/"' in body and 'hx-trigger="every 3s"' in body
    assert "<progress" in body and 'aria-live="polite"' in body
    assert "<script" not in body.split("</head>", 1)[1]


def test_a_failed_run_shows_its_error(client_for, coordinator, start_run):
    run = start_run()
    MatchRun.objects.filter(pk=run.pk).update(status=MatchRun.Status.FAILED, error="The worker stopped.")
    body = client_for(coordinator).get(_detail(run)).content.decode()
    assert "This match failed" in body and "The worker stopped." in body


# --- Reviewing.


def test_override_without_a_note_shows_the_error_on_the_note_field(client_for, coordinator, start_run, other_attending):
    run = start_run()
    proposal = run.proposals.exclude(mentor=other_attending).first()
    response = client_for(coordinator).post(
        reverse("matching:match-run-override", args=[run.pk, proposal.pk]),
        {f"o{proposal.pk}-mentor": other_attending.pk, f"o{proposal.pk}-note": "  "},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["note"] == ["Say briefly why you are changing this pairing."]
    assert "Say briefly why you are changing this pairing." in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.decision == Decision.PENDING


def test_override_with_a_note_pairs_the_resident_with_the_chosen_mentor(client_for, coordinator, start_run):
    run = start_run()
    unmatched = run.proposals.get(mentor=None)
    mentor = run.mentors.first()
    response = client_for(coordinator).post(
        reverse("matching:match-run-override", args=[run.pk, unmatched.pk]),
        {
            f"o{unmatched.pk}-mentor": mentor.pk,
            f"o{unmatched.pk}-note": "Asked for this mentor at orientation.",
            # The engine filled the mentor's spots: the coordinator gives one more for this run.
            f"o{unmatched.pk}-make_room": "raise",
        },
    )
    assert response.status_code == 302
    unmatched.refresh_from_db()
    assert unmatched.decision == Decision.OVERRIDDEN and unmatched.override_mentor == mentor
    # The row no longer reads "Unmatched" beside the coordinator's choice.
    page = client_for(coordinator).get(reverse("matching:match-run-detail", args=[run.pk]) + "?show=overridden")
    row = page.content.decode().split(f'id="proposal-{unmatched.pk}"')[1].split("</tr>")[0]
    assert "was: none proposed" in row and "Unmatched" not in row
    assert "you chose the mentor yourself" in row and mentor.full_name in row


def test_accept_all_then_publish_creates_mentorships_and_says_so(client_for, coordinator, start_run):
    run = start_run()
    c = client_for(coordinator)
    url = reverse("matching:match-run-accept-all", args=[run.pk])
    # One click only asks, with the count and the way back to the same filters; nothing changes.
    asked = c.post(url, {"back": "show=pending&sort=score"})
    body = asked.content.decode()
    assert asked.status_code == 200 and "Accept all 2 remaining proposals?" in body
    assert "Yes, accept 2 proposals" in body and f'href="{_detail(run)}?show=pending&amp;sort=score"' in body
    assert not run.proposals.exclude(decision=Decision.PENDING).exists()
    c.post(url, {"confirm": "yes"})
    matched = run.proposals.exclude(mentor=None)
    assert matched.count() == 2 and all(p.decision == Decision.ACCEPTED for p in matched)

    response = c.post(reverse("matching:match-run-publish", args=[run.pk]), follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Published: 2 mentorships started" in body
    assert "2 mentorships started, and everyone paired was notified" in body
    assert Mentorship.objects.filter(source=Mentorship.Source.MATCH_RUN).count() == 2
    # One resident is still without a mentor: the second round is offered.
    assert "Second round for the unmatched" in body

    again = c.post(reverse("matching:match-run-publish", args=[run.pk]), follow=True)
    assert again.status_code == 200
    assert "This match has already been published." in again.content.decode()
    assert Mentorship.objects.filter(source=Mentorship.Source.MATCH_RUN).count() == 2


def test_publishing_with_nothing_accepted_is_a_message(client_for, coordinator, start_run):
    run = start_run()
    response = client_for(coordinator).post(reverse("matching:match-run-publish", args=[run.pk]), follow=True)
    assert "Accept or override at least one proposal before publishing." in response.content.decode()


# --- Export.


def test_csv_escapes_spreadsheet_formulas(client_for, coordinator, start_run, resident):
    resident.first_name = '=HYPERLINK("http://evil.example")'
    resident.save()
    run = start_run()
    response = client_for(coordinator).get(reverse("matching:match-run-export", args=[run.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark, for Excel
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "mentee" and len(rows) == 4
    names = [row[0] for row in rows[1:]]
    assert any(name.startswith("'=HYPERLINK") for name in names)
    assert not any(cell.startswith("=") for row in rows for cell in row)


# --- Query budget.


@pytest.mark.parametrize("n_residents", [3, 12])
def test_detail_page_queries_do_not_grow_with_proposals(
    client_for, coordinator, program, start_run, attending, other_attending, django_assert_max_num_queries, n_residents
):
    residents = _residents(program, n_residents, start=10)
    run = start_run(residents=residents, mentors=[attending, other_attending])
    assert run.proposals.count() == n_residents
    proposal_decide(proposal=run.proposals.exclude(mentor=None).first(), actor=coordinator, decision=Decision.ACCEPTED)
    c = client_for(coordinator)
    # Budget (32, the same for 3 and 12 residents: nothing is loaded per row):
    #   session, user, last_seen update, session save (+ savepoint pair)  6
    #   the session list's last seen (written with last_seen)              1
    #   the run, the coordinator check, its re-runs                        3
    #   summary: proposals, rankers, mentors, their active mentorships     4
    #   out of date? cohort ids (2), pairings, mentor and mentee profiles,
    #     kept-apart pairs (up to 4), names                                10
    #   the page of proposals and its count, next rounds, other runs      4
    #   base.html: roles, mentee/mentor profile, unread notifications      4
    with django_assert_max_num_queries(32):
        assert c.get(_detail(run)).status_code == 200


def test_the_progress_region_polls_until_the_run_stops(client_for, coordinator, other_coordinator, program, cohort):
    residents, mentors = cohort
    run = match_run_create(  # stays queued: the on-commit task never fires here
        program=program,
        actor=coordinator,
        kind="career",
        algorithm="stable",
        mentee_ids=[r.pk for r in residents],
        mentor_ids=[m.pk for m in mentors],
    )
    url = f"/match-runs/{run.pk}/progress/"
    client = client_for(coordinator)
    fragment = client.get(url)
    assert fragment.status_code == 200
    body = fragment.content.decode()
    assert 'id="run-progress"' in body and 'hx-trigger="every 3s"' in body and "<html" not in body
    assert client_for(other_coordinator).get(url).status_code == 404

    MatchRun.objects.filter(pk=run.pk).update(status=MatchRun.Status.SUCCEEDED, progress=100)
    done = client.get(url)
    # htmx reloads the page, which then shows the proposals.
    assert done.status_code == 204 and done["HX-Refresh"] == "true"


def test_a_page_showing_an_open_ranking_window_reloads_once_it_closes(client_for, coordinator, program, cohort):
    residents, mentors = cohort
    run = match_run_create(
        program=program,
        actor=coordinator,
        kind="career",
        algorithm="stable",
        mentee_ids=[r.pk for r in residents],
        mentor_ids=[m.pk for m in mentors],
        ranking_deadline=timezone.now() + timedelta(days=2),
    )
    client = client_for(coordinator)
    page = client.get(f"/match-runs/{run.pk}/").content.decode()
    assert f"/match-runs/{run.pk}/progress/?window=open" in page and "% done" not in page
    assert client.get(f"/match-runs/{run.pk}/progress/?window=open").status_code == 200  # still open

    # The deadline passed; the run waits for the sweeper, but the page's window summary is stale.
    MatchRun.objects.filter(pk=run.pk).update(ranking_deadline=timezone.now() - timedelta(seconds=1))
    closed = client.get(f"/match-runs/{run.pk}/progress/?window=open")
    assert closed.status_code == 204 and closed["HX-Refresh"] == "true"
    assert client.get(f"/match-runs/{run.pk}/progress/").status_code == 200  # a page drawn after: it polls on


def test_publish_is_offered_only_once_something_is_accepted(
    client_for, coordinator, program, cohort, django_capture_on_commit_callbacks
):
    residents, mentors = cohort
    with django_capture_on_commit_callbacks(execute=True):
        run = match_run_create(
            program=program,
            actor=coordinator,
            kind="career",
            algorithm="stable",
            mentee_ids=[r.pk for r in residents],
            mentor_ids=[m.pk for m in mentors],
        )
    client = client_for(coordinator)
    body = client.get(_detail(run)).content.decode()
    assert "Publish 0 pairings" not in body and "Accept or override pairings first" in body
    proposal = MatchProposal.objects.filter(run=run, mentor__isnull=False).first()
    proposal_decide(proposal=proposal, actor=coordinator, decision=MatchProposal.Decision.ACCEPTED)
    body = client.get(_detail(run)).content.decode()
    # The others still wait: publishing says so, and offers to accept them or leave them out.
    waiting = MatchProposal.objects.filter(run=run, mentor__isnull=False, decision="pending").count()
    assert f"Accept the {waiting} waiting and publish {waiting + 1}<" in body
    assert "Publish only the 1 decided<" in body


# --- Cancelling, comparing, the ranking invitation on the dashboard.


def _queued_run(coordinator, program, cohort, **kwargs):
    residents, mentors = cohort
    return match_run_create(  # stays queued: the on-commit task never fires here
        program=program,
        actor=coordinator,
        kind="career",
        algorithm="stable",
        mentee_ids=[r.pk for r in residents],
        mentor_ids=[m.pk for m in mentors],
        **kwargs,
    )


def test_a_coordinator_cancels_a_waiting_run_from_its_page(client_for, coordinator, program, cohort):
    run = _queued_run(coordinator, program, cohort)
    c = client_for(coordinator)
    page = c.get(_detail(run)).content.decode()
    assert "Cancel this match" in page

    response = c.post(reverse("matching:match-run-cancel", args=[run.pk]), {"reason": "Wrong kind"}, follow=True)

    body = response.content.decode()
    assert "The match was cancelled" in body and "This match was cancelled" in body and "Wrong kind" in body
    assert "Cancel this match" not in body
    run.refresh_from_db()
    assert run.status == MatchRun.Status.CANCELLED
    # Cancelling twice is a message, not an error page.
    again = c.post(reverse("matching:match-run-cancel", args=[run.pk]), follow=True)
    assert (
        again.status_code == 200
        and "Only a match that is waiting or running can be cancelled" in again.content.decode()
    )


def test_cancel_is_refused_to_anyone_but_the_programs_coordinators(
    client_for, coordinator, other_coordinator, resident, program, cohort
):
    run = _queued_run(coordinator, program, cohort)
    for person in (other_coordinator, resident):
        assert client_for(person).post(reverse("matching:match-run-cancel", args=[run.pk])).status_code == 404
    run.refresh_from_db()
    assert run.status == MatchRun.Status.QUEUED


def test_compare_two_runs_side_by_side(client_for, coordinator, start_run):
    stable, optimal = start_run(), start_run(algorithm="optimal")
    c = client_for(coordinator)
    detail = c.get(_detail(stable)).content.decode()
    assert f'<option value="{optimal.pk}">' in detail

    page = c.get(reverse("matching:match-run-compare", args=[stable.pk]), {"with": optimal.pk})

    assert page.status_code == 200
    body = page.content.decode()
    assert f"Match #{stable.pk} and #{optimal.pk} side by side" in body
    assert (
        f'<tr><th scope="row">Proposed a mentor</th><td>{stable.stats["matched"]}</td><td>{optimal.stats["matched"]}</td></tr>'
        in body
    )


def test_compare_with_a_run_that_is_not_finished_is_a_message(client_for, coordinator, program, cohort, start_run):
    finished = start_run()
    queued = _queued_run(coordinator, program, cohort)
    response = client_for(coordinator).get(
        reverse("matching:match-run-compare", args=[finished.pk]), {"with": queued.pk}, follow=True
    )
    assert "Both runs must have finished" in response.content.decode()
    for bad in ("", "²", "9" * 30):
        response = client_for(coordinator).get(
            reverse("matching:match-run-compare", args=[finished.pk]), {"with": bad}, follow=True
        )
        assert "Choose a run to compare with" in response.content.decode(), bad


def test_the_dashboard_asks_cohort_members_to_rank_until_they_have(
    client_for, coordinator, program, cohort, resident, outsider
):
    from datetime import timedelta

    from django.utils import timezone

    from matching.match_runs.ranking import ranking_submit

    run = _queued_run(coordinator, program, cohort, ranking_deadline=timezone.now() + timedelta(days=2))
    rank_url = reverse("matching:match-run-rank", args=[run.pk])

    page = client_for(resident).get(reverse("matching:dashboard")).content.decode()
    assert rank_url in page and "Not ranked yet" in page
    assert rank_url not in client_for(outsider).get(reverse("matching:dashboard")).content.decode()

    ranking_submit(run=run, actor=resident, ordered_ids=[cohort[1][0].pk])
    page = client_for(resident).get(reverse("matching:dashboard")).content.decode()
    assert "Ranked" in page and "Not ranked yet" not in page

    MatchRun.objects.filter(pk=run.pk).update(ranking_deadline=timezone.now() - timedelta(minutes=1))
    assert rank_url not in client_for(resident).get(reverse("matching:dashboard")).content.decode()
